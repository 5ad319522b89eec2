import type { RuleFamily } from "../../model/types.ts";

/** Where in a request a built-in rule looks. */
export type RuleLocation = "path" | "query";

/** The levels a built-in rule can belong to; `Unfiltered` has no rules. */
export type RuleLevel = "Basic" | "Standard" | "Strict";

/**
 * One built-in deny rule: our own rule content, translated to one RBAC policy per location.
 *
 * `regex` is an RE2 pattern that is *searched for* in the location's value, case-insensitively and
 * without any decoding (see `locationRegex` for the full-match regex Envoy compiles). `examples`
 * and `benign` are such values as they travel on the wire (percent-encoding included); the tests
 * check that every example is caught and no benign value is, in every location of the rule.
 */
export interface BuiltInRule {
  /** Stable name, `<FAMILY>_<WHAT>`; with the location it names the RBAC policy (`SQL_UNION_SELECT/query`). */
  key: string;
  family: RuleFamily;
  /** The lowest level that includes the rule; every higher level includes it too. */
  level: RuleLevel;
  locations: readonly RuleLocation[];
  regex: string;
  /** One line for operators: what the rule catches. */
  description: string;
  examples: readonly string[];
  benign?: readonly string[];
}

/**
 * The full-match RE2 regex Envoy evaluates for `rule` at `location`.
 *
 * Envoy's `safe_regex` must match the whole value, hence the `.*` on both sides. The path is
 * matched through RBAC's `url_path`, which already excludes the query string. The query is matched
 * on the `:path` header, which includes the path, so the pattern must start after the first `?`.
 *
 * @example locationRegex(rule, "query") // "(?i)[^?]*\\?.*(?:union...select).*"
 */
export function locationRegex(rule: Pick<BuiltInRule, "regex">, location: RuleLocation): string {
  switch (location) {
    case "path":
      return `(?i).*(?:${rule.regex}).*`;
    case "query":
      return `(?i)[^?]*\\?.*(?:${rule.regex}).*`;
  }
}

/** The RBAC policy name of a rule at a location; Envoy reports it in `response_code_details`. */
export function policyName(rule: Pick<BuiltInRule, "key">, location: RuleLocation): string {
  return `${rule.key}/${location}`;
}
