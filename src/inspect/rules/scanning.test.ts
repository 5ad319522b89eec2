import { describe, expect, test } from "bun:test";
import { spareRealisticValues } from "./realistic-values.ts";
import { requestOf } from "./request-fixture.ts";
import { checkValueRules } from "./rule-checks.ts";
import { SCANNING_REQUEST_RULES, SCANNING_RULES } from "./scanning.ts";

checkValueRules(SCANNING_RULES);
spareRealisticValues(SCANNING_RULES);

describe("SCANNING_SCANNER_HEADER", () => {
  const rule = SCANNING_REQUEST_RULES.find((r) => r.key === "SCANNING_SCANNER_HEADER")!;

  test.each([
    ["Acunetix-Aspect", "enabled"],
    ["X-WIPP", "AscVersion=22.1"],
    ["X-Scan-Memo", "Category=Audit"],
  ])("%s is a scanner's header", (name, value) => {
    expect(
      rule.check(
        requestOf({
          headers: [
            ["host", "a.example"],
            [name, value],
          ],
        }),
      ),
    ).toBe(`header ${name.toLowerCase()}`);
  });

  test("ordinary headers pass", () => {
    const request = requestOf({
      headers: [
        ["host", "a.example"],
        ["accept", "*/*"],
        ["x-request-id", "1"],
        ["x-scan-id", "7"],
      ],
    });
    expect(rule.check(request)).toBeUndefined();
  });
});
