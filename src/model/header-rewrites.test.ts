import { describe, expect, test } from "bun:test";
import { isMicrogatewayError } from "../errors.ts";
import { translateHeaderRewrites } from "../translate/header-rewrites.ts";
import {
  DEFAULT_HEADER_REWRITES_SPEC,
  headerValueProblem,
  parseHeaderRewritesSpec,
} from "./header-rewrites.ts";
import {
  buildModel,
  gatewayDependencies,
  resolveHeaderRewrites,
  resolveTelemetry,
  validateModel,
} from "./model.ts";
import { parseResource } from "./parse.ts";
import { API_VERSION, type CustomResource, type SidecarGateway } from "./types.ts";

const at = { subject: "HeaderRewrites shop/h", path: "spec" };

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isMicrogatewayError(e)) return e.message;
    throw e;
  }
  throw new Error("expected an error");
}

describe("parseHeaderRewritesSpec", () => {
  test("an empty spec is the API's defaults", () => {
    const spec = parseHeaderRewritesSpec(at, {});
    expect(spec).toEqual(DEFAULT_HEADER_REWRITES_SPEC);
    expect(spec.request.allow).toEqual({ kind: "all" });
    expect(spec.request.remove.alternativeForwardedHeaders).toBe(true);
    expect(spec.response.remove.auth).toEqual({ basic: false, negotiate: true, ntlm: true });
    expect(spec.response.add.builtIn).toMatchObject({ hsts: true, hstsPreload: false, csp: false });
  });

  test("the reference example (§3.6) parses", () => {
    const spec = parseHeaderRewritesSpec(at, {
      request: {
        allow: {
          matchingHeaders: {
            builtIn: { standardHeaders: true, tracingHeaders: true },
            custom: [
              { name: "allow api key header", headers: [{ name: { matcher: { exact: "X-Api-Key" } } }] },
            ],
          },
        },
        add: {
          custom: [
            {
              name: "tag requests",
              headers: [{ name: "X-Protected-By", value: "microgateway" }],
              mode: "OverwriteOrAdd",
            },
          ],
        },
      },
      response: {
        add: { builtIn: { csp: true, hstsPreload: false } },
        remove: { builtIn: { auth: { basic: true } } },
      },
    });
    expect(spec.request.allow).toMatchObject({
      kind: "matching",
      standardHeaders: true,
      tracingHeaders: true,
    });
    expect(spec.request.add.custom[0]?.mode).toBe("OverwriteOrAdd");
    expect(spec.response.remove.auth.basic).toBe(true);
  });

  test("errors name the field", () => {
    expect(
      message(() =>
        parseHeaderRewritesSpec(at, { request: { allow: { allHeaders: {}, matchingHeaders: {} } } }),
      ),
    ).toBe(
      "HeaderRewrites shop/h: spec.request.allow must have at most one of allHeaders, matchingHeaders (both are set)",
    );
    expect(
      message(() =>
        parseHeaderRewritesSpec(at, {
          request: {
            remove: { custom: [{ name: "r", headers: [{ name: { matcher: { regex: "a(?=b)" } } }] }] },
          },
        }),
      ),
    ).toContain("spec.request.remove.custom[0].headers[0].name.matcher.regex");
    expect(
      message(() =>
        parseHeaderRewritesSpec(at, {
          response: { add: { custom: [{ name: "a", headers: [{ name: "X", value: "50%" }] }] } },
        }),
      ),
    ).toContain('spec.response.add.custom[0].headers[0].value "50%" has a "%" at 2');
    expect(
      message(() =>
        parseHeaderRewritesSpec(at, {
          request: {
            add: {
              custom: [
                {
                  name: "a",
                  headers: [{ name: "X-Cert", value: "%DOWNSTREAM_PEER_CERT%" }],
                  requestConditions: { method: ["GET"] },
                },
              ],
            },
          },
        }),
      ),
    ).toContain("not supported together with requestConditions");
    expect(
      message(() =>
        parseHeaderRewritesSpec(at, {
          response: { allow: { matchingHeaders: { builtIn: { tracingHeaders: true } } } },
        }),
      ),
    ).toContain(
      "spec.response.allow.matchingHeaders.builtIn.tracingHeaders is not a field of response allow lists",
    );
  });

  test("header value operators: Envoy's known ones and %% pass, others are refused", () => {
    expect(headerValueProblem("%DOWNSTREAM_PEER_CERT%")).toBeUndefined();
    expect(headerValueProblem("client=%REQ(x-client)% 100%%")).toBeUndefined();
    expect(headerValueProblem("%BOGUS%")).toContain("%BOGUS%");
    expect(headerValueProblem("%REQ%")).toContain("without its argument");
  });

  test("Host and pseudo-headers cannot be removed (Envoy would refuse the route)", () => {
    const remove = (exact: string) => () =>
      parseHeaderRewritesSpec(at, {
        request: { remove: { custom: [{ name: "r", headers: [{ name: { matcher: { exact } } }] }] } },
      });
    expect(message(remove("Host"))).toBe(
      'HeaderRewrites shop/h: spec.request.remove.custom[0].headers[0].name.matcher.exact "Host" cannot be removed: routing depends on it',
    );
    expect(message(remove(":path"))).toContain("cannot be removed");
  });
});

describe("translateHeaderRewrites: what Envoy does on the route", () => {
  test("the defaults: security headers if absent, leaking headers and alternative forwarding headers removed", () => {
    const { route, plan } = translateHeaderRewrites(DEFAULT_HEADER_REWRITES_SPEC);
    expect(route.responseHeadersToAdd.map((h) => h.header?.key)).toEqual([
      "strict-transport-security",
      "x-content-type-options",
      "x-frame-options",
      "referrer-policy",
      "permissions-policy",
    ]);
    expect(route.responseHeadersToRemove).toEqual(
      expect.arrayContaining(["server", "x-powered-by", "x-aspnet-version"]),
    );
    expect(route.requestHeadersToRemove).toEqual(
      expect.arrayContaining(["x-forwarded-host", "x-real-ip", "forwarded"]),
    );
    expect(route.requestHeadersToRemove).not.toContain("x-forwarded-for");
    expect(plan.request.allow).toBeUndefined();
    expect(plan.response.removeAuthSchemes).toEqual(["negotiate", "ntlm"]);
  });

  test("turning the built-ins off leaves the route alone", () => {
    const spec = parseHeaderRewritesSpec(at, {
      request: { remove: { builtIn: { alternativeForwardedHeaders: false } } },
      response: {
        remove: { builtIn: { informationLeakage: { application: false, server: false } } },
        add: {
          builtIn: {
            hsts: false,
            permissionsPolicy: false,
            referrerPolicy: false,
            xContentTypeOptions: false,
            xFrameOptions: false,
          },
        },
      },
    });
    const { route } = translateHeaderRewrites(spec);
    expect(route).toEqual({
      requestHeadersToAdd: [],
      requestHeadersToRemove: [],
      responseHeadersToAdd: [],
      responseHeadersToRemove: [],
    });
  });
});

const ns = "shop";
const obj = (kind: string, name: string, spec: unknown) =>
  parseResource({ apiVersion: API_VERSION, kind, metadata: { name, namespace: ns }, spec }) as CustomResource;

describe("model: HeaderRewrites through ContentSecurity, Telemetry through the application", () => {
  const gateway = obj("SidecarGateway", "gw", {
    podSelector: { matchLabels: { app: "shop" } },
    applications: [
      { telemetryRef: { name: "tel" }, routes: [{ secured: { contentSecurityRef: { name: "cs" } } }] },
    ],
  }) as SidecarGateway;
  const cs = obj("ContentSecurity", "cs", { headerRewritesRef: { name: "hr" } });
  const hr = obj("HeaderRewrites", "hr", { response: { add: { builtIn: { csp: true } } } });
  const tel = obj("Telemetry", "tel", { correlation: { idSource: { header: { name: "X-Trace" } } } });

  test("both are dependencies of the gateway, also while missing", () => {
    const missing = gatewayDependencies(buildModel([gateway, cs]), gateway);
    expect(missing).toEqual([
      { id: "Telemetry shop/tel", version: undefined },
      { id: "ContentSecurity shop/cs", version: cs.metadata.resourceVersion },
      { id: "HeaderRewrites shop/hr", version: undefined },
    ]);
    const present = gatewayDependencies(buildModel([gateway, cs, hr, tel]), gateway);
    expect(present.map((d) => d.version)).toEqual([
      tel.metadata.resourceVersion,
      cs.metadata.resourceVersion,
      hr.metadata.resourceVersion,
    ]);
  });

  test("resolution, and missing objects reported by validateModel naming the ref", () => {
    const model = buildModel([gateway, cs, hr, tel]);
    const route = gateway.spec.applications[0]!.routes[0]!;
    if (!route.secured) throw new Error("secured route expected");
    expect(resolveHeaderRewrites(model, ns, route).response.add.builtIn.csp).toBe(true);
    expect(resolveTelemetry(model, ns, gateway.spec.applications[0]!).correlation.idHeader).toBe("x-trace");
    expect(validateModel(model)).toEqual([]);

    const broken = buildModel([gateway, cs]);
    expect(validateModel(broken).map((e) => e.message)).toEqual([
      'ContentSecurity shop/cs: spec.headerRewritesRef "hr": HeaderRewrites shop/hr does not exist',
      'SidecarGateway shop/gw: spec.applications[0].telemetryRef "tel": Telemetry shop/tel does not exist',
    ]);
    expect(message(() => resolveHeaderRewrites(broken, ns, route, "here"))).toContain("(used by here)");
  });
});
