/**
 * Controller benchmark: N pods in the model, one DenyRules change, and the time until every
 * affected pod's resources are recomputed, encoded and in the xDS cache (no engines connected: the
 * fan-out is bench/xds). Also the operator's memory per pod. Two shapes:
 *   - one gateway selects all N pods (a policy shared by every pod: the worst case);
 *   - N/100 gateways of 100 pods each, each with its own DenyRules (a change touches 1% of pods).
 *
 *   bun --expose-gc run bench/controller/run.ts [--n 1000,10000] [--smoke]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildModel } from "../../src/model/model.ts";
import { parseResource } from "../../src/model/parse.ts";
import type { CustomResource, PodInfo } from "../../src/model/types.ts";
import { EngineController } from "../../src/operator/engine-controller.ts";
import type { KubeSnapshot } from "../../src/source/kube-source.ts";
import { PodConfigEncoder } from "../../src/translate/pod-config-encoder.ts";
import { ConfigCache } from "../../src/xds/config-cache.ts";
import { distribution } from "../support/percentiles.ts";

const API = "microgateway.airlock.com/v1alpha1";

function policy(ns: string, name: string, mode: string, rv: string): unknown[] {
  return [
    {
      apiVersion: API,
      kind: "SidecarGateway",
      metadata: { name, namespace: ns, resourceVersion: "1" },
      spec: {
        podSelector: { matchLabels: { app: name } },
        applications: [
          {
            containerPort: 8080,
            routes: [
              { pathPrefix: "/healthz", unsecured: {} },
              { pathPrefix: "/", secured: { contentSecurityRef: { name } } },
            ],
          },
        ],
      },
    },
    {
      apiVersion: API,
      kind: "ContentSecurity",
      metadata: { name, namespace: ns, resourceVersion: "1" },
      spec: { filter: { denyRulesRef: { name } } },
    },
    {
      apiVersion: API,
      kind: "DenyRules",
      metadata: { name, namespace: ns, resourceVersion: rv },
      spec: { request: { builtIn: { settings: { level: "Standard", threatHandlingMode: mode } } } },
    },
  ];
}

interface Shape {
  readonly name: string;
  readonly gateways: number;
}

function objects(
  n: number,
  shape: Shape,
  changedGateway: number,
  mode: string,
  rv: string,
): (CustomResource | PodInfo)[] {
  const raw: unknown[] = [];
  for (let g = 0; g < shape.gateways; g++) {
    raw.push(
      ...policy("bench", `gw-${g}`, g === changedGateway ? mode : "Block", g === changedGateway ? rv : "1"),
    );
  }
  const perGateway = n / shape.gateways;
  for (let i = 0; i < n; i++) {
    raw.push({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: `pod-${i}`,
        namespace: "bench",
        labels: { app: `gw-${Math.floor(i / perGateway)}` },
        resourceVersion: "1",
      },
    });
  }
  return raw.map((o) => parseResource(o, "bench") as CustomResource | PodInfo);
}

function gc(): void {
  Bun.gc(true);
}

function run(n: number, shape: Shape, rounds: number) {
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.memoryUsage().rss;
  const cache = new ConfigCache();
  const controller = new EngineController(cache, new PodConfigEncoder());
  const base = objects(n, shape, -1, "Block", "1");
  const t0 = performance.now();
  controller.apply({ model: buildModel(base), changed: new Set(), invalid: new Map(), podUids: new Map() });
  const initialMs = performance.now() - t0;
  gc();
  const heapPerPod = (process.memoryUsage().heapUsed - heapBefore) / n;
  const rssPerPod = (process.memoryUsage().rss - rssBefore) / n;

  const changeMs: number[] = [];
  const buildMs: number[] = [];
  let recomputed = 0;
  let changed = 0;
  for (let r = 1; r <= rounds; r++) {
    const mode = r % 2 === 1 ? "LogOnly" : "Block";
    const tb = performance.now();
    const model = buildModel(objects(n, shape, 0, mode, String(r + 1)));
    buildMs.push(performance.now() - tb);
    const snapshot: KubeSnapshot = {
      model,
      changed: new Set(["DenyRules bench/gw-0"]),
      invalid: new Map(),
      podUids: new Map(),
    };
    const t = performance.now();
    const result = controller.apply(snapshot);
    changeMs.push(performance.now() - t);
    recomputed = result.recomputed.length;
    changed = result.changed.length;
  }
  return {
    n,
    shape: shape.name,
    gateways: shape.gateways,
    initialMs: Math.round(initialMs),
    change: distribution(changeMs),
    modelBuild: distribution(buildMs),
    podsRecomputed: recomputed,
    podsChanged: changed,
    distinctResources: cache.distinctResources,
    heapBytesPerPod: Math.round(heapPerPod),
    rssBytesPerPod: Math.round(rssPerPod),
  };
}

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const nArg = args[args.indexOf("--n") + 1];
const ns = smoke ? [100] : args.includes("--n") && nArg ? nArg.split(",").map(Number) : [1000, 10000];
const rounds = smoke ? 2 : 5;
const shapes: Shape[] = [
  { name: "one gateway for all pods", gateways: 1 },
  { name: "100 pods per gateway", gateways: 0 },
];
const results = [];
for (const n of ns) {
  for (const s of shapes) {
    const shape = s.gateways === 0 ? { ...s, gateways: Math.max(1, n / 100) } : s;
    results.push(run(n, shape, rounds));
  }
}
console.log(
  `controller benchmark (Bun ${Bun.version}); change = controller.apply after one DenyRules edit (recompute + encode + cache)`,
);
console.log(
  "pods    gateways  pods recomputed  pods changed  change p50 ms  change max ms  model build ms  initial ms  heap B/pod  RSS B/pod",
);
for (const r of results) {
  console.log(
    [
      String(r.n).padStart(6),
      String(r.gateways).padStart(9),
      String(r.podsRecomputed).padStart(16),
      String(r.podsChanged).padStart(13),
      r.change.p50.toFixed(1).padStart(14),
      r.change.max.toFixed(1).padStart(14),
      r.modelBuild.p50.toFixed(1).padStart(15),
      String(r.initialMs).padStart(11),
      String(r.heapBytesPerPod).padStart(11),
      String(r.rssBytesPerPod).padStart(10),
    ].join(""),
  );
}
const dir = join(import.meta.dir, "../results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `controller-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), bun: Bun.version, results }, null, 2));
console.log(`results: ${file}`);
