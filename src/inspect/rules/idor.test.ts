import { describe, expect, test } from "bun:test";
import { IDOR_RULES } from "./idor.ts";
import { spareRealisticValues } from "./realistic-values.ts";
import { checkValueRules, ruleRegExp } from "./rule-checks.ts";

checkValueRules(IDOR_RULES);
spareRealisticValues(IDOR_RULES);

/** Keys of the rules up to `level` that catch `value` as a query or form parameter. */
function caughtAt(value: string, level: "Basic" | "Standard" | "Strict"): string[] {
  const order = ["Basic", "Standard", "Strict"];
  return IDOR_RULES.filter((r) => order.indexOf(r.level) <= order.indexOf(level))
    .filter((r) => r.targets === undefined || r.targets.includes("Parameter"))
    .filter((r) => ruleRegExp(r).test(value))
    .map((r) => r.key);
}

describe("IDOR levels", () => {
  test.each([
    "../../../../etc/passwd",
    "..\\..\\..\\..\\windows\\win.ini",
    "/etc/shadow",
    "....//....//....//etc/passwd",
  ])("Basic catches the classic probe %p", (value) => {
    expect(caughtAt(value, "Basic")).not.toEqual([]);
  });

  test("a single relative step is left to Strict", () => {
    expect(caughtAt("../images/logo.png", "Standard")).toEqual([]);
    expect(caughtAt("../images/logo.png", "Strict")).toContain("IDOR_TRAVERSAL_ANY");
  });

  test("prose about system files is left to Strict unless it names a secret", () => {
    expect(caughtAt("edit /etc/hosts and restart", "Standard")).toEqual([]);
    expect(caughtAt("edit /etc/hosts and restart", "Strict")).toContain("IDOR_SYSTEM_DIRECTORY");
  });

  test("the path traversal rule looks only at the path, where a .. segment is never legitimate", () => {
    const rule = IDOR_RULES.find((r) => r.key === "IDOR_PATH_TRAVERSAL");
    expect(rule?.targets).toEqual(["Path", "PathSegment"]);
  });
});
