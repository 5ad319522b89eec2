/**
 * Test helpers for rule families: every family's test calls `checkValueRules(<FAMILY>_RULES)` so
 * that every rule is well-formed, portable between RE2 and JavaScript, compiles in RE2, catches
 * each of its examples and none of its benign values. Only for tests.
 */
import { expect, test } from "bun:test";
import { re2SyntaxError } from "../../model/re2.ts";
import { RULE_FAMILIES } from "../../model/types.ts";
import { re2Incompatibilities } from "../../translate/deny-rules/testing/re2-in-js.ts";
import type { ValueRule } from "../types.ts";

/** The JS RegExp that searches like the inspector's RE2 search of `rule.regex` (case-insensitive). */
export function ruleRegExp(rule: Pick<ValueRule, "regex">): RegExp {
  const problems = re2Incompatibilities(rule.regex);
  if (problems.length > 0) throw new Error(`regex ${rule.regex} uses ${problems.join(", ")}`);
  return new RegExp(dotsExceptNewline(rule.regex), "iu");
}

/** `pattern` with every unescaped `.` outside a character class written `[^\n]`, as RE2 reads `.`. */
function dotsExceptNewline(pattern: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\") {
      out += pattern.slice(i, i + 2);
      i++;
    } else if (inClass) {
      if (c === "]") inClass = false;
      out += c;
    } else if (c === "[") {
      inClass = true;
      out += c;
      // A `]` right after `[` or `[^` is a literal.
      if (pattern[i + 1] === "^") out += pattern[++i];
      if (pattern[i + 1] === "]") out += pattern[++i];
    } else out += c === "." ? "[^\\n]" : c;
  }
  return out;
}

/** Registers one bun test per rule that checks shape, RE2 compilation, examples and benign values. */
export function checkValueRules(rules: readonly ValueRule[]): void {
  test("rule keys are unique and prefixed with their family", () => {
    const keys = rules.map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const rule of rules) {
      expect(rule.key).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(rule.key.startsWith(`${rule.family}_`)).toBe(true);
      expect(RULE_FAMILIES).toContain(rule.family);
      expect(rule.examples.length).toBeGreaterThan(0);
      expect(rule.description.length).toBeGreaterThan(0);
    }
  });
  for (const rule of rules) {
    test(`${rule.key}: compiles in RE2, catches its examples, spares its benign values`, () => {
      expect(re2Incompatibilities(rule.regex)).toEqual([]);
      expect(re2SyntaxError(`(?i)${rule.regex}`)).toBeUndefined();
      const re = ruleRegExp(rule);
      // A rule that matches the empty string would make its prefilter match every value.
      expect({ matchesEmpty: re.test("") }).toEqual({ matchesEmpty: false });
      for (const example of rule.examples)
        expect({ example, caught: re.test(example) }).toEqual({ example, caught: true });
      for (const benign of rule.benign ?? [])
        expect({ benign, caught: re.test(benign) }).toEqual({ benign, caught: false });
    });
  }
}
