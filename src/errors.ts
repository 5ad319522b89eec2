/**
 * The one error type of the project. `code` is stable and machine-readable; `message` names the
 * object, the field and what was expected, e.g.
 * `DenyRules shop/strict: spec.request.builtIn.settings.level "Max" must be one of Unfiltered, Basic, Standard, Strict`.
 */
export type ErrorCode =
  | "InvalidManifest" // a manifest file could not be read or parsed (YAML, missing kind, ...)
  | "InvalidResource" // a custom resource failed validation (names object and field)
  | "InvalidReference" // a reference names an object that does not exist
  | "Unauthenticated" // a peer presented no usable identity
  | "PermissionDenied" // a peer asked for something its identity does not allow
  | "InvalidArgument" // a malformed request
  | "EngineNotFound" // the Envoy binary could not be found
  | "Internal";

export class MicrogatewayError extends Error {
  override readonly name = "MicrogatewayError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Structural guard (works across duplicated module instances, unlike `instanceof`). */
export function isMicrogatewayError(e: unknown): e is MicrogatewayError {
  return (
    typeof e === "object" &&
    e !== null &&
    (e as { name?: unknown }).name === "MicrogatewayError" &&
    typeof (e as { code?: unknown }).code === "string"
  );
}

/** Formats any thrown value for a log line without a stack trace. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
