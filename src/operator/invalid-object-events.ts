import { createHash } from "node:crypto";
import { ApiException, CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { API_GROUP, API_VERSION, API_VERSION_NAME } from "../api/crd.ts";
import { API_KINDS } from "../api/kinds.ts";
import { errorMessage } from "../errors.ts";
import type { KubeSnapshot } from "../source/kube-source.ts";

/** The Event reason `kubectl describe` shows on an object that failed validation. */
export const INVALID_CONFIGURATION = "InvalidConfiguration";

export interface InvalidObjectEventsOptions {
  readonly kubeConfig: KubeConfig;
  /** Whether this replica writes shared objects; asked on every flush. */
  readonly isLeader: () => boolean;
  /** How often new invalid objects are reported (default 200 ms). */
  readonly flushIntervalMs?: number;
  readonly log?: (line: string) => void;
}

interface CustomObject {
  readonly metadata?: { uid?: string; generation?: number; resourceVersion?: string };
}

/**
 * Reports every custom resource that fails validation (`KubeSnapshot.invalid`) as a Warning Event
 * `InvalidConfiguration` on that object, with the message naming the field: once per generation,
 * so neither relists nor our own status writes (which change the resourceVersion, not the
 * generation) repeat it. The Event's name is derived from the object's uid and generation, so a
 * replica that takes over leadership does not repeat what the previous leader reported (the API
 * server answers 409). Only the leader writes.
 */
export class InvalidObjectEvents {
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  /** Invalid objects by `Kind ns/name`, with the latest error message. */
  private readonly invalid = new Map<string, string>();
  /** Invalid objects that changed since they were last looked at. */
  private readonly pending = new Set<string>();
  /** `uid/generation` last reported, by `Kind ns/name`. */
  private readonly reported = new Map<string, string>();
  private flushing = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** API calls made: Events created (or found already created), reads, failures. */
  readonly counters = { events: 0, reads: 0, errors: 0 };

  constructor(private readonly opts: InvalidObjectEventsOptions) {
    this.core = opts.kubeConfig.makeApiClient(CoreV1Api);
    this.custom = opts.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.opts.flushIntervalMs ?? 200);
  }

  /** Notes which objects are invalid now and which of them changed. */
  onSnapshot(snapshot: KubeSnapshot): void {
    for (const id of [...this.invalid.keys()]) {
      if (!snapshot.invalid.has(id)) {
        this.invalid.delete(id);
        this.pending.delete(id);
        this.reported.delete(id);
      }
    }
    for (const [id, error] of snapshot.invalid) {
      if (!this.invalid.has(id) || snapshot.changed.has(id) || this.invalid.get(id) !== error.message)
        this.pending.add(id);
      this.invalid.set(id, error.message);
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  /** Reports the pending objects (also called by the interval); a non-leader keeps them pending. */
  async flush(): Promise<void> {
    if (this.flushing || this.pending.size === 0 || !this.opts.isLeader()) return;
    this.flushing = true;
    try {
      const ids = [...this.pending];
      this.pending.clear();
      for (const id of ids) {
        try {
          await this.report(id);
        } catch (e) {
          this.counters.errors++;
          this.pending.add(id);
          this.opts.log?.(`status: event for ${id}: ${errorMessage(e)}`);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async report(id: string): Promise<void> {
    const message = this.invalid.get(id);
    const space = id.indexOf(" ");
    const kind = id.slice(0, space);
    const slash = id.indexOf("/", space);
    const namespace = id.slice(space + 1, slash);
    const name = id.slice(slash + 1);
    const plural = API_KINDS.find((k) => k.kind === kind)?.plural;
    if (message === undefined || plural === undefined) return;
    this.counters.reads++;
    let obj: CustomObject;
    try {
      obj = await this.custom.getNamespacedCustomObject({
        group: API_GROUP,
        version: API_VERSION_NAME,
        plural,
        namespace,
        name,
      });
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return; // deleted; the next snapshot says so
      throw e;
    }
    const uid = obj.metadata?.uid ?? "";
    const mark = `${uid}/${obj.metadata?.generation ?? 0}`;
    if (this.reported.get(id) === mark) return;
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: eventName(name, kind, mark), namespace },
          involvedObject: {
            apiVersion: API_VERSION,
            kind,
            name,
            namespace,
            uid,
            resourceVersion: obj.metadata?.resourceVersion,
          },
          reason: INVALID_CONFIGURATION,
          message: message.slice(0, 1024),
          type: "Warning",
          source: { component: "microgateway-operator" },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
      this.counters.events++;
    } catch (e) {
      if (!(e instanceof ApiException && e.code === 409)) throw e;
    }
    this.reported.set(id, mark);
  }
}

/** `<object>.<hash of kind, uid and generation>`: the same for every replica, unique per generation. */
function eventName(name: string, kind: string, mark: string): string {
  const hash = createHash("sha256").update(`${kind}/${mark}`).digest("hex").slice(0, 16);
  return `${name.slice(0, 253 - 17)}.${hash}`;
}
