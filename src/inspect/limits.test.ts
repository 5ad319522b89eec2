import { describe, expect, test } from "bun:test";
import {
  DEFAULT_DENY_RULES_SPEC,
  DEFAULT_LIMIT_VALUES,
  type LimitsSpec,
  type LimitValues,
} from "../model/types.ts";
import { inspect } from "./engine.ts";
import { blockStatus } from "./findings.ts";
import { checkLimits, compileLimits, headerPhaseLimits } from "./limits.ts";
import { parseHead, parseRequest } from "./parse-request.ts";
import { compilePolicy, routePolicy } from "./policy.ts";

function limits(
  values: Partial<{ [K in keyof LimitValues]: Partial<LimitValues[K]> }>,
  mode: "Block" | "LogOnly" = "Block",
): LimitsSpec {
  const d = DEFAULT_LIMIT_VALUES;
  return {
    threatHandlingMode: mode,
    limited: {
      general: { ...d.general, ...values.general },
      parameter: { ...d.parameter, ...values.parameter },
      json: { ...d.json, ...values.json },
      multipart: { ...d.multipart, ...values.multipart },
      exceptions: (values.exceptions as LimitValues["exceptions"] | undefined) ?? [],
    },
  };
}

const bytes = (text: string) => new TextEncoder().encode(text);
const subtypes = (spec: LimitsSpec, request: ReturnType<typeof parseRequest>) =>
  checkLimits(compileLimits(spec, []), request).map((f) => f.blockSubtype);

function json(body: string, rawTarget = "/api") {
  return parseRequest({ method: "POST", rawTarget, headers: [], body: bytes(body) }, "json");
}

describe("checkLimits", () => {
  test("path length and body sizes, general and per parser", () => {
    expect(
      subtypes(
        limits({ general: { pathLength: 5 } }),
        parseRequest({ method: "GET", rawTarget: "/abcdef?q=long", headers: [] }),
      ),
    ).toEqual(["general_path_length"]);
    expect(
      subtypes(
        limits({ general: { pathLength: 5 } }),
        parseRequest({ method: "GET", rawTarget: "/abcd?q=longer", headers: [] }),
      ),
    ).toEqual([]);
    const form = parseRequest(
      { method: "POST", rawTarget: "/", headers: [], body: bytes("a=12345678") },
      "form",
    );
    expect(subtypes(limits({ general: { bodySize: 5 }, parameter: { bodySize: 8 } }), form)).toEqual([
      "general_body_size",
      "parameter_body_size",
    ]);
    expect(subtypes(limits({ json: { bodySize: 3 } }), json('{"a":1}'))).toEqual(["json_body_size"]);
  });

  test("parameter count, name and value length (in UTF-8 bytes); file parts are not counted", () => {
    const request = parseRequest({ method: "GET", rawTarget: "/?a=1&bb=2&c=%C3%A9%C3%A9", headers: [] });
    expect(subtypes(limits({ parameter: { count: 2 } }), request)).toEqual(["parameter_count"]);
    expect(subtypes(limits({ parameter: { nameLength: 1 } }), request)).toEqual(["parameter_name_length"]);
    // "%C3%A9%C3%A9" is 12 bytes as sent.
    expect(subtypes(limits({ parameter: { valueLength: 11 } }), request)).toEqual(["parameter_value_length"]);
    expect(subtypes(limits({ parameter: { valueLength: 12 } }), request)).toEqual([]);
    const multipart = parseRequest(
      {
        method: "POST",
        rawTarget: "/",
        headers: [["content-type", "multipart/form-data; boundary=B"]],
        body: bytes(
          '--B\r\nContent-Disposition: form-data; name="f"; filename="very-long-name.txt"\r\nContent-Type: text/plain\r\n\r\nlong content\r\n--B--',
        ),
      },
      "multipart",
    );
    expect(subtypes(limits({ parameter: { count: 0, valueLength: 3 } }), multipart)).toEqual([]);
  });

  test("JSON nesting depth, key count, element count, key and value length", () => {
    const request = json('{"a":{"b":[1,2,3]},"longkey":"long value"}');
    expect(subtypes(limits({ json: { nestingDepth: 2 } }), request)).toEqual(["json_nesting_depth"]);
    expect(subtypes(limits({ json: { keyCount: 1 } }), request)).toEqual(["json_key_count"]);
    expect(subtypes(limits({ json: { elementCount: 2 } }), request)).toEqual(["json_element_count"]);
    expect(subtypes(limits({ json: { keyLength: 6 } }), request)).toEqual(["json_key_length"]);
    expect(subtypes(limits({ json: { valueLength: 9 } }), request)).toEqual(["json_value_length"]);
    const finding = checkLimits(compileLimits(limits({ json: { elementCount: 2 } }), []), request)[0];
    expect(finding).toMatchObject({
      blockType: "limits",
      ruleKey: "JSON_ELEMENT_COUNT",
      detail: "3 elements at $.a.b, limit 2",
    });
  });

  test("length exceptions by parameter (name, source) and JSON path, optionally under conditions", () => {
    const spec = limits({
      parameter: { valueLength: 3 },
      json: { valueLength: 3 },
      exceptions: [
        {
          length: {
            kind: "parameter",
            name: { kind: "exact", value: "doc", ignoreCase: false },
            source: "Query",
          },
        },
        {
          length: { kind: "json", jsonPath: "$.files[*].data" },
          requestConditions: { path: { kind: "prefix", value: "/upload", ignoreCase: false } },
        },
      ],
    });
    expect(subtypes(spec, parseRequest({ method: "GET", rawTarget: "/?doc=abcdef", headers: [] }))).toEqual(
      [],
    );
    expect(subtypes(spec, parseRequest({ method: "GET", rawTarget: "/?other=abcdef", headers: [] }))).toEqual(
      ["parameter_value_length"],
    );
    const body = '{"files":[{"data":"abcdef"}]}';
    expect(subtypes(spec, json(body, "/upload"))).toEqual([]);
    expect(subtypes(spec, json(body, "/elsewhere"))).toEqual(["json_value_length"]);
  });

  test("unlimited limits nothing", () => {
    expect(subtypes({ threatHandlingMode: "Block" }, json(`{"a":"${"x".repeat(100_000)}"}`))).toEqual([]);
  });
});

describe("limits in the verdict", () => {
  const policy = (spec: LimitsSpec) =>
    compilePolicy(routePolicy({ denyRules: DEFAULT_DENY_RULES_SPEC, limits: spec }));

  test("a body size limit is answered 413, other limits 400; LogOnly passes", () => {
    const big = parseRequest({ method: "POST", rawTarget: "/", headers: [], body: bytes("a=1234") }, "form");
    const block = inspect(policy(limits({ parameter: { bodySize: 3 } })), big).block;
    expect(block?.blockSubtype).toBe("parameter_body_size");
    expect(block && blockStatus(block)).toBe(413);
    const count = inspect(policy(limits({ parameter: { count: 0 } })), big).block;
    expect(count && blockStatus(count)).toBe(400);
    const logOnly = inspect(policy(limits({ parameter: { bodySize: 3 } }, "LogOnly")), big);
    expect(logOnly.block).toBeUndefined();
    expect(logOnly.logged.map((f) => f.blockSubtype)).toEqual(["parameter_body_size"]);
  });

  test("headerPhaseLimits: a Content-Length over the limit of the parser that would read the body", () => {
    const c = policy(limits({ general: { bodySize: 1000 }, json: { bodySize: 100 } }));
    const head = (type: string, length: string) =>
      parseHead({
        method: "POST",
        rawTarget: "/api",
        headers: [
          ["content-type", type],
          ["content-length", length],
        ],
      });
    expect(headerPhaseLimits(c, head("application/json", "101")).block?.blockSubtype).toBe("json_body_size");
    expect(headerPhaseLimits(c, head("application/json", "100")).block).toBeUndefined();
    expect(headerPhaseLimits(c, head("application/octet-stream", "500")).block).toBeUndefined();
    expect(headerPhaseLimits(c, head("application/octet-stream", "1001")).block?.blockSubtype).toBe(
      "general_body_size",
    );
    const long = parseHead({ method: "GET", rawTarget: `/${"a".repeat(2000)}`, headers: [] });
    expect(headerPhaseLimits(c, long).block?.blockSubtype).toBe("general_path_length");
  });
});
