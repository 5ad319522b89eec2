import { describe, expect, test } from "bun:test";
import type { DenyRuleLevel } from "../../model/types.ts";
import { locationRegex, policyName } from "./built-in-rule.ts";
import { rulesAtLevel } from "./catalog.ts";
import { fullMatchRegExp } from "./testing/re2-in-js.ts";
import { ATTACKS, BENIGN, STRICT_ONLY } from "./testing/requests.ts";

/**
 * The policies that deny a request target at `level`, evaluated as Envoy's RBAC filter does:
 * `url_path` sees the path without the query, the `:path` header sees the whole target. (Envoy's
 * path normalisation is not modelled here; the real-Envoy test covers it.)
 */
function deniedBy(target: string, level: DenyRuleLevel): string[] {
  const path = target.split("?", 1)[0] ?? "";
  return rulesAtLevel(level).flatMap((rule) =>
    rule.locations
      .filter((location) =>
        fullMatchRegExp(locationRegex(rule, location)).test(location === "path" ? path : target),
      )
      .map((location) => policyName(rule, location)),
  );
}

describe("attack requests", () => {
  for (const { target, level } of ATTACKS) {
    const levels: DenyRuleLevel[] =
      level === "Basic" ? ["Basic", "Standard", "Strict"] : ["Standard", "Strict"];
    test(`${target} is denied from ${level} on`, () => {
      for (const l of levels)
        expect({ level: l, denied: deniedBy(target, l).length > 0 }).toEqual({ level: l, denied: true });
    });
  }

  test("nothing is denied at Unfiltered", () => {
    expect(ATTACKS.filter(({ target }) => deniedBy(target, "Unfiltered").length > 0)).toEqual([]);
  });

  test("an attack in the path is denied by the path policy, one in the query by the query policy", () => {
    expect(deniedBy("/items/1%20union%20select%201", "Basic")).toEqual(["SQL_UNION_SELECT/path"]);
    expect(deniedBy("/items?id=1%20union%20select%201", "Basic")).toEqual(["SQL_UNION_SELECT/query"]);
  });
});

describe("benign requests", () => {
  for (const target of BENIGN) {
    test(`${target} passes at Standard`, () => {
      expect(deniedBy(target, "Standard")).toEqual([]);
    });
  }

  for (const target of STRICT_ONLY) {
    test(`${target} passes at Standard but not at Strict`, () => {
      expect(deniedBy(target, "Standard")).toEqual([]);
      expect(deniedBy(target, "Strict")).not.toEqual([]);
    });
  }
});
