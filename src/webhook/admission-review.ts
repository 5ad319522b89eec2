/**
 * AdmissionReview (admission.k8s.io/v1) decoding and response constructors, after
 * controller-runtime's split: decode/validate here, a pure handler elsewhere, and responses built
 * only through `allowed`, `patched` and `denied`.
 */
import { MicrogatewayError } from "../errors.ts";

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";

/** The parts of an AdmissionRequest the webhook uses. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly operation: "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
  readonly namespace: string;
  readonly name?: string;
  readonly dryRun: boolean;
  /** The object as the API server sent it (raw JSON value). */
  readonly object: Record<string, unknown>;
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: { readonly code: number; readonly message: string; readonly reason?: string };
  readonly patchType?: "JSONPatch";
  /** base64 of the JSON Patch. */
  readonly patch?: string;
  readonly warnings?: readonly string[];
}

export interface AdmissionReview {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: "AdmissionReview";
  readonly response: AdmissionResponse;
}

/**
 * Validates a decoded AdmissionReview body. Throws MicrogatewayError("InvalidArgument") naming the
 * field that is missing or wrong; the HTTP layer answers 400 with that message.
 */
export function decodeAdmissionReview(body: unknown): AdmissionRequest {
  const review = asObject(body, "body");
  if (review.apiVersion !== ADMISSION_API_VERSION) {
    throw bad(`apiVersion ${JSON.stringify(review.apiVersion)} must be ${ADMISSION_API_VERSION}`);
  }
  if (review.kind !== "AdmissionReview")
    throw bad(`kind ${JSON.stringify(review.kind)} must be AdmissionReview`);
  const req = asObject(review.request, "request");
  const uid = req.uid;
  if (typeof uid !== "string" || uid === "") throw bad("request.uid must be a non-empty string");
  const kind = asObject(req.kind, "request.kind");
  const operation = req.operation;
  if (operation !== "CREATE" && operation !== "UPDATE" && operation !== "DELETE" && operation !== "CONNECT") {
    throw bad(`request.operation ${JSON.stringify(operation)} must be CREATE, UPDATE, DELETE or CONNECT`);
  }
  const object = asObject(req.object, "request.object");
  const namespace = typeof req.namespace === "string" ? req.namespace : "";
  return {
    uid,
    kind: {
      group: String(kind.group ?? ""),
      version: String(kind.version ?? ""),
      kind: String(kind.kind ?? ""),
    },
    operation,
    namespace,
    name: typeof req.name === "string" && req.name !== "" ? req.name : undefined,
    dryRun: req.dryRun === true,
    object,
  };
}

/** The request is admitted unchanged. */
export function allowed(uid: string, warnings?: readonly string[]): AdmissionReview {
  return review({ uid, allowed: true, ...(warnings?.length ? { warnings } : {}) });
}

/** The request is admitted with a JSON Patch (RFC 6902) applied; an empty patch means unchanged. */
export function patched(uid: string, patch: readonly unknown[]): AdmissionReview {
  if (patch.length === 0) return allowed(uid);
  return review({
    uid,
    allowed: true,
    patchType: "JSONPatch",
    patch: Buffer.from(JSON.stringify(patch)).toString("base64"),
  });
}

/** The request is refused; `message` is what `kubectl` shows the user. */
export function denied(uid: string, message: string, code = 400): AdmissionReview {
  return review({
    uid,
    allowed: false,
    status: { code, message, reason: code === 400 ? "BadRequest" : "Forbidden" },
  });
}

function review(response: AdmissionResponse): AdmissionReview {
  return { apiVersion: ADMISSION_API_VERSION, kind: "AdmissionReview", response };
}

function asObject(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw bad(`${field} must be an object`);
  return v as Record<string, unknown>;
}

function bad(message: string): MicrogatewayError {
  return new MicrogatewayError("InvalidArgument", `AdmissionReview: ${message}`);
}
