import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { errorMessage } from "../errors.ts";
import { type EngineStatus, EngineStatusStore } from "../xds/engine-status.ts";
import type { EngineController } from "./engine-controller.ts";
import { MANAGED_BY_LABEL } from "./names.ts";

/** The pod condition `kubectl wait --for=condition=microgateway.airlock.com/engine-config-valid` waits for. */
export const ENGINE_CONFIG_VALID = "microgateway.airlock.com/engine-config-valid";

const GROUP = "microgateway.airlock.com";
const VERSION = "v1alpha1";

/** What the status of one pod's engine is, computed from the controller and the xDS status. */
export interface EngineReport {
  readonly condition: {
    readonly status: "True" | "False";
    readonly reason: string;
    readonly message: string;
  };
  readonly summary: "Active" | "Warning" | "Error";
  readonly resourceTypes: Record<
    string,
    { status: string; errorMessage?: string; resources: Record<string, { version: string }> }
  >;
  /** A NACK not reported yet as an Event. */
  readonly rejection?: { readonly typeUrl: string; readonly message: string; readonly at: number };
}

/**
 * The report of an engine, or undefined while there is nothing settled to say (never connected,
 * or a response in flight): status is written for stable states only, so it never flaps.
 */
export function engineReport(
  engine: Readonly<EngineStatus> | undefined,
  configError: string | undefined,
): EngineReport | undefined {
  if (!engine && !configError) return undefined;
  const resourceTypes: EngineReport["resourceTypes"] = {};
  let rejection: EngineReport["rejection"];
  let pending = false;
  for (const [typeUrl, t] of engine?.types ?? []) {
    const resources: Record<string, { version: string }> = {};
    for (const [name, version] of t.accepted) resources[name] = { version };
    const status = t.state === "Pending" ? "Pending" : t.state;
    resourceTypes[typeUrl] = {
      status,
      ...(t.lastError ? { errorMessage: t.lastError.message.trim() } : {}),
      resources,
    };
    if (t.state === "Sent" || t.state === "Pending") pending = true;
    if (t.state === "Rejected" && t.lastError && (!rejection || t.lastError.at.getTime() > rejection.at)) {
      // Envoy ends its messages with a newline.
      rejection = { typeUrl, message: t.lastError.message.trim(), at: t.lastError.at.getTime() };
    }
  }
  if (configError) {
    return {
      condition: { status: "False", reason: "InvalidConfiguration", message: configError },
      summary: "Error",
      resourceTypes,
      rejection,
    };
  }
  if (rejection) {
    return {
      condition: {
        status: "False",
        reason: "Rejected",
        message: `the engine rejected ${shortType(rejection.typeUrl)}: ${rejection.message}`,
      },
      summary: "Error",
      resourceTypes,
      rejection,
    };
  }
  if (pending || Object.keys(resourceTypes).length === 0) return undefined;
  return {
    condition: { status: "True", reason: "Accepted", message: "the engine accepted its configuration" },
    summary: "Active",
    resourceTypes,
  };
}

function shortType(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf(".") + 1);
}

export interface StatusWriterOptions {
  readonly kubeConfig: KubeConfig;
  readonly operatorNamespace: string;
  readonly status: EngineStatusStore;
  readonly controller: EngineController;
  /** Pod uid by `namespace/name` (for ownerReferences, so status objects die with their pod). */
  readonly podUid: (podKey: string) => string | undefined;
  /** The names of a node's desired resources by type URL (the EnvoyConfiguration spec summary). */
  readonly desiredResources?: (nodeId: string) => Record<string, string[]>;
  /** How often pending writes are flushed (default 200 ms): changes in between are coalesced. */
  readonly flushIntervalMs?: number;
  /** Writes in flight at once (default 8). */
  readonly concurrency?: number;
  readonly log?: (line: string) => void;
}

/**
 * Writes what every engine accepted or rejected back to Kubernetes: one EnvoyConfiguration per pod
 * (owned by the pod), the pod condition `microgateway.airlock.com/engine-config-valid`, and an Event
 * for each rejection. Writes are batched (a dirty set flushed on an interval, at most `concurrency`
 * in flight) and made only when the computed status differs from the last one written, so the
 * writer never hot-loops on its own updates.
 */
export class StatusWriter {
  private readonly dirty = new Set<string>();
  private readonly written = new Map<string, string>();
  private readonly reportedRejections = new Map<string, number>();
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private timer: ReturnType<typeof setInterval> | undefined;
  private unsubscribe: (() => void) | undefined;
  private flushing = false;
  readonly counters = { writes: 0, errors: 0 };

  constructor(private readonly opts: StatusWriterOptions) {
    this.core = opts.kubeConfig.makeApiClient(CoreV1Api);
    this.custom = opts.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  start(): void {
    this.unsubscribe = this.opts.status.subscribe((engine) => {
      const dot = engine.nodeId.lastIndexOf(".");
      if (dot > 0) this.dirty.add(`${engine.nodeId.slice(dot + 1)}/${engine.nodeId.slice(0, dot)}`);
    });
    this.timer = setInterval(() => void this.flush(), this.opts.flushIntervalMs ?? 200);
  }

  /** Marks pods whose configuration state changed (from the controller). */
  markPods(podKeys: Iterable<string>): void {
    for (const k of podKeys) this.dirty.add(k);
  }

  /** Forgets a deleted pod (its EnvoyConfiguration is garbage-collected with it). */
  forget(podKey: string): void {
    this.dirty.delete(podKey);
    this.written.delete(podKey);
    this.reportedRejections.delete(podKey);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    await this.flush();
  }

  /** Writes every dirty pod's status (also called by the interval). */
  async flush(): Promise<void> {
    if (this.flushing || this.dirty.size === 0) return;
    this.flushing = true;
    try {
      const keys = [...this.dirty];
      this.dirty.clear();
      const limit = this.opts.concurrency ?? 8;
      let next = 0;
      const worker = async () => {
        while (next < keys.length) {
          const key = keys[next++]!;
          try {
            await this.writePod(key);
          } catch (e) {
            this.counters.errors++;
            this.dirty.add(key); // retried on the next flush
            this.opts.log?.(`status: ${key}: ${errorMessage(e)}`);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(limit, keys.length) }, worker));
    } finally {
      this.flushing = false;
    }
  }

  private async writePod(podKey: string): Promise<void> {
    const slash = podKey.indexOf("/");
    const namespace = podKey.slice(0, slash);
    const name = podKey.slice(slash + 1);
    const uid = this.opts.podUid(podKey);
    if (!uid) return; // pod gone or not ours
    const report = engineReport(
      this.opts.status.get(`${name}.${namespace}`),
      this.opts.controller.state(podKey)?.error,
    );
    if (!report) return;
    const desired = this.opts.desiredResources?.(`${name}.${namespace}`) ?? {};
    const fingerprint = JSON.stringify([report.condition, report.summary, report.resourceTypes, desired]);
    if (this.written.get(podKey) !== fingerprint) {
      await this.writeEnvoyConfiguration(namespace, name, uid, report, desired);
      await this.writeCondition(namespace, name, report);
      this.written.set(podKey, fingerprint);
      this.counters.writes++;
    }
    if (report.rejection && this.reportedRejections.get(podKey) !== report.rejection.at) {
      await this.writeEvent(namespace, name, uid, report.rejection.message);
      this.reportedRejections.set(podKey, report.rejection.at);
    }
  }

  private async writeEnvoyConfiguration(
    namespace: string,
    name: string,
    uid: string,
    report: EngineReport,
    desired: Record<string, string[]>,
  ): Promise<void> {
    const base = { group: GROUP, version: VERSION, namespace, plural: "envoyconfigurations" };
    // The spec names the desired resources (envoyResourcesRaw stays empty: see docs/decisions.md).
    const spec = { envoyResources: desired };
    const status = {
      status: report.summary,
      conditions: [
        {
          type: "Valid",
          status: report.condition.status,
          reason: report.condition.reason,
          message: report.condition.message,
          lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
        },
      ],
      xds: { resourceTypes: report.resourceTypes },
    };
    try {
      await this.custom.createNamespacedCustomObject({
        ...base,
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: "EnvoyConfiguration",
          metadata: {
            name,
            namespace,
            labels: { [MANAGED_BY_LABEL]: this.opts.operatorNamespace },
            ownerReferences: [
              { apiVersion: "v1", kind: "Pod", name, uid, blockOwnerDeletion: false, controller: true },
            ],
          },
          spec,
        },
      });
    } catch (e) {
      if (!(e instanceof ApiException && e.code === 409)) throw e;
      await this.custom.patchNamespacedCustomObject(
        { ...base, name, body: { spec } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
    }
    await this.custom.patchNamespacedCustomObjectStatus(
      { ...base, name, body: { status } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }

  private async writeCondition(namespace: string, name: string, report: EngineReport): Promise<void> {
    const condition = {
      type: ENGINE_CONFIG_VALID,
      status: report.condition.status,
      reason: report.condition.reason,
      message: report.condition.message,
      lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
    // A strategic merge patch merges conditions by type: other conditions are untouched.
    await this.core.patchNamespacedPodStatus(
      { name, namespace, body: { status: { conditions: [condition] } } },
      setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
    );
  }

  private async writeEvent(namespace: string, name: string, uid: string, message: string): Promise<void> {
    const now = new Date().toISOString();
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${name}.`, namespace },
        involvedObject: { apiVersion: "v1", kind: "Pod", name, namespace, uid },
        reason: "EngineConfigRejected",
        message: message.slice(0, 1024),
        type: "Warning",
        source: { component: "microgateway-operator" },
        firstTimestamp: now as unknown as Date,
        lastTimestamp: now as unknown as Date,
        count: 1,
      },
    });
  }
}

export { EngineStatusStore };
