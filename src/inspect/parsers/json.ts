/**
 * The JSON parser: every string value and every key of a JSON body, by JSONPath (`$.user.name`,
 * `$.items[2]`, `$['a b']` for keys that are not identifiers), plus the body's shape for the
 * Limits. Numbers, booleans and null are not inspected. The walk is iterative, so no nesting depth
 * overflows the stack; malformed JSON is reported, never thrown.
 */
import { decodeValue } from "../decode.ts";
import type { InspectedValue, JsonShape } from "../types.ts";

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * How deep the walk goes. Deeper documents are reported as a parser error (with their depth, so a
 * nesting-depth limit names them too) rather than inspected: each value's JSONPath grows with its
 * depth, so inspecting a 50,000-deep document costs time quadratic in its size (measured: minutes
 * of CPU with the full rule catalog), and no API nests anywhere near this.
 */
export const MAX_JSON_DEPTH = 512;

/** The JSONPath of property `key` of the object at `parent`. */
export function jsonChildPath(parent: string, key: string): string {
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${quoteKey(key)}]`;
}

function quoteKey(key: string): string {
  return `'${key.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** What the JSON parser found. */
export interface JsonResult {
  readonly values: InspectedValue[];
  readonly shape?: JsonShape;
  /** Set when the body is not JSON; `values` is then empty. */
  readonly error?: string;
}

function jsonValue(name: string, raw: string, jsonKey: boolean): InspectedValue {
  const decoded = decodeValue(raw, { plusAsSpace: false });
  return jsonKey
    ? { target: "JSON", name, raw, decoded, jsonKey: true }
    : { target: "JSON", name, raw, decoded };
}

/**
 * Parses `text` as JSON. `raw` of each value is the JSON string after JSON unescaping (the JSON
 * escapes are syntax, not an evasion); `decoded` is decoded like every other value.
 *
 * @example parseJson('{"user":{"name":"x"}}').values // key "user" at $.user, key "name" and value "x" at $.user.name
 */
export function parseJson(text: string): JsonResult {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    return { values: [], error: `invalid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  const values: InspectedValue[] = [];
  let nestingDepth = 0;
  let keyCount = 0;
  let keyCountPath = "$";
  let elementCount = 0;
  let elementCountPath = "$";
  // Depth-first, in document order: a stack of [value, path, depth] still to visit.
  const stack: [unknown, string, number][] = [[root, "$", 0]];
  while (stack.length > 0) {
    const [value, path, depth] = stack.pop() as [unknown, string, number];
    if (depth >= MAX_JSON_DEPTH && typeof value === "object" && value !== null) {
      return {
        values: [],
        error: `JSON nested deeper than ${MAX_JSON_DEPTH} levels (at ${path.slice(0, 40)}...)`,
        shape: { nestingDepth: depth + 1, keyCount, keyCountPath, elementCount, elementCountPath },
      };
    }
    if (typeof value === "string") {
      values.push(jsonValue(path, value, false));
    } else if (Array.isArray(value)) {
      const inner = depth + 1;
      if (inner > nestingDepth) nestingDepth = inner;
      if (value.length > elementCount) {
        elementCount = value.length;
        elementCountPath = path;
      }
      for (let i = value.length - 1; i >= 0; i--) {
        const child: unknown = value[i];
        if (typeof child === "object" ? child !== null : typeof child === "string")
          stack.push([child, `${path}[${i}]`, inner]);
      }
    } else if (typeof value === "object" && value !== null) {
      const inner = depth + 1;
      if (inner > nestingDepth) nestingDepth = inner;
      const keys = Object.keys(value);
      if (keys.length > keyCount) {
        keyCount = keys.length;
        keyCountPath = path;
      }
      // Keys are reported when their object is visited, values when popped: keys of an object come
      // before the values inside it, which is still document order for each kind.
      const record = value as Record<string, unknown>;
      const paths = keys.map((key) => jsonChildPath(path, key));
      for (let i = 0; i < keys.length; i++)
        values.push(jsonValue(paths[i] as string, keys[i] as string, true));
      for (let i = keys.length - 1; i >= 0; i--) {
        const child = record[keys[i] as string];
        // Numbers, booleans and null are not inspected: only objects, arrays and strings go on.
        if (typeof child === "object" ? child !== null : typeof child === "string")
          stack.push([child, paths[i] as string, inner]);
      }
    }
  }
  return { values, shape: { nestingDepth, keyCount, keyCountPath, elementCount, elementCountPath } };
}
