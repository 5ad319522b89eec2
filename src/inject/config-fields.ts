/**
 * Field readers shared by the OperatorConfig sections: each takes the field's path and a `fail` that
 * throws naming the file, so every error says where it is and what was expected.
 */
import { isObject } from "./pod.ts";

/** Throws a MicrogatewayError naming the configuration file, `path` and `detail`. */
export type Fail = (path: string, detail: string) => never;

/** A mapping (absent or null: empty); with `known`, other keys are errors. */
export function mapping(
  raw: unknown,
  at: string,
  fail: Fail,
  known?: readonly string[],
): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) return fail(at, `must be a mapping, got ${show(raw)}`);
  if (known) {
    for (const key of Object.keys(raw)) {
      if (!known.includes(key)) {
        const path = at === "the file" ? key : `${at}.${key}`;
        fail(path, `is not a known field (known: ${known.join(", ")})`);
      }
    }
  }
  return raw;
}

/** A value as it appears in an error message. */
export function show(value: unknown): string {
  return value === undefined ? "(absent)" : JSON.stringify(value);
}
