import { describe, expect, test } from "bun:test";
import { buildModel } from "../model/model.ts";
import { parseResource } from "../model/parse.ts";
import type { CustomResource, PodInfo } from "../model/types.ts";
import { MEMO_PER_GATEWAY, PodConfigEncoder } from "./pod-config-encoder.ts";

const gateway = (level = "Standard", rv = "1") => [
  {
    apiVersion: "microgateway.airlock.com/v1alpha1",
    kind: "SidecarGateway",
    metadata: { name: "gw", namespace: "shop", resourceVersion: "g1" },
    spec: {
      podSelector: { matchLabels: { app: "web" } },
      applications: [
        {
          containerPort: 8080,
          routes: [{ pathPrefix: "/", secured: { contentSecurityRef: { name: "cs" } } }],
        },
      ],
    },
  },
  {
    apiVersion: "microgateway.airlock.com/v1alpha1",
    kind: "ContentSecurity",
    metadata: { name: "cs", namespace: "shop", resourceVersion: "c1" },
    spec: { filter: { denyRulesRef: { name: "dr" } } },
  },
  {
    apiVersion: "microgateway.airlock.com/v1alpha1",
    kind: "DenyRules",
    metadata: { name: "dr", namespace: "shop", resourceVersion: rv },
    spec: { request: { builtIn: { settings: { level } } } },
  },
];

const pod = (name: string, app = "web"): PodInfo => ({
  metadata: { name, namespace: "shop", labels: { app } },
});
const model = (level?: string, rv?: string) =>
  buildModel(gateway(level, rv).map((o) => parseResource(o, "test") as CustomResource));

describe("PodConfigEncoder", () => {
  test("pods of one gateway share one translation and the same resource objects", () => {
    const enc = new PodConfigEncoder();
    const m = model();
    const a = enc.encode(m, pod("a"));
    const b = enc.encode(m, pod("b"));
    expect(enc.translationCount).toBe(1);
    expect(b.resources).toBe(a.resources);
    expect(a.gateway).toBe("shop/gw");
    expect(a.resources.map((r) => `${r.typeUrl.split(".").pop()}/${r.name}`)).toEqual([
      "Cluster/upstream_8080",
      "Cluster/inspector",
      "Listener/ingress",
      "RouteConfiguration/app_8080",
    ]);
  });

  test("a change of a referenced DenyRules is translated again, once", () => {
    const enc = new PodConfigEncoder();
    const before = enc.encode(model("Standard", "1"), pod("a"));
    const m2 = model("Strict", "2");
    const after = enc.encode(m2, pod("a"));
    enc.encode(m2, pod("b"));
    expect(enc.translationCount).toBe(2);
    const version = (r: typeof before, name: string) => r.resources.find((x) => x.name === name)!.version;
    // The policy is in the routes: they change, the listener does not (no drain on the engine).
    expect(version(after, "app_8080")).not.toBe(version(before, "app_8080"));
    expect(version(after, "ingress")).toBe(version(before, "ingress"));
  });

  test("going back to a recent version (a rollback) reuses its translation; old ones are forgotten", () => {
    const enc = new PodConfigEncoder();
    const v1 = enc.encode(model("Standard", "1"), pod("a"));
    enc.encode(model("Strict", "2"), pod("a"));
    const back = enc.encode(model("Standard", "1"), pod("a"));
    expect(enc.translationCount).toBe(2);
    expect(back.resources).toBe(v1.resources);
    for (let rv = 3; rv < 3 + MEMO_PER_GATEWAY; rv++) enc.encode(model("Strict", String(rv)), pod("a"));
    enc.encode(model("Standard", "1"), pod("a"));
    expect(enc.translationCount).toBe(3 + MEMO_PER_GATEWAY);
  });

  test("a pod no gateway selects gets the empty configuration", () => {
    expect(new PodConfigEncoder().encode(model(), pod("x", "other")).resources).toEqual([]);
  });
});
