import { describe, expect, test } from "bun:test";
import { spareRealisticValues } from "./realistic-values.ts";
import { checkValueRules, ruleRegExp } from "./rule-checks.ts";
import { WINCMD_RULES } from "./wincmd.ts";

checkValueRules(WINCMD_RULES);
spareRealisticValues(WINCMD_RULES);

function rule(key: string) {
  const found = WINCMD_RULES.find((r) => r.key === key);
  if (found === undefined) throw new Error(`no rule ${key}`);
  return ruleRegExp(found);
}

describe("WINCMD", () => {
  test.each(["&", "&&", "|", "||", ";", "\n"])("%p before a Windows command is caught", (sep) => {
    expect(rule("WINCMD_SEPARATOR_COMMAND").test(`x${sep}ipconfig /all`)).toBe(true);
  });

  test("every way of breaking up cmd with carets or quotes is caught, the plain word is not", () => {
    const caret = rule("WINCMD_CARET_OBFUSCATION");
    for (const spelled of ["c^md", "cm^d", "c^m^d", "c^^m^d", 'c"md', 'c""m"d']) {
      expect({ spelled, caught: caret.test(spelled) }).toEqual({ spelled, caught: true });
    }
    expect(caret.test("cmd")).toBe(false);
  });

  test("User-Agent strings, which are full of semicolons and Windows names, pass every level", () => {
    const ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";
    expect(WINCMD_RULES.filter((r) => ruleRegExp(r).test(ua)).map((r) => r.key)).toEqual([]);
  });
});
