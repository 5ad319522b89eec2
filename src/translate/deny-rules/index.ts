/**
 * The built-in deny rules (our own rule content for the SQL injection and XSS families) and their
 * translation to Envoy's RBAC filter, one policy per rule and location; custom rules become one
 * policy each (`<ruleKey>/custom`).
 */
export type { BuiltInRule, RuleLevel, RuleLocation } from "./built-in-rule.ts";
export { locationRegex, policyName } from "./built-in-rule.ts";
export { BUILT_IN_RULES, RE2_MAX_PROGRAM_SIZE, rulesAtLevel } from "./catalog.ts";
export { customPolicyName, queryParameterRegex, re2Quote } from "./custom-rules.ts";
export { denyRulesPerRoute } from "./per-route.ts";
