import { describe, expect, test } from "bun:test";
import { HPP_REQUEST_RULES, HPP_RULES } from "./hpp.ts";
import { type RequestFixture, requestOf } from "./request-fixture.ts";
import { checkValueRules } from "./rule-checks.ts";

checkValueRules(HPP_RULES);

function check(key: string, fixture: RequestFixture): string | undefined {
  const rule = HPP_REQUEST_RULES.find((r) => r.key === key);
  if (rule === undefined) throw new Error(`no rule ${key}`);
  return rule.check(requestOf(fixture));
}

/** Which rules find something in `fixture`, by level. */
function levelsOf(fixture: RequestFixture): string[] {
  return HPP_REQUEST_RULES.filter((r) => r.check(requestOf(fixture)) !== undefined).map(
    (r) => `${r.level} ${r.key}`,
  );
}

describe("HPP", () => {
  test("an ordinary form post and a search with distinct parameters pass every level", () => {
    expect(
      levelsOf({
        method: "POST",
        target: "/login?next=/home",
        query: [["next", "/home"]],
        post: [
          ["user", "jane"],
          ["password", "secret"],
        ],
      }),
    ).toEqual([]);
    expect(
      levelsOf({
        query: [
          ["q", "shoes"],
          ["tags[]", "red"],
          ["tags[]", "blue"],
          ["page", "2"],
        ],
      }),
    ).toEqual([]);
  });

  test("HPP_QUERY_BODY_CONFLICT: a different value in query and body, names compared without case", () => {
    const fixture = { method: "POST", query: [["amount", "1"]], post: [["AMOUNT", "1000"]] } as const;
    expect(check("HPP_QUERY_BODY_CONFLICT", fixture)).toBe(
      'parameter "amount" in query and body with different values',
    );
    expect(check("HPP_QUERY_BODY_CONFLICT", { query: [["id", "7"]], post: [["id", "7"]] })).toBeUndefined();
  });

  test("HPP_QUERY_AND_BODY: the same name in query and body, whatever the values", () => {
    expect(check("HPP_QUERY_AND_BODY", { query: [["id", "7"]], post: [["id", "7"]] })).toBe(
      'parameter "id" in query and body',
    );
    expect(
      check("HPP_QUERY_AND_BODY", {
        query: [
          ["id", "7"],
          ["id", "8"],
        ],
      }),
    ).toBeUndefined();
  });

  test("HPP_ARRAY_AND_SCALAR: a=1 with a[]=2 or a[x]=3, in any source", () => {
    expect(
      check("HPP_ARRAY_AND_SCALAR", {
        query: [
          ["role", "user"],
          ["role[]", "admin"],
        ],
      }),
    ).toBe('parameter "role" given as a value and as "role[]"');
    expect(
      check("HPP_ARRAY_AND_SCALAR", { query: [["user", "1"]], post: [["user[admin]", "true"]] }),
    ).toBeDefined();
    expect(
      check("HPP_ARRAY_AND_SCALAR", {
        query: [
          ["user[name]", "a"],
          ["user[mail]", "b"],
          ["username", "c"],
        ],
      }),
    ).toBeUndefined();
  });

  test("HPP_REPEATED: any repetition outside name[], also by case and PHP's . and space", () => {
    expect(
      check("HPP_REPEATED", {
        query: [
          ["tag", "a"],
          ["tag", "b"],
        ],
      }),
    ).toBe('parameter "tag" given 2 times');
    expect(
      check("HPP_REPEATED", {
        query: [
          ["user.id", "1"],
          ["user_id", "2"],
        ],
      }),
    ).toBe('parameter "user.id" given 2 times (as "user.id", "user_id")');
    expect(
      check("HPP_REPEATED", {
        query: [
          ["id", "1"],
          ["ID", "1"],
        ],
      }),
    ).toBeDefined();
    expect(
      check("HPP_REPEATED", {
        query: [
          ["a[x]", "1"],
          ["a[x]", "2"],
        ],
      }),
    ).toBeDefined();
  });

  test("levels: a conflicting copy is Basic; the same value twice only Standard; a repeated query name only Strict", () => {
    expect(levelsOf({ query: [["id", "1"]], post: [["id", "2"]] })).toEqual([
      "Basic HPP_QUERY_BODY_CONFLICT",
      "Standard HPP_QUERY_AND_BODY",
      "Strict HPP_REPEATED",
    ]);
    expect(levelsOf({ query: [["id", "1"]], post: [["id", "1"]] })).toEqual([
      "Standard HPP_QUERY_AND_BODY",
      "Strict HPP_REPEATED",
    ]);
    expect(
      levelsOf({
        query: [
          ["id", "1"],
          ["id", "2"],
        ],
      }),
    ).toEqual(["Strict HPP_REPEATED"]);
  });

  test("logs name the parameter but never its values", () => {
    const secret = "hunter2-very-secret";
    for (const rule of HPP_REQUEST_RULES) {
      const found = rule.check(
        requestOf({
          query: [["password", "x"]],
          post: [
            ["password", secret],
            ["password[]", secret],
          ],
        }),
      );
      expect(found ?? "").not.toContain(secret);
    }
  });
});
