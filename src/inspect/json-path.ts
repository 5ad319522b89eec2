/**
 * JSONPath as exceptions and limits name JSON properties: `$`, then `.key`, `['key']` / `["key"]`,
 * `[n]` and the wildcards `[*]` and `.*` (any one key or index). No filters, no recursive descent
 * (`..`), no slices: such a path is refused by `parseJsonPath` (the model rejects it at load).
 */
import { MicrogatewayError } from "../errors.ts";

/** One step of a path: a key, an array index, or any one key or index. */
export type JsonPathStep = { readonly key: string } | { readonly index: number } | { readonly any: true };

/**
 * The steps of `path`; throws MicrogatewayError `InvalidArgument` naming the problem.
 *
 * @example parseJsonPath("$.items[*].name") // [{key: "items"}, {any: true}, {key: "name"}]
 */
export function parseJsonPath(path: string): JsonPathStep[] {
  const steps = tryParseJsonPath(path);
  if (typeof steps === "string")
    throw new MicrogatewayError("InvalidArgument", `JSONPath ${JSON.stringify(path)} ${steps}`);
  return steps;
}

/** The steps of `path`, or what is wrong with it. */
export function tryParseJsonPath(path: string): JsonPathStep[] | string {
  if (!path.startsWith("$")) return "must start with $";
  const steps: JsonPathStep[] = [];
  let at = 1;
  while (at < path.length) {
    const c = path[at];
    if (c === ".") {
      if (path[at + 1] === ".") return "uses recursive descent (..), which is not supported";
      if (path[at + 1] === "*") {
        steps.push({ any: true });
        at += 2;
        continue;
      }
      const m = /^[^.[\]'"*?()@]+/.exec(path.slice(at + 1));
      if (m === null) return `has an empty or invalid key at character ${at + 1}`;
      steps.push({ key: m[0] });
      at += 1 + m[0].length;
    } else if (c === "[") {
      const rest = path.slice(at);
      const index = /^\[([0-9]+)\]/.exec(rest);
      if (index !== null) {
        steps.push({ index: Number(index[1]) });
        at += index[0].length;
        continue;
      }
      if (rest.startsWith("[*]")) {
        steps.push({ any: true });
        at += 3;
        continue;
      }
      const quoted = /^\[(['"])((?:[^\\]|\\.)*?)\1\]/.exec(rest);
      if (quoted !== null) {
        steps.push({ key: (quoted[2] as string).replaceAll(/\\(.)/g, "$1") });
        at += quoted[0].length;
        continue;
      }
      return `has an unsupported selector at character ${at + 1} (only [n], [*] and ['key'])`;
    } else {
      return `has an unexpected ${JSON.stringify(c)} at character ${at + 1}`;
    }
  }
  return steps;
}

/**
 * Whether the concrete `path` of a value (as the JSON parser writes it) is the one `pattern` names.
 *
 * @example jsonPathMatches(parseJsonPath("$.items[*]"), parseJsonPath("$.items[2]")) // true
 */
export function jsonPathMatches(pattern: readonly JsonPathStep[], path: readonly JsonPathStep[]): boolean {
  if (pattern.length !== path.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i] as JsonPathStep;
    const have = path[i] as JsonPathStep;
    if ("any" in want) continue;
    if ("key" in want) {
      if (!("key" in have) || have.key !== want.key) return false;
    } else if (!("index" in have) || have.index !== want.index) return false;
  }
  return true;
}
