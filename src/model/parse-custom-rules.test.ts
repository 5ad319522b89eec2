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

  test("header (name always ignoring case, value optional), query parameter, request conditions", () => {
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
        blockData: { kind: "header", name: { kind: "exact", value: "X-Debug", ignoreCase: true } },
      },
      {
        ruleKey: "NO_TOKEN_PARAM",
        threatHandlingMode: "Block",
        blockData: {
          kind: "parameter",
          name: { kind: "exact", value: "token", ignoreCase: false },
          value: { kind: "regex", value: "[a-f0-9]{32}", ignoreCase: true },
          source: "Query",
        },
        requestConditions: {
          method: ["POST", "PUT"],
          path: { kind: "prefix", value: "/api/", ignoreCase: false },
        },
      },
    ]);
  });

  test("every blockData kind but graphQL, and every request condition, as the inspector enforces them", () => {
    const dr = parse([
      {
        ruleKey: "SEG",
        blockData: { pathSegment: { segments: { index: 1 }, value: { matcher: { exact: "x" } } } },
      },
      {
        ruleKey: "JSON_ROLE",
        blockData: { json: { jsonPath: "$.user.role", value: { matcher: { exact: "admin" } } } },
      },
      { ruleKey: "POST_PARAM", blockData: { parameter: { name: { matcher: { exact: "q" } } } } },
      { ruleKey: "HDR_PREFIX", blockData: { header: { name: { matcher: { prefix: "X-Internal-" } } } } },
      {
        ruleKey: "ALL_CONDITIONS",
        blockData: adminPath,
        requestConditions: {
          header: { name: { matcher: { exact: "x-a" } }, value: { matcher: { exact: "1" } } },
          mediaType: { matcher: { contains: "json" } },
          remoteIP: { cidrRanges: ["10.0.0.0/8", "2001:db8::/32"], invert: true },
          invert: true,
        },
      },
    ]);
    expect(dr.spec.request.custom?.rules.map((r) => r.blockData)).toEqual([
      { kind: "pathSegment", index: 1, value: { kind: "exact", value: "x", ignoreCase: false } },
      { kind: "json", jsonPath: "$.user.role", value: { kind: "exact", value: "admin", ignoreCase: false } },
      { kind: "parameter", name: { kind: "exact", value: "q", ignoreCase: false }, source: "Any" },
      { kind: "header", name: { kind: "prefix", value: "X-Internal-", ignoreCase: true } },
      { kind: "path", path: { kind: "prefix", value: "/admin", ignoreCase: false } },
    ]);
    expect(dr.spec.request.custom?.rules[4]?.requestConditions).toEqual({
      header: {
        name: { kind: "exact", value: "x-a", ignoreCase: true },
        value: { kind: "exact", value: "1", ignoreCase: false },
      },
      mediaType: { kind: "contains", value: "json", ignoreCase: true },
      remoteIP: { cidrRanges: ["10.0.0.0/8", "2001:db8::/32"], invert: true },
      invert: true,
    });
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
      "blockData graphQL",
      [{ ruleKey: "A", blockData: { graphQL: { field: { matcher: { exact: "x" } } } } }],
      `${PREFIX}.blockData.graphQL is not supported: GraphQL requests are not parsed (no GraphQL parser yet)`,
    ],
    [
      "blockData with no matcher",
      [{ ruleKey: "A", blockData: { header: {} } }],
      `${PREFIX}.blockData.header must set at least one of its fields`,
    ],
    [
      "json with key and value",
      [
        {
          ruleKey: "A",
          blockData: { json: { key: { matcher: { exact: "a" } }, value: { matcher: { exact: "b" } } } },
        },
      ],
      `${PREFIX}.blockData.json must not set both key and value`,
    ],
    [
      "json path with a filter",
      [
        {
          ruleKey: "A",
          blockData: { json: { jsonPath: "$.a[?(@.b)]", value: { matcher: { exact: "b" } } } },
        },
      ],
      `${PREFIX}.blockData.json.jsonPath "$.a[?(@.b)]" has an unsupported selector at character 4 (only [n], [*] and ['key'])`,
    ],
    [
      "matcher with two kinds",
      [{ ruleKey: "A", blockData: { path: { matcher: { prefix: "/a", exact: "/a" } } } }],
      `${PREFIX}.blockData.path.matcher must have exactly one of exact, prefix, suffix, contains, regex (exact, prefix set)`,
    ],
    [
      "condition remoteIP not a CIDR",
      [
        {
          ruleKey: "A",
          blockData: adminPath,
          requestConditions: { remoteIP: { cidrRanges: ["10.0.0.0/33"] } },
        },
      ],
      `${PREFIX}.requestConditions.remoteIP.cidrRanges[0] "10.0.0.0/33" must be a CIDR range such as 10.0.0.0/8 or 2001:db8::/32`,
    ],
    [
      "condition header without name",
      [
        {
          ruleKey: "A",
          blockData: adminPath,
          requestConditions: { header: { value: { matcher: { exact: "x" } } } },
        },
      ],
      `${PREFIX}.requestConditions.header.name is required`,
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
