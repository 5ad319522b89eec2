import { describe, expect, test } from "bun:test";
import { DEFAULT_DENY_RULES_SPEC, DEFAULT_PARSER_SPEC, type ParserSpec } from "../model/types.ts";
import { parseHead } from "./parse-request.ts";
import { bodyNeeded, compileParser, selectParser } from "./parser-selection.ts";
import { compilePolicy, routePolicy } from "./policy.ts";

const head = (headers: [string, string][], rawTarget = "/api", method = "POST") =>
  parseHead({ method, rawTarget, headers });
const select = (spec: ParserSpec, h: ReturnType<typeof head>) => selectParser(compileParser(spec, []), h);

describe("selectParser", () => {
  test("by Content-Type with the default patterns; the default type when there is none", () => {
    expect(select(DEFAULT_PARSER_SPEC, head([["content-type", "application/json; charset=utf-8"]]))).toBe(
      "json",
    );
    expect(select(DEFAULT_PARSER_SPEC, head([["content-type", "application/vnd.api+JSON"]]))).toBe("json");
    expect(select(DEFAULT_PARSER_SPEC, head([["content-type", "multipart/form-data; boundary=x"]]))).toBe(
      "multipart",
    );
    expect(select(DEFAULT_PARSER_SPEC, head([["content-type", "application/x-www-form-urlencoded"]]))).toBe(
      "form",
    );
    expect(select(DEFAULT_PARSER_SPEC, head([["content-type", "image/png"]]))).toBeUndefined();
    expect(select(DEFAULT_PARSER_SPEC, head([]))).toBe("form");
    expect(select({ ...DEFAULT_PARSER_SPEC, defaultContentType: "application/json" }, head([]))).toBe("json");
  });

  test("a disabled parser is not used; a pattern must match the whole Content-Type", () => {
    const spec: ParserSpec = {
      ...DEFAULT_PARSER_SPEC,
      parsers: {
        ...DEFAULT_PARSER_SPEC.parsers,
        json: { enable: false, mediaTypePattern: ".*json.*" },
        form: { enable: true, mediaTypePattern: "text/plain" },
      },
    };
    expect(select(spec, head([["content-type", "application/json"]]))).toBeUndefined();
    expect(select(spec, head([["content-type", "text/plain"]]))).toBe("form");
    expect(select(spec, head([["content-type", "text/plain; charset=utf-8"]]))).toBeUndefined();
  });

  test("custom rules come first, the first match decides: parse with one parser, or skip", () => {
    const spec: ParserSpec = {
      ...DEFAULT_PARSER_SPEC,
      custom: [
        {
          requestConditions: { path: { kind: "prefix", value: "/files", ignoreCase: false } },
          action: "skip",
        },
        { requestConditions: { method: ["PUT"] }, action: "json" },
      ],
    };
    expect(select(spec, head([["content-type", "application/json"]], "/files/a"))).toBeUndefined();
    expect(select(spec, head([["content-type", "text/plain"]], "/x", "PUT"))).toBe("json");
    expect(select(spec, head([["content-type", "application/x-www-form-urlencoded"]], "/x"))).toBe("form");
  });
});

describe("bodyNeeded", () => {
  const c = compilePolicy(routePolicy({ denyRules: DEFAULT_DENY_RULES_SPEC }));

  test("only when a parser will read a body that exists", () => {
    expect(
      bodyNeeded(
        c,
        head([
          ["content-type", "application/json"],
          ["content-length", "12"],
        ]),
      ),
    ).toBe("json");
    expect(
      bodyNeeded(
        c,
        head([
          ["content-type", "application/json"],
          ["content-length", "0"],
        ]),
      ),
    ).toBeUndefined();
    expect(bodyNeeded(c, head([["content-type", "application/json"]]))).toBeUndefined();
    expect(
      bodyNeeded(
        c,
        head([
          ["content-type", "application/json"],
          ["transfer-encoding", "chunked"],
        ]),
      ),
    ).toBe("json");
    expect(
      bodyNeeded(
        c,
        head([
          ["content-type", "image/png"],
          ["content-length", "12"],
        ]),
      ),
    ).toBeUndefined();
  });

  test("what Envoy says about the body wins over the headers (HTTP/2 may send neither)", () => {
    expect(bodyNeeded(c, head([["content-type", "application/json"]]), true)).toBe("json");
    expect(
      bodyNeeded(
        c,
        head([
          ["content-type", "application/json"],
          ["content-length", "12"],
        ]),
        false,
      ),
    ).toBeUndefined();
  });
});
