import { MicrogatewayError } from "../../errors.ts";
import type { DenyRuleLevel } from "../../model/types.ts";
import type { BuiltInRule, RuleLevel } from "./built-in-rule.ts";
import { SQL_RULES } from "./sql-rules.ts";
import { XSS_RULES } from "./xss-rules.ts";

/** Every built-in rule, by family, each family from its lowest level to its highest. */
export const BUILT_IN_RULES: readonly BuiltInRule[] = [...SQL_RULES, ...XSS_RULES];

/**
 * The largest RE2 program among the regexes the built-in rules compile to. The bootstrap sets
 * Envoy's runtime key `re2.max_program_size.error_level` to it (Envoy's default of 100 is too small
 * for a pattern that spells every character three ways). It is exact, not generous: the Envoy test
 * proves that every rule compiles with it and that one less rejects the largest rule, so a rule
 * that grows must raise it on purpose.
 */
export const RE2_MAX_PROGRAM_SIZE: number = 297;

/** Levels in order; a rule belongs to its own level and every later one. */
const RULE_LEVELS: readonly RuleLevel[] = ["Basic", "Standard", "Strict"];

const byLevel: ReadonlyMap<DenyRuleLevel, readonly BuiltInRule[]> = new Map<
  DenyRuleLevel,
  readonly BuiltInRule[]
>([
  ["Unfiltered", []],
  ...RULE_LEVELS.map((level, i): [DenyRuleLevel, readonly BuiltInRule[]] => {
    const included = new Set(RULE_LEVELS.slice(0, i + 1));
    return [level, BUILT_IN_RULES.filter((rule) => included.has(rule.level))];
  }),
]);

/**
 * The rules a level enables, cumulative: Basic ⊂ Standard ⊂ Strict; Unfiltered has none.
 *
 * @example rulesAtLevel("Basic").map((r) => r.key) // ["SQL_QUOTE_BOOLEAN", ...]
 */
export function rulesAtLevel(level: DenyRuleLevel): readonly BuiltInRule[] {
  const rules = byLevel.get(level);
  if (rules === undefined) {
    // The model validates levels; reaching this means an unvalidated spec got through.
    throw new MicrogatewayError(
      "Internal",
      `deny rules: level "${String(level)}" is not one of Unfiltered, Basic, Standard, Strict`,
    );
  }
  return rules;
}
