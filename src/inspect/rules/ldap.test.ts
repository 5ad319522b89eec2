import { describe, expect, test } from "bun:test";
import { LDAP_RULES } from "./ldap.ts";
import { spareRealisticValues } from "./realistic-values.ts";
import { checkValueRules, ruleRegExp } from "./rule-checks.ts";

checkValueRules(LDAP_RULES);
spareRealisticValues(LDAP_RULES);

/** The filter an application builds around a user name, as in a login form. */
function loginFilter(user: string): string {
  return `(&(uid=${user})(userPassword={SSHA}x))`;
}

describe("LDAP", () => {
  test.each(["*)(uid=*))(|(uid=*", "admin)(&)", "*)(|(objectclass=*)"])(
    "%p rewrites the login filter and is caught at Basic",
    (payload) => {
      // The payload changes the filter's structure: more parentheses open than the template has.
      expect(loginFilter(payload).split("(").length).toBeGreaterThan(loginFilter("x").split("(").length);
      const basic = LDAP_RULES.filter((r) => r.level === "Basic").filter((r) => ruleRegExp(r).test(payload));
      expect(basic.length).toBeGreaterThan(0);
    },
  );

  test("code with parentheses and comparisons passes Standard", () => {
    const code = "if (!(user == null) && (a)(b)) { return (x => x)(1); }";
    const standard = LDAP_RULES.filter((r) => r.level !== "Strict").filter((r) => ruleRegExp(r).test(code));
    expect(standard.map((r) => r.key)).toEqual([]);
  });
});
