import { describe, expect, test } from "bun:test";
import { isMicrogatewayError } from "../errors.ts";
import { parseResource } from "./parse.ts";
import {
  API_VERSION,
  type ContentSecurity,
  type DenyRules,
  type PodInfo,
  type SidecarGateway,
} from "./types.ts";

function gateway(spec: unknown, metadata: unknown = { name: "shop", namespace: "shop" }): unknown {
  return { apiVersion: API_VERSION, kind: "SidecarGateway", metadata, spec };
}

const minimalSpec = { podSelector: { matchLabels: { app: "shop" } }, applications: [{}] };

/** Returns the message of the InvalidResource error `fn` throws (fails the test otherwise). */
function errorOf(obj: unknown): string {
  try {
    parseResource(obj);
  } catch (e) {
    if (!isMicrogatewayError(e)) throw e;
    expect(e.code).toBe("InvalidResource");
    return e.message;
  }
  throw new Error("expected parseResource to throw");
}

describe("parseResource defaults", () => {
  test("SidecarGateway: port 8080, one secured route for /, namespace default", () => {
    const gw = parseResource(
      gateway({ podSelector: { matchLabels: { app: "shop" } }, applications: [{}] }, { name: "shop" }),
      "a.yaml#1",
    ) as SidecarGateway;
    expect(gw.kind).toBe("SidecarGateway");
    expect(gw.metadata.namespace).toBe("default");
    expect(gw.metadata.origin).toBe("a.yaml#1");
    expect(gw.spec.applications).toEqual([
      { containerPort: 8080, routes: [{ pathPrefix: "/", secured: {} }] },
    ]);
  });

  test("route: pathPrefix defaults to /, secured when neither is given, refs kept", () => {
    const gw = parseResource(
      gateway({
        ...minimalSpec,
        applications: [
          {
            containerPort: 9000,
            routes: [
              {},
              { pathPrefix: "/healthz", unsecured: {} },
              { pathPrefix: "/api", secured: { contentSecurityRef: { name: "waf" } } },
              { pathPrefix: "/x", secured: null, unsecured: { extra: 1 } },
            ],
            downstream: { protocol: { auto: {} } },
          },
        ],
      }),
    ) as SidecarGateway;
    expect(gw.spec.applications[0]?.routes).toEqual([
      { pathPrefix: "/", secured: {} },
      { pathPrefix: "/healthz", unsecured: {} },
      { pathPrefix: "/api", secured: { contentSecurityRef: { name: "waf" } } },
      { pathPrefix: "/x", unsecured: {} },
    ]);
  });

  test("an explicit empty routes list stays empty", () => {
    const gw = parseResource(gateway({ ...minimalSpec, applications: [{ routes: [] }] })) as SidecarGateway;
    expect(gw.spec.applications[0]?.routes).toEqual([]);
  });

  test("DenyRules: Standard and Block when absent; unmodelled fields are dropped", () => {
    for (const spec of [
      undefined,
      {},
      { request: { builtIn: { overrides: [], exceptions: [] }, custom: {} } },
    ]) {
      const dr = parseResource({ apiVersion: API_VERSION, kind: "DenyRules", metadata: { name: "d" }, spec });
      expect((dr as DenyRules).spec).toEqual({
        request: { builtIn: { settings: { level: "Standard", threatHandlingMode: "Block" } } },
      });
    }
    const strict = parseResource({
      apiVersion: API_VERSION,
      kind: "DenyRules",
      metadata: { name: "d" },
      spec: { request: { builtIn: { settings: { level: "Strict", threatHandlingMode: "LogOnly" } } } },
    }) as DenyRules;
    expect(strict.spec.request.builtIn.settings).toEqual({ level: "Strict", threatHandlingMode: "LogOnly" });
  });

  test("ContentSecurity keeps its refs and drops what it does not model", () => {
    const cs = parseResource({
      apiVersion: API_VERSION,
      kind: "ContentSecurity",
      metadata: { name: "waf", namespace: "shop" },
      spec: {
        filter: { denyRulesRef: { name: "deny" } },
        limitsRef: { name: "l" },
        csrfProtectionRef: { name: "c" },
      },
    }) as ContentSecurity;
    expect(cs.spec).toEqual({ filter: { denyRulesRef: { name: "deny" } }, limitsRef: { name: "l" } });
    const empty = parseResource({
      apiVersion: API_VERSION,
      kind: "ContentSecurity",
      metadata: { name: "e" },
    });
    expect((empty as ContentSecurity).spec).toEqual({});
  });

  test("Pod: labels and annotations", () => {
    const pod = parseResource({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web-1", namespace: "shop", labels: { app: "shop" }, annotations: { a: "b" } },
      spec: { containers: [] },
    }) as PodInfo;
    expect(pod.metadata).toMatchObject({
      name: "web-1",
      namespace: "shop",
      labels: { app: "shop" },
      annotations: { a: "b" },
    });
  });

  test("other kinds and versions are not handled", () => {
    expect(
      parseResource({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" } }),
    ).toBeUndefined();
    expect(
      parseResource({ apiVersion: API_VERSION, kind: "SessionHandling", metadata: { name: "x" } }),
    ).toBeUndefined();
    expect(parseResource({ apiVersion: "microgateway.airlock.com/v1", kind: "DenyRules" })).toBeUndefined();
  });

  test("the result is frozen", () => {
    const gw = parseResource(gateway(minimalSpec)) as SidecarGateway;
    expect(Object.isFrozen(gw.spec.applications[0]?.routes[0])).toBe(true);
  });
});

describe("parseResource resourceVersion", () => {
  test("the object's own resourceVersion wins", () => {
    const gw = parseResource(gateway(minimalSpec, { name: "shop", resourceVersion: "4711" }));
    expect(gw?.metadata.resourceVersion).toBe("4711");
  });

  test("otherwise a content hash: stable across origins and dropped fields, changes with content", () => {
    const a = parseResource(gateway(minimalSpec), "a.yaml#1");
    const b = parseResource(gateway({ ...minimalSpec, unknownField: true }), "b.yaml#3");
    const c = parseResource(gateway({ ...minimalSpec, applications: [{ containerPort: 8081 }] }));
    expect(a?.metadata.resourceVersion).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(b?.metadata.resourceVersion).toBe(a?.metadata.resourceVersion as string);
    expect(c?.metadata.resourceVersion).not.toBe(a?.metadata.resourceVersion as string);
  });
});

describe("parseResource validation messages name object, field and expectation", () => {
  const cases: [string, unknown, string][] = [
    [
      "level enum",
      {
        apiVersion: API_VERSION,
        kind: "DenyRules",
        metadata: { name: "strict", namespace: "shop" },
        spec: { request: { builtIn: { settings: { level: "Max" } } } },
      },
      'DenyRules shop/strict: spec.request.builtIn.settings.level "Max" must be one of Unfiltered, Basic, Standard, Strict',
    ],
    [
      "threatHandlingMode enum",
      {
        apiVersion: API_VERSION,
        kind: "DenyRules",
        metadata: { name: "d", namespace: "shop" },
        spec: { request: { builtIn: { settings: { threatHandlingMode: "block" } } } },
      },
      'DenyRules shop/d: spec.request.builtIn.settings.threatHandlingMode "block" must be one of Block, LogOnly',
    ],
    [
      "DenyRules wrong type",
      { apiVersion: API_VERSION, kind: "DenyRules", metadata: { name: "d" }, spec: { request: [] } },
      "DenyRules default/d: spec.request [] must be an object",
    ],
    [
      "port range",
      gateway({ ...minimalSpec, applications: [{ containerPort: 70000 }] }),
      "SidecarGateway shop/shop: spec.applications[0].containerPort 70000 must be an integer from 1 to 65535",
    ],
    [
      "port type",
      gateway({ ...minimalSpec, applications: [{ containerPort: "8080" }] }),
      'SidecarGateway shop/shop: spec.applications[0].containerPort "8080" must be an integer from 1 to 65535',
    ],
    [
      "port unique",
      gateway({ ...minimalSpec, applications: [{}, { containerPort: 9000 }, { containerPort: 8080 }] }),
      "SidecarGateway shop/shop: spec.applications[2].containerPort 8080 must be unique within the gateway (also used by spec.applications[0])",
    ],
    ["spec required", gateway(undefined), "SidecarGateway shop/shop: spec is required"],
    [
      "podSelector required",
      gateway({ applications: [{}] }),
      "SidecarGateway shop/shop: spec.podSelector is required",
    ],
    [
      "matchLabels required",
      gateway({ podSelector: {}, applications: [{}] }),
      "SidecarGateway shop/shop: spec.podSelector.matchLabels is required",
    ],
    [
      "matchLabels values are strings",
      gateway({ podSelector: { matchLabels: { tier: 1 } }, applications: [{}] }),
      "SidecarGateway shop/shop: spec.podSelector.matchLabels.tier 1 must be a string",
    ],
    [
      "applications required",
      gateway({ podSelector: { matchLabels: {} } }),
      "SidecarGateway shop/shop: spec.applications is required",
    ],
    [
      "applications at least one",
      gateway({ ...minimalSpec, applications: [] }),
      "SidecarGateway shop/shop: spec.applications has 0 items, must have 1 to 16",
    ],
    [
      "applications at most 16",
      gateway({
        ...minimalSpec,
        applications: Array.from({ length: 17 }, (_, i) => ({ containerPort: 8000 + i })),
      }),
      "SidecarGateway shop/shop: spec.applications has 17 items, must have 1 to 16",
    ],
    [
      "applications is a list",
      gateway({ ...minimalSpec, applications: { containerPort: 8080 } }),
      'SidecarGateway shop/shop: spec.applications {"containerPort":8080} must be a list',
    ],
    [
      "routes at most 128",
      gateway({ ...minimalSpec, applications: [{ routes: Array.from({ length: 129 }, () => ({})) }] }),
      "SidecarGateway shop/shop: spec.applications[0].routes has 129 items, must have at most 128",
    ],
    [
      "pathPrefix starts with /",
      gateway({ ...minimalSpec, applications: [{ routes: [{}, { pathPrefix: "api" }] }] }),
      'SidecarGateway shop/shop: spec.applications[0].routes[1].pathPrefix "api" must start with "/"',
    ],
    [
      "secured and unsecured",
      gateway({ ...minimalSpec, applications: [{ routes: [{ secured: {}, unsecured: {} }] }] }),
      "SidecarGateway shop/shop: spec.applications[0].routes[0] must have exactly one of secured, unsecured (both are set)",
    ],
    [
      "unsecured is an object",
      gateway({ ...minimalSpec, applications: [{ routes: [{ unsecured: true }] }] }),
      "SidecarGateway shop/shop: spec.applications[0].routes[0].unsecured true must be an object",
    ],
    [
      "ref name required",
      gateway({ ...minimalSpec, applications: [{ routes: [{ secured: { contentSecurityRef: {} } }] }] }),
      "SidecarGateway shop/shop: spec.applications[0].routes[0].secured.contentSecurityRef.name is required",
    ],
    [
      "ref name non-empty",
      {
        apiVersion: API_VERSION,
        kind: "ContentSecurity",
        metadata: { name: "waf", namespace: "shop" },
        spec: { filter: { denyRulesRef: { name: "" } } },
      },
      'ContentSecurity shop/waf: spec.filter.denyRulesRef.name "" must have 1 to 253 characters',
    ],
    [
      "ref name length",
      {
        apiVersion: API_VERSION,
        kind: "ContentSecurity",
        metadata: { name: "waf", namespace: "shop" },
        spec: { limitsRef: { name: "x".repeat(254) } },
      },
      `ContentSecurity shop/waf: spec.limitsRef.name "${"x".repeat(56)}... must have 1 to 253 characters`,
    ],
    [
      "metadata required",
      { apiVersion: API_VERSION, kind: "DenyRules" },
      "DenyRules default/?: metadata is required",
    ],
    [
      "name required",
      { apiVersion: API_VERSION, kind: "DenyRules", metadata: { namespace: "shop" } },
      "DenyRules shop/?: metadata.name is required",
    ],
    [
      "name is a DNS-1123 subdomain",
      { apiVersion: API_VERSION, kind: "DenyRules", metadata: { name: "Strict_Rules" } },
      'DenyRules default/Strict_Rules: metadata.name "Strict_Rules" must be a DNS-1123 subdomain (lowercase alphanumerics, "-" and ".", at most 253)',
    ],
    [
      "name length",
      { apiVersion: API_VERSION, kind: "DenyRules", metadata: { name: "a".repeat(254) } },
      `DenyRules default/${"a".repeat(254)}: metadata.name "${"a".repeat(56)}... must be a DNS-1123 subdomain (lowercase alphanumerics, "-" and ".", at most 253)`,
    ],
    [
      "namespace is a DNS-1123 label",
      { apiVersion: API_VERSION, kind: "DenyRules", metadata: { name: "d", namespace: "a.b" } },
      'DenyRules a.b/d: metadata.namespace "a.b" must be a DNS-1123 label (lowercase alphanumerics and "-", at most 63)',
    ],
    [
      "pod labels are strings",
      { apiVersion: "v1", kind: "Pod", metadata: { name: "p", labels: { replicas: 3 } } },
      "Pod default/p: metadata.labels.replicas 3 must be a string",
    ],
  ];
  for (const [name, obj, message] of cases) {
    test(name, () => {
      expect(errorOf(obj)).toBe(message);
    });
  }

  test("not a Kubernetes object is InvalidManifest", () => {
    for (const obj of ["text", [1], { kind: "Pod" }, { apiVersion: "v1" }]) {
      try {
        parseResource(obj);
        throw new Error("expected a throw");
      } catch (e) {
        expect(isMicrogatewayError(e) && e.code).toBe("InvalidManifest");
      }
    }
  });
});
