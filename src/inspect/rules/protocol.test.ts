import { describe, expect, test } from "bun:test";
import { mediaTypes, PROTOCOL_REQUEST_RULES, PROTOCOL_RULES } from "./protocol.ts";
import { spareRealisticValues } from "./realistic-values.ts";
import { type RequestFixture, requestOf } from "./request-fixture.ts";
import { checkValueRules } from "./rule-checks.ts";

checkValueRules(PROTOCOL_RULES);
spareRealisticValues(PROTOCOL_RULES);

function check(key: string, fixture: RequestFixture): string | undefined {
  const rule = PROTOCOL_REQUEST_RULES.find((r) => r.key === key);
  if (rule === undefined) throw new Error(`no rule ${key}`);
  return rule.check(requestOf(fixture));
}

const browserGet: RequestFixture = {
  method: "GET",
  target: "/shop?q=shoes",
  headers: [
    ["host", "shop.example"],
    ["user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"],
    ["accept", "text/html,application/xhtml+xml"],
    ["accept-encoding", "gzip, deflate, br"],
    ["referer", "https://shop.example/"],
  ],
};
const formPost: RequestFixture = {
  method: "POST",
  target: "/login",
  headers: [
    ["host", "shop.example"],
    ["content-type", 'multipart/form-data; boundary="----a,b"'],
    ["content-length", "120"],
  ],
  bodySize: 120,
};

describe("PROTOCOL request rules", () => {
  test("an ordinary browser GET and form POST pass every rule", () => {
    for (const rule of PROTOCOL_REQUEST_RULES) {
      expect({ key: rule.key, found: rule.check(requestOf(browserGet)) }).toEqual({
        key: rule.key,
        found: undefined,
      });
      expect({ key: rule.key, found: rule.check(requestOf(formPost)) }).toEqual({
        key: rule.key,
        found: undefined,
      });
    }
  });

  test("PROTOCOL_DEBUG_METHOD: TRACE, TRACK, DEBUG as method or override", () => {
    expect(check("PROTOCOL_DEBUG_METHOD", { method: "TRACE" })).toBe("method TRACE");
    expect(check("PROTOCOL_DEBUG_METHOD", { method: "track" })).toBe("method track");
    expect(
      check("PROTOCOL_DEBUG_METHOD", { method: "POST", headers: [["X-HTTP-Method-Override", "DEBUG"]] }),
    ).toBe("x-http-method-override DEBUG");
    expect(
      check("PROTOCOL_DEBUG_METHOD", { method: "POST", headers: [["x-http-method-override", "PUT"]] }),
    ).toBeUndefined();
    expect(check("PROTOCOL_DEBUG_METHOD", { method: "OPTIONS" })).toBeUndefined();
  });

  test("PROTOCOL_CONFLICTING_HOST: repeated or joined hosts that differ", () => {
    expect(
      check("PROTOCOL_CONFLICTING_HOST", { headers: [["host", "shop.example,evil.example"]] }),
    ).toContain("evil.example");
    expect(
      check("PROTOCOL_CONFLICTING_HOST", {
        headers: [
          ["host", "shop.example"],
          ["host", "evil.example"],
        ],
      }),
    ).toContain("evil.example");
    expect(check("PROTOCOL_CONFLICTING_HOST", { headers: [["host", "shop.example:8443"]] })).toBeUndefined();
    expect(
      check("PROTOCOL_CONFLICTING_HOST", { headers: [["host", "Shop.example,shop.example"]] }),
    ).toBeUndefined();
  });

  test("PROTOCOL_CONFLICTING_CONTENT_TYPE: two media types, not a comma in a parameter", () => {
    expect(
      check("PROTOCOL_CONFLICTING_CONTENT_TYPE", {
        headers: [["content-type", "text/plain,application/json"]],
      }),
    ).toBe('content-type "text/plain, application/json"');
    expect(
      check("PROTOCOL_CONFLICTING_CONTENT_TYPE", {
        headers: [
          ["content-type", "application/x-www-form-urlencoded"],
          ["content-type", "application/json"],
        ],
      }),
    ).toBeDefined();
    expect(mediaTypes('multipart/form-data; boundary="a,b/c"')).toEqual(["multipart/form-data"]);
    expect(
      check("PROTOCOL_CONFLICTING_CONTENT_TYPE", {
        headers: [["content-type", "application/json; charset=utf-8"]],
      }),
    ).toBeUndefined();
  });

  test("PROTOCOL_UNKNOWN_METHOD: registered methods pass, others and lower case do not", () => {
    for (const method of ["GET", "PROPFIND", "MKCOL", "REPORT", "QUERY"])
      expect(check("PROTOCOL_UNKNOWN_METHOD", { method })).toBeUndefined();
    expect(check("PROTOCOL_UNKNOWN_METHOD", { method: "FOO" })).toContain('"FOO"');
    expect(check("PROTOCOL_UNKNOWN_METHOD", { method: "get" })).toContain('"get"');
    expect(
      check("PROTOCOL_UNKNOWN_METHOD", { method: "POST", headers: [["x-method-override", "HACK"]] }),
    ).toContain("x-method-override");
  });

  test("PROTOCOL_REPEATED_HEADER: copies joined by Envoy with a comma count as repeated", () => {
    expect(check("PROTOCOL_REPEATED_HEADER", { headers: [["authorization", "Bearer a,Basic Yjpj"]] })).toBe(
      "header authorization sent 2 times",
    );
    expect(
      check("PROTOCOL_REPEATED_HEADER", { headers: [["origin", "https://a.example,https://b.example"]] }),
    ).toBe("header origin sent 2 times");
    expect(
      check("PROTOCOL_REPEATED_HEADER", {
        headers: [["referer", "https://a.example/x,https://b.example/y"]],
      }),
    ).toBe("header referer sent 2 times");
    const chrome =
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    expect(check("PROTOCOL_REPEATED_HEADER", { headers: [["user-agent", `${chrome},curl/8.4.0`]] })).toBe(
      "header user-agent sent 2 times",
    );
  });

  test("PROTOCOL_REPEATED_HEADER: commas that belong to one value do not", () => {
    const single: RequestFixture = {
      headers: [
        ["authorization", 'Digest username="jane", realm="shop, inc", nonce="a1", uri="/", response="ff"'],
        ["referer", "https://a.example/list?ids=1,2,3"],
        ["user-agent", "MyShop/3.2 (iPhone; iOS 18.1, Scale/3.00)"],
        ["content-type", 'multipart/form-data; boundary="a,b"'],
      ],
    };
    expect(check("PROTOCOL_REPEATED_HEADER", single)).toBeUndefined();
  });

  test("PROTOCOL_REPEATED_HEADER: a second Authorization or Origin", () => {
    expect(
      check("PROTOCOL_REPEATED_HEADER", {
        headers: [
          ["authorization", "Bearer a"],
          ["authorization", "Bearer b"],
        ],
      }),
    ).toBe("header authorization sent 2 times");
    expect(
      check("PROTOCOL_REPEATED_HEADER", {
        headers: [
          ["accept", "a/b"],
          ["accept", "c/d"],
        ],
      }),
    ).toBeUndefined();
  });

  test("PROTOCOL_URL_OVERRIDE_HEADER", () => {
    expect(
      check("PROTOCOL_URL_OVERRIDE_HEADER", { target: "/public", headers: [["X-Original-URL", "/admin"]] }),
    ).toBe('x-original-url: "/admin"');
    expect(check("PROTOCOL_URL_OVERRIDE_HEADER", { headers: [["x-rewrite-url", "/admin"]] })).toBeDefined();
    expect(
      check("PROTOCOL_URL_OVERRIDE_HEADER", { headers: [["x-original-forwarded-for", "1.2.3.4"]] }),
    ).toBeUndefined();
  });

  test("PROTOCOL_UNUSUAL_METHOD: WebDAV at Strict", () => {
    expect(check("PROTOCOL_UNUSUAL_METHOD", { method: "PROPFIND" })).toBe('method "PROPFIND"');
    expect(check("PROTOCOL_UNUSUAL_METHOD", { method: "PATCH" })).toBeUndefined();
  });

  test("PROTOCOL_BODY_WITHOUT_SEMANTICS: GET or HEAD with a body", () => {
    expect(
      check("PROTOCOL_BODY_WITHOUT_SEMANTICS", { method: "GET", headers: [["content-length", "3"]] }),
    ).toBe("GET with a body");
    expect(
      check("PROTOCOL_BODY_WITHOUT_SEMANTICS", {
        method: "HEAD",
        headers: [["transfer-encoding", "chunked"]],
      }),
    ).toBeDefined();
    expect(check("PROTOCOL_BODY_WITHOUT_SEMANTICS", { method: "GET", bodySize: 10 })).toBeDefined();
    expect(
      check("PROTOCOL_BODY_WITHOUT_SEMANTICS", { method: "GET", headers: [["content-length", "0"]] }),
    ).toBeUndefined();
    expect(check("PROTOCOL_BODY_WITHOUT_SEMANTICS", formPost)).toBeUndefined();
  });

  test("PROTOCOL_UNDERSCORE_HEADER", () => {
    expect(check("PROTOCOL_UNDERSCORE_HEADER", { headers: [["X_Forwarded_For", "127.0.0.1"]] })).toBe(
      'header "x_forwarded_for"',
    );
    expect(check("PROTOCOL_UNDERSCORE_HEADER", browserGet)).toBeUndefined();
  });
});
