import { describe, expect, test } from "bun:test";
import { parseHeaderRewritesSpec } from "../model/header-rewrites.ts";
import { translateHeaderRewrites } from "../translate/header-rewrites.ts";
import {
  type HeaderRewritePlan,
  needsRequestPhase,
  needsResponsePhase,
  type RequestView,
  requestHeaderMutation,
  responseHeaderMutation,
  splitChallenges,
} from "./header-rewrites.ts";

/** The plan the translator makes of a HeaderRewrites spec, through JSON as it travels to the inspector. */
function planOf(spec: unknown, correlationHeader?: string): HeaderRewritePlan {
  const parsed = parseHeaderRewritesSpec({ subject: "HeaderRewrites test/h", path: "spec" }, spec);
  const { plan } = translateHeaderRewrites(
    parsed,
    correlationHeader === undefined ? {} : { correlationHeader },
  );
  return JSON.parse(JSON.stringify(plan)) as HeaderRewritePlan;
}

function request(headers: [string, string][], more: Partial<RequestView> = {}): RequestView {
  return { method: "GET", path: "/", headers, ...more };
}

describe("request allow lists", () => {
  const plan = planOf(
    {
      request: {
        allow: {
          matchingHeaders: {
            builtIn: { standardHeaders: true, tracingHeaders: false },
            custom: [
              { name: "api key", headers: [{ name: { matcher: { exact: "X-Api-Key" } } }] },
              {
                name: "debug on /internal",
                headers: [{ name: { matcher: { prefix: "x-debug-" } }, value: { matcher: { exact: "1" } } }],
                requestConditions: { path: { matcher: { prefix: "/internal" } } },
              },
            ],
          },
        },
      },
    },
    "x-correlation-id",
  );

  test("removes every header that is neither standard nor allowed by a rule", () => {
    const m = requestHeaderMutation(
      plan,
      request([
        ["Accept", "*/*"],
        ["X-Api-Key", "k"],
        ["X-Secret-Backdoor", "1"],
        ["traceparent", "00-abc-def-01"],
        ["X-Correlation-Id", "c1"],
        ["x-request-id", "r1"],
        [":path", "/"],
        ["host", "shop"],
      ]),
    );
    expect(m.remove.sort()).toEqual(["traceparent", "x-secret-backdoor"]);
    expect(m.set).toEqual([]);
  });

  test("a custom rule with requestConditions allows only on matching requests, by value", () => {
    const headers: [string, string][] = [
      ["x-debug-trace", "1"],
      ["x-debug-dump", "0"],
    ];
    expect(requestHeaderMutation(plan, request(headers, { path: "/internal/x?y=1" })).remove).toEqual([
      "x-debug-dump",
    ]);
    expect(requestHeaderMutation(plan, request(headers, { path: "/public" })).remove.sort()).toEqual([
      "x-debug-dump",
      "x-debug-trace",
    ]);
  });

  test("tracing headers pass when allowed", () => {
    const tracing = planOf({
      request: { allow: { matchingHeaders: { builtIn: { tracingHeaders: true } } } },
    });
    expect(
      requestHeaderMutation(
        tracing,
        request([
          ["traceparent", "x"],
          ["b3", "y"],
        ]),
      ).remove,
    ).toEqual([]);
  });

  test("without allow list (or allHeaders) nothing is removed, and no phase is needed for the defaults", () => {
    for (const p of [planOf({}), planOf({ request: { allow: { allHeaders: {} } } })]) {
      expect(requestHeaderMutation(p, request([["x-anything", "1"]]))).toEqual({ remove: [], set: [] });
      expect(needsRequestPhase(p)).toBe(false);
    }
    expect(needsRequestPhase(plan)).toBe(true);
  });
});

describe("request removals and additions the route cannot do", () => {
  test("remove by pattern and value; exact names stay with Envoy", () => {
    const spec = {
      request: {
        remove: {
          custom: [
            {
              name: "legacy",
              headers: [
                { name: { matcher: { exact: "X-Legacy" } } },
                { name: { matcher: { regex: "x-internal-.*" } } },
                {
                  name: { matcher: { exact: "x-mode" } },
                  value: { matcher: { exact: "debug", ignoreCase: true } },
                },
              ],
            },
          ],
        },
      },
    };
    const parsed = parseHeaderRewritesSpec({ subject: "t", path: "spec" }, spec);
    expect(translateHeaderRewrites(parsed).route.requestHeadersToRemove).toContain("x-legacy");
    const plan = planOf(spec);
    const m = requestHeaderMutation(
      plan,
      request([
        ["x-legacy", "1"],
        ["X-Internal-User", "admin"],
        ["x-mode", "DEBUG"],
        ["x-other", "1"],
      ]),
    );
    // x-legacy is Envoy's (route), not the inspector's.
    expect(m.remove.sort()).toEqual(["x-internal-user", "x-mode"]);
  });

  test("removing one of several values of a name keeps the others", () => {
    const plan = planOf({
      request: {
        remove: {
          custom: [
            {
              name: "v",
              headers: [{ name: { matcher: { exact: "x-tag" } }, value: { matcher: { exact: "bad" } } }],
            },
          ],
        },
      },
    });
    const m = requestHeaderMutation(
      plan,
      request([
        ["x-tag", "good"],
        ["x-tag", "bad"],
        ["x-tag", "fine"],
      ]),
    );
    expect(m).toEqual({
      remove: ["x-tag"],
      set: [
        ["x-tag", "good"],
        ["x-tag", "fine"],
      ],
    });
  });

  test("conditional adds: AddIfAbsent keeps the client's value, OverwriteOrAdd replaces it, %% is a literal %", () => {
    const plan = planOf({
      request: {
        add: {
          custom: [
            {
              name: "post",
              headers: [{ name: "X-Write", value: "100%%" }],
              requestConditions: { method: ["POST"] },
            },
            {
              name: "tenant",
              headers: [{ name: "X-Tenant", value: "shop" }],
              mode: "OverwriteOrAdd",
              requestConditions: { header: { name: { matcher: { exact: "x-tenant" } } } },
            },
          ],
        },
      },
    });
    const post = requestHeaderMutation(plan, request([], { method: "POST" }));
    expect(post).toEqual({ remove: [], set: [["x-write", "100%"]] });
    const kept = requestHeaderMutation(plan, request([["x-write", "client"]], { method: "POST" }));
    expect(kept).toEqual({ remove: [], set: [] });
    const tenant = requestHeaderMutation(plan, request([["X-Tenant", "evil"]]));
    expect(tenant).toEqual({ remove: ["x-tenant"], set: [["x-tenant", "shop"]] });
    expect(requestHeaderMutation(plan, request([]))).toEqual({ remove: [], set: [] });
  });

  test("request conditions: media type, remote IP (and its invert), the whole-condition invert", () => {
    const rule = (requestConditions: unknown) =>
      planOf({
        request: {
          remove: {
            custom: [{ name: "r", headers: [{ name: { matcher: { exact: "x-a" } } }], requestConditions }],
          },
        },
      });
    const hit = (plan: HeaderRewritePlan, more: Partial<RequestView>, headers: [string, string][] = []) =>
      requestHeaderMutation(plan, request([["x-a", "1"], ...headers], more)).remove.includes("x-a");

    const json = rule({ mediaType: { matcher: { exact: "application/json" } } });
    expect(hit(json, {}, [["Content-Type", "Application/JSON; charset=utf-8"]])).toBe(true);
    expect(hit(json, {}, [["content-type", "text/plain"]])).toBe(false);
    expect(hit(json, {})).toBe(false);

    const internal = rule({ remoteIP: { cidrRanges: ["10.0.0.0/8", "2001:db8::/32"] } });
    expect(hit(internal, { remoteAddress: "10.1.2.3" })).toBe(true);
    expect(hit(internal, { remoteAddress: "2001:db8::1" })).toBe(true);
    expect(hit(internal, { remoteAddress: "192.168.1.1" })).toBe(false);
    expect(hit(internal, {})).toBe(false);
    expect(hit(internal, { remoteAddress: "not-an-address" })).toBe(false);

    const external = rule({ remoteIP: { cidrRanges: ["10.0.0.0/8"], invert: true } });
    expect(hit(external, { remoteAddress: "10.1.2.3" })).toBe(false);
    expect(hit(external, { remoteAddress: "8.8.8.8" })).toBe(true);

    const notGetAdmin = rule({ method: ["GET"], path: { matcher: { prefix: "/admin" } }, invert: true });
    expect(hit(notGetAdmin, { method: "GET", path: "/admin/x" })).toBe(false);
    expect(hit(notGetAdmin, { method: "POST", path: "/admin/x" })).toBe(true);
  });
});

describe("responses", () => {
  test("authentication challenges: the default removes Negotiate and NTLM, keeps Basic and Bearer", () => {
    const plan = planOf({});
    expect(needsResponsePhase(plan)).toBe(true);
    const m = responseHeaderMutation(plan, request([]), [
      ["WWW-Authenticate", "Negotiate"],
      ["www-authenticate", 'NTLM, Basic realm="a, b", Bearer realm="x", error="invalid_token"'],
      ["content-type", "text/html"],
    ]);
    expect(m).toEqual({
      remove: ["www-authenticate"],
      set: [["www-authenticate", 'Basic realm="a, b", Bearer realm="x", error="invalid_token"']],
    });
    const basic = planOf({ response: { remove: { builtIn: { auth: { basic: true } } } } });
    expect(
      responseHeaderMutation(basic, request([]), [["www-authenticate", 'Basic realm="r"']]).remove,
    ).toEqual(["www-authenticate"]);
  });

  test("splitChallenges keeps parameters with their challenge", () => {
    expect(splitChallenges('Digest realm="r", qop="auth", nonce="n", Basic realm="b"')).toEqual([
      'Digest realm="r", qop="auth", nonce="n"',
      'Basic realm="b"',
    ]);
    expect(splitChallenges("Negotiate abc==, NTLM")).toEqual(["Negotiate abc==", "NTLM"]);
  });

  test("permissive CORS: a wildcard origin goes, with its credentials flag; a specific origin stays", () => {
    const plan = planOf({});
    const wildcard = responseHeaderMutation(plan, request([]), [
      ["Access-Control-Allow-Origin", "*"],
      ["access-control-allow-credentials", "true"],
    ]);
    expect(wildcard.remove.sort()).toEqual([
      "access-control-allow-credentials",
      "access-control-allow-origin",
    ]);
    const specific = responseHeaderMutation(plan, request([]), [
      ["access-control-allow-origin", "https://shop.example"],
    ]);
    expect(specific).toEqual({ remove: [], set: [] });
  });

  test("a response allow list keeps standard headers and the ones this object adds", () => {
    const plan = planOf({
      response: {
        allow: { matchingHeaders: { builtIn: { standardHeaders: true } } },
        add: { custom: [{ name: "mark", headers: [{ name: "X-Protected", value: "yes" }] }] },
      },
    });
    const m = responseHeaderMutation(plan, request([]), [
      ["content-type", "text/html"],
      ["x-frame-options", "DENY"],
      ["x-protected", "yes"],
      ["strict-transport-security", "max-age=1"],
      ["x-debug-info", "stack trace"],
    ]);
    expect(m.remove).toEqual(["x-debug-info"]);
  });

  test("conditional response additions depend on the request", () => {
    const plan = planOf({
      response: {
        add: {
          custom: [
            {
              name: "no cache on /account",
              headers: [{ name: "Cache-Control", value: "no-store" }],
              mode: "OverwriteOrAdd",
              requestConditions: { path: { matcher: { prefix: "/account" } } },
            },
          ],
        },
      },
    });
    const account = responseHeaderMutation(plan, request([], { path: "/account/1" }), [
      ["cache-control", "max-age=60"],
    ]);
    expect(account).toEqual({ remove: ["cache-control"], set: [["cache-control", "no-store"]] });
    const other = responseHeaderMutation(plan, request([], { path: "/shop" }), [
      ["cache-control", "max-age=60"],
    ]);
    expect(other).toEqual({ remove: [], set: [] });
  });
});
