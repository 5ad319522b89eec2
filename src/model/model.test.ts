import { describe, expect, test } from "bun:test";
import { isMicrogatewayError } from "../errors.ts";
import {
  buildModel,
  DEFAULT_DENY_RULES_SOURCE,
  EMPTY_MODEL,
  gatewayDependencies,
  gatewaysForPod,
  type Model,
  resolveContentSecurity,
  resolveDenyRules,
  routeLocation,
  validateModel,
} from "./model.ts";
import { parseResource } from "./parse.ts";
import {
  API_VERSION,
  type CustomResource,
  DEFAULT_DENY_RULES_SPEC,
  type PodInfo,
  type SidecarGateway,
} from "./types.ts";

function parse(obj: unknown, origin?: string): CustomResource | PodInfo {
  const parsed = parseResource(obj, origin);
  if (parsed === undefined) throw new Error("test object not handled");
  return parsed;
}

function gateway(name: string, matchLabels: Record<string, string>, routes?: unknown[], namespace = "shop") {
  return parse({
    apiVersion: API_VERSION,
    kind: "SidecarGateway",
    metadata: { name, namespace },
    spec: { podSelector: { matchLabels }, applications: [{ routes }] },
  }) as SidecarGateway;
}

function contentSecurity(name: string, denyRules?: string, origin?: string) {
  const spec = denyRules === undefined ? {} : { filter: { denyRulesRef: { name: denyRules } } };
  return parse(
    { apiVersion: API_VERSION, kind: "ContentSecurity", metadata: { name, namespace: "shop" }, spec },
    origin,
  );
}

function denyRules(name: string, level = "Strict") {
  return parse({
    apiVersion: API_VERSION,
    kind: "DenyRules",
    metadata: { name, namespace: "shop" },
    spec: { request: { builtIn: { settings: { level } } } },
  });
}

function pod(name: string, labels: Record<string, string>, namespace = "shop") {
  return parse({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace, labels } }) as PodInfo;
}

function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isMicrogatewayError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected a MicrogatewayError");
}

describe("buildModel", () => {
  test("indexes by namespace/name in key order", () => {
    const model = buildModel([denyRules("b"), denyRules("a"), pod("web-1", {}), gateway("gw", {})]);
    expect([...model.denyRules.keys()]).toEqual(["shop/a", "shop/b"]);
    expect([...model.pods.keys()]).toEqual(["shop/web-1"]);
    expect([...model.gateways.keys()]).toEqual(["shop/gw"]);
    expect(model.contentSecurities.size).toBe(0);
    expect(EMPTY_MODEL.gateways.size).toBe(0);
  });

  test("a duplicate kind+namespace/name names both origins", () => {
    const err = thrown(() =>
      buildModel([contentSecurity("waf", undefined, "a.yaml#1"), contentSecurity("waf", "x", "b.yaml#2")]),
    );
    expect(err).toEqual({
      code: "InvalidResource",
      message: "ContentSecurity shop/waf is defined twice: in a.yaml#1 and in b.yaml#2",
    });
  });

  test("the same name in another kind or namespace is not a duplicate", () => {
    const model = buildModel([
      contentSecurity("waf"),
      denyRules("waf"),
      gateway("waf", {}),
      gateway("waf", {}, undefined, "other"),
    ]);
    expect(model.gateways.size).toBe(2);
  });
});

describe("gatewaysForPod", () => {
  const model = buildModel([
    gateway("zeta", { app: "shop" }),
    gateway("alpha", { app: "shop", tier: "web" }),
    gateway("other", { app: "cart" }),
    gateway("elsewhere", { app: "shop" }, undefined, "other"),
  ]);

  test("subset match in the same namespace, sorted by name", () => {
    const names = gatewaysForPod(model, pod("p", { app: "shop", tier: "web", extra: "x" })).map(
      (g) => g.metadata.name,
    );
    expect(names).toEqual(["alpha", "zeta"]);
  });

  test("a missing or different label does not match", () => {
    expect(gatewaysForPod(model, pod("p", { app: "shop" })).map((g) => g.metadata.name)).toEqual(["zeta"]);
    expect(gatewaysForPod(model, pod("p", { tier: "web" }))).toEqual([]);
  });
});

describe("resolveDenyRules", () => {
  const model: Model = buildModel([
    gateway("gw", { app: "shop" }, [
      { pathPrefix: "/a", secured: { contentSecurityRef: { name: "strict" } } },
      { pathPrefix: "/b", secured: { contentSecurityRef: { name: "x" } } },
      { pathPrefix: "/c", secured: { contentSecurityRef: { name: "no-filter" } } },
      { pathPrefix: "/d", secured: { contentSecurityRef: { name: "dangling" } } },
      { pathPrefix: "/e" },
    ]),
    contentSecurity("strict", "strict"),
    contentSecurity("no-filter"),
    contentSecurity("dangling", "typo"),
    denyRules("strict", "Strict"),
  ]);
  const gw = model.gateways.get("shop/gw") as SidecarGateway;
  const route = (i: number) => {
    const r = gw.spec.applications[0]?.routes[i];
    if (r?.secured === undefined) throw new Error("test route must be secured");
    return r;
  };

  test("follows route -> ContentSecurity -> DenyRules", () => {
    const resolved = resolveDenyRules(model, "shop", route(0));
    expect(resolved.source).toBe("DenyRules shop/strict");
    expect(resolved.spec.request.builtIn.settings.level).toBe("Strict");
  });

  test("absent refs mean the defaults", () => {
    expect(resolveDenyRules(model, "shop", route(4))).toEqual({
      spec: DEFAULT_DENY_RULES_SPEC,
      source: DEFAULT_DENY_RULES_SOURCE,
    });
    expect(resolveDenyRules(model, "shop", route(2)).source).toBe(DEFAULT_DENY_RULES_SOURCE);
  });

  test("a missing ContentSecurity is an InvalidReference naming the route", () => {
    expect(thrown(() => resolveDenyRules(model, "shop", route(1), routeLocation(gw, 0, 1)))).toEqual({
      code: "InvalidReference",
      message:
        'SidecarGateway shop/gw: spec.applications[0].routes[1].secured.contentSecurityRef "x": ContentSecurity shop/x does not exist',
    });
  });

  test("a missing DenyRules is an InvalidReference naming the ContentSecurity and the route", () => {
    expect(thrown(() => resolveDenyRules(model, "shop", route(3), routeLocation(gw, 0, 3)))).toEqual({
      code: "InvalidReference",
      message:
        'ContentSecurity shop/dangling: spec.filter.denyRulesRef "typo": DenyRules shop/typo does not exist (used by SidecarGateway shop/gw: spec.applications[0].routes[3])',
    });
  });

  test("references never cross namespaces", () => {
    expect(thrown(() => resolveDenyRules(model, "other", route(0))).message).toBe(
      'route.secured.contentSecurityRef "strict": ContentSecurity other/strict does not exist',
    );
  });
});

describe("validateModel", () => {
  test("a consistent model has no errors", () => {
    const model = buildModel([
      gateway("gw", { app: "shop" }, [
        { unsecured: {} },
        { secured: { contentSecurityRef: { name: "waf" } } },
      ]),
      contentSecurity("waf", "deny"),
      denyRules("deny"),
      pod("web-1", { app: "shop" }),
    ]);
    expect(validateModel(model)).toEqual([]);
  });

  test("lists every broken reference once and every pod selected twice", () => {
    const model = buildModel([
      gateway("a", { app: "shop" }, [
        { secured: { contentSecurityRef: { name: "missing" } } },
        { secured: { contentSecurityRef: { name: "dangling" } } },
        { secured: { contentSecurityRef: { name: "dangling" } } },
        { secured: { accessControlRef: { name: "login" } } },
      ]),
      gateway("b", { tier: "web" }),
      contentSecurity("dangling", "typo"),
      contentSecurity("unused", "typo2"),
      pod("web-1", { app: "shop", tier: "web" }),
      pod("web-2", { app: "shop" }),
    ]);
    const errors = validateModel(model);
    expect(errors.map((e) => e.code)).toEqual([
      "InvalidReference",
      "InvalidReference",
      "InvalidReference",
      "InvalidReference",
      "InvalidResource",
    ]);
    expect(errors.map((e) => e.message)).toEqual([
      'SidecarGateway shop/a: spec.applications[0].routes[0].secured.contentSecurityRef "missing": ContentSecurity shop/missing does not exist',
      'SidecarGateway shop/a: spec.applications[0].routes[3].secured.accessControlRef "login": AccessControl is not supported yet',
      'ContentSecurity shop/dangling: spec.filter.denyRulesRef "typo": DenyRules shop/typo does not exist',
      'ContentSecurity shop/unused: spec.filter.denyRulesRef "typo2": DenyRules shop/typo2 does not exist',
      "Pod shop/web-1 is selected by more than one SidecarGateway: shop/a, shop/b",
    ]);
  });
});

describe("gatewayDependencies", () => {
  test("lists each referenced ContentSecurity and its DenyRules once, missing ones without a version", () => {
    const gw = gateway("gw", { app: "web" }, [
      { pathPrefix: "/a", secured: { contentSecurityRef: { name: "cs" } } },
      { pathPrefix: "/b", secured: { contentSecurityRef: { name: "cs" } } },
      { pathPrefix: "/c", secured: { contentSecurityRef: { name: "gone" } } },
      { pathPrefix: "/d", unsecured: {} },
    ]);
    const model = buildModel([gw, contentSecurity("cs", "dr"), denyRules("dr")]);
    const deps = gatewayDependencies(model, gw);
    expect(deps.map((d) => d.id)).toEqual([
      "ContentSecurity shop/cs",
      "DenyRules shop/dr",
      "ContentSecurity shop/gone",
    ]);
    expect(deps[0]?.version).toBeString();
    expect(deps[1]?.version).toBeString();
    expect(deps[2]?.version).toBeUndefined();
  });
});

function policyObject(kind: "Limits" | "Parser", name: string, spec: unknown) {
  return parse({ apiVersion: API_VERSION, kind, metadata: { name, namespace: "shop" }, spec });
}

function fullContentSecurity(name: string, refs: { denyRules?: string; limits?: string; parser?: string }) {
  return parse({
    apiVersion: API_VERSION,
    kind: "ContentSecurity",
    metadata: { name, namespace: "shop" },
    spec: {
      ...(refs.denyRules === undefined ? {} : { filter: { denyRulesRef: { name: refs.denyRules } } }),
      ...(refs.limits === undefined ? {} : { limitsRef: { name: refs.limits } }),
      ...(refs.parser === undefined ? {} : { parserRef: { name: refs.parser } }),
    },
  });
}

describe("resolveContentSecurity", () => {
  const gw = gateway("gw", { app: "shop" }, [
    { pathPrefix: "/a", secured: { contentSecurityRef: { name: "all" } } },
    { pathPrefix: "/b", secured: { contentSecurityRef: { name: "none" } } },
    { pathPrefix: "/c", secured: { contentSecurityRef: { name: "broken" } } },
    { pathPrefix: "/d" },
  ]);
  const model = buildModel([
    gw,
    fullContentSecurity("all", { denyRules: "dr", limits: "lim", parser: "par" }),
    fullContentSecurity("none", {}),
    fullContentSecurity("broken", { limits: "typo" }),
    denyRules("dr", "Basic"),
    policyObject("Limits", "lim", { request: { limited: { json: { nestingDepth: 5 } } } }),
    policyObject("Parser", "par", { request: { defaultContentType: "application/json" } }),
  ]);
  const route = (i: number) => {
    const r = (model.gateways.get("shop/gw") as SidecarGateway).spec.applications[0]?.routes[i];
    if (r?.secured === undefined) throw new Error("test route must be secured");
    return r;
  };

  test("follows the ContentSecurity to its DenyRules, Limits and Parser", () => {
    const resolved = resolveContentSecurity(model, "shop", route(0));
    expect(resolved.denyRules.request.builtIn.settings.level).toBe("Basic");
    expect(resolved.limits?.limited?.json.nestingDepth).toBe(5);
    expect(resolved.parser?.defaultContentType).toBe("application/json");
    expect(resolved.sources).toEqual({
      denyRules: "DenyRules shop/dr",
      limits: "Limits shop/lim",
      parser: "Parser shop/par",
    });
  });

  test("absent refs mean the defaults", () => {
    for (const i of [1, 3]) {
      expect(resolveContentSecurity(model, "shop", route(i))).toEqual({
        denyRules: DEFAULT_DENY_RULES_SPEC,
        sources: {
          denyRules: DEFAULT_DENY_RULES_SOURCE,
          limits: DEFAULT_DENY_RULES_SOURCE,
          parser: DEFAULT_DENY_RULES_SOURCE,
        },
      });
    }
  });

  test("a missing Limits is an InvalidReference naming the ContentSecurity and the route; validateModel reports it", () => {
    expect(thrown(() => resolveContentSecurity(model, "shop", route(2), "R"))).toEqual({
      code: "InvalidReference",
      message:
        'ContentSecurity shop/broken: spec.limitsRef "typo": Limits shop/typo does not exist (used by R)',
    });
    expect(validateModel(model).map((e) => e.message)).toContain(
      'ContentSecurity shop/broken: spec.limitsRef "typo": Limits shop/typo does not exist',
    );
  });

  test("gatewayDependencies include the Limits and Parser, so a change of either re-translates", () => {
    expect(gatewayDependencies(model, gw).map((d) => [d.id, d.version === undefined])).toEqual([
      ["ContentSecurity shop/all", false],
      ["DenyRules shop/dr", false],
      ["Limits shop/lim", false],
      ["Parser shop/par", false],
      ["ContentSecurity shop/none", false],
      ["ContentSecurity shop/broken", false],
      ["Limits shop/typo", true],
    ]);
  });
});
