/**
 * DenyRules `spec.request.custom.rules[]` -> `CustomRule[]` (reference §3.5).
 *
 * Custom rules are enforced by the inspector (src/inspect/), which sees path, segments, headers,
 * cookies, query and body parameters and JSON bodies, so every blockData kind and request condition
 * of the API is accepted except graphQL, which is rejected with the field's name: a user who wrote
 * a rule must be able to trust that it blocks. Every regex is compiled by RE2 (src/model/re2.ts) so
 * a bad one is an InvalidResource here instead of a policy the inspector refuses.
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
import { parseRequestConditions, parseRequestData } from "./parse-matchers.ts";
import { type CustomRule, RULE_KEY_PATTERN, THREAT_HANDLING_MODES } from "./types.ts";

/** The API's `maxItems` for custom rules. */
const MAX_CUSTOM_RULES = 256;
const MAX_RULE_KEY_LENGTH = 64;
const RULE_KEY = new RegExp(RULE_KEY_PATTERN);

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
  const blockData = parseRequestData(dataAt, required(dataAt, rule.blockData));
  const conditions = present(rule.requestConditions);
  return {
    ruleKey,
    threatHandlingMode,
    blockData,
    ...(conditions === undefined
      ? {}
      : { requestConditions: parseRequestConditions(child(at, "requestConditions"), conditions) }),
  };
}
