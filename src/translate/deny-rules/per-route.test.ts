import { describe, expect, test } from "bun:test";
import { RBAC_Action } from "../../../gen/envoy/config/rbac/v3/rbac_pb.js";
import type { DenyRuleLevel, DenyRulesSpec, ThreatHandlingMode } from "../../model/types.ts";
import { locationRegex } from "./built-in-rule.ts";
import { BUILT_IN_RULES, rulesAtLevel } from "./catalog.ts";
import { denyRulesPerRoute } from "./per-route.ts";

function spec(level: DenyRuleLevel, threatHandlingMode: ThreatHandlingMode): DenyRulesSpec {
  return { request: { builtIn: { settings: { level, threatHandlingMode } } } };
}

describe("denyRulesPerRoute", () => {
  test("Block enforces one DENY policy per rule and location, named <KEY>/<location>", () => {
    const rbac = denyRulesPerRoute(spec("Standard", "Block")).rbac;
    expect(rbac?.shadowRules).toBeUndefined();
    expect(rbac?.rules?.action).toBe(RBAC_Action.DENY);
    const expected = rulesAtLevel("Standard").flatMap((r) => r.locations.map((l) => `${r.key}/${l}`));
    expect(Object.keys(rbac?.rules?.policies ?? {}).sort()).toEqual(expected.sort());
  });

  test("LogOnly puts the same policies under shadow rules and enforces nothing", () => {
    const block = denyRulesPerRoute(spec("Strict", "Block")).rbac;
    const logOnly = denyRulesPerRoute(spec("Strict", "LogOnly")).rbac;
    expect(logOnly?.rules).toBeUndefined();
    expect(logOnly?.shadowRules?.action).toBe(RBAC_Action.DENY);
    expect(logOnly?.shadowRules?.policies).toEqual(block?.rules?.policies ?? {});
  });

  test("Unfiltered yields an RBAC without rules, in either mode", () => {
    for (const mode of ["Block", "LogOnly"] as const) {
      const rbac = denyRulesPerRoute(spec("Unfiltered", mode)).rbac;
      expect(rbac).toBeDefined();
      expect(rbac?.rules).toBeUndefined();
      expect(rbac?.shadowRules).toBeUndefined();
    }
  });

  test("the path is matched with url_path and the query with the :path header", () => {
    const policies = denyRulesPerRoute(spec("Basic", "Block")).rbac?.rules?.policies ?? {};
    const union = BUILT_IN_RULES.find((r) => r.key === "SQL_UNION_SELECT")!;
    const path = policies["SQL_UNION_SELECT/path"];
    const query = policies["SQL_UNION_SELECT/query"];
    expect(path?.principals).toEqual([expect.objectContaining({ identifier: { case: "any", value: true } })]);
    const pathRule = path?.permissions[0]?.rule;
    expect(pathRule?.case).toBe("urlPath");
    if (pathRule?.case !== "urlPath") throw new Error("unreachable");
    expect(pathRule.value.rule.case).toBe("path");
    expect(pathRule.value.rule.value?.matchPattern).toEqual(
      expect.objectContaining({
        case: "safeRegex",
        value: expect.objectContaining({ regex: locationRegex(union, "path") }),
      }),
    );
    const queryRule = query?.permissions[0]?.rule;
    if (queryRule?.case !== "header")
      throw new Error(`query policy matches ${String(queryRule?.case)}, not header`);
    expect(queryRule.value.name).toBe(":path");
    expect(queryRule.value.headerMatchSpecifier.case).toBe("stringMatch");
    expect(queryRule.value.headerMatchSpecifier.value).toEqual(
      expect.objectContaining({
        matchPattern: expect.objectContaining({
          value: expect.objectContaining({ regex: locationRegex(union, "query") }),
        }),
      }),
    );
  });

  test("returns a fresh message each call, so a caller may change it", () => {
    const a = denyRulesPerRoute(spec("Basic", "Block"));
    const b = denyRulesPerRoute(spec("Basic", "Block"));
    expect(a).not.toBe(b);
    expect(a).toEqual(b);
  });

  test("rejects a threat handling mode the model would not have let through", () => {
    expect(() => denyRulesPerRoute(spec("Basic", "Alert" as "Block"))).toThrow(/threatHandlingMode "Alert"/);
  });
});
