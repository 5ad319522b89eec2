/**
 * Request data of the API (`blockData` of custom rules, `blockedData` of exceptions: header,
 * parameter, path, pathSegment, json) compiled into a predicate over inspected values.
 *
 * A header matcher also covers the Cookie values (a cookie is a header, as the API counts it): a
 * header datum whose name matches `cookie` covers every cookie whose value matches. JSON data match
 * string values and keys only: a JSON datum with `key` covers keys, with `value` string values, with
 * neither both.
 */
import type { RequestData } from "../model/types.ts";
import { decodeValue } from "./decode.ts";
import { type JsonPathStep, jsonPathMatches, parseJsonPath, tryParseJsonPath } from "./json-path.ts";
import { compileMatch, type Matcher, type Programs } from "./matchers.ts";
import type { InspectedValue, ParsedRequest } from "./types.ts";

/** Whether a value is (part of) the datum. */
export type DataMatcher = (value: InspectedValue) => boolean;

const any: Matcher = () => true;

const stepsOfValue = new WeakMap<InspectedValue, JsonPathStep[] | null>();

/** The steps of a JSON value's path; null (matching no pattern) should one ever not parse. */
export function jsonStepsOf(value: InspectedValue): JsonPathStep[] | null {
  let steps = stepsOfValue.get(value);
  if (steps === undefined) {
    const parsed = tryParseJsonPath(value.name ?? "$");
    steps = typeof parsed === "string" ? null : parsed;
    stepsOfValue.set(value, steps);
  }
  return steps;
}

/**
 * Compiles a datum.
 *
 * @example compileData({kind: "parameter", name: {kind: "exact", value: "q", ignoreCase: false}, source: "Query"}, [])
 */
export function compileData(data: RequestData, programs: Programs): DataMatcher {
  const opt = (m: Parameters<typeof compileMatch>[0] | undefined): Matcher =>
    m === undefined ? any : compileMatch(m, programs);
  switch (data.kind) {
    case "path": {
      const path = compileMatch(data.path, programs);
      return (v) => v.target === "Path" && path(v.decoded);
    }
    case "header": {
      const name = data.name === undefined ? any : compileMatch({ ...data.name, ignoreCase: true }, programs);
      const value = opt(data.value);
      const cookies = name("cookie");
      return (v) =>
        ((v.target === "Header" && name(v.name ?? "")) || (v.target === "Cookie" && cookies)) &&
        value(v.decoded);
    }
    case "parameter": {
      const name = opt(data.name);
      const value = opt(data.value);
      const source = data.source;
      return (v) =>
        v.target === "Parameter" &&
        (source === "Any" || v.source === source) &&
        name(v.name ?? "") &&
        value(v.decoded);
    }
    case "pathSegment": {
      const index = data.index === undefined ? undefined : String(data.index);
      const value = opt(data.value);
      return (v) =>
        v.target === "PathSegment" && (index === undefined || v.name === index) && value(v.decoded);
    }
    case "json": {
      const path = data.jsonPath === undefined ? undefined : parseJsonPath(data.jsonPath);
      const key = data.key === undefined ? undefined : compileMatch(data.key, programs);
      const value = data.value === undefined ? undefined : compileMatch(data.value, programs);
      return (v) => {
        if (v.target !== "JSON") return false;
        if (key !== undefined && (v.jsonKey !== true || !key(v.decoded))) return false;
        if (value !== undefined && (v.jsonKey === true || !value(v.decoded))) return false;
        if (path === undefined) return true;
        const steps = jsonStepsOf(v);
        return steps !== null && jsonPathMatches(path, steps);
      };
    }
  }
}

/**
 * The first value of `request` the datum matches, for custom rules. Header data see every header
 * (also `cookie` and `content-length`, which are not Header values), decoded.
 */
export function findData(
  data: RequestData,
  matcher: DataMatcher,
  request: ParsedRequest,
): InspectedValue | undefined {
  if (data.kind === "header") {
    for (const [name, raw] of request.headers) {
      const value: InspectedValue = {
        target: "Header",
        name,
        raw,
        decoded: decodeValue(raw, { plusAsSpace: false }),
      };
      if (matcher(value)) return value;
    }
    return undefined;
  }
  return request.values.find(matcher);
}
