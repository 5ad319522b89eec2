/**
 * The benchmark's cluster: N identical pods `bench-<i>` in namespace `bench`, all selected by the
 * example SidecarGateway, and the pipeline that turns them into cached xDS resources the way the
 * operator does (model -> PodConfigEncoder -> ConfigCache.setNode, per pod; the encoder translates and
 * encodes once per gateway version and every pod shares the bytes).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { buildModel, type Model, validateModel } from "../../src/model/model.ts";
import { parseResource } from "../../src/model/parse.ts";
import {
  type CustomResource,
  nodeIdOf,
  type PodInfo,
  type ThreatHandlingMode,
} from "../../src/model/types.ts";
import type { PodConfigEncoder } from "../../src/translate/pod-config-encoder.ts";
import type { ConfigCache } from "../../src/xds/config-cache.ts";
import { TypeUrl } from "../../src/xds/resource-types.ts";
import { wallMs } from "../support/clock.ts";
import type { ChangeTimings } from "./messages.ts";

/** Namespace of every benchmark pod; the engines' client certificate names it. */
export const BENCH_NAMESPACE = "bench";

/** The custom resources and pods of the benchmark. */
export interface BenchFleet {
  readonly resources: readonly CustomResource[];
  readonly pods: readonly PodInfo[];
}

/** Node id of pod `i` (`bench-<i>.bench`), as the simulated engines announce it. */
export function benchNodeId(i: number): string {
  return nodeIdOf({ name: `bench-${i}`, namespace: BENCH_NAMESPACE });
}

/**
 * Reads the custom resources of `manifestDir` (the local demo's SidecarGateway, ContentSecurity and
 * DenyRules by default) into namespace `bench`, and adds `pods` pods labelled `app: demo`.
 */
export function loadBenchFleet(pods: number, manifestDir: string): BenchFleet {
  const resources: CustomResource[] = [];
  for (const file of readdirSync(manifestDir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()) {
    const docs = parseAllDocuments(readFileSync(join(manifestDir, file), "utf8"));
    for (const [i, doc] of docs.entries()) {
      const raw = doc.toJS() as { metadata?: Record<string, unknown> } | null;
      if (!raw?.metadata) continue;
      raw.metadata.namespace = BENCH_NAMESPACE;
      const obj = parseResource(raw, `${file}#${i + 1}`);
      if (obj && "kind" in obj && obj.kind !== "Secret") resources.push(obj);
    }
  }
  const podList: PodInfo[] = [];
  for (let i = 0; i < pods; i++) {
    const obj = parseResource({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `bench-${i}`, namespace: BENCH_NAMESPACE, labels: { app: "demo" } },
    });
    if (obj && !("kind" in obj)) podList.push(obj);
  }
  return { resources, pods: podList };
}

/**
 * The model with every DenyRules' threatHandlingMode set to `mode`: the smallest real policy edit,
 * and one that changes the listener of every pod the gateway selects.
 */
export function benchModel(fleet: BenchFleet, mode: ThreatHandlingMode): Model {
  const resources = fleet.resources.map((r): CustomResource => {
    if (r.kind !== "DenyRules") return r;
    const settings = { ...r.spec.request.builtIn.settings, threatHandlingMode: mode };
    // An edit gets a new resourceVersion, as the API server gives it; the translation memo keys on it.
    const metadata = { ...r.metadata, resourceVersion: `${r.metadata.resourceVersion}-${mode}` };
    return { ...r, metadata, spec: { ...r.spec, request: { ...r.spec.request, builtIn: { settings } } } };
  });
  const model = buildModel([...resources, ...fleet.pods]);
  const problems = validateModel(model);
  if (problems.length > 0) throw new Error(problems.map((p) => p.message).join("\n"));
  if (model.denyRules.size === 0) throw new Error("the benchmark manifests define no DenyRules to change");
  return model;
}

/** The result of pushing the fleet into the cache. */
export interface FleetPush extends ChangeTimings {
  readonly changedNodes: number;
  /** The version of the pods' RouteConfiguration: where the DenyRules mode is. */
  readonly routeVersion: string;
}

/**
 * Translates, encodes and sets every pod of the fleet, as the operator does after one DenyRules
 * edit, and times each stage. setNode notifies the open streams synchronously, so its time includes
 * computing every engine's next response (not writing it: that happens after this returns).
 * Also returns the model the pods were translated from: a controller keeps it.
 */
export function pushFleet(
  cache: ConfigCache,
  encoder: PodConfigEncoder,
  fleet: BenchFleet,
  mode: ThreatHandlingMode,
): FleetPush & { readonly model: Model } {
  const start = wallMs();
  const model = benchModel(fleet, mode);
  const modelDone = wallMs();
  let translateEncodeMs = 0;
  let setNodeMs = 0;
  let changedNodes = 0;
  for (const pod of fleet.pods) {
    const t0 = wallMs();
    const { resources } = encoder.encode(model, pod);
    const t1 = wallMs();
    if (cache.setNode(nodeIdOf(pod.metadata), resources).size > 0) changedNodes++;
    translateEncodeMs += t1 - t0;
    setNodeMs += wallMs() - t1;
  }
  return {
    model,
    modelMs: modelDone - start,
    translateEncodeMs,
    setNodeMs,
    totalMs: wallMs() - start,
    changedNodes,
    routeVersion: sharedRouteVersion(cache, fleet.pods),
  };
}

/**
 * Gives pod number `index` alone the configuration `model` describes for it, and leaves every other
 * pod alone: the change of one pod (its own labels or spec, or a policy only it uses).
 */
export function pushPod(
  cache: ConfigCache,
  encoder: PodConfigEncoder,
  model: Model,
  fleet: BenchFleet,
  index: number,
): FleetPush {
  const pod = fleet.pods[index];
  if (!pod) throw new Error(`change-pod: no pod ${index} (the fleet has ${fleet.pods.length})`);
  const start = wallMs();
  const { resources } = encoder.encode(model, pod);
  const encoded = wallMs();
  const nodeId = nodeIdOf(pod.metadata);
  const changedNodes = cache.setNode(nodeId, resources).size > 0 ? 1 : 0;
  const end = wallMs();
  const [routes] = cache.resources(nodeId, TypeUrl.RouteConfiguration).values();
  return {
    modelMs: 0,
    translateEncodeMs: encoded - start,
    setNodeMs: end - encoded,
    totalMs: end - start,
    changedNodes,
    routeVersion: routes?.version ?? "",
  };
}

/** The one route configuration version all pods have; throws if pods differ (the engines could not be checked then). */
function sharedRouteVersion(cache: ConfigCache, pods: readonly PodInfo[]): string {
  const versions = new Set<string>();
  for (const pod of pods) {
    for (const r of cache.resources(nodeIdOf(pod.metadata), TypeUrl.RouteConfiguration).values())
      versions.add(r.version);
  }
  const [only] = versions;
  if (versions.size !== 1 || only === undefined) {
    throw new Error(`expected every pod to share one route configuration version, found ${versions.size}`);
  }
  return only;
}

/** The RouteConfigurations the pods' listener names (every pod has the same), which engines subscribe. */
export function routeNamesOf(cache: ConfigCache, pods: readonly PodInfo[]): string[] {
  const first = pods[0];
  return first
    ? [...cache.resources(nodeIdOf(first.metadata), TypeUrl.RouteConfiguration).keys()].sort()
    : [];
}
