/**
 * Shared pieces of the API (reference §3.2) as the parser reads them: StringMatchers, request data
 * (`blockData` / `blockedData`: header, parameter, path, pathSegment, json; graphQL is refused
 * since no GraphQL parser exists) and requestConditions. Every regex is compiled by RE2
 * (src/model/re2.ts) and every JSONPath parsed, so a bad one is an InvalidResource naming the
 * field here instead of a policy the inspector refuses later.
 */
import { tryParseJsonPath } from "../inspect/json-path.ts";
import {
  type At,
  asEnum,
  asInt,
  asList,
  asRecord,
  asString,
  child,
  fail,
  present,
  required,
  show,
} from "./fields.ts";
import { re2SyntaxError } from "./re2.ts";
import {
  HTTP_METHODS,
  MAX_MATCHER_LENGTH,
  type RequestConditions,
  type RequestData,
  type StringMatch,
} from "./types.ts";

const MATCHER_KINDS = ["exact", "prefix", "suffix", "contains", "regex"] as const;
const DATA_KINDS = ["header", "parameter", "path", "pathSegment", "json", "graphQL"] as const;
const SOURCES = ["Query", "Post", "Any"] as const;
const MAX_JSON_PATH = 1024;
const MAX_CIDRS = 1024;

/**
 * Parses `{matcher: StringMatcher}`. `alwaysIgnoreCase` is for the API's case-insensitive matchers
 * (header names, media types), which have no ignoreCase field.
 */
export function parseMatching(at: At, raw: unknown, alwaysIgnoreCase = false): StringMatch {
  const outer = asRecord(at, raw);
  const matcherAt = child(at, "matcher");
  const matcher = asRecord(matcherAt, required(matcherAt, outer.matcher));
  const set = MATCHER_KINDS.filter((k) => present(matcher[k]) !== undefined);
  const kind = set[0];
  if (set.length !== 1 || kind === undefined) {
    fail(
      matcherAt,
      `must have exactly one of exact, prefix, suffix, contains, regex (${set.length === 0 ? "none" : set.join(", ")} set)`,
    );
  }
  const valueAt = child(matcherAt, kind);
  const value = asString(valueAt, matcher[kind]);
  if (value.length < 1 || value.length > MAX_MATCHER_LENGTH) {
    fail(valueAt, `has ${value.length} characters, must have 1 to ${MAX_MATCHER_LENGTH}`);
  }
  if (kind === "regex") {
    const error = re2SyntaxError(value);
    if (error !== undefined) fail(valueAt, `${show(value)} is not a valid RE2 regex: ${error}`);
  }
  const ignoreCaseAt = child(matcherAt, "ignoreCase");
  const rawIgnoreCase = present(matcher.ignoreCase);
  let ignoreCase = alwaysIgnoreCase;
  if (!alwaysIgnoreCase && rawIgnoreCase !== undefined) {
    if (typeof rawIgnoreCase !== "boolean") fail(ignoreCaseAt, `${show(rawIgnoreCase)} must be a boolean`);
    ignoreCase = rawIgnoreCase;
  }
  return { kind, value, ignoreCase };
}

function optionalMatching(at: At, parent: Record<string, unknown>, key: string, ignoreCase = false) {
  const raw = present(parent[key]);
  return raw === undefined ? undefined : parseMatching(child(at, key), raw, ignoreCase);
}

/** A JSONPath as exceptions and custom rules name JSON properties (src/inspect/json-path.ts). */
export function parseJsonPathField(at: At, raw: unknown): string {
  const path = asString(at, raw);
  if (path.length < 1 || path.length > MAX_JSON_PATH) {
    fail(at, `has ${path.length} characters, must have 1 to ${MAX_JSON_PATH}`);
  }
  const steps = tryParseJsonPath(path);
  if (typeof steps === "string") fail(at, `${show(path)} ${steps}`);
  return path;
}

/** `source` of a parameter datum: Query, Post or Any (the API's default). */
export function parseSource(at: At, raw: unknown): "Query" | "Post" | "Any" {
  return present(raw) === undefined ? "Any" : asEnum(at, raw, SOURCES);
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Parses request data (`blockData` of a custom rule, `blockedData` of an exception): exactly one
 * kind, with at least one matcher (an empty datum would match every request). graphQL is refused.
 */
export function parseRequestData(at: At, raw: unknown): RequestData {
  const data = asRecord(at, raw);
  const set = DATA_KINDS.filter((k) => present(data[k]) !== undefined);
  const kind = set[0];
  if (set.length !== 1 || kind === undefined) {
    fail(
      at,
      `must have exactly one of header, parameter, path, pathSegment, json, graphQL (${set.length === 0 ? "none" : set.join(", ")} set)`,
    );
  }
  const kindAt = child(at, kind);
  const nothingSet = (): never => fail(kindAt, "must set at least one of its fields");
  switch (kind) {
    case "path":
      return { kind, path: parseMatching(kindAt, data.path) };
    case "header": {
      const header = asRecord(kindAt, data.header);
      const result = withoutUndefined({
        kind,
        name: optionalMatching(kindAt, header, "name", true),
        value: optionalMatching(kindAt, header, "value"),
      });
      if (result.name === undefined && result.value === undefined) nothingSet();
      return result;
    }
    case "parameter": {
      const param = asRecord(kindAt, data.parameter);
      const result = withoutUndefined({
        kind,
        name: optionalMatching(kindAt, param, "name"),
        value: optionalMatching(kindAt, param, "value"),
        source: parseSource(child(kindAt, "source"), param.source),
      });
      if (result.name === undefined && result.value === undefined) nothingSet();
      return result;
    }
    case "pathSegment": {
      const segment = asRecord(kindAt, data.pathSegment);
      const segmentsAt = child(kindAt, "segments");
      const segments = present(segment.segments);
      const rawIndex = segments === undefined ? undefined : present(asRecord(segmentsAt, segments).index);
      const result = withoutUndefined({
        kind,
        index: rawIndex === undefined ? undefined : asInt(child(segmentsAt, "index"), rawIndex, 0, 1024),
        value: optionalMatching(kindAt, segment, "value"),
      });
      if (result.index === undefined && result.value === undefined) nothingSet();
      return result;
    }
    case "json": {
      const json = asRecord(kindAt, data.json);
      const rawPath = present(json.jsonPath);
      const result = withoutUndefined({
        kind,
        jsonPath: rawPath === undefined ? undefined : parseJsonPathField(child(kindAt, "jsonPath"), rawPath),
        key: optionalMatching(kindAt, json, "key"),
        value: optionalMatching(kindAt, json, "value"),
      });
      if (result.key !== undefined && result.value !== undefined) {
        fail(kindAt, "must not set both key and value");
      }
      if (result.jsonPath === undefined && result.key === undefined && result.value === undefined)
        nothingSet();
      return result;
    }
    case "graphQL":
      return fail(kindAt, "is not supported: GraphQL requests are not parsed (no GraphQL parser yet)");
  }
}

/** Parses requestConditions (reference §3.2); every field is supported. */
export function parseRequestConditions(at: At, raw: unknown): RequestConditions {
  const conditions = asRecord(at, raw);
  const methodAt = child(at, "method");
  const rawMethods = present(conditions.method);
  const method =
    rawMethods === undefined
      ? undefined
      : [
          ...new Set(
            asList(methodAt, rawMethods, 0, HTTP_METHODS.length).map((m, i) =>
              asEnum(child(methodAt, i), m, HTTP_METHODS),
            ),
          ),
        ];
  const headerAt = child(at, "header");
  const rawHeader = present(conditions.header);
  let header: RequestConditions["header"];
  if (rawHeader !== undefined) {
    const h = asRecord(headerAt, rawHeader);
    const value = optionalMatching(headerAt, h, "value");
    header = {
      name: parseMatching(child(headerAt, "name"), required(child(headerAt, "name"), h.name), true),
      ...(value === undefined ? {} : { value }),
    };
  }
  const ipAt = child(at, "remoteIP");
  const rawIp = present(conditions.remoteIP);
  let remoteIP: RequestConditions["remoteIP"];
  if (rawIp !== undefined) {
    const ip = asRecord(ipAt, rawIp);
    const rangesAt = child(ipAt, "cidrRanges");
    const cidrRanges = asList(rangesAt, required(rangesAt, ip.cidrRanges), 1, MAX_CIDRS).map((c, i) =>
      parseCidr(child(rangesAt, i), c),
    );
    remoteIP = { cidrRanges, invert: parseBool(child(ipAt, "invert"), ip.invert) };
  }
  const invert = parseBool(child(at, "invert"), conditions.invert);
  return withoutUndefined({
    method,
    path: optionalMatching(at, conditions, "path"),
    header,
    mediaType: optionalMatching(at, conditions, "mediaType", true),
    remoteIP,
    invert: invert ? true : undefined,
  });
}

function parseBool(at: At, raw: unknown): boolean {
  const value = present(raw);
  if (value === undefined) return false;
  if (typeof value !== "boolean") fail(at, `${show(value)} must be a boolean`);
  return value;
}

const IPV4 =
  /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;

/** A CIDR range (`10.0.0.0/8`, `2001:db8::/32`), as the API server's `cidr` format accepts. */
function parseCidr(at: At, raw: unknown): string {
  const cidr = asString(at, raw);
  const [address = "", prefix, extra] = cidr.split("/");
  const v4 = IPV4.test(address);
  const v6 = !v4 && address.includes(":") && isIPv6(address);
  const bits = prefix === undefined ? Number.NaN : /^[0-9]{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
  if (extra !== undefined || (!v4 && !v6) || !(bits >= 0 && bits <= (v4 ? 32 : 128))) {
    fail(at, `${show(cidr)} must be a CIDR range such as 10.0.0.0/8 or 2001:db8::/32`);
  }
  return cidr;
}

function isIPv6(address: string): boolean {
  try {
    return new URL(`http://[${address}]/`).hostname !== "";
  } catch {
    return false;
  }
}
