import { describe, expect, test } from "bun:test";
import { isMicrogatewayError } from "../errors.ts";
import { parseResource } from "./parse.ts";
import {
  API_VERSION,
  DEFAULT_LIMIT_VALUES,
  DEFAULT_PARSER_SPEC,
  type DenyRules,
  type Limits,
  type Parser,
} from "./types.ts";

function parseKind(kind: string, spec: unknown): unknown {
  return parseResource({ apiVersion: API_VERSION, kind, metadata: { name: "p", namespace: "shop" }, spec });
}

function errorOf(kind: string, spec: unknown): string {
  try {
    parseKind(kind, spec);
  } catch (e) {
    if (!isMicrogatewayError(e)) throw e;
    expect(e.code).toBe("InvalidResource");
    return e.message;
  }
  throw new Error("expected parseResource to throw");
}

describe("DenyRules overrides and exceptions", () => {
  test("are modelled with the API's defaults", () => {
    const dr = parseKind("DenyRules", {
      request: {
        builtIn: {
          overrides: [
            { conditions: { ruleKeys: ["XSS", "XSS"], types: ["Parameter"] }, settings: { level: "Strict" } },
            { conditions: {}, settings: { threatHandlingMode: "LogOnly" } },
          ],
          exceptions: [
            {
              ruleKeys: ["SQL"],
              blockedData: { parameter: { name: { matcher: { exact: "q" } }, source: "Query" } },
              requestConditions: { path: { matcher: { prefix: "/search" } }, method: ["GET"] },
            },
            { blockedData: { json: { jsonPath: "$.items[*].html" } } },
            { requestConditions: { remoteIP: { cidrRanges: ["10.0.0.0/8"] } } },
          ],
        },
      },
    }) as DenyRules;
    expect(dr.spec.request.builtIn).toEqual({
      settings: { level: "Standard", threatHandlingMode: "Block" },
      overrides: [
        { ruleKeys: ["XSS"], types: ["Parameter"], level: "Strict" },
        { threatHandlingMode: "LogOnly" },
      ],
      exceptions: [
        {
          ruleKeys: ["SQL"],
          blockedData: {
            kind: "parameter",
            name: { kind: "exact", value: "q", ignoreCase: false },
            source: "Query",
          },
          requestConditions: {
            method: ["GET"],
            path: { kind: "prefix", value: "/search", ignoreCase: false },
          },
        },
        { blockedData: { kind: "json", jsonPath: "$.items[*].html" } },
        { requestConditions: { remoteIP: { cidrRanges: ["10.0.0.0/8"], invert: false } } },
      ],
    });
  });

  const PREFIX = "DenyRules shop/p: spec.request.builtIn";
  const cases: [string, unknown, string][] = [
    [
      "override family",
      { overrides: [{ conditions: { ruleKeys: ["SQLI"] }, settings: {} }] },
      `${PREFIX}.overrides[0].conditions.ruleKeys[0] "SQLI" must be one of ENCODING, EXPLOIT, HPP, HTML, IDOR, LDAP, NOSQL, OGNL, PHP, PROTOCOL, SANITY, SCANNING, SQL, TEMPLATE, UNIXCMD, WINCMD, XSS, SSRF, BOT`,
    ],
    [
      "override type",
      { overrides: [{ conditions: { types: ["Body"] } }] },
      `${PREFIX}.overrides[0].conditions.types[0] "Body" must be one of Header, Parameter, Path, PathSegment, JSON, GraphQL`,
    ],
    [
      "override level",
      { overrides: [{ settings: { level: "Max" } }] },
      `${PREFIX}.overrides[0].settings.level "Max" must be one of Unfiltered, Basic, Standard, Strict`,
    ],
    [
      "exception without data or conditions",
      { exceptions: [{ ruleKeys: ["SQL"] }] },
      `${PREFIX}.exceptions[0] must have at least one of blockedData, requestConditions (none set)`,
    ],
    [
      "exception on graphQL",
      { exceptions: [{ blockedData: { graphQL: { field: { matcher: { exact: "x" } } } } }] },
      `${PREFIX}.exceptions[0].blockedData.graphQL is not supported: GraphQL requests are not parsed (no GraphQL parser yet)`,
    ],
    [
      "exception with a bad JSONPath",
      { exceptions: [{ blockedData: { json: { jsonPath: "$..a" } } }] },
      `${PREFIX}.exceptions[0].blockedData.json.jsonPath "$..a" uses recursive descent (..), which is not supported`,
    ],
    [
      "exception with a bad regex",
      { exceptions: [{ blockedData: { path: { matcher: { regex: "(?<=a)" } } } }] },
      `${PREFIX}.exceptions[0].blockedData.path.matcher.regex "(?<=a)" is not a valid RE2 regex: invalid perl operator: (?<`,
    ],
  ];
  for (const [name, builtIn, message] of cases) {
    test(`invalid: ${name}`, () => expect(errorOf("DenyRules", { request: { builtIn } })).toBe(message));
  }
});

describe("Limits", () => {
  test("defaults when absent; quantities in bytes; unlimited", () => {
    expect((parseKind("Limits", undefined) as Limits).spec).toEqual({
      threatHandlingMode: "Block",
      limited: DEFAULT_LIMIT_VALUES,
    });
    const limits = parseKind("Limits", {
      settings: { threatHandlingMode: "LogOnly" },
      request: {
        limited: {
          general: { bodySize: "20Mi" },
          json: { bodySize: "1Mi", nestingDepth: 32 },
          parameter: { valueLength: "1.5Ki", nameLength: 64 },
          multipart: { bodySize: "1e3" },
          exceptions: [
            {
              length: { json: { jsonPath: "$.attachment" } },
              requestConditions: { path: { matcher: { prefix: "/upload" } } },
            },
            { length: { parameter: { name: { matcher: { exact: "doc" } } } } },
          ],
        },
      },
    }) as Limits;
    expect(limits.spec.threatHandlingMode).toBe("LogOnly");
    expect(limits.spec.limited?.general).toEqual({ bodySize: 20 * 2 ** 20, pathLength: 1024 });
    expect(limits.spec.limited?.json).toMatchObject({ bodySize: 2 ** 20, nestingDepth: 32, keyCount: 250 });
    expect(limits.spec.limited?.parameter).toMatchObject({ valueLength: 1536, nameLength: 64 });
    expect(limits.spec.limited?.multipart).toEqual({ bodySize: 1000 });
    expect(limits.spec.limited?.exceptions).toEqual([
      {
        length: { kind: "json", jsonPath: "$.attachment" },
        requestConditions: { path: { kind: "prefix", value: "/upload", ignoreCase: false } },
      },
      {
        length: {
          kind: "parameter",
          name: { kind: "exact", value: "doc", ignoreCase: false },
          source: "Any",
        },
      },
    ]);
    expect((parseKind("Limits", { request: { unlimited: {} } }) as Limits).spec).toEqual({
      threatHandlingMode: "Block",
    });
  });

  const PREFIX = "Limits shop/p: spec.request";
  const cases: [string, unknown, string][] = [
    [
      "both",
      { unlimited: {}, limited: {} },
      `${PREFIX} must have at most one of unlimited, limited (both are set)`,
    ],
    [
      "bad quantity",
      { limited: { json: { bodySize: "1MB" } } },
      `${PREFIX}.limited.json.bodySize "1MB" must be a number of bytes or a quantity such as 60Ki or 100Mi`,
    ],
    [
      "negative count",
      { limited: { parameter: { count: -1 } } },
      `${PREFIX}.limited.parameter.count -1 must be an integer from 0 to 9007199254740991`,
    ],
    [
      "graphQL exception",
      { limited: { exceptions: [{ length: { graphQL: { field: { matcher: { exact: "x" } } } } }] } },
      `${PREFIX}.limited.exceptions[0].length.graphQL is not supported: GraphQL requests are not parsed (no GraphQL parser yet)`,
    ],
    [
      "exception without a kind",
      { limited: { exceptions: [{ length: {} }] } },
      `${PREFIX}.limited.exceptions[0].length must have exactly one of parameter, json, graphQL (none set)`,
    ],
  ];
  for (const [name, request, message] of cases) {
    test(`invalid: ${name}`, () => expect(errorOf("Limits", { request })).toBe(message));
  }
});

describe("Parser", () => {
  test("defaults when absent; custom rules and patterns kept", () => {
    expect((parseKind("Parser", {}) as Parser).spec).toEqual(DEFAULT_PARSER_SPEC);
    const parser = parseKind("Parser", {
      request: {
        defaultContentType: "application/json",
        parsers: { multipart: { enable: false }, json: { mediaTypePattern: "application/(.+\\+)?json.*" } },
        custom: {
          rules: [
            { requestConditions: { path: { matcher: { prefix: "/files" } } }, action: { skip: {} } },
            { requestConditions: { method: ["PUT"] }, action: { parse: { json: {} } } },
          ],
        },
      },
    }) as Parser;
    expect(parser.spec).toEqual({
      defaultContentType: "application/json",
      parsers: {
        form: { enable: true, mediaTypePattern: ".*urlencoded.*" },
        json: { enable: true, mediaTypePattern: "application/(.+\\+)?json.*" },
        multipart: { enable: false, mediaTypePattern: ".*multipart.*" },
      },
      custom: [
        {
          requestConditions: { path: { kind: "prefix", value: "/files", ignoreCase: false } },
          action: "skip",
        },
        { requestConditions: { method: ["PUT"] }, action: "json" },
      ],
    });
  });

  const PREFIX = "Parser shop/p: spec.request";
  const cases: [string, unknown, string][] = [
    [
      "bad pattern",
      { parsers: { json: { mediaTypePattern: "json(" } } },
      `${PREFIX}.parsers.json.mediaTypePattern "json(" is not a valid RE2 regex: missing ): json(`,
    ],
    [
      "enable not a boolean",
      { parsers: { form: { enable: "yes" } } },
      `${PREFIX}.parsers.form.enable "yes" must be a boolean`,
    ],
    [
      "action with two parsers",
      { custom: { rules: [{ requestConditions: {}, action: { parse: { json: {}, form: {} } } }] } },
      `${PREFIX}.custom.rules[0].action.parse must have exactly one of form, json, multipart (form, json set)`,
    ],
    [
      "rule without conditions",
      { custom: { rules: [{ action: { skip: {} } }] } },
      `${PREFIX}.custom.rules[0].requestConditions is required`,
    ],
  ];
  for (const [name, request, message] of cases) {
    test(`invalid: ${name}`, () => expect(errorOf("Parser", { request })).toBe(message));
  }
});
