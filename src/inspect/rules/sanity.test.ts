import { describe, expect, test } from "bun:test";
import { spareRealisticValues } from "./realistic-values.ts";
import { requestOf } from "./request-fixture.ts";
import { checkValueRules } from "./rule-checks.ts";
import { climbsAboveRoot, MAX_CHARACTER_RUN, SANITY_REQUEST_RULES, SANITY_RULES } from "./sanity.ts";

checkValueRules(SANITY_RULES);
spareRealisticValues(SANITY_RULES);

function rule(key: string) {
  const found = SANITY_REQUEST_RULES.find((r) => r.key === key);
  if (found === undefined) throw new Error(`no rule ${key}`);
  return found;
}

describe("SANITY_PATH_ESCAPES_ROOT", () => {
  const escapes = rule("SANITY_PATH_ESCAPES_ROOT");

  test.each([
    "/../etc/passwd",
    "/a/..%2f..%2fetc/passwd",
    "/a/%2e%2e/%2e%2e/x",
    "/static/%252e%252e/%252e%252e/x",
    "/a\\..\\..\\windows\\win.ini",
    "/app/..;/..;/manager/html",
    "/a/%u002e%u002e/%u002e%u002e/x",
  ])("%s leaves the root", (target) => {
    expect(escapes.check(requestOf({ target }))).toContain("leaves the root");
  });

  test.each([
    "/",
    "/a/b/../c",
    "/a/./b",
    "/a/../b?next=../../etc",
    "/files/..hidden/x",
    "/v1.2/..a",
    "/a/b/%2e%2e/c",
    "/%zz/..",
  ])("%s stays inside", (target) => {
    expect(escapes.check(requestOf({ target }))).toBeUndefined();
  });

  test("the query and fragment are not part of the path", () => {
    expect(climbsAboveRoot("/x")).toBe(false);
    expect(escapes.check(requestOf({ target: "/x#/../../y" }))).toBeUndefined();
  });
});

describe("SANITY_REPEATED_CHARACTER", () => {
  const repeated = rule("SANITY_REPEATED_CHARACTER");

  test("a run longer than the limit is reported with where it was", () => {
    const request = requestOf({ query: [["name", `x${"A".repeat(MAX_CHARACTER_RUN + 1)}y`]] });
    expect(repeated.check(request)).toBe(`Parameter "name" repeats "A" ${MAX_CHARACTER_RUN + 1} times`);
  });

  test("a run at the limit, and long values without long runs, pass", () => {
    const atLimit = requestOf({ post: [["pad", "=".repeat(MAX_CHARACTER_RUN)]] });
    const varied = requestOf({ headers: [["cookie", "ab".repeat(5000)]] });
    expect(repeated.check(atLimit)).toBeUndefined();
    expect(repeated.check(varied)).toBeUndefined();
  });
});
