import { describe, expect, test } from "bun:test";
import { ENCODING_RULES } from "./encoding.ts";
import { spareRealisticValues } from "./realistic-values.ts";
import { checkValueRules, ruleRegExp } from "./rule-checks.ts";

checkValueRules(ENCODING_RULES);
spareRealisticValues(ENCODING_RULES);

describe("ENCODING", () => {
  test("every rule reads the raw value: the decoder has removed what they look for", () => {
    for (const rule of ENCODING_RULES)
      expect({ key: rule.key, input: rule.input }).toEqual({ key: rule.key, input: "raw" });
  });

  test("well-formed UTF-8 of every length passes every Basic and Standard rule", () => {
    const text = "caf\u00e9 \u20ac \u65e5\u672c \u{1F600} a-b_c.d~e";
    const encoded = encodeURIComponent(text);
    for (const rule of ENCODING_RULES.filter((r) => r.level !== "Strict"))
      expect({ key: rule.key, caught: ruleRegExp(rule).test(encoded) }).toEqual({
        key: rule.key,
        caught: false,
      });
  });

  test("a value encoded once more is still caught by the rule that caught it", () => {
    const onceMore = (value: string) => value.replaceAll("%", "%25");
    for (const key of [
      "ENCODING_OVERLONG_UTF8",
      "ENCODING_IIS_ASCII",
      "ENCODING_NULL_BYTE",
      "ENCODING_ESCAPED_LETTER",
    ]) {
      const rule = ENCODING_RULES.find((r) => r.key === key)!;
      for (const example of rule.examples)
        expect({ key, example, caught: ruleRegExp(rule).test(onceMore(example)) }).toEqual({
          key,
          example,
          caught: true,
        });
    }
  });
});
