/**
 * HeaderRewrites (reference §3.6) in the model: the spec with every default applied, matchers
 * parsed and placeholders checked, so the translator (src/translate/header-rewrites.ts) only has to
 * decide what Envoy does natively and what the inspector does.
 */

import {
  type At,
  asEnum,
  asList,
  asRecord,
  asString,
  child,
  fail,
  optionalRecord,
  present,
  required,
  show,
} from "./fields.ts";
import {
  type HeaderMatch,
  parseFlag,
  parseHeaderMatch,
  parseRequestConditions,
  type RequestConditions,
} from "./request-conditions.ts";

/** A rule selecting headers by name and value (allow and remove lists). */
export interface HeaderMatchRule {
  readonly name: string;
  readonly headers: readonly HeaderMatch[];
  readonly requestConditions?: RequestConditions;
}

/** A rule adding headers. Values may hold Envoy command operators (`%DOWNSTREAM_PEER_CERT%`). */
export interface HeaderAddRule {
  readonly name: string;
  readonly headers: readonly { readonly name: string; readonly value: string }[];
  readonly mode: "AddIfAbsent" | "OverwriteOrAdd";
  readonly requestConditions?: RequestConditions;
}

/** An allow list: every header passes, or only the built-in selections and custom rules. */
export type HeaderAllowList =
  | { readonly kind: "all" }
  | {
      readonly kind: "matching";
      readonly standardHeaders: boolean;
      /** Always false for responses (they carry no tracing headers). */
      readonly tracingHeaders: boolean;
      readonly custom: readonly HeaderMatchRule[];
    };

/** HeaderRewrites `spec` with every default applied. */
export interface HeaderRewritesSpec {
  readonly operationalMode: "Production" | "Integration";
  readonly request: {
    /** Absent in the API: every header passes (docs/decisions.md, "HeaderRewrites defaults"). */
    readonly allow: HeaderAllowList;
    readonly remove: {
      readonly alternativeForwardedHeaders: boolean;
      readonly custom: readonly HeaderMatchRule[];
    };
    readonly add: { readonly custom: readonly HeaderAddRule[] };
  };
  readonly response: {
    readonly allow: HeaderAllowList;
    readonly remove: {
      readonly auth: { readonly basic: boolean; readonly negotiate: boolean; readonly ntlm: boolean };
      readonly informationLeakage: { readonly application: boolean; readonly server: boolean };
      readonly permissiveCors: boolean;
      readonly custom: readonly HeaderMatchRule[];
    };
    readonly add: {
      readonly builtIn: {
        readonly csp: boolean;
        readonly featurePolicy: boolean;
        readonly hsts: boolean;
        readonly hstsPreload: boolean;
        readonly permissionsPolicy: boolean;
        readonly referrerPolicy: boolean;
        readonly xContentTypeOptions: boolean;
        readonly xFrameOptions: boolean;
      };
      readonly custom: readonly HeaderAddRule[];
    };
  };
}

const MAX_RULES = 128;
const MAX_HEADERS = 64;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The Envoy command operators a header value may use. Envoy accepts more, but these are the ones
 * that make sense in a header sent to the application or the client; anything else is rejected at
 * parse time instead of being NACKed by the engine.
 */
export const HEADER_VALUE_OPERATORS: readonly string[] = [
  "DOWNSTREAM_REMOTE_ADDRESS",
  "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
  "DOWNSTREAM_REMOTE_PORT",
  "DOWNSTREAM_DIRECT_REMOTE_ADDRESS",
  "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT",
  "DOWNSTREAM_LOCAL_ADDRESS",
  "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
  "DOWNSTREAM_LOCAL_PORT",
  "DOWNSTREAM_PEER_CERT",
  "DOWNSTREAM_PEER_CERT_V_START",
  "DOWNSTREAM_PEER_CERT_V_END",
  "DOWNSTREAM_PEER_SUBJECT",
  "DOWNSTREAM_PEER_ISSUER",
  "DOWNSTREAM_PEER_SERIAL",
  "DOWNSTREAM_PEER_FINGERPRINT_256",
  "DOWNSTREAM_PEER_FINGERPRINT_1",
  "DOWNSTREAM_PEER_URI_SAN",
  "DOWNSTREAM_PEER_DNS_SAN",
  "DOWNSTREAM_LOCAL_SUBJECT",
  "DOWNSTREAM_LOCAL_URI_SAN",
  "DOWNSTREAM_TLS_VERSION",
  "DOWNSTREAM_TLS_CIPHER",
  "DOWNSTREAM_TLS_SESSION_ID",
  "REQUESTED_SERVER_NAME",
  "PROTOCOL",
  "UPSTREAM_REMOTE_ADDRESS",
  "HOSTNAME",
  "START_TIME",
  "REQ",
  "RESP",
  "ENVIRONMENT",
];

/**
 * Checks that every `%` in a header value starts `%%` or an operator of HEADER_VALUE_OPERATORS
 * (`%NAME%` or `%NAME(args)%`); returns what is wrong, or undefined.
 *
 * @example headerValueProblem("CN=%DOWNSTREAM_PEER_SUBJECT%") // undefined
 */
export function headerValueProblem(value: string): string | undefined {
  let i = 0;
  while (i < value.length) {
    const start = value.indexOf("%", i);
    if (start < 0) return undefined;
    if (value[start + 1] === "%") {
      i = start + 2;
      continue;
    }
    const match = /^%([A-Z0-9_]+)(\([^)]*\))?(:[0-9]+)?%/.exec(value.slice(start));
    if (match === null) {
      return `has a "%" at ${start} that starts no operator (write "%%" for a literal percent sign)`;
    }
    const name = match[1] as string;
    if (!HEADER_VALUE_OPERATORS.includes(name)) {
      return `uses %${name}%, which is not one of the supported operators (${HEADER_VALUE_OPERATORS.join(", ")})`;
    }
    if (["REQ", "RESP", "ENVIRONMENT"].includes(name) && match[2] === undefined) {
      return `uses %${name}% without its argument, e.g. %${name}(...)%`;
    }
    i = start + match[0].length;
  }
  return undefined;
}

/** True when `value` contains an operator (and so needs Envoy to fill it in). */
export function hasOperator(value: string): boolean {
  return value.replaceAll("%%", "").includes("%");
}

/**
 * Parses HeaderRewrites `spec` (`raw` may be undefined: every default).
 *
 * @example parseHeaderRewritesSpec({subject: "HeaderRewrites shop/h", path: "spec"}, {})
 */
export function parseHeaderRewritesSpec(at: At, raw: unknown): HeaderRewritesSpec {
  const spec = optionalRecord(at, raw);
  const settingsAt = child(at, "settings");
  const settings = optionalRecord(settingsAt, spec.settings);
  const operationalMode =
    present(settings.operationalMode) === undefined
      ? "Production"
      : asEnum(child(settingsAt, "operationalMode"), settings.operationalMode, ["Production", "Integration"]);

  const reqAt = child(at, "request");
  const req = optionalRecord(reqAt, spec.request);
  const reqRemoveAt = child(reqAt, "remove");
  const reqRemove = optionalRecord(reqRemoveAt, req.remove);
  const reqRemoveBuiltInAt = child(reqRemoveAt, "builtIn");
  const reqRemoveBuiltIn = optionalRecord(reqRemoveBuiltInAt, reqRemove.builtIn);
  const reqAddAt = child(reqAt, "add");
  const reqAdd = optionalRecord(reqAddAt, req.add);

  const resAt = child(at, "response");
  const res = optionalRecord(resAt, spec.response);
  const resRemoveAt = child(resAt, "remove");
  const resRemove = optionalRecord(resRemoveAt, res.remove);
  const resRemoveBuiltInAt = child(resRemoveAt, "builtIn");
  const resRemoveBuiltIn = optionalRecord(resRemoveBuiltInAt, resRemove.builtIn);
  const authAt = child(resRemoveBuiltInAt, "auth");
  const auth = optionalRecord(authAt, resRemoveBuiltIn.auth);
  const leakAt = child(resRemoveBuiltInAt, "informationLeakage");
  const leak = optionalRecord(leakAt, resRemoveBuiltIn.informationLeakage);
  const resAddAt = child(resAt, "add");
  const resAdd = optionalRecord(resAddAt, res.add);
  const builtInAt = child(resAddAt, "builtIn");
  const builtIn = optionalRecord(builtInAt, resAdd.builtIn);
  const flag = (parentAt: At, parent: Record<string, unknown>, key: string, fallback: boolean) =>
    parseFlag(child(parentAt, key), parent[key], fallback);

  return {
    operationalMode,
    request: {
      allow: parseAllow(child(reqAt, "allow"), req.allow, true),
      remove: {
        alternativeForwardedHeaders: flag(
          reqRemoveBuiltInAt,
          reqRemoveBuiltIn,
          "alternativeForwardedHeaders",
          true,
        ),
        custom: parseMatchRules(child(reqRemoveAt, "custom"), reqRemove.custom, true),
      },
      add: { custom: parseAddRules(child(reqAddAt, "custom"), reqAdd.custom) },
    },
    response: {
      allow: parseAllow(child(resAt, "allow"), res.allow, false),
      remove: {
        auth: {
          basic: flag(authAt, auth, "basic", false),
          negotiate: flag(authAt, auth, "negotiate", true),
          ntlm: flag(authAt, auth, "ntlm", true),
        },
        informationLeakage: {
          application: flag(leakAt, leak, "application", true),
          server: flag(leakAt, leak, "server", true),
        },
        permissiveCors: flag(resRemoveBuiltInAt, resRemoveBuiltIn, "permissiveCors", true),
        custom: parseMatchRules(child(resRemoveAt, "custom"), resRemove.custom, true),
      },
      add: {
        builtIn: {
          csp: flag(builtInAt, builtIn, "csp", false),
          featurePolicy: flag(builtInAt, builtIn, "featurePolicy", false),
          hsts: flag(builtInAt, builtIn, "hsts", true),
          hstsPreload: flag(builtInAt, builtIn, "hstsPreload", false),
          permissionsPolicy: flag(builtInAt, builtIn, "permissionsPolicy", true),
          referrerPolicy: flag(builtInAt, builtIn, "referrerPolicy", true),
          xContentTypeOptions: flag(builtInAt, builtIn, "xContentTypeOptions", true),
          xFrameOptions: flag(builtInAt, builtIn, "xFrameOptions", true),
        },
        custom: parseAddRules(child(resAddAt, "custom"), resAdd.custom),
      },
    },
  };
}

/** What applies when a secured route's ContentSecurity names no HeaderRewrites: the API defaults. */
export const DEFAULT_HEADER_REWRITES_SPEC: HeaderRewritesSpec = parseHeaderRewritesSpec(
  { subject: "default HeaderRewrites", path: "spec" },
  undefined,
);

function parseAllow(at: At, raw: unknown, isRequest: boolean): HeaderAllowList {
  const allow = optionalRecord(at, raw);
  const all = present(allow.allHeaders);
  const matching = present(allow.matchingHeaders);
  if (all !== undefined && matching !== undefined) {
    fail(at, "must have at most one of allHeaders, matchingHeaders (both are set)");
  }
  if (matching === undefined) {
    if (all !== undefined) asRecord(child(at, "allHeaders"), all);
    return { kind: "all" };
  }
  const matchingAt = child(at, "matchingHeaders");
  const m = asRecord(matchingAt, matching);
  const builtInAt = child(matchingAt, "builtIn");
  const builtIn = optionalRecord(builtInAt, m.builtIn);
  if (!isRequest && present(builtIn.tracingHeaders) !== undefined) {
    fail(child(builtInAt, "tracingHeaders"), "is not a field of response allow lists");
  }
  return {
    kind: "matching",
    standardHeaders: parseFlag(child(builtInAt, "standardHeaders"), builtIn.standardHeaders, isRequest),
    tracingHeaders: isRequest
      ? parseFlag(child(builtInAt, "tracingHeaders"), builtIn.tracingHeaders, false)
      : false,
    custom: parseMatchRules(child(matchingAt, "custom"), m.custom),
  };
}

function parseMatchRules(at: At, raw: unknown, removes = false): HeaderMatchRule[] {
  if (present(raw) === undefined) return [];
  return asList(at, raw, 0, MAX_RULES).map((r, i) => {
    const ruleAt = child(at, i);
    const rule = asRecord(ruleAt, r);
    const headersAt = child(ruleAt, "headers");
    const headers = asList(headersAt, required(headersAt, rule.headers), 1, MAX_HEADERS).map((h, j) => {
      const header = parseHeaderMatch(child(headersAt, j), h);
      const name = header.name.value.toLowerCase();
      if (removes && header.name.kind === "exact" && (name.startsWith(":") || name === "host")) {
        fail(
          child(child(child(headersAt, j), "name"), "matcher.exact"),
          `${show(header.name.value)} cannot be removed: routing depends on it`,
        );
      }
      return header;
    });
    const conditions = parseRequestConditions(child(ruleAt, "requestConditions"), rule.requestConditions);
    return {
      name: ruleName(child(ruleAt, "name"), rule.name),
      headers,
      ...(conditions === undefined ? {} : { requestConditions: conditions }),
    };
  });
}

function parseAddRules(at: At, raw: unknown): HeaderAddRule[] {
  if (present(raw) === undefined) return [];
  return asList(at, raw, 0, MAX_RULES).map((r, i) => {
    const ruleAt = child(at, i);
    const rule = asRecord(ruleAt, r);
    const conditions = parseRequestConditions(child(ruleAt, "requestConditions"), rule.requestConditions);
    const headersAt = child(ruleAt, "headers");
    const headers = asList(headersAt, required(headersAt, rule.headers), 1, MAX_HEADERS).map((h, j) => {
      const headerAt = child(headersAt, j);
      const header = asRecord(headerAt, h);
      const nameAt = child(headerAt, "name");
      const name = asString(nameAt, required(nameAt, header.name));
      if (name.length > 256 || !HEADER_NAME.test(name))
        fail(nameAt, `${show(name)} must be an HTTP header name`);
      if (name.startsWith(":") || name.toLowerCase() === "host") {
        fail(nameAt, `${show(name)} cannot be added: Envoy does not let a route change it`);
      }
      const valueAt = child(headerAt, "value");
      const value = asString(valueAt, required(valueAt, header.value));
      if (value.length > 8192) fail(valueAt, `has ${value.length} characters, must have at most 8192`);
      const problem = headerValueProblem(value);
      if (problem !== undefined) fail(valueAt, `${show(value)} ${problem}`);
      // With conditions the inspector adds the header, and it cannot fill in Envoy's operators.
      if (conditions !== undefined && hasOperator(value)) {
        fail(
          valueAt,
          `${show(value)} uses an operator, which is not supported together with requestConditions yet`,
        );
      }
      return { name, value };
    });
    const mode =
      present(rule.mode) === undefined
        ? "AddIfAbsent"
        : asEnum(child(ruleAt, "mode"), rule.mode, ["AddIfAbsent", "OverwriteOrAdd"]);
    return {
      name: ruleName(child(ruleAt, "name"), rule.name),
      headers,
      mode,
      ...(conditions === undefined ? {} : { requestConditions: conditions }),
    };
  });
}

function ruleName(at: At, raw: unknown): string {
  const name = asString(at, required(at, raw));
  if (name.length < 1 || name.length > 256) fail(at, `has ${name.length} characters, must have 1 to 256`);
  return name;
}
