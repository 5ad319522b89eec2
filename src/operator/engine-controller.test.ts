import { describe, expect, test } from "bun:test";
import { buildModel } from "../model/model.ts";
import { parseResource } from "../model/parse.ts";
import type { CustomResource, PodInfo } from "../model/types.ts";
import type { KubeSnapshot } from "../source/kube-source.ts";
import { PodConfigEncoder } from "../translate/pod-config-encoder.ts";
import { ConfigCache } from "../xds/config-cache.ts";
import { TypeUrl } from "../xds/resource-types.ts";
import { EngineController } from "./engine-controller.ts";

const API = "microgateway.airlock.com/v1alpha1";
function objects(ns: string, opts: { mode?: string; drVersion?: string; cs?: string } = {}): unknown[] {
  return [
    {
      apiVersion: API,
      kind: "SidecarGateway",
      metadata: { name: "gw", namespace: ns, resourceVersion: "1" },
      spec: {
        podSelector: { matchLabels: { app: "web" } },
        applications: [
          {
            containerPort: 8080,
            routes: [{ pathPrefix: "/", secured: { contentSecurityRef: { name: opts.cs ?? "cs" } } }],
          },
        ],
      },
    },
    {
      apiVersion: API,
      kind: "ContentSecurity",
      metadata: { name: "cs", namespace: ns, resourceVersion: "1" },
      spec: { filter: { denyRulesRef: { name: "dr" } } },
    },
    {
      apiVersion: API,
      kind: "DenyRules",
      metadata: { name: "dr", namespace: ns, resourceVersion: opts.drVersion ?? "1" },
      spec: { request: { builtIn: { settings: { threatHandlingMode: opts.mode ?? "Block" } } } },
    },
  ];
}
const pod = (name: string, ns: string, app = "web"): unknown => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: ns, labels: { app }, resourceVersion: "1" },
});

function snapshot(raw: unknown[], changed: string[] = []): KubeSnapshot {
  return {
    model: buildModel(raw.map((o) => parseResource(o, "test") as CustomResource | PodInfo)),
    changed: new Set(changed),
    invalid: new Map(),
    podUids: new Map(),
  };
}

function setup() {
  const cache = new ConfigCache();
  const encoder = new PodConfigEncoder();
  return { cache, encoder, controller: new EngineController(cache, encoder) };
}

describe("EngineController", () => {
  const world = (mode = "Block", drVersion = "1") => [
    ...objects("shop", { mode, drVersion }),
    ...objects("bank"),
    pod("web-1", "shop"),
    pod("web-2", "shop"),
    pod("other", "shop", "other"),
    pod("web-1", "bank"),
  ];

  test("the first snapshot configures every pod; pods no gateway selects get nothing", () => {
    const { cache, controller, encoder } = setup();
    const r = controller.apply(snapshot(world()));
    expect(r.recomputed.length).toBe(4);
    expect(cache.resources("web-1.shop", TypeUrl.Listener).size).toBe(1);
    expect(cache.resources("other.shop", TypeUrl.Listener).size).toBe(0);
    expect(controller.state("shop/web-1")?.gateway).toBe("shop/gw");
    expect(encoder.translationCount).toBe(2); // one per gateway
  });

  test("a DenyRules change recomputes only the pods of the gateways that use it", () => {
    const { cache, controller } = setup();
    controller.apply(snapshot(world()));
    const routes = (node: string) =>
      cache.resources(node, TypeUrl.RouteConfiguration).get("app_8080")?.version;
    const before = routes("web-1.shop");
    const bankBefore = routes("web-1.bank");
    expect(before).toBeDefined();
    const r = controller.apply(snapshot(world("LogOnly", "2"), ["DenyRules shop/dr"]));
    expect(new Set(r.recomputed)).toEqual(new Set(["shop/web-1", "shop/web-2"]));
    expect(new Set(r.changed)).toEqual(new Set(["shop/web-1", "shop/web-2"]));
    expect(routes("web-1.shop")).not.toBe(before);
    expect(routes("web-1.bank")).toBe(bankBefore);
  });

  test("a gateway whose selector changes picks up the pods it now selects and releases the others", () => {
    const { cache, controller } = setup();
    controller.apply(snapshot(world()));
    const moved = world().map((o) => {
      const x = o as {
        kind: string;
        metadata: { namespace: string };
        spec: { podSelector: { matchLabels: Record<string, string> } };
      };
      if (x.kind !== "SidecarGateway" || x.metadata.namespace !== "shop") return o;
      return {
        ...x,
        metadata: { ...x.metadata, resourceVersion: "2" },
        spec: { ...x.spec, podSelector: { matchLabels: { app: "other" } } },
      };
    });
    const r = controller.apply(snapshot(moved, ["SidecarGateway shop/gw"]));
    expect(new Set(r.recomputed)).toEqual(new Set(["shop/web-1", "shop/web-2", "shop/other"]));
    expect(cache.resources("other.shop", TypeUrl.Listener).size).toBe(1);
    expect(cache.resources("web-1.shop", TypeUrl.Listener).size).toBe(0);
  });

  test("a new pod is configured; a deleted pod's node is removed", () => {
    const { cache, controller } = setup();
    controller.apply(snapshot(world()));
    const r = controller.apply(snapshot([...world(), pod("web-3", "shop")], ["Pod shop/web-3"]));
    expect(r.recomputed).toEqual(["shop/web-3"]);
    expect(cache.resources("web-3.shop", TypeUrl.Listener).size).toBe(1);
    const r2 = controller.apply(snapshot(world(), ["Pod shop/web-3"]));
    expect(r2.removed).toEqual(["shop/web-3"]);
    expect(cache.hasNode("web-3.shop")).toBe(false);
  });

  test("a broken reference keeps the last good configuration and records the error", () => {
    const { cache, controller } = setup();
    controller.apply(snapshot(world()));
    const good = cache.resources("web-1.shop", TypeUrl.Listener).get("ingress")?.version;
    const broken = [...objects("shop", { cs: "missing" }), pod("web-1", "shop")];
    controller.apply(snapshot(broken, ["SidecarGateway shop/gw"]));
    expect(cache.resources("web-1.shop", TypeUrl.Listener).get("ingress")?.version).toBe(good);
    expect(controller.state("shop/web-1")?.error).toContain("ContentSecurity shop/missing does not exist");
  });

  test("deleting the gateway makes its pods' engines forward nothing", () => {
    const { cache, controller } = setup();
    controller.apply(snapshot(world()));
    const withoutGateway = world().filter(
      (o) =>
        (o as { kind: string }).kind !== "SidecarGateway" ||
        (o as { metadata: { namespace: string } }).metadata.namespace !== "shop",
    );
    controller.apply(snapshot(withoutGateway, ["SidecarGateway shop/gw"]));
    expect(cache.resources("web-1.shop", TypeUrl.Listener).size).toBe(0);
    expect(cache.resources("web-1.shop", TypeUrl.Cluster).size).toBe(0);
    expect(controller.state("shop/web-1")?.gateway).toBeUndefined();
  });
});
