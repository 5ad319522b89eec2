/**
 * The Limits (reference §3.7) as the inspector enforces them: body sizes (general and per parser),
 * path length, parameter count and name/value lengths, JSON nesting depth, key count, element
 * count and key/value lengths. Findings have blockType `limits` and blockSubtype `<group>_<limit>`
 * (`general_body_size`, `parameter_value_length`, `json_nesting_depth`, ...); body size findings
 * are answered 413 (src/inspect/findings.ts `blockStatus`). Sizes and lengths are in bytes (UTF-8).
 *
 * Length exceptions exempt a parameter (by name and source) or a JSON property (by JSONPath) from
 * the name/key and value length limits, optionally only under request conditions.
 *
 * `headerPhaseLimits` decides what can be decided before the body is read: the path length, and a
 * Content-Length over the general limit or over the limit of the parser that would read the body,
 * so such a request is refused without reading its body. `inspect` repeats these checks; the
 * header-phase verdict is for blocking early, inspect's verdict is the complete one.
 */
import type { LimitsSpec, LimitValues, ThreatHandlingMode } from "../model/types.ts";
import { jsonStepsOf } from "./data.ts";
import { excerpt } from "./findings.ts";
import { type JsonPathStep, jsonPathMatches, parseJsonPath } from "./json-path.ts";
import { type Condition, compileConditions, compileMatch, type Matcher, type Programs } from "./matchers.ts";
import { headerValue, rawPathOf } from "./parse-request.ts";
import { selectParser } from "./parser-selection.ts";
import type { CompiledPolicy } from "./policy.ts";
import type { Finding, InspectedValue, ParsedRequest, Verdict } from "./types.ts";

interface CompiledLengthException {
  readonly parameter?: { readonly name: Matcher; readonly source: "Query" | "Post" | "Any" };
  readonly json?: readonly JsonPathStep[];
  readonly condition?: Condition;
}

/** The Limits of a policy, compiled. */
export interface CompiledLimits {
  readonly mode: ThreatHandlingMode;
  /** Undefined: unlimited. */
  readonly limited?: LimitValues;
  readonly exceptions: readonly CompiledLengthException[];
}

/** Compiles the Limits of a policy. */
export function compileLimits(spec: LimitsSpec, programs: Programs): CompiledLimits {
  const limited = spec.limited;
  const exceptions = (limited?.exceptions ?? []).map((e): CompiledLengthException => {
    const condition = e.requestConditions && compileConditions(e.requestConditions, programs);
    const length =
      e.length.kind === "parameter"
        ? { parameter: { name: compileMatch(e.length.name, programs), source: e.length.source } }
        : { json: parseJsonPath(e.length.jsonPath) };
    return { ...length, ...(condition === undefined ? {} : { condition }) };
  });
  return { mode: spec.threatHandlingMode, ...(limited === undefined ? {} : { limited }), exceptions };
}

function utf8Length(text: string): number {
  // Each UTF-16 code unit is at most 3 UTF-8 bytes; count exactly only when it could matter.
  return text.length <= 0x7fffffff / 3 ? Buffer.byteLength(text, "utf8") : text.length * 3;
}

function over(text: string, limit: number): number | undefined {
  if (text.length * 3 <= limit) return undefined;
  const length = utf8Length(text);
  return length > limit ? length : undefined;
}

const PARSER_BODY_LIMIT = {
  form: (l: LimitValues) => ["parameter_body_size", l.parameter.bodySize],
  json: (l: LimitValues) => ["json_body_size", l.json.bodySize],
  multipart: (l: LimitValues) => ["multipart_body_size", l.multipart.bodySize],
} as const satisfies Record<string, (l: LimitValues) => readonly [string, number]>;

function finding(limits: CompiledLimits, subtype: string, detail: string, value?: InspectedValue): Finding {
  return {
    blockType: "limits",
    blockSubtype: subtype,
    ruleKey: subtype.toUpperCase(),
    mode: limits.mode,
    ...(value === undefined
      ? {}
      : { target: value.target, ...(value.name === undefined ? {} : { name: value.name }) }),
    detail: excerpt(detail),
  };
}

/**
 * Every limit `request` exceeds, in a fixed order (sizes first). Never throws.
 *
 * @example checkLimits(compiled.limits, request) // [{blockType: "limits", blockSubtype: "json_nesting_depth", ...}]
 */
export function checkLimits(limits: CompiledLimits, request: ParsedRequest): Finding[] {
  const l = limits.limited;
  if (l === undefined) return [];
  const found: Finding[] = [];
  const pathLength = utf8Length(rawPathOf(request.rawTarget));
  if (pathLength > l.general.pathLength)
    found.push(
      finding(limits, "general_path_length", `path has ${pathLength} bytes, limit ${l.general.pathLength}`),
    );
  const size = request.bodySize;
  if (size !== undefined) {
    if (size > l.general.bodySize)
      found.push(finding(limits, "general_body_size", `body has ${size} bytes, limit ${l.general.bodySize}`));
    if (request.bodyParser !== undefined) {
      const [subtype, limit] = PARSER_BODY_LIMIT[request.bodyParser](l);
      if (size > limit) found.push(finding(limits, subtype, `body has ${size} bytes, limit ${limit}`));
    }
  }
  const exempt = lengthExemption(limits, request);
  let parameters = 0;
  for (const value of request.values) {
    if (value.target === "Parameter") {
      if (value.file !== undefined) continue;
      parameters++;
      const name = value.name ?? "";
      const nameLength = over(name, l.parameter.nameLength);
      if (nameLength !== undefined && !exempt(value))
        found.push(
          finding(
            limits,
            "parameter_name_length",
            `name has ${nameLength} bytes, limit ${l.parameter.nameLength}`,
            value,
          ),
        );
      const valueLength = over(value.raw, l.parameter.valueLength);
      if (valueLength !== undefined && !exempt(value))
        found.push(
          finding(
            limits,
            "parameter_value_length",
            `value has ${valueLength} bytes, limit ${l.parameter.valueLength}`,
            value,
          ),
        );
    } else if (value.target === "JSON") {
      const [subtype, limit] =
        value.jsonKey === true
          ? ["json_key_length", l.json.keyLength]
          : ["json_value_length", l.json.valueLength];
      const length = over(value.raw, limit);
      if (length !== undefined && !exempt(value))
        found.push(
          finding(
            limits,
            subtype,
            `${value.jsonKey ? "key" : "value"} has ${length} bytes, limit ${limit}`,
            value,
          ),
        );
    }
  }
  if (parameters > l.parameter.count)
    found.push(finding(limits, "parameter_count", `${parameters} parameters, limit ${l.parameter.count}`));
  const shape = request.json;
  if (shape !== undefined) {
    if (shape.nestingDepth > l.json.nestingDepth)
      found.push(
        finding(
          limits,
          "json_nesting_depth",
          `nesting depth ${shape.nestingDepth}, limit ${l.json.nestingDepth}`,
        ),
      );
    if (shape.keyCount > l.json.keyCount)
      found.push(
        finding(
          limits,
          "json_key_count",
          `${shape.keyCount} keys at ${shape.keyCountPath}, limit ${l.json.keyCount}`,
        ),
      );
    if (shape.elementCount > l.json.elementCount)
      found.push(
        finding(
          limits,
          "json_element_count",
          `${shape.elementCount} elements at ${shape.elementCountPath}, limit ${l.json.elementCount}`,
        ),
      );
  }
  return found;
}

function lengthExemption(limits: CompiledLimits, request: ParsedRequest): (value: InspectedValue) => boolean {
  if (limits.exceptions.length === 0) return () => false;
  return (value) =>
    limits.exceptions.some((e) => {
      if (e.parameter !== undefined) {
        if (value.target !== "Parameter") return false;
        if (e.parameter.source !== "Any" && e.parameter.source !== value.source) return false;
        if (!e.parameter.name(value.name ?? "")) return false;
      } else if (e.json !== undefined) {
        if (value.target !== "JSON") return false;
        const steps = jsonStepsOf(value);
        if (steps === null || !jsonPathMatches(e.json, steps)) return false;
      }
      return e.condition === undefined || e.condition(request);
    });
}

/**
 * The limits that can be checked before the body is read, on `head` (src/inspect/parse-request.ts
 * `parseHead`): path length, and a Content-Length over the general body size or over the body size
 * of the parser that would read the body. A Block here is answered without reading the body.
 *
 * @example headerPhaseLimits(compiled, parseHead({method: "POST", rawTarget: "/up", headers: [["content-length", "999999999"]]})).block?.blockSubtype // "general_body_size"
 */
export function headerPhaseLimits(compiled: CompiledPolicy, head: ParsedRequest): Verdict {
  const limits = compiled.limits;
  const l = limits.limited;
  if (l === undefined) return { logged: [] };
  const found: Finding[] = [];
  const pathLength = utf8Length(rawPathOf(head.rawTarget));
  if (pathLength > l.general.pathLength)
    found.push(
      finding(limits, "general_path_length", `path has ${pathLength} bytes, limit ${l.general.pathLength}`),
    );
  const declared = contentLength(head);
  if (declared !== undefined) {
    if (declared > l.general.bodySize)
      found.push(
        finding(limits, "general_body_size", `body has ${declared} bytes, limit ${l.general.bodySize}`),
      );
    const parser = selectParser(compiled.parser, head);
    if (parser !== undefined) {
      const [subtype, limit] = PARSER_BODY_LIMIT[parser](l);
      if (declared > limit)
        found.push(finding(limits, subtype, `body has ${declared} bytes, limit ${limit}`));
    }
  }
  const block = found.find((f) => f.mode === "Block");
  return block === undefined ? { logged: found } : { block, logged: [] };
}

/** The request's Content-Length, if it has a valid one. */
export function contentLength(head: ParsedRequest): number | undefined {
  const value = headerValue(head.headers, "content-length");
  if (value === undefined || !/^[0-9]{1,15}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}
