import { describe, expect, test } from "bun:test";
import { deflateRawSync } from "node:zlib";
import { isMicrogatewayError } from "../errors.ts";
import {
  DEFAULT_DENY_RULES_SPEC,
  DEFAULT_LIMITS_SPEC,
  DEFAULT_PARSER_SPEC,
  type DenyRulesSpec,
} from "../model/types.ts";
import {
  cachedPolicyCount,
  compiledPolicyFor,
  compilePolicy,
  decodePolicy,
  encodePolicy,
  MAX_POLICY_BYTES,
  POLICY_CACHE_SIZE,
  type RoutePolicy,
  routePolicy,
} from "./policy.ts";

const FULL: DenyRulesSpec = {
  request: {
    builtIn: {
      settings: { level: "Strict", threatHandlingMode: "LogOnly" },
      overrides: [
        { ruleKeys: ["XSS"], types: ["Parameter", "GraphQL"], level: "Basic", threatHandlingMode: "Block" },
      ],
      exceptions: [
        {
          ruleKeys: ["SQL"],
          blockedData: {
            kind: "json",
            jsonPath: "$.a[*]",
            value: { kind: "regex", value: "é+", ignoreCase: true },
          },
          requestConditions: {
            method: ["GET", "POST"],
            header: { name: { kind: "exact", value: "x", ignoreCase: true } },
            remoteIP: { cidrRanges: ["10.0.0.0/8"], invert: true },
            invert: true,
          },
        },
      ],
    },
    custom: {
      rules: [
        {
          ruleKey: "NO_ADMIN",
          threatHandlingMode: "Block",
          blockData: {
            kind: "pathSegment",
            index: 0,
            value: { kind: "exact", value: "admin", ignoreCase: false },
          },
        },
      ],
    },
  },
};

function invalid(wire: string): string {
  try {
    decodePolicy(wire);
  } catch (e) {
    if (!isMicrogatewayError(e)) throw e;
    expect(e.code).toBe("InvalidArgument");
    return e.message;
  }
  throw new Error("expected decodePolicy to throw");
}

const encodeJson = (value: unknown) => `j.${Buffer.from(JSON.stringify(value)).toString("base64url")}`;

describe("policy wire format", () => {
  test("routePolicy fills the defaults in", () => {
    expect(routePolicy({ denyRules: DEFAULT_DENY_RULES_SPEC })).toEqual({
      version: 1,
      denyRules: DEFAULT_DENY_RULES_SPEC,
      limits: DEFAULT_LIMITS_SPEC,
      parser: DEFAULT_PARSER_SPEC,
    });
  });

  test("encode/decode round-trip, header-safe ASCII; large policies are deflated", () => {
    const small = routePolicy({
      denyRules: DEFAULT_DENY_RULES_SPEC,
      limits: { threatHandlingMode: "LogOnly" },
    });
    const policy = routePolicy({ denyRules: FULL, limits: { threatHandlingMode: "LogOnly" } });
    for (const p of [small, policy]) {
      const wire = encodePolicy(p);
      expect(wire).toMatch(/^[jz]\.[A-Za-z0-9_-]+$/);
      expect(decodePolicy(wire)).toEqual(p);
    }
    expect(encodePolicy(small)).toStartWith("j.");
    const many: DenyRulesSpec = {
      request: {
        builtIn: {
          settings: { level: "Standard", threatHandlingMode: "Block" },
          exceptions: Array.from({ length: 100 }, (_, i) => ({
            blockedData: {
              kind: "parameter" as const,
              name: { kind: "exact" as const, value: `p${i}`, ignoreCase: false },
              source: "Query" as const,
            },
          })),
        },
      },
    };
    const wire = encodePolicy(routePolicy({ denyRules: many }));
    expect(wire).toStartWith("z.");
    expect(wire.length).toBeLessThan(JSON.stringify(many).length / 5);
    expect(decodePolicy(wire).denyRules).toEqual(many);
  });

  test("garbage is refused naming what is wrong", () => {
    const good = routePolicy({ denyRules: FULL });
    expect(invalid("j.not base64!")).toBe("policy: not a j.<base64url> or z.<base64url> string");
    expect(invalid("")).toBe("policy: not a j.<base64url> or z.<base64url> string");
    expect(invalid(Buffer.from("{}").toString("base64url"))).toBe(
      "policy: not a j.<base64url> or z.<base64url> string",
    );
    expect(invalid(`j.${Buffer.from("{nope").toString("base64url")}`)).toStartWith("policy: not JSON");
    expect(invalid(`z.${Buffer.from("{}").toString("base64url")}`)).toStartWith("policy: not deflated JSON");
    const bomb = deflateRawSync(Buffer.alloc(MAX_POLICY_BYTES + 1, 32)).toString("base64url");
    expect(invalid(`z.${bomb}`)).toStartWith("policy: not deflated JSON");
    expect(invalid(encodeJson([]))).toBe("policy: (root) must be an object");
    expect(invalid(encodeJson({ ...good, version: 2 }))).toBe("policy: version 2 is not 1");
    const badLevel = structuredClone(good) as unknown as {
      denyRules: { request: { builtIn: { settings: { level: string } } } };
    };
    badLevel.denyRules.request.builtIn.settings.level = "Max";
    expect(invalid(encodeJson(badLevel))).toBe(
      "policy: denyRules.request.builtIn.settings.level must be one of Unfiltered, Basic, Standard, Strict",
    );
    const badData = structuredClone(good) as unknown as {
      denyRules: { request: { custom: { rules: { blockData: { kind: string } }[] } } };
    };
    (badData.denyRules.request.custom.rules[0] as { blockData: { kind: string } }).blockData.kind = "graphQL";
    expect(invalid(encodeJson(badData))).toBe(
      "policy: denyRules.request.custom.rules[0].blockData.kind must be one of path, header, parameter, pathSegment, json",
    );
    expect(
      invalid(encodeJson({ ...good, limits: { threatHandlingMode: "Block", limited: { general: {} } } })),
    ).toBe("policy: limits.limited.general.bodySize must be a non-negative integer");
    expect(invalid(encodeJson({ ...good, parser: { ...good.parser, custom: [{ action: "xml" }] } }))).toBe(
      "policy: parser.custom[0].requestConditions must be an object",
    );
  });
});

describe("compilePolicy and the cache", () => {
  test("a regex RE2 refuses, a bad JSONPath or CIDR fail at compile time", () => {
    const withMatch = (value: string): RoutePolicy =>
      routePolicy({
        denyRules: {
          request: {
            builtIn: { settings: { level: "Basic", threatHandlingMode: "Block" } },
            custom: {
              rules: [
                {
                  ruleKey: "R",
                  threatHandlingMode: "Block",
                  blockData: { kind: "path", path: { kind: "regex", value, ignoreCase: false } },
                },
              ],
            },
          },
        },
      });
    expect(() => compilePolicy(withMatch("a(?=b)"))).toThrow("does not compile in RE2");
    expect(() => compilePolicy(withMatch("/a/.*"))).not.toThrow();
    const badPath = routePolicy({
      denyRules: {
        request: {
          builtIn: {
            settings: { level: "Basic", threatHandlingMode: "Block" },
            exceptions: [{ blockedData: { kind: "json", jsonPath: "$..x" } }],
          },
        },
      },
    });
    expect(() => compilePolicy(badPath)).toThrow("recursive descent");
  });

  test("the same string gives the same compiled policy; the cache is bounded", () => {
    const wire = encodePolicy(routePolicy({ denyRules: DEFAULT_DENY_RULES_SPEC }));
    const first = compiledPolicyFor(wire);
    expect(compiledPolicyFor(wire)).toBe(first);
    // Unfiltered policies compile fast (no rule groups): enough to fill the cache.
    const unfiltered: DenyRulesSpec = {
      request: { builtIn: { settings: { level: "Unfiltered", threatHandlingMode: "Block" } } },
    };
    for (let i = 0; i < POLICY_CACHE_SIZE + 5; i++) {
      compiledPolicyFor(
        encodePolicy(
          routePolicy({
            denyRules: unfiltered,
            parser: { ...DEFAULT_PARSER_SPEC, defaultContentType: `t/${i}` },
          }),
        ),
      );
    }
    expect(cachedPolicyCount()).toBe(POLICY_CACHE_SIZE);
    // The first one was evicted: a new compilation, equal but not the same object.
    const again = compiledPolicyFor(wire);
    expect(again).not.toBe(first);
    expect(again.policy).toEqual(first.policy);
  });

  test("a failing string is not cached and throws every time", () => {
    expect(() => compiledPolicyFor("%%%")).toThrow("not a j.<base64url> or z.<base64url> string");
    expect(() => compiledPolicyFor("%%%")).toThrow("not a j.<base64url> or z.<base64url> string");
  });
});
