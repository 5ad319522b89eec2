import { describe, expect, test } from "bun:test";
import { toJson } from "@bufbuild/protobuf";
import { RE2 } from "re2-wasm";
import { RBACPerRouteSchema } from "../../../gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js";
import { re2SyntaxError } from "../../model/re2.ts";
import type { CustomRule, DenyRulesSpec, StringMatch } from "../../model/types.ts";
import { customRulePermission, queryParameterRegex, re2Quote } from "./custom-rules.ts";
import { denyRulesPerRoute } from "./per-route.ts";

const m = (kind: StringMatch["kind"], value: string, ignoreCase = false): StringMatch => ({
  kind,
  value,
  ignoreCase,
});

const BLOCK_ADMIN: CustomRule = {
  ruleKey: "BLOCK_ADMIN",
  threatHandlingMode: "Block",
  blockData: { kind: "path", path: m("prefix", "/admin") },
};

function spec(level: "Unfiltered" | "Basic", mode: "Block" | "LogOnly", rules: CustomRule[]): DenyRulesSpec {
  return { request: { builtIn: { settings: { level, threatHandlingMode: mode } }, custom: { rules } } };
}

/** Full-match test of an RE2 regex with Google's RE2, as Envoy's safe_regex does. */
function fullMatch(regex: string, input: string): boolean {
  return new RE2(`^(?:${regex})$`, "u").test(input);
}

describe("custom rules in RBACPerRoute", () => {
  test("a Block rule is an enforced policy <ruleKey>/custom beside the built-in ones", () => {
    const perRoute = denyRulesPerRoute(spec("Basic", "Block", [BLOCK_ADMIN]));
    const policies = perRoute.rbac?.rules?.policies ?? {};
    expect(Object.keys(policies)).toContain("BLOCK_ADMIN/custom");
    expect(Object.keys(policies)).toContain("SQL_UNION_SELECT/path");
    expect(perRoute.rbac?.shadowRules).toBeUndefined();
  });

  test("modes mix: each rule goes where its own mode says, independent of the built-in mode", () => {
    const logAdmin: CustomRule = { ...BLOCK_ADMIN, ruleKey: "LOG_ADMIN", threatHandlingMode: "LogOnly" };
    const perRoute = denyRulesPerRoute(spec("Basic", "LogOnly", [BLOCK_ADMIN, logAdmin]));
    expect(Object.keys(perRoute.rbac?.rules?.policies ?? {})).toEqual(["BLOCK_ADMIN/custom"]);
    const shadow = Object.keys(perRoute.rbac?.shadowRules?.policies ?? {});
    expect(shadow).toContain("LOG_ADMIN/custom");
    expect(shadow).toContain("SQL_UNION_SELECT/path");
  });

  test("Unfiltered still enforces custom rules", () => {
    const perRoute = denyRulesPerRoute(spec("Unfiltered", "Block", [BLOCK_ADMIN]));
    expect(Object.keys(perRoute.rbac?.rules?.policies ?? {})).toEqual(["BLOCK_ADMIN/custom"]);
  });

  test("path -> url_path; request conditions are ANDed: methods ORed, path as url_path", () => {
    const rule: CustomRule = {
      ...BLOCK_ADMIN,
      blockData: { kind: "path", path: m("regex", "/admin(/.*)?", true) },
      requestConditions: { method: ["POST", "DELETE"], path: m("prefix", "/admin") },
    };
    expect(toJson(RBACPerRouteSchema, denyRulesPerRoute(spec("Unfiltered", "Block", [rule])))).toEqual({
      rbac: {
        rules: {
          action: "DENY",
          policies: {
            "BLOCK_ADMIN/custom": {
              permissions: [
                {
                  andRules: {
                    rules: [
                      { urlPath: { path: { safeRegex: { regex: "(?i:/admin(/.*)?)" } } } },
                      {
                        orRules: {
                          rules: [
                            { header: { name: ":method", stringMatch: { exact: "POST" } } },
                            { header: { name: ":method", stringMatch: { exact: "DELETE" } } },
                          ],
                        },
                      },
                      { urlPath: { path: { prefix: "/admin" } } },
                    ],
                  },
                },
              ],
              principals: [{ any: true }],
            },
          },
        },
      },
    });
  });

  test("header: present without a value matcher, string_match with one (ignoreCase kept)", () => {
    const present = customRulePermission({
      ...BLOCK_ADMIN,
      blockData: { kind: "header", name: { kind: "exact", value: "x-debug", ignoreCase: true } },
    });
    expect(present.rule).toMatchObject({ case: "header", value: { name: "x-debug" } });
    expect(present.rule.case === "header" && present.rule.value.headerMatchSpecifier.case).toBe(
      "presentMatch",
    );
    const valued = customRulePermission({
      ...BLOCK_ADMIN,
      blockData: {
        kind: "header",
        name: { kind: "exact", value: "user-agent", ignoreCase: true },
        value: m("contains", "sqlmap", true),
      },
    });
    const spec = valued.rule.case === "header" ? valued.rule.value.headerMatchSpecifier : undefined;
    expect(spec?.case === "stringMatch" && spec.value.ignoreCase).toBe(true);
    expect(spec?.case === "stringMatch" && spec.value.matchPattern).toEqual({
      case: "contains",
      value: "sqlmap",
    });
  });
});

describe("queryParameterRegex", () => {
  test("a named parameter anywhere in the query, with any value or none", () => {
    const re = queryParameterRegex(m("exact", "debug"));
    for (const hit of ["/?debug", "/a?debug=1", "/a?x=1&debug=true&y=2", "/a?x=1&debug", "/?debug=1#top"]) {
      expect(fullMatch(re, hit)).toBe(true);
    }
    for (const miss of ["/debug", "/a?debugger=1", "/a?x=debug", "/a?nodebug=1", "/a#?debug"]) {
      expect(fullMatch(re, miss)).toBe(false);
    }
  });

  test("a value matcher: exact, prefix, contains, regex, ignoreCase", () => {
    expect(fullMatch(queryParameterRegex(m("exact", "a"), m("exact", "1.0")), "/?a=1.0")).toBe(true);
    expect(fullMatch(queryParameterRegex(m("exact", "a"), m("exact", "1.0")), "/?a=1x0")).toBe(false);
    expect(fullMatch(queryParameterRegex(m("exact", "a"), m("prefix", "ab")), "/?b=1&a=abc&c=2")).toBe(true);
    expect(fullMatch(queryParameterRegex(m("exact", "a"), m("prefix", "ab")), "/?a=xab")).toBe(false);
    expect(fullMatch(queryParameterRegex(m("exact", "a"), m("contains", "drop")), "/?a=1;drop;")).toBe(true);
    expect(fullMatch(queryParameterRegex(m("exact", "a"), m("regex", "[0-9]+")), "/?a=123")).toBe(true);
    expect(fullMatch(queryParameterRegex(m("exact", "a"), m("regex", "[0-9]+")), "/?a=12x")).toBe(false);
    expect(fullMatch(queryParameterRegex(m("exact", "A", true), m("exact", "X", true)), "/?a=x")).toBe(true);
  });

  test("re2Quote makes every ASCII punctuation literal, and RE2 accepts the result", () => {
    const punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    const quoted = re2Quote(`a${punctuation}z`);
    expect(re2SyntaxError(quoted)).toBeUndefined();
    expect(fullMatch(quoted, `a${punctuation}z`)).toBe(true);
    expect(fullMatch(re2Quote("a.b"), "axb")).toBe(false);
    expect(re2SyntaxError(queryParameterRegex(m("suffix", "[]"), m("contains", "\\E(")))).toBeUndefined();
  });
});
