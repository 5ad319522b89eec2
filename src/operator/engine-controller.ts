import { errorMessage } from "../errors.ts";
import { gatewayDependencies, gatewaysForPod, type Model, objectKey } from "../model/model.ts";
import { nodeIdOf, type SidecarGateway } from "../model/types.ts";
import type { KubeSnapshot } from "../source/kube-source.ts";
import type { PodConfigEncoder } from "../translate/pod-config-encoder.ts";
import type { ConfigCache } from "../xds/config-cache.ts";

/** What the controller knows about one pod's configuration, for status writers. */
export interface PodConfigState {
  /** `namespace/name` of the SidecarGateway configuring the pod, if any. */
  readonly gateway?: string;
  /** Why the pod's current configuration could not be built (it keeps its last good one). */
  readonly error?: string;
}

/** The outcome of applying one snapshot. */
export interface ControllerResult {
  /** Pods whose configuration was recomputed (`namespace/name`). */
  readonly recomputed: readonly string[];
  /** Pods whose engine configuration actually changed. */
  readonly changed: readonly string[];
  /** Pods that no longer exist. */
  readonly removed: readonly string[];
}

/**
 * Turns model snapshots into engine configurations in the xDS cache, recomputing only the pods a
 * change can affect. A reference index maps every ContentSecurity and DenyRules to the gateways that
 * use it, and every gateway to the pods it configures; a change of one DenyRules therefore touches
 * the pods of the gateways that reference it and nothing else. A pod whose configuration cannot be
 * built (broken reference, two gateways) keeps its last good configuration and records the error.
 */
export class EngineController {
  /** Gateway key -> `Kind ns/name` of every object its translation read. */
  private readonly gatewayDeps = new Map<string, ReadonlySet<string>>();
  /** Pod key -> gateway key that configured it last. */
  private readonly podGateway = new Map<string, string>();
  private readonly states = new Map<string, PodConfigState>();
  private model: Model | undefined;

  constructor(
    private readonly cache: ConfigCache,
    private readonly encoder: PodConfigEncoder,
    private readonly log?: (line: string) => void,
  ) {}

  /** The configuration state of a pod (`namespace/name`). */
  state(podKey: string): PodConfigState | undefined {
    return this.states.get(podKey);
  }

  /** Applies a snapshot; the first one computes every pod. */
  apply(snapshot: KubeSnapshot): ControllerResult {
    const { model } = snapshot;
    const first = this.model === undefined;
    const previous = this.model;
    this.model = model;
    this.encoder.prune(model);

    const affectedPods = new Set<string>();
    const removed: string[] = [];
    if (first) {
      for (const key of model.pods.keys()) affectedPods.add(key);
    } else {
      const affectedGateways = new Set<string>();
      for (const id of snapshot.changed) {
        const space = id.indexOf(" ");
        const kind = id.slice(0, space);
        const key = id.slice(space + 1);
        if (kind === "Pod") {
          if (model.pods.has(key)) affectedPods.add(key);
          else if (previous?.pods.has(key)) removed.push(key);
          continue;
        }
        if (kind === "SidecarGateway") affectedGateways.add(key);
        for (const [gw, deps] of this.gatewayDeps) if (deps.has(id)) affectedGateways.add(gw);
      }
      // The pods an affected gateway configured before, and those its (possibly new) selector
      // matches now; nothing else can change.
      const byGateway = new Map<string, string[]>();
      for (const [podKey, g] of this.podGateway) {
        if (!affectedGateways.has(g)) continue;
        let list = byGateway.get(g);
        if (!list) {
          list = [];
          byGateway.set(g, list);
        }
        list.push(podKey);
      }
      for (const gw of affectedGateways) {
        for (const podKey of byGateway.get(gw) ?? []) if (model.pods.has(podKey)) affectedPods.add(podKey);
        const gateway = model.gateways.get(gw);
        if (!gateway) continue;
        const wanted = Object.entries(gateway.spec.podSelector.matchLabels);
        for (const [podKey, pod] of model.pods) {
          if (pod.metadata.namespace !== gateway.metadata.namespace) continue;
          const labels = pod.metadata.labels ?? {};
          if (wanted.every(([k, v]) => labels[k] === v)) affectedPods.add(podKey);
        }
      }
    }

    for (const key of removed) {
      const [namespace, name] = [key.slice(0, key.indexOf("/")), key.slice(key.indexOf("/") + 1)];
      this.cache.deleteNode(nodeIdOf({ name, namespace }));
      this.podGateway.delete(key);
      this.states.delete(key);
    }

    for (const gw of this.gatewayDeps.keys()) if (!model.gateways.has(gw)) this.gatewayDeps.delete(gw);

    const changed: string[] = [];
    for (const key of affectedPods) {
      const pod = model.pods.get(key);
      if (!pod) continue;
      const nodeId = nodeIdOf(pod.metadata);
      try {
        const gateways = gatewaysForPod(model, pod);
        const encoded = this.encoder.encode(model, pod);
        if (gateways.length === 1) this.recordDeps(model, gateways[0]!);
        if (encoded.gateway) this.podGateway.set(key, encoded.gateway);
        else this.podGateway.delete(key);
        if (this.cache.setNode(nodeId, encoded.resources).size > 0 || !this.states.has(key))
          changed.push(key);
        this.states.set(key, { gateway: encoded.gateway });
      } catch (e) {
        // Keep serving the last good configuration; an engine that has none yet gets nothing.
        if (!this.cache.hasNode(nodeId)) this.cache.setNode(nodeId, []);
        const message = errorMessage(e);
        const prior = this.states.get(key);
        this.states.set(key, { gateway: prior?.gateway, error: message });
        this.log?.(`controller: pod ${key} keeps its last good configuration: ${message}`);
      }
    }
    return { recomputed: [...affectedPods], changed, removed };
  }

  private recordDeps(model: Model, gateway: SidecarGateway): void {
    const deps = new Set(gatewayDependencies(model, gateway).map((d) => d.id));
    this.gatewayDeps.set(objectKey(gateway.metadata), deps);
  }
}
