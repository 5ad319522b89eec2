import { describe, expect, test } from "bun:test";
import { isMicrogatewayError } from "../errors.ts";
import { parseResource } from "./parse.ts";
import { API_VERSION, type DenyRules } from "./types.ts";

function denyRules(rules: unknown): unknown {
  return {
    apiVersion: API_VERSION,
    kind: "DenyRules",
    metadata: { name: "strict", namespace: "shop" },
    spec: { request: { custom: { rules } } },
  };
}

function parse(rules: unknown): DenyRules {
  return parseResource(denyRules(rules)) as DenyRules;
}

/** The message of the InvalidResource error parsing `rules` throws. */
function errorOf(rules: unknown): string {
  try {
    parseResource(denyRules(rules));
  } catch (e) {
    if (!isMicrogatewayError(e)) throw e;
    expect(e.code).toBe("InvalidResource");
    return e.message;
  }
  throw new Error("expected parseResource to throw");
}

const PREFIX = "DenyRules shop/strict: spec.request.custom.rules[0]";
const adminPath = { path: { matcher: { prefix: "/admin" } } };

describe("custom rules: valid", () => {
  test("path rule: mode defaults to Block, ignoreCase to false", () => {
    expect(parse([{ ruleKey: "BLOCK_ADMIN", blockData: adminPath }]).spec.request.custom).toEqual({
      rules: [
        {
          ruleKey: "BLOCK_ADMIN",
          threatHandlingMode: "Block",
          blockData: { kind: "path", path: { kind: "prefix", value: "/admin", ignoreCase: false } },
        },
      ],
    });
  });

  test("header (name lower-cased, value optional), query parameter, request conditions", () => {
    const dr = parse([
      {
        ruleKey: "NO_DEBUG_HEADER",
        threatHandlingMode: "LogOnly",
        blockData: { header: { name: { matcher: { exact: "X-Debug" } } } },
      },
      {
        ruleKey: "NO_TOKEN_PARAM",
        blockData: {
          parameter: {
            name: { matcher: { exact: "token" } },
            value: { matcher: { regex: "[a-f0-9]{32}", ignoreCase: true } },
            source: "Query",
          },
        },
        requestConditions: { method: ["POST", "PUT"], path: { matcher: { prefix: "/api/" } } },
      },
    ]);
    expect(dr.spec.request.custom?.rules).toEqual([
      {
        ruleKey: "NO_DEBUG_HEADER",
        threatHandlingMode: "LogOnly",
        blockData: { kind: "header", name: "x-debug" },
      },
      {
        ruleKey: "NO_TOKEN_PARAM",
        threatHandlingMode: "Block",
        blockData: {
          kind: "parameter",
          name: { kind: "exact", value: "token", ignoreCase: false },
          value: { kind: "regex", value: "[a-f0-9]{32}", ignoreCase: true },
        },
        requestConditions: {
          method: ["POST", "PUT"],
          path: { kind: "prefix", value: "/api/", ignoreCase: false },
        },
      },
    ]);
  });

  test("an empty rule list is the same as no custom rules", () => {
    expect(parse([]).spec.request.custom).toBeUndefined();
  });
});

describe("custom rules: each invalid field is named", () => {
  const cases: [string, unknown, string][] = [
    [
      "ruleKey pattern",
      [{ ruleKey: "block-admin", blockData: adminPath }],
      `${PREFIX}.ruleKey "block-admin" must match ^[A-Z][A-Z0-9_]*$ (at most 64 characters)`,
    ],
    ["ruleKey missing", [{ blockData: adminPath }], `${PREFIX}.ruleKey is required`],
    [
      "ruleKey duplicate",
      [
        { ruleKey: "A", blockData: adminPath },
        { ruleKey: "A", blockData: adminPath },
      ],
      'DenyRules shop/strict: spec.request.custom.rules[1].ruleKey "A" must be unique (also used by spec.request.custom.rules[0])',
    ],
    [
      "mode",
      [{ ruleKey: "A", threatHandlingMode: "Warn", blockData: adminPath }],
      `${PREFIX}.threatHandlingMode "Warn" must be one of Block, LogOnly`,
    ],
    ["blockData missing", [{ ruleKey: "A" }], `${PREFIX}.blockData is required`],
    [
      "blockData two kinds",
      [{ ruleKey: "A", blockData: { ...adminPath, header: { name: { matcher: { exact: "x" } } } } }],
      `${PREFIX}.blockData must have exactly one of header, parameter, path, pathSegment, json, graphQL (header, path set)`,
    ],
    [
      "blockData json",
      [{ ruleKey: "A", blockData: { json: { jsonPath: "$.a", value: { matcher: { exact: "x" } } } } }],
      `${PREFIX}.blockData.json is not supported in custom rules yet (only header, parameter and path are enforced)`,
    ],
    [
      "matcher with two kinds",
      [{ ruleKey: "A", blockData: { path: { matcher: { prefix: "/a", exact: "/a" } } } }],
      `${PREFIX}.blockData.path.matcher must have exactly one of exact, prefix, suffix, contains, regex (exact, prefix set)`,
    ],
    [
      "header name not exact",
      [{ ruleKey: "A", blockData: { header: { name: { matcher: { prefix: "x-" } } } } }],
      `${PREFIX}.blockData.header.name.matcher.prefix is not supported for header names in custom rules yet: use exact`,
    ],
    [
      "parameter source defaults to Any",
      [{ ruleKey: "A", blockData: { parameter: { name: { matcher: { exact: "q" } } } } }],
      `${PREFIX}.blockData.parameter.source "Any" is not supported yet: body (form) parameters cannot be inspected, set source: Query`,
    ],
    [
      "parameter source Post",
      [{ ruleKey: "A", blockData: { parameter: { name: { matcher: { exact: "q" } }, source: "Post" } } }],
      `${PREFIX}.blockData.parameter.source "Post" is not supported yet: body (form) parameters cannot be inspected, set source: Query`,
    ],
    [
      "condition header",
      [
        {
          ruleKey: "A",
          blockData: adminPath,
          requestConditions: { header: { name: { matcher: { exact: "x" } } } },
        },
      ],
      `${PREFIX}.requestConditions.header is not supported in custom rules yet (only method and path are)`,
    ],
    [
      "condition remoteIP",
      [
        {
          ruleKey: "A",
          blockData: adminPath,
          requestConditions: { remoteIP: { cidrRanges: ["10.0.0.0/8"] } },
        },
      ],
      `${PREFIX}.requestConditions.remoteIP is not supported in custom rules yet (only method and path are)`,
    ],
    [
      "condition invert",
      [{ ruleKey: "A", blockData: adminPath, requestConditions: { invert: true } }],
      `${PREFIX}.requestConditions.invert true is not supported in custom rules yet (only false)`,
    ],
    [
      "condition method",
      [{ ruleKey: "A", blockData: adminPath, requestConditions: { method: ["FETCH"] } }],
      `${PREFIX}.requestConditions.method[0] "FETCH" must be one of GET, HEAD, POST, PUT, PATCH, DELETE, CONNECT, OPTIONS, TRACE`,
    ],
    [
      "empty matcher string",
      [{ ruleKey: "A", blockData: { path: { matcher: { exact: "" } } } }],
      `${PREFIX}.blockData.path.matcher.exact has 0 characters, must have 1 to 1024`,
    ],
  ];
  for (const [name, rules, message] of cases) {
    test(name, () => expect(errorOf(rules)).toBe(message));
  }
});

describe("custom rules: every regex is compiled by RE2", () => {
  test("a valid RE2 regex is accepted", () => {
    const dr = parse([
      { ruleKey: "A", blockData: { path: { matcher: { regex: "/(admin|internal)(/.*)?" } } } },
    ]);
    expect(dr.spec.request.custom?.rules[0]?.blockData).toEqual({
      kind: "path",
      path: { kind: "regex", value: "/(admin|internal)(/.*)?", ignoreCase: false },
    });
  });

  test("a syntax error names the field and quotes RE2", () => {
    expect(errorOf([{ ruleKey: "A", blockData: { path: { matcher: { regex: "/admin(" } } } }])).toBe(
      `${PREFIX}.blockData.path.matcher.regex "/admin(" is not a valid RE2 regex: missing ): /admin(`,
    );
  });

  test("lookahead is refused (RE2 has none), in a parameter value and in a condition", () => {
    const parameter = {
      parameter: {
        name: { matcher: { exact: "q" } },
        value: { matcher: { regex: "a(?=b)" } },
        source: "Query",
      },
    };
    expect(errorOf([{ ruleKey: "A", blockData: parameter }])).toBe(
      `${PREFIX}.blockData.parameter.value.matcher.regex "a(?=b)" is not a valid RE2 regex: invalid perl operator: (?=`,
    );
    expect(
      errorOf([
        { ruleKey: "A", blockData: adminPath, requestConditions: { path: { matcher: { regex: "(?!x)" } } } },
      ]),
    ).toBe(
      `${PREFIX}.requestConditions.path.matcher.regex "(?!x)" is not a valid RE2 regex: invalid perl operator: (?!`,
    );
  });
});
