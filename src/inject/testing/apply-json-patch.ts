/**
 * A minimal RFC 6902 applier for tests: only `add`, which is all the injection emits. Written from the
 * RFC rather than reusing json-patch.ts, so that it checks the patch instead of mirroring it.
 */
import type { JsonPatchOp } from "../json-patch.ts";

/** Applies `ops` in order to a deep copy of `doc` (as the API server would, via JSON). */
export function applyJsonPatch(doc: unknown, ops: readonly JsonPatchOp[]): unknown {
  const result: unknown = JSON.parse(JSON.stringify(doc));
  for (const op of ops) {
    if (op.op !== "add") throw new Error(`unsupported op ${op.op}`);
    if (op.path === "") return JSON.parse(JSON.stringify(op.value));
    if (!op.path.startsWith("/")) throw new Error(`path ${op.path} must start with /`);
    // RFC 6901 §4: ~1 becomes / before ~0 becomes ~, so "~01" is the key "~1".
    const tokens = op.path
      .slice(1)
      .split("/")
      .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
    const last = tokens.pop() as string;
    let parent: unknown = result;
    for (const token of tokens) {
      parent = Array.isArray(parent)
        ? parent[arrayIndex(token, parent.length - 1)]
        : (parent as Record<string, unknown>)[token];
      if (typeof parent !== "object" || parent === null)
        throw new Error(`${op.path}: parent ${token} does not exist`);
    }
    const value: unknown = JSON.parse(JSON.stringify(op.value));
    if (Array.isArray(parent)) {
      // RFC 6902 §4.1: "-" appends; an index may be at most the array's length.
      parent.splice(last === "-" ? parent.length : arrayIndex(last, parent.length), 0, value);
    } else {
      (parent as Record<string, unknown>)[last] = value;
    }
  }
  return result;
}

function arrayIndex(token: string, max: number): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`array index ${token} is not a number`);
  const index = Number(token);
  if (index > max) throw new Error(`array index ${index} is beyond ${max}`);
  return index;
}
