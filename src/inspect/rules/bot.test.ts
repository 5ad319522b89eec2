import { describe, expect, test } from "bun:test";
import { BOT_REQUEST_RULES, BOT_RULES } from "./bot.ts";
import { spareRealisticValues } from "./realistic-values.ts";
import { requestOf } from "./request-fixture.ts";
import { checkValueRules, ruleRegExp } from "./rule-checks.ts";

checkValueRules(BOT_RULES);
spareRealisticValues(BOT_RULES);

describe("BOT", () => {
  test("every value rule looks only at the User-Agent, so prose about curl passes", () => {
    for (const rule of BOT_RULES) {
      expect({ key: rule.key, targets: rule.targets, names: rule.names }).toEqual({
        key: rule.key,
        targets: ["Header"],
        names: ["user-agent"],
      });
    }
    const library = BOT_RULES.find((r) => r.key === "BOT_HTTP_LIBRARY")!;
    expect(ruleRegExp(library).test("see curl/8.4.0 -X POST in the docs")).toBe(false);
  });

  const missing = BOT_REQUEST_RULES.find((r) => r.key === "BOT_MISSING_USER_AGENT")!;

  test("BOT_MISSING_USER_AGENT: absent or blank", () => {
    expect(missing.check(requestOf({ headers: [["host", "a.example"]] }))).toBe("no user-agent");
    expect(missing.check(requestOf({ headers: [["user-agent", "  "]] }))).toBe("empty user-agent");
  });

  test("BOT_MISSING_USER_AGENT: any non-blank User-Agent passes", () => {
    expect(missing.check(requestOf({ headers: [["User-Agent", "curl/8.4.0"]] }))).toBeUndefined();
  });
});
