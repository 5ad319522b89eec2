import { describe, expect, test } from "bun:test";
import { PHP_RULES } from "./php.ts";
import { spareRealisticValues } from "./realistic-values.ts";
import { checkValueRules, ruleRegExp } from "./rule-checks.ts";

checkValueRules(PHP_RULES);
spareRealisticValues(PHP_RULES);

function basicKeys(value: string): string[] {
  return PHP_RULES.filter((r) => r.level === "Basic" && ruleRegExp(r).test(value)).map((r) => r.key);
}

describe("PHP", () => {
  test("a one-line webshell is caught at Basic by its tag and by its call", () => {
    expect(basicKeys("<?php @eval($_POST['pass']);?>")).toEqual(["PHP_OPEN_TAG", "PHP_WEBSHELL_CALL"]);
  });

  test("CVE-2024-4577: the soft hyphen arrives as U+00AD or, sent as a single byte, as U+FFFD", () => {
    for (const hyphen of ["\u00ad", "\uFFFD", "-"]) {
      expect(basicKeys(`${hyphen}d allow_url_include=1 ${hyphen}d auto_prepend_file=php://input`)).toContain(
        "PHP_CGI_OPTION",
      );
    }
  });

  test("method calls and JavaScript's exec are not PHP function calls", () => {
    const standard = PHP_RULES.filter((r) => r.level !== "Strict");
    for (const code of [
      "const m = /a/.exec('abc');",
      "$this->system('x')",
      "Foo::eval('x')",
      "db.include('x')",
    ]) {
      expect({ code, caught: standard.filter((r) => ruleRegExp(r).test(code)).map((r) => r.key) }).toEqual({
        code,
        caught: [],
      });
    }
  });
});
