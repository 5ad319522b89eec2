/**
 * The JSON Patch (RFC 6902) an admission response carries: the difference between the pod the API
 * server sent and the pod {@link mutate} returned, as `add` operations only. Kubernetes' webhook
 * guidance asks for exactly that: add rather than replace, and never reorder arrays, so that other
 * mutating webhooks and the user's own fields are left alone.
 *
 * It walks only what differs by reference: mutate shares every untouched subtree with its input, so a
 * pod with a megabyte of managedFields and a hundred containers costs a few dozen comparisons. Values
 * that differ by reference but not by content (a pod that went through JSON) are compared deeply and
 * give the same patch, just slower.
 */
import { MicrogatewayError } from "../errors.ts";
import { isObject, type Pod } from "./pod.ts";

/** One RFC 6902 operation; the injection only ever adds. */
export interface JsonPatchOp {
  readonly op: "add";
  /** A JSON Pointer (RFC 6901); `-` as the last token appends to an array. */
  readonly path: string;
  readonly value: unknown;
}

/**
 * The `add` operations that turn `original` into `mutated`: a new map key or array element each, or a
 * whole map or array where the original had none. Pass the very object given to `mutate` as
 * `original`: a decoded copy gives the same patch but is compared in full (milliseconds for a pod
 * with a megabyte of managedFields, instead of microseconds). Throws MicrogatewayError("Internal") if `mutated`
 * removed, replaced or reordered anything: a bug in the mutation, never the user's fault.
 *
 * @example patchFor(pod, mutate(pod, config, opts)) // [{ op: "add", path: "/spec/containers/-", value: {...} }, ...]
 */
export function patchFor(original: Pod, mutated: Pod): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  diff("", original, mutated, ops);
  return ops;
}

/** Escapes a map key as a JSON Pointer token (RFC 6901 §3: `~` first, then `/`). */
export function pointerToken(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

function diff(path: string, before: unknown, after: unknown, ops: JsonPatchOp[]): void {
  if (before === after) return;
  if (isObject(before) && isObject(after)) {
    // A member that is null counts as absent, as Kubernetes decodes it (`labels: null` is no labels);
    // adding to a null member replaces it (RFC 6902 §4.1).
    for (const [key, value] of Object.entries(before)) {
      if (absent(value)) continue;
      const at = `${path}/${pointerToken(key)}`;
      if (absent(after[key])) throw notAnAddition(at, "was removed");
      diff(at, value, after[key], ops);
    }
    for (const [key, value] of Object.entries(after)) {
      if (absent(value) || !absent(before[key])) continue;
      ops.push({ op: "add", path: `${path}/${pointerToken(key)}`, value });
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    insertions(path, before, after, ops);
    return;
  }
  if (!jsonEqual(before, after)) throw notAnAddition(path || "/", "was changed");
}

/**
 * Elements of `after` that are not `before`'s, in order. `before` must be a subsequence of `after`
 * (elements only inserted); matching is greedy, which finds it whenever it exists. Each insertion's
 * index is its final index, valid when the operations are applied in order.
 */
function insertions(path: string, before: unknown[], after: unknown[], ops: JsonPatchOp[]): void {
  let kept = 0;
  for (let i = 0; i < after.length; i++) {
    if (kept < before.length && (before[kept] === after[i] || jsonEqual(before[kept], after[i]))) {
      kept++;
      continue;
    }
    // Past the original's last element the new one goes at the end, written `-` as Kubernetes docs do.
    ops.push({ op: "add", path: `${path}/${kept === before.length ? "-" : i}`, value: after[i] });
  }
  if (kept < before.length) throw notAnAddition(`${path}/${kept}`, "was removed, changed or moved");
}

/** Structural equality of JSON values (key order does not matter, `undefined` members are absent). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keysA = Object.keys(a).filter((k) => a[k] !== undefined);
    const keysB = Object.keys(b).filter((k) => b[k] !== undefined);
    return keysA.length === keysB.length && keysA.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}

function absent(value: unknown): boolean {
  return value === undefined || value === null;
}

function notAnAddition(path: string, what: string): MicrogatewayError {
  return new MicrogatewayError("Internal", `JSON Patch: ${path} ${what}; the sidecar injection may only add`);
}
