import {
  ApiException,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { API_GROUP, API_VERSION_NAME } from "../api/crd.ts";
import { errorMessage } from "../errors.ts";
import { nodeIdOf } from "../model/types.ts";
import type { KubeSnapshot } from "../source/kube-source.ts";
import type { EngineStatusStore } from "../xds/engine-status.ts";
import type { EngineController } from "./engine-controller.ts";
import {
  type DesiredGatewayStatus,
  desiredGatewayStatus,
  type GatewayFindings,
  gatewayFindings,
  type PodReports,
} from "./gateway-status.ts";
import { engineReport } from "./status-writer.ts";

const PLURAL = "sidecargateways";

export interface GatewayStatusWriterOptions {
  readonly kubeConfig: KubeConfig;
  readonly status: EngineStatusStore;
  readonly controller: Pick<EngineController, "state">;
  /** The latest snapshot, undefined before the first. */
  readonly snapshot: () => KubeSnapshot | undefined;
  /** Whether this replica writes shared objects; asked on every flush. */
  readonly isLeader: () => boolean;
  /** How often changes are flushed (default 200 ms): changes in between are coalesced. */
  readonly flushIntervalMs?: number;
  /** Writes in flight at once (default 8). */
  readonly concurrency?: number;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
}

/** A condition as stored in `status.conditions`. */
interface StoredCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime?: string;
  readonly observedGeneration?: number;
}

/** The part of `status` this writer owns (unmanagedPods is left alone). */
interface StoredGatewayStatus {
  readonly status?: string;
  readonly conditions?: readonly StoredCondition[];
  readonly pods?: readonly { readonly name: string; readonly envoyConfig?: string }[];
}

/** What the API server last told us about a gateway. */
interface Observed {
  readonly generation: number;
  readonly resourceVersion: string;
  readonly status: StoredGatewayStatus | undefined;
}

interface GatewayObject {
  readonly metadata?: { namespace?: string; name?: string; generation?: number; resourceVersion?: string };
  readonly status?: StoredGatewayStatus;
}

/**
 * Writes SidecarGateway status (see gateway-status.ts) through the status subresource, on the
 * leader only. It compares what it would write with what the API server holds (listed when it
 * starts leading, re-read when the gateway changed under it) and patches only differences, so its
 * own writes, which come back as watch events, write nothing; lastTransitionTime is carried over
 * while a condition's status stays. Changes are batched: a change marks its namespace (references
 * and selectors never leave it) and a flush recomputes that namespace's gateways.
 */
export class GatewayStatusWriter {
  private readonly api: CustomObjectsApi;
  private readonly dirtyNamespaces = new Set<string>();
  /** Gateways whose observed copy may be older than the API server's. */
  private readonly stale = new Set<string>();
  private readonly observed = new Map<string, Observed>();
  private findings: { snapshot: KubeSnapshot; findings: GatewayFindings } | undefined;
  private leading = false;
  private allDirty = false;
  private flushing = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private unsubscribe: (() => void) | undefined;
  /** API calls made: status patches, reads (GET and LIST), failures. */
  readonly counters = { writes: 0, reads: 0, errors: 0 };

  constructor(private readonly opts: GatewayStatusWriterOptions) {
    this.api = opts.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  start(): void {
    this.unsubscribe = this.opts.status.subscribe((engine) => {
      const dot = engine.nodeId.lastIndexOf(".");
      if (dot > 0) this.dirtyNamespaces.add(engine.nodeId.slice(dot + 1));
    });
    this.timer = setInterval(() => void this.flush(), this.opts.flushIntervalMs ?? 200);
  }

  /** Marks what a snapshot changed. */
  onSnapshot(snapshot: KubeSnapshot): void {
    for (const id of snapshot.changed) {
      const space = id.indexOf(" ");
      const key = id.slice(space + 1);
      this.dirtyNamespaces.add(key.slice(0, key.indexOf("/")));
      if (id.slice(0, space) === "SidecarGateway") this.stale.add(key);
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    await this.flush();
  }

  /** Writes the status of every gateway in a changed namespace that differs (also called by the interval). */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      if (!this.opts.isLeader()) {
        // Another replica writes; what we observed may be outdated by the time we lead again.
        this.leading = false;
        this.observed.clear();
        this.dirtyNamespaces.clear();
        this.stale.clear();
        return;
      }
      const snapshot = this.opts.snapshot();
      if (!snapshot) return;
      const findings = this.findingsOf(snapshot);
      if (!this.leading) {
        await this.observeAll(findings);
        this.leading = true;
        this.allDirty = true;
      }
      if (!this.allDirty && this.dirtyNamespaces.size === 0) return;
      const all = this.allDirty;
      const namespaces = new Set(this.dirtyNamespaces);
      this.allDirty = false;
      this.dirtyNamespaces.clear();
      const existing = new Set(findings.gateways);
      for (const key of this.observed.keys()) if (!existing.has(key)) this.observed.delete(key);
      const keys = findings.gateways.filter((k) => all || namespaces.has(k.slice(0, k.indexOf("/"))));
      await eachConcurrently(keys, this.opts.concurrency ?? 8, async (key) => {
        try {
          await this.writeGateway(key, findings);
        } catch (e) {
          this.counters.errors++;
          this.dirtyNamespaces.add(key.slice(0, key.indexOf("/")));
          this.stale.add(key);
          this.opts.log?.(`status: SidecarGateway ${key}: ${errorMessage(e)}`);
        }
      });
    } catch (e) {
      this.counters.errors++;
      this.opts.log?.(`status: SidecarGateways: ${errorMessage(e)}`);
    } finally {
      this.flushing = false;
    }
  }

  private findingsOf(snapshot: KubeSnapshot): GatewayFindings {
    if (this.findings?.snapshot !== snapshot) {
      this.findings = { snapshot, findings: gatewayFindings(snapshot.model, snapshot.invalid) };
    }
    return this.findings.findings;
  }

  private reports(): PodReports {
    const { controller, status } = this.opts;
    return {
      state: (podKey) => controller.state(podKey),
      engine: (podKey) => {
        const slash = podKey.indexOf("/");
        const nodeId = nodeIdOf({ namespace: podKey.slice(0, slash), name: podKey.slice(slash + 1) });
        return engineReport(status.get(nodeId), controller.state(podKey)?.error);
      },
    };
  }

  private async writeGateway(key: string, findings: GatewayFindings): Promise<void> {
    const desired = desiredGatewayStatus(findings, key, this.reports());
    if (!desired) {
      this.observed.delete(key);
      this.stale.delete(key);
      return;
    }
    let observed = this.observed.get(key);
    const wasStale = this.stale.delete(key);
    // Our own status write comes back as a change with the resourceVersion we already know.
    const modelVersion = findings.model.gateways.get(key)?.metadata.resourceVersion;
    if (!observed || (wasStale && modelVersion !== observed.resourceVersion)) {
      observed = await this.read(key);
      if (!observed) return;
    }
    const next = stamped(desired, observed, this.opts.now?.() ?? new Date());
    if (sameStatus(next, observed.status)) return;
    const slash = key.indexOf("/");
    this.counters.writes++;
    const patched: GatewayObject = await this.api
      .patchNamespacedCustomObjectStatus(
        {
          group: API_GROUP,
          version: API_VERSION_NAME,
          plural: PLURAL,
          namespace: key.slice(0, slash),
          name: key.slice(slash + 1),
          body: { status: next },
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      )
      .catch((e: unknown) => {
        if (e instanceof ApiException && e.code === 404) return undefined;
        throw e;
      });
    if (patched) this.observed.set(key, observedOf(patched));
    else this.observed.delete(key);
  }

  private async read(key: string): Promise<Observed | undefined> {
    const slash = key.indexOf("/");
    this.counters.reads++;
    try {
      const obj: GatewayObject = await this.api.getNamespacedCustomObject({
        group: API_GROUP,
        version: API_VERSION_NAME,
        plural: PLURAL,
        namespace: key.slice(0, slash),
        name: key.slice(slash + 1),
      });
      const observed = observedOf(obj);
      this.observed.set(key, observed);
      return observed;
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) {
        this.observed.delete(key);
        return undefined;
      }
      throw e;
    }
  }

  /**
   * One LIST per namespace instead of a GET per gateway when this replica starts leading. Per
   * namespace, because an operator watching a list of namespaces may not list cluster-wide; a
   * namespace whose LIST fails gets its gateways read one by one when they are written.
   */
  private async observeAll(findings: GatewayFindings): Promise<void> {
    this.observed.clear();
    this.stale.clear();
    const namespaces = [...new Set(findings.gateways.map((k) => k.slice(0, k.indexOf("/"))))];
    await eachConcurrently(namespaces, this.opts.concurrency ?? 8, async (namespace) => {
      this.counters.reads++;
      try {
        const list: { items?: GatewayObject[] } = await this.api.listNamespacedCustomObject({
          group: API_GROUP,
          version: API_VERSION_NAME,
          plural: PLURAL,
          namespace,
        });
        for (const obj of list.items ?? []) {
          if (obj.metadata?.name) this.observed.set(`${namespace}/${obj.metadata.name}`, observedOf(obj));
        }
      } catch (e) {
        this.counters.errors++;
        this.opts.log?.(`status: SidecarGateways in ${namespace}: ${errorMessage(e)}`);
      }
    });
  }
}

function observedOf(obj: GatewayObject): Observed {
  return {
    generation: obj.metadata?.generation ?? 0,
    resourceVersion: obj.metadata?.resourceVersion ?? "",
    status: obj.status,
  };
}

/** The status to write: `desired` with lastTransitionTime kept while a condition's status stays. */
function stamped(desired: DesiredGatewayStatus, observed: Observed, now: Date): StoredGatewayStatus {
  const time = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    status: desired.status,
    conditions: desired.conditions.map((c) => {
      const before = observed.status?.conditions?.find((o) => o.type === c.type);
      return {
        type: c.type,
        status: c.status,
        reason: c.reason,
        message: c.message,
        lastTransitionTime:
          before?.status === c.status && before.lastTransitionTime ? before.lastTransitionTime : time,
        observedGeneration: observed.generation,
      };
    }),
    pods: desired.pods.map((p) => ({ name: p.name, envoyConfig: p.envoyConfig })),
  };
}

/** Whether the stored status already says what `next` says (field order and unknown fields aside). */
function sameStatus(next: StoredGatewayStatus, stored: StoredGatewayStatus | undefined): boolean {
  const canonical = (s: StoredGatewayStatus | undefined) =>
    JSON.stringify([
      s?.status,
      (s?.conditions ?? []).map((c) => [
        c.type,
        c.status,
        c.reason,
        c.message,
        c.lastTransitionTime,
        c.observedGeneration,
      ]),
      (s?.pods ?? []).map((p) => [p.name, p.envoyConfig]),
    ]);
  return canonical(next) === canonical(stored);
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function eachConcurrently<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
