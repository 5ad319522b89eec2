/**
 * Limits `spec` (reference §3.7) -> LimitsSpec: quantities resolved to bytes, defaults filled in.
 * GraphQL limits and graphQL length exceptions are accepted by the API; graphQL exceptions are
 * refused here (no GraphQL parser, so the exception could not mean anything), graphQL limits are
 * ignored (nothing they could limit is parsed).
 */
import { QUANTITY_PATTERN } from "../api/common.ts";
import {
  type At,
  asEnum,
  asInt,
  asList,
  asRecord,
  child,
  fail,
  optionalRecord,
  present,
  required,
  show,
} from "./fields.ts";
import { parseJsonPathField, parseMatching, parseRequestConditions, parseSource } from "./parse-matchers.ts";
import {
  DEFAULT_LIMIT_VALUES,
  type LimitsException,
  type LimitsSpec,
  type LimitValues,
  THREAT_HANDLING_MODES,
} from "./types.ts";

const QUANTITY = new RegExp(QUANTITY_PATTERN);
const SUFFIX_FACTOR: Readonly<Record<string, number>> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};
const MAX_EXCEPTIONS = 4096;

/**
 * A Kubernetes quantity as a number of bytes, rounded up (as Kubernetes rounds quantities up).
 *
 * @example quantityBytes(at, "60Ki") // 61440
 */
export function quantityBytes(at: At, raw: unknown): number {
  if (typeof raw === "number") {
    if (!Number.isSafeInteger(raw) || raw < 0) fail(at, `${show(raw)} must be a non-negative integer`);
    return raw;
  }
  if (typeof raw !== "string" || !QUANTITY.test(raw)) {
    fail(at, `${show(raw)} must be a number of bytes or a quantity such as 60Ki or 100Mi`);
  }
  const m = /^([+-]?[0-9.]+)(?:([eE][+-]?[0-9.]+)|([KMGTPE]i|[numkMGTPE])?)$/.exec(raw);
  if (m === null) return fail(at, `${show(raw)} is not a quantity`);
  const base = Number(m[1]);
  const value =
    m[2] !== undefined ? base * 10 ** Number(m[2].slice(1)) : base * (SUFFIX_FACTOR[m[3] ?? ""] ?? 1);
  if (!Number.isFinite(value) || value < 0 || value > Number.MAX_SAFE_INTEGER) {
    fail(at, `${show(raw)} must be between 0 and ${Number.MAX_SAFE_INTEGER} bytes`);
  }
  return Math.ceil(value);
}

function sizes<K extends string>(
  at: At,
  raw: unknown,
  defaults: Readonly<Record<K, number>>,
  counts: readonly string[] = [],
): Record<K, number> {
  const o = optionalRecord(at, raw);
  const out = { ...defaults } as Record<K, number>;
  for (const key of Object.keys(defaults) as K[]) {
    const value = present(o[key]);
    if (value === undefined) continue;
    out[key] = counts.includes(key)
      ? asInt(child(at, key), value, 0, Number.MAX_SAFE_INTEGER)
      : quantityBytes(child(at, key), value);
  }
  return out;
}

function parseException(at: At, raw: unknown): LimitsException {
  const e = asRecord(at, raw);
  const lengthAt = child(at, "length");
  const length = asRecord(lengthAt, required(lengthAt, e.length));
  const set = ["parameter", "json", "graphQL"].filter((k) => present(length[k]) !== undefined);
  if (set.length !== 1) {
    fail(
      lengthAt,
      `must have exactly one of parameter, json, graphQL (${set.length === 0 ? "none" : set.join(", ")} set)`,
    );
  }
  const conditions = present(e.requestConditions);
  const requestConditions =
    conditions === undefined
      ? {}
      : { requestConditions: parseRequestConditions(child(at, "requestConditions"), conditions) };
  if (set[0] === "parameter") {
    const paramAt = child(lengthAt, "parameter");
    const param = asRecord(paramAt, length.parameter);
    return {
      length: {
        kind: "parameter",
        name: parseMatching(child(paramAt, "name"), required(child(paramAt, "name"), param.name)),
        source: parseSource(child(paramAt, "source"), param.source),
      },
      ...requestConditions,
    };
  }
  if (set[0] === "json") {
    const jsonAt = child(lengthAt, "json");
    const json = asRecord(jsonAt, length.json);
    const pathAt = child(jsonAt, "jsonPath");
    return {
      length: { kind: "json", jsonPath: parseJsonPathField(pathAt, required(pathAt, json.jsonPath)) },
      ...requestConditions,
    };
  }
  return fail(
    child(lengthAt, "graphQL"),
    "is not supported: GraphQL requests are not parsed (no GraphQL parser yet)",
  );
}

/** Parses a Limits `spec`; `at` is its path. */
export function parseLimitsSpec(at: At, raw: unknown): LimitsSpec {
  const spec = optionalRecord(at, raw);
  const settingsAt = child(at, "settings");
  const settings = optionalRecord(settingsAt, spec.settings);
  const mode = present(settings.threatHandlingMode);
  const threatHandlingMode =
    mode === undefined
      ? "Block"
      : asEnum(child(settingsAt, "threatHandlingMode"), mode, THREAT_HANDLING_MODES);
  const requestAt = child(at, "request");
  const request = optionalRecord(requestAt, spec.request);
  const unlimited = present(request.unlimited);
  const limitedRaw = present(request.limited);
  if (unlimited !== undefined && limitedRaw !== undefined)
    fail(requestAt, "must have at most one of unlimited, limited (both are set)");
  if (unlimited !== undefined) {
    asRecord(child(requestAt, "unlimited"), unlimited);
    return { threatHandlingMode };
  }
  const limitedAt = child(requestAt, "limited");
  const limited = optionalRecord(limitedAt, limitedRaw);
  const d = DEFAULT_LIMIT_VALUES;
  const exceptionsAt = child(limitedAt, "exceptions");
  const rawExceptions = present(limited.exceptions);
  const values: LimitValues = {
    general: sizes(child(limitedAt, "general"), limited.general, d.general),
    parameter: sizes(child(limitedAt, "parameter"), limited.parameter, d.parameter, ["count"]),
    json: sizes(child(limitedAt, "json"), limited.json, d.json, ["nestingDepth", "keyCount", "elementCount"]),
    multipart: sizes(child(limitedAt, "multipart"), limited.multipart, d.multipart),
    exceptions:
      rawExceptions === undefined
        ? []
        : asList(exceptionsAt, rawExceptions, 0, MAX_EXCEPTIONS).map((e, i) =>
            parseException(child(exceptionsAt, i), e),
          ),
  };
  return { threatHandlingMode, limited: values };
}
