/**
 * DenyRules `spec.request.custom.rules[]` -> `CustomRule[]` (reference §3.5).
 *
 * Custom rules are enforced by Envoy's RBAC filter, which sees the path, the headers and the query
 * string (as part of `:path`) but no body. Whatever a rule asks for beyond that is rejected here
 * with the field's name, never accepted and silently not enforced: a user who wrote a rule must be
 * able to trust that it blocks. Every regex is compiled by RE2 (src/model/re2.ts) so a bad one is
 * an InvalidResource here instead of a rejected configuration in the engine.
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
import { re2SyntaxError } from "./re2.ts";
import {
  type CustomRule,
  type CustomRuleConditions,
  type CustomRuleData,
  HTTP_METHODS,
  MAX_MATCHER_LENGTH,
  RULE_KEY_PATTERN,
  type StringMatch,
  THREAT_HANDLING_MODES,
} from "./types.ts";

/** The API's `maxItems` for custom rules. */
const MAX_CUSTOM_RULES = 256;
const MAX_RULE_KEY_LENGTH = 64;
const RULE_KEY = new RegExp(RULE_KEY_PATTERN);
const MATCHER_KINDS = ["exact", "prefix", "suffix", "contains", "regex"] as const;
/** blockData kinds of the API that RBAC cannot inspect (bodies, segments by index). */
const UNSUPPORTED_DATA = ["pathSegment", "json", "graphQL"] as const;
const SUPPORTED_DATA = ["header", "parameter", "path"] as const;
/** requestConditions fields of the API that custom rules do not support yet. */
const UNSUPPORTED_CONDITIONS = ["header", "mediaType", "remoteIP"] as const;

/** Parses `custom` (the value of `spec.request.custom`); `at` is its path. */
export function parseCustomRules(at: At, raw: unknown): { rules: CustomRule[] } {
  const custom = optionalRecord(at, raw);
  const rulesAt = child(at, "rules");
  if (present(custom.rules) === undefined) return { rules: [] };
  const rules = asList(rulesAt, custom.rules, 0, MAX_CUSTOM_RULES).map((r, i) =>
    parseCustomRule(child(rulesAt, i), r),
  );
  const firstByKey = new Map<string, number>();
  rules.forEach((rule, i) => {
    const first = firstByKey.get(rule.ruleKey);
    if (first !== undefined) {
      fail(
        child(child(rulesAt, i), "ruleKey"),
        `${show(rule.ruleKey)} must be unique (also used by ${rulesAt.path}[${first}])`,
      );
    }
    firstByKey.set(rule.ruleKey, i);
  });
  return { rules };
}

function parseCustomRule(at: At, raw: unknown): CustomRule {
  const rule = asRecord(at, raw);
  const keyAt = child(at, "ruleKey");
  const ruleKey = asString(keyAt, required(keyAt, rule.ruleKey));
  if (ruleKey.length > MAX_RULE_KEY_LENGTH || !RULE_KEY.test(ruleKey)) {
    fail(
      keyAt,
      `${show(ruleKey)} must match ${RULE_KEY_PATTERN} (at most ${MAX_RULE_KEY_LENGTH} characters)`,
    );
  }
  const threatHandlingMode =
    present(rule.threatHandlingMode) === undefined
      ? "Block"
      : asEnum(child(at, "threatHandlingMode"), rule.threatHandlingMode, THREAT_HANDLING_MODES);
  const dataAt = child(at, "blockData");
  const blockData = parseBlockData(dataAt, required(dataAt, rule.blockData));
  const conditions = present(rule.requestConditions);
  return {
    ruleKey,
    threatHandlingMode,
    blockData,
    ...(conditions === undefined
      ? {}
      : { requestConditions: parseConditions(child(at, "requestConditions"), conditions) }),
  };
}

function parseBlockData(at: At, raw: unknown): CustomRuleData {
  const data = asRecord(at, raw);
  const set = [...SUPPORTED_DATA, ...UNSUPPORTED_DATA].filter((k) => present(data[k]) !== undefined);
  if (set.length !== 1) {
    fail(
      at,
      `must have exactly one of header, parameter, path, pathSegment, json, graphQL (${set.length === 0 ? "none" : set.join(", ")} set)`,
    );
  }
  const kind = set[0];
  switch (kind) {
    case "path":
      return { kind, path: matching(child(at, "path"), data.path) };
    case "header": {
      const headerAt = child(at, "header");
      const header = asRecord(headerAt, data.header);
      const nameAt = child(headerAt, "name");
      // Envoy's RBAC header matcher takes one exact header name; a pattern over names cannot be enforced.
      const name = matching(nameAt, required(nameAt, header.name), true);
      if (name.kind !== "exact") {
        fail(
          child(child(nameAt, "matcher"), name.kind),
          "is not supported for header names in custom rules yet: use exact",
        );
      }
      const value = present(header.value);
      return {
        kind,
        name: name.value.toLowerCase(),
        ...(value === undefined ? {} : { value: matching(child(headerAt, "value"), value) }),
      };
    }
    case "parameter": {
      const paramAt = child(at, "parameter");
      const param = asRecord(paramAt, data.parameter);
      // The API defaults source to Any, so an explicit Query is needed: Post and Any include form
      // bodies, which RBAC cannot see. Enforcing only the query part would block less than asked.
      const sourceAt = child(paramAt, "source");
      const source =
        present(param.source) === undefined
          ? "Any"
          : asEnum(sourceAt, param.source, ["Query", "Post", "Any"]);
      if (source !== "Query") {
        fail(
          sourceAt,
          `${show(source)} is not supported yet: body (form) parameters cannot be inspected, set source: Query`,
        );
      }
      const nameAt = child(paramAt, "name");
      const value = present(param.value);
      return {
        kind,
        name: matching(nameAt, required(nameAt, param.name)),
        ...(value === undefined ? {} : { value: matching(child(paramAt, "value"), value) }),
      };
    }
    default:
      return fail(
        child(at, kind ?? "?"),
        "is not supported in custom rules yet (only header, parameter and path are enforced)",
      );
  }
}

function parseConditions(at: At, raw: unknown): CustomRuleConditions {
  const conditions = asRecord(at, raw);
  for (const key of UNSUPPORTED_CONDITIONS) {
    if (present(conditions[key]) !== undefined) {
      fail(child(at, key), "is not supported in custom rules yet (only method and path are)");
    }
  }
  // invert defaults to false; only an explicit true changes the meaning.
  if (present(conditions.invert) !== undefined && conditions.invert !== false) {
    fail(child(at, "invert"), `${show(conditions.invert)} is not supported in custom rules yet (only false)`);
  }
  const methodAt = child(at, "method");
  const rawMethods = present(conditions.method);
  const method =
    rawMethods === undefined
      ? undefined
      : asList(methodAt, rawMethods, 0, HTTP_METHODS.length).map((m, i) =>
          asEnum(child(methodAt, i), m, HTTP_METHODS),
        );
  const path = present(conditions.path);
  return {
    ...(method === undefined ? {} : { method: [...new Set(method)] }),
    ...(path === undefined ? {} : { path: matching(child(at, "path"), path) }),
  };
}

/**
 * Parses `{matcher: StringMatcher}`. `alwaysIgnoreCase` is for the API's case-insensitive matchers
 * (header names), which have no ignoreCase field.
 */
function matching(at: At, raw: unknown, alwaysIgnoreCase = false): StringMatch {
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
