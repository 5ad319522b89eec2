import { describe, expect, test } from "bun:test";
import { HTML_RULES } from "./html.ts";
import { spareRealisticValues } from "./realistic-values.ts";
import { checkValueRules, ruleRegExp } from "./rule-checks.ts";

checkValueRules(HTML_RULES);
spareRealisticValues(HTML_RULES);

describe("HTML", () => {
  const caughtBy = (value: string) => HTML_RULES.filter((r) => ruleRegExp(r).test(value)).map((r) => r.level);

  test("rich text from an editor passes Basic and Standard, and is refused at Strict", () => {
    for (const value of [
      "<p>Hello <b>bold</b></p>",
      '<a href="https://example.com/">x</a>',
      "<ul><li>x</li></ul>",
    ])
      expect({ value, levels: caughtBy(value) }).toEqual({ value, levels: ["Strict"] });
  });

  test("a comment that mentions tags in prose passes every level", () => {
    for (const value of [
      "use a form with an input field",
      "the meta refresh trick",
      "if a < b and c > d",
      "a<b",
    ])
      expect({ value, levels: caughtBy(value) }).toEqual({ value, levels: [] });
  });
});
