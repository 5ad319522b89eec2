import { describe, expect, test } from "bun:test";
import { isMicrogatewayError, MicrogatewayError } from "../errors.ts";
import { buildModel } from "../model/model.ts";
import { parseResource } from "../model/parse.ts";
import { API_VERSION, type CustomResource, type PodInfo } from "../model/types.ts";
import { EngineStatusStore } from "../xds/engine-status.ts";
import type { PodConfigState } from "./engine-controller.ts";
import {
  type DesiredGatewayStatus,
  desiredGatewayStatus,
  GATEWAY_CONDITIONS,
  gatewayFindings,
  MAX_LISTED_PODS,
  type PodReports,
} from "./gateway-status.ts";
import { type EngineReport, engineReport } from "./status-writer.ts";

const LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";

function gateway(name: string, opts: { app?: string; cs?: string; namespace?: string } = {}): unknown {
  return {
    apiVersion: API_VERSION,
    kind: "SidecarGateway",
    metadata: { name, namespace: opts.namespace ?? "shop" },
    spec: {
      podSelector: { matchLabels: { app: opts.app ?? "web" } },
      applications: [
        {
          containerPort: 8080,
          routes: [
            { pathPrefix: "/health", unsecured: {} },
            { pathPrefix: "/", secured: opts.cs ? { contentSecurityRef: { name: opts.cs } } : {} },
          ],
        },
      ],
    },
  };
}
const contentSecurity = (name: string, denyRules?: string): unknown => ({
  apiVersion: API_VERSION,
  kind: "ContentSecurity",
  metadata: { name, namespace: "shop" },
  spec: denyRules ? { filter: { denyRulesRef: { name: denyRules } } } : {},
});
const denyRules = (name: string): unknown => ({
  apiVersion: API_VERSION,
  kind: "DenyRules",
  metadata: { name, namespace: "shop" },
  spec: {},
});
const pod = (name: string, app = "web", namespace = "shop"): unknown => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace, labels: { app } },
});

/** Parses `raw`; objects that fail go to `invalid`, as the Kubernetes source does. */
function snapshot(raw: unknown[]) {
  const objects: (CustomResource | PodInfo)[] = [];
  const invalid = new Map<string, MicrogatewayError>();
  for (const o of raw) {
    const r = o as { kind: string; metadata: { namespace: string; name: string } };
    const id = `${r.kind} ${r.metadata.namespace}/${r.metadata.name}`;
    try {
      objects.push(parseResource(o, id) as CustomResource | PodInfo);
    } catch (e) {
      if (!isMicrogatewayError(e)) throw e;
      invalid.set(id, e);
    }
  }
  return { model: buildModel(objects), invalid };
}

function statusOf(
  raw: unknown[],
  key = "shop/gw",
  reports: Partial<PodReports> = {},
): DesiredGatewayStatus | undefined {
  const { model, invalid } = snapshot(raw);
  return desiredGatewayStatus(gatewayFindings(model, invalid), key, {
    state: reports.state ?? (() => undefined),
    engine: reports.engine ?? (() => undefined),
  });
}

function condition(status: DesiredGatewayStatus | undefined, type: string) {
  return status?.conditions.find((c) => c.type === type);
}

const { ready, valid, enginesConfigured, podListTruncated } = GATEWAY_CONDITIONS;

describe("desiredGatewayStatus", () => {
  test("a valid gateway is Active and lists the pods it selects, by name", () => {
    const s = statusOf([
      gateway("gw", { cs: "cs" }),
      contentSecurity("cs", "dr"),
      denyRules("dr"),
      pod("web-2"),
      pod("web-1"),
      pod("other", "other"),
      pod("web-3", "web", "elsewhere"),
    ]);
    expect(s?.status).toBe("Active");
    expect(s?.pods).toEqual([
      { name: "web-1", envoyConfig: "web-1" },
      { name: "web-2", envoyConfig: "web-2" },
    ]);
    expect(s?.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      [ready, "True", "Active"],
      [valid, "True", "Valid"],
      [enginesConfigured, "True", "NoProblems"],
    ]);
  });

  test("a gateway that does not exist has no status", () => {
    expect(statusOf([gateway("gw")], "shop/nope")).toBeUndefined();
  });

  test("a contentSecurityRef naming a missing object is an Error naming the gateway and the field", () => {
    const s = statusOf([gateway("gw", { cs: "missing" }), pod("web-1")]);
    expect(s?.status).toBe("Error");
    const c = condition(s, valid);
    expect(c).toMatchObject({ status: "False", reason: "InvalidReference" });
    expect(c?.message).toContain(
      'SidecarGateway shop/gw: spec.applications[0].routes[1].secured.contentSecurityRef "missing": ContentSecurity shop/missing does not exist',
    );
    expect(condition(s, ready)).toMatchObject({ status: "False", reason: "InvalidReference" });
    expect(condition(s, ready)?.message).toContain("contentSecurityRef");
    // Its pods keep their last good configuration, and are still listed.
    expect(s?.pods.map((p) => p.name)).toEqual(["web-1"]);
  });

  test("a DenyRules missing behind the ContentSecurity is an Error of every gateway using it", () => {
    const raw = [
      gateway("gw", { cs: "cs" }),
      gateway("gw2", { cs: "cs", app: "b" }),
      contentSecurity("cs", "gone"),
    ];
    for (const key of ["shop/gw", "shop/gw2"]) {
      const c = condition(statusOf(raw, key), valid);
      expect(c?.reason).toBe("InvalidReference");
      expect(c?.message).toStartWith(
        `SidecarGateway ${key}: spec.applications[0].routes[1].secured.contentSecurityRef: ContentSecurity shop/cs: spec.filter.denyRulesRef "gone": DenyRules shop/gone does not exist`,
      );
    }
  });

  test("a referenced object that is invalid is named, with the field that is wrong, not called missing", () => {
    const badCs = { ...(contentSecurity("cs") as object), spec: { filter: "strict" } };
    const s = statusOf([gateway("gw", { cs: "cs" }), badCs]);
    expect(s?.status).toBe("Error");
    const c = condition(s, valid);
    expect(c?.reason).toBe("InvalidReference");
    expect(c?.message).toContain(
      "SidecarGateway shop/gw: spec.applications[0].routes[1].secured.contentSecurityRef names ContentSecurity shop/cs, which is invalid: ContentSecurity shop/cs: spec.filter",
    );
    expect(c?.message).not.toContain("does not exist");

    const badDr = {
      ...(denyRules("dr") as object),
      spec: { request: { builtIn: { settings: { level: "Max" } } } },
    };
    const d = condition(statusOf([gateway("gw", { cs: "cs" }), contentSecurity("cs", "dr"), badDr]), valid);
    expect(d?.message).toContain(
      "ContentSecurity shop/cs: spec.filter.denyRulesRef names DenyRules shop/dr, which is invalid: DenyRules shop/dr: spec.request.builtIn.settings.level",
    );
    expect(d?.message).not.toContain("does not exist");
  });

  test("an invalid Limits or Parser of a route's ContentSecurity is named, not called missing", () => {
    const cs = {
      apiVersion: API_VERSION,
      kind: "ContentSecurity",
      metadata: { name: "cs", namespace: "shop" },
      spec: { limitsRef: { name: "lim" }, parserRef: { name: "par" } },
    };
    const badLimits = {
      apiVersion: API_VERSION,
      kind: "Limits",
      metadata: { name: "lim", namespace: "shop" },
      spec: { request: { limited: { json: { bodySize: "1MB" } } } },
    };
    const badParser = {
      apiVersion: API_VERSION,
      kind: "Parser",
      metadata: { name: "par", namespace: "shop" },
      spec: { request: { parsers: { json: { mediaTypePattern: "(" } } } },
    };
    const c = condition(statusOf([gateway("gw", { cs: "cs" }), cs, badLimits, badParser]), valid);
    expect(c?.reason).toBe("InvalidReference");
    expect(c?.message).toContain(
      "ContentSecurity shop/cs: spec.limitsRef names Limits shop/lim, which is invalid: Limits shop/lim: spec.request.limited.json.bodySize",
    );
    expect(c?.message).toContain(
      "spec.parserRef names Parser shop/par, which is invalid: Parser shop/par: spec.request.parsers.json.mediaTypePattern",
    );
    expect(c?.message).not.toContain("does not exist");
  });

  test("an invalid gateway is an Error with its own validation message and lists no pods", () => {
    const bad = gateway("gw");
    (bad as { spec: { applications: { routes: unknown[] }[] } }).spec.applications[0]!.routes = [
      { pathPrefix: "/", secured: {}, unsecured: {} },
    ];
    const s = statusOf([bad, pod("web-1")]);
    expect(s?.status).toBe("Error");
    expect(condition(s, valid)).toMatchObject({ status: "False", reason: "InvalidConfiguration" });
    expect(condition(s, valid)?.message).toContain("SidecarGateway shop/gw: spec.applications[0].routes[0]");
    expect(s?.pods).toEqual([]);
  });

  test("two gateways selecting one pod are both Error, each naming the other and the pod", () => {
    const raw = [gateway("a", { app: "twin" }), gateway("b", { app: "twin" }), pod("twin", "twin")];
    const a = statusOf(raw, "shop/a");
    const b = statusOf(raw, "shop/b");
    expect(a?.status).toBe("Error");
    expect(b?.status).toBe("Error");
    expect(condition(a, valid)).toMatchObject({ status: "False", reason: "ConflictingPodSelector" });
    expect(condition(a, valid)?.message).toStartWith(
      "SidecarGateway shop/a: spec.podSelector selects Pod shop/twin, which SidecarGateway shop/b also selects",
    );
    expect(condition(b, valid)?.message).toStartWith(
      "SidecarGateway shop/b: spec.podSelector selects Pod shop/twin, which SidecarGateway shop/a also selects",
    );
  });

  test("problems of one gateway do not leak to another", () => {
    const s = statusOf([gateway("gw"), gateway("broken", { cs: "missing", app: "x" }), pod("web-1")]);
    expect(s?.status).toBe("Active");
  });

  test("a pod whose configuration could not be built makes its valid gateway Warning", () => {
    const states: Record<string, PodConfigState> = {
      "shop/web-2": { gateway: "shop/gw", error: "translation failed: port 8080 is taken" },
    };
    const s = statusOf([gateway("gw"), pod("web-1"), pod("web-2")], "shop/gw", {
      state: (k) => states[k],
    });
    expect(s?.status).toBe("Warning");
    expect(condition(s, valid)?.status).toBe("True");
    expect(condition(s, enginesConfigured)).toMatchObject({ status: "False", reason: "ConfigurationFailed" });
    expect(condition(s, enginesConfigured)?.message).toContain(
      "Pod shop/web-2 keeps its last good configuration",
    );
    expect(condition(s, ready)).toMatchObject({ status: "False", reason: "ConfigurationFailed" });
    expect(condition(s, ready)?.message).toStartWith("1 of 2 selected pod(s) are not configured");
  });

  test("an engine that rejected its configuration makes the gateway Warning, naming the pod and Envoy's error", () => {
    const store = new EngineStatusStore();
    store.reject("web-1.shop", LISTENER, new Map([["ingress", "v2"]]), "cannot bind '0.0.0.0:13378'", 13);
    store.accept("web-2.shop", LISTENER, new Map([["ingress", "v1"]]), []);
    const reports: Record<string, EngineReport | undefined> = {
      "shop/web-1": engineReport(store.get("web-1.shop"), undefined),
      "shop/web-2": engineReport(store.get("web-2.shop"), undefined),
    };
    const s = statusOf([gateway("gw"), pod("web-1"), pod("web-2")], "shop/gw", { engine: (k) => reports[k] });
    expect(s?.status).toBe("Warning");
    const c = condition(s, enginesConfigured);
    expect(c).toMatchObject({ status: "False", reason: "EngineConfigRejected" });
    expect(c?.message).toBe("Pod shop/web-1: the engine rejected Listener: cannot bind '0.0.0.0:13378'");
  });

  test("an invalid configuration outranks engine problems: Error", () => {
    const s = statusOf([gateway("gw", { cs: "missing" }), pod("web-1")], "shop/gw", {
      state: () => ({ error: "SidecarGateway shop/gw: ... does not exist" }),
    });
    expect(s?.status).toBe("Error");
    expect(condition(s, enginesConfigured)?.status).toBe("False");
  });

  test(`at most ${MAX_LISTED_PODS} pods are listed, and a condition says the list is cut`, () => {
    const pods = Array.from({ length: 300 }, (_, i) => pod(`web-${String(i).padStart(3, "0")}`));
    const s = statusOf([gateway("gw"), ...pods]);
    expect(s?.status).toBe("Active");
    expect(s?.pods).toHaveLength(MAX_LISTED_PODS);
    expect(s?.pods[0]?.name).toBe("web-000");
    expect(condition(s, podListTruncated)).toMatchObject({ status: "True", reason: "TooManyPods" });
    expect(condition(s, podListTruncated)?.message).toContain("selects 300 pods");
    expect(s?.conditions.length).toBeLessThanOrEqual(8);
  });

  test("many problems are counted, not all listed, and messages fit the CRD", () => {
    const pods = Array.from({ length: 20 }, (_, i) => pod(`twin-${i}`, "twin"));
    const s = statusOf([gateway("a", { app: "twin" }), gateway("b", { app: "twin" }), ...pods], "shop/a");
    expect(condition(s, valid)?.message).toEndWith("and 12 more");
    expect(condition(s, ready)?.message).toContain("(and 19 more: see condition Valid)");
    for (const c of s?.conditions ?? []) expect(c.message.length).toBeLessThanOrEqual(32_768);
  });

  test("the same inputs give the same status (the writer compares it to decide whether to write)", () => {
    const raw = [gateway("gw", { cs: "missing" }), pod("web-1")];
    expect(statusOf(raw)).toEqual(statusOf(raw));
  });

  test("an unrelated error type is not a problem of any gateway", () => {
    const { model } = snapshot([gateway("gw"), pod("web-1")]);
    const invalid = new Map([
      ["Telemetry shop/t", new MicrogatewayError("InvalidResource", "Telemetry shop/t: x")],
    ]);
    const s = desiredGatewayStatus(gatewayFindings(model, invalid), "shop/gw", {
      state: () => undefined,
      engine: () => undefined,
    });
    expect(s?.status).toBe("Active");
  });
});
