/**
 * Shape check of a decoded RoutePolicy (src/inspect/policy.ts): the inspector trusts nothing that
 * arrives over the wire, so anything that is not exactly what `encodePolicy` writes is refused
 * with MicrogatewayError `InvalidArgument` naming the field. Regexes, JSONPaths and CIDRs are
 * checked when the policy is compiled.
 */
import { MicrogatewayError } from "../errors.ts";
import {
  DENY_RULE_LEVELS,
  type DenyRulesSpec,
  HTTP_METHODS,
  type LimitsSpec,
  type ParserSpec,
  type RequestConditions,
  type RequestData,
  RULE_FAMILIES,
  RULE_TARGET_TYPES,
  type StringMatch,
  THREAT_HANDLING_MODES,
} from "../model/types.ts";
import type { RoutePolicy } from "./policy-wire.ts";

type Obj = Record<string, unknown>;

function bad(path: string, what: string): never {
  throw new MicrogatewayError("InvalidArgument", `policy: ${path} ${what}`);
}

function obj(path: string, v: unknown): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) bad(path, "must be an object");
  return v as Obj;
}

function list(path: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) bad(path, "must be a list");
  return v;
}

function str(path: string, v: unknown): string {
  if (typeof v !== "string") bad(path, "must be a string");
  return v;
}

function bool(path: string, v: unknown): boolean {
  if (typeof v !== "boolean") bad(path, "must be a boolean");
  return v;
}

function count(path: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) bad(path, "must be a non-negative integer");
  return v;
}

function oneOf<T extends string>(path: string, v: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) bad(path, `must be one of ${allowed.join(", ")}`);
  return v as T;
}

function optional<T>(o: Obj, key: string, path: string, read: (p: string, v: unknown) => T): T | undefined {
  return o[key] === undefined ? undefined : read(`${path}.${key}`, o[key]);
}

const MATCH_KINDS = ["exact", "prefix", "suffix", "contains", "regex"] as const;

function match(path: string, v: unknown): StringMatch {
  const o = obj(path, v);
  return {
    kind: oneOf(`${path}.kind`, o.kind, MATCH_KINDS),
    value: str(`${path}.value`, o.value),
    ignoreCase: bool(`${path}.ignoreCase`, o.ignoreCase),
  };
}

const SOURCES = ["Query", "Post", "Any"] as const;

function data(path: string, v: unknown): RequestData {
  const o = obj(path, v);
  const m = (key: string) => optional(o, key, path, match);
  const kind = oneOf(`${path}.kind`, o.kind, ["path", "header", "parameter", "pathSegment", "json"] as const);
  const set = <T extends object>(x: T): T =>
    Object.fromEntries(Object.entries(x).filter(([, value]) => value !== undefined)) as T;
  switch (kind) {
    case "path":
      return { kind, path: match(`${path}.path`, o.path) };
    case "header":
      return set({ kind, name: m("name"), value: m("value") });
    case "parameter":
      return set({
        kind,
        name: m("name"),
        value: m("value"),
        source: oneOf(`${path}.source`, o.source, SOURCES),
      });
    case "pathSegment":
      return set({ kind, index: optional(o, "index", path, count), value: m("value") });
    case "json":
      return set({ kind, jsonPath: optional(o, "jsonPath", path, str), key: m("key"), value: m("value") });
  }
}

function conditions(path: string, v: unknown): RequestConditions {
  const o = obj(path, v);
  const method = optional(o, "method", path, (p, x) =>
    list(p, x).map((m, i) => oneOf(`${p}[${i}]`, m, HTTP_METHODS)),
  );
  const header = optional(o, "header", path, (p, x) => {
    const h = obj(p, x);
    const value = optional(h, "value", p, match);
    return { name: match(`${p}.name`, h.name), ...(value === undefined ? {} : { value }) };
  });
  const remoteIP = optional(o, "remoteIP", path, (p, x) => {
    const r = obj(p, x);
    return {
      cidrRanges: list(`${p}.cidrRanges`, r.cidrRanges).map((c, i) => str(`${p}.cidrRanges[${i}]`, c)),
      invert: bool(`${p}.invert`, r.invert),
    };
  });
  const out: Record<string, unknown> = {
    method,
    path: optional(o, "path", path, match),
    header,
    mediaType: optional(o, "mediaType", path, match),
    remoteIP,
    invert: optional(o, "invert", path, bool),
  };
  return Object.fromEntries(Object.entries(out).filter(([, x]) => x !== undefined)) as RequestConditions;
}

function denyRules(path: string, v: unknown): DenyRulesSpec {
  const request = obj(`${path}.request`, obj(path, v).request);
  const builtIn = obj(`${path}.request.builtIn`, request.builtIn);
  const at = `${path}.request.builtIn`;
  const settings = obj(`${at}.settings`, builtIn.settings);
  const families = (p: string, x: unknown) => list(p, x).map((f, i) => oneOf(`${p}[${i}]`, f, RULE_FAMILIES));
  const overrides = optional(builtIn, "overrides", at, (p, x) =>
    list(p, x).map((item, i) => {
      const o = obj(`${p}[${i}]`, item);
      const fields = {
        ruleKeys: optional(o, "ruleKeys", `${p}[${i}]`, families),
        types: optional(o, "types", `${p}[${i}]`, (q, y) =>
          list(q, y).map((t, j) => oneOf(`${q}[${j}]`, t, RULE_TARGET_TYPES)),
        ),
        level: optional(o, "level", `${p}[${i}]`, (q, y) => oneOf(q, y, DENY_RULE_LEVELS)),
        threatHandlingMode: optional(o, "threatHandlingMode", `${p}[${i}]`, (q, y) =>
          oneOf(q, y, THREAT_HANDLING_MODES),
        ),
      };
      return Object.fromEntries(Object.entries(fields).filter(([, y]) => y !== undefined));
    }),
  );
  const exceptions = optional(builtIn, "exceptions", at, (p, x) =>
    list(p, x).map((item, i) => {
      const o = obj(`${p}[${i}]`, item);
      const fields = {
        ruleKeys: optional(o, "ruleKeys", `${p}[${i}]`, families),
        blockedData: optional(o, "blockedData", `${p}[${i}]`, data),
        requestConditions: optional(o, "requestConditions", `${p}[${i}]`, conditions),
      };
      return Object.fromEntries(Object.entries(fields).filter(([, y]) => y !== undefined));
    }),
  );
  const custom = optional(request, "custom", `${path}.request`, (p, x) => ({
    rules: list(`${p}.rules`, obj(p, x).rules).map((item, i) => {
      const q = `${p}.rules[${i}]`;
      const o = obj(q, item);
      const requestConditions = optional(o, "requestConditions", q, conditions);
      return {
        ruleKey: str(`${q}.ruleKey`, o.ruleKey),
        threatHandlingMode: oneOf(`${q}.threatHandlingMode`, o.threatHandlingMode, THREAT_HANDLING_MODES),
        blockData: data(`${q}.blockData`, o.blockData),
        ...(requestConditions === undefined ? {} : { requestConditions }),
      };
    }),
  }));
  return {
    request: {
      builtIn: {
        settings: {
          level: oneOf(`${at}.settings.level`, settings.level, DENY_RULE_LEVELS),
          threatHandlingMode: oneOf(
            `${at}.settings.threatHandlingMode`,
            settings.threatHandlingMode,
            THREAT_HANDLING_MODES,
          ),
        },
        ...(overrides === undefined ? {} : { overrides }),
        ...(exceptions === undefined ? {} : { exceptions }),
      },
      ...(custom === undefined ? {} : { custom }),
    },
  };
}

function counts<K extends string>(path: string, v: unknown, keys: readonly K[]): Record<K, number> {
  const o = obj(path, v);
  return Object.fromEntries(keys.map((k) => [k, count(`${path}.${k}`, o[k])])) as Record<K, number>;
}

function limits(path: string, v: unknown): LimitsSpec {
  const o = obj(path, v);
  const mode = oneOf(`${path}.threatHandlingMode`, o.threatHandlingMode, THREAT_HANDLING_MODES);
  if (o.limited === undefined) return { threatHandlingMode: mode };
  const at = `${path}.limited`;
  const l = obj(at, o.limited);
  return {
    threatHandlingMode: mode,
    limited: {
      general: counts(`${at}.general`, l.general, ["bodySize", "pathLength"]),
      parameter: counts(`${at}.parameter`, l.parameter, ["bodySize", "count", "nameLength", "valueLength"]),
      json: counts(`${at}.json`, l.json, [
        "bodySize",
        "nestingDepth",
        "keyCount",
        "elementCount",
        "keyLength",
        "valueLength",
      ]),
      multipart: counts(`${at}.multipart`, l.multipart, ["bodySize"]),
      exceptions: list(`${at}.exceptions`, l.exceptions).map((item, i) => {
        const p = `${at}.exceptions[${i}]`;
        const e = obj(p, item);
        const len = obj(`${p}.length`, e.length);
        const kind = oneOf(`${p}.length.kind`, len.kind, ["parameter", "json"] as const);
        const length =
          kind === "parameter"
            ? {
                kind,
                name: match(`${p}.length.name`, len.name),
                source: oneOf(`${p}.length.source`, len.source, SOURCES),
              }
            : { kind, jsonPath: str(`${p}.length.jsonPath`, len.jsonPath) };
        const requestConditions = optional(e, "requestConditions", p, conditions);
        return { length, ...(requestConditions === undefined ? {} : { requestConditions }) };
      }),
    },
  };
}

function parser(path: string, v: unknown): ParserSpec {
  const o = obj(path, v);
  const parsers = obj(`${path}.parsers`, o.parsers);
  const one = (kind: "form" | "json" | "multipart") => {
    const p = obj(`${path}.parsers.${kind}`, parsers[kind]);
    return {
      enable: bool(`${path}.parsers.${kind}.enable`, p.enable),
      mediaTypePattern: str(`${path}.parsers.${kind}.mediaTypePattern`, p.mediaTypePattern),
    };
  };
  return {
    defaultContentType: str(`${path}.defaultContentType`, o.defaultContentType),
    parsers: { form: one("form"), json: one("json"), multipart: one("multipart") },
    custom: list(`${path}.custom`, o.custom).map((item, i) => {
      const p = `${path}.custom[${i}]`;
      const r = obj(p, item);
      return {
        requestConditions: conditions(`${p}.requestConditions`, r.requestConditions),
        action: oneOf(`${p}.action`, r.action, ["form", "json", "multipart", "skip"] as const),
      };
    }),
  };
}

/**
 * `value` as a RoutePolicy, rebuilt field by field (unknown fields dropped), or MicrogatewayError
 * `InvalidArgument` naming the first field that is wrong.
 */
export function validatePolicy(value: unknown): RoutePolicy {
  const o = obj("(root)", value);
  if (o.version !== 1) bad("version", `${JSON.stringify(o.version)} is not 1`);
  return {
    version: 1,
    denyRules: denyRules("denyRules", o.denyRules),
    limits: limits("limits", o.limits),
    parser: parser("parser", o.parser),
  };
}
