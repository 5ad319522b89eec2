// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are template payloads, not placeholders
import { describe, expect, test } from "bun:test";
import { spareRealisticValues } from "./realistic-values.ts";
import { checkValueRules, ruleRegExp } from "./rule-checks.ts";
import { TEMPLATE_RULES } from "./template.ts";

checkValueRules(TEMPLATE_RULES);
spareRealisticValues(TEMPLATE_RULES);

function caughtBelowStrict(value: string): string[] {
  return TEMPLATE_RULES.filter((r) => r.level !== "Strict" && ruleRegExp(r).test(value)).map((r) => r.key);
}

describe("TEMPLATE", () => {
  // The probe an attacker sends first, in the syntax of each engine family.
  test.each(["{{7*7}}", "${7*7}", "#{7*7}", "<%= 7*7 %>", "{{7*'7'}}", "*{7*7}", "${{7*7}}"])(
    "the probe %p is caught at Standard",
    (probe) => {
      expect(caughtBelowStrict(probe)).toContain("TEMPLATE_ARITHMETIC_PROBE");
    },
  );

  test("placeholders in ordinary text and front-end templates pass below Strict", () => {
    for (const text of [
      "Dear {{ customer.first_name }}, your order {{ order.id }} shipped.",
      "Hello ${user}, you have ${count} messages",
      "{% for item in items %}{{ item.title }}{% endfor %}",
      "<%= title %>",
      "`${a} and ${b}`",
    ]) {
      expect({ text, caught: caughtBelowStrict(text) }).toEqual({ text, caught: [] });
    }
  });
});
