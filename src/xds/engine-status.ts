/**
 * What each engine accepted or rejected, per resource type: the source of truth for
 * EnvoyConfiguration status, the pod condition and NACK metrics. It outlives streams, so a
 * version an engine rejected is not pushed again after a reconnect.
 */

/** Per type: NotRequested until the engine asks, Sent while a response awaits its ACK/NACK. */
export type TypeState = "Pending" | "Sent" | "Accepted" | "Rejected";

export interface Rejection {
  /** Envoy's error message (google.rpc.Status.message of the NACK). */
  readonly message: string;
  readonly code: number;
  /** The resource versions of the rejected response, by name. */
  readonly versions: ReadonlyMap<string, string>;
  readonly at: Date;
}

export interface TypeStatus {
  state: TypeState;
  /** Resource versions the engine has ACKed, by name (what it runs now). */
  readonly accepted: Map<string, string>;
  /** The latest rejection, kept until a later response of this type is accepted. */
  lastError?: Rejection;
  /** Versions that were rejected, by name: never pushed again while they stay the desired version. */
  readonly rejected: Map<string, string>;
}

export interface EngineStatus {
  readonly nodeId: string;
  /** Open streams of this engine (normally 0 or 1). */
  streams: number;
  readonly types: Map<string, TypeStatus>;
  lastChange: Date;
}

export type EngineStatusListener = (status: Readonly<EngineStatus>) => void;

/** Counters for the xDS server's /metrics and for benchmarks. */
export interface XdsCounters {
  responses: number;
  resourcesSent: number;
  bytesSent: number;
  acks: number;
  nacks: number;
  /** Requests whose nonce matched nothing in flight (ignored for ACK purposes). */
  staleNonces: number;
  streamsOpened: number;
  streamsClosed: number;
  protocolErrors: number;
}

/** Keeps an EngineStatus per node id and tells listeners about changes. */
export class EngineStatusStore {
  private readonly engines = new Map<string, EngineStatus>();
  private readonly listeners = new Set<EngineStatusListener>();
  readonly counters: XdsCounters = {
    responses: 0,
    resourcesSent: 0,
    bytesSent: 0,
    acks: 0,
    nacks: 0,
    staleNonces: 0,
    streamsOpened: 0,
    streamsClosed: 0,
    protocolErrors: 0,
  };

  /** The status of an engine, created on first use. */
  engine(nodeId: string): EngineStatus {
    let s = this.engines.get(nodeId);
    if (!s) {
      s = { nodeId, streams: 0, types: new Map(), lastChange: new Date() };
      this.engines.set(nodeId, s);
    }
    return s;
  }

  /** The status of one type of an engine, created on first use. */
  type(nodeId: string, typeUrl: string): TypeStatus {
    const e = this.engine(nodeId);
    let t = e.types.get(typeUrl);
    if (!t) {
      t = { state: "Pending", accepted: new Map(), rejected: new Map() };
      e.types.set(typeUrl, t);
    }
    return t;
  }

  /** A read-only view for status writers; undefined if the engine never connected. */
  get(nodeId: string): Readonly<EngineStatus> | undefined {
    return this.engines.get(nodeId);
  }

  /** All known engines. */
  all(): IterableIterator<Readonly<EngineStatus>> {
    return this.engines.values();
  }

  /** Forgets an engine whose pod is gone. */
  delete(nodeId: string): void {
    this.engines.delete(nodeId);
  }

  /** Subscribes to status changes; returns the unsubscribe function. */
  subscribe(listener: EngineStatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records that the engine's status changed and tells listeners. */
  changed(nodeId: string): void {
    const s = this.engine(nodeId);
    s.lastChange = new Date();
    for (const l of [...this.listeners]) l(s);
  }

  /** Records an ACK: the versions in `sent` are now what the engine runs; `removed` names are gone. */
  accept(
    nodeId: string,
    typeUrl: string,
    sent: ReadonlyMap<string, string>,
    removed: readonly string[],
  ): void {
    const t = this.type(nodeId, typeUrl);
    for (const [name, version] of sent) {
      t.accepted.set(name, version);
      if (t.rejected.get(name) !== version) t.rejected.delete(name);
    }
    for (const name of removed) {
      t.accepted.delete(name);
      t.rejected.delete(name);
    }
    t.state = "Accepted";
    t.lastError = undefined;
    this.counters.acks++;
    this.changed(nodeId);
  }

  /** Records a NACK: the versions in `sent` are rejected and will not be pushed again. */
  reject(
    nodeId: string,
    typeUrl: string,
    sent: ReadonlyMap<string, string>,
    message: string,
    code: number,
  ): void {
    const t = this.type(nodeId, typeUrl);
    for (const [name, version] of sent) t.rejected.set(name, version);
    t.state = "Rejected";
    t.lastError = { message, code, versions: new Map(sent), at: new Date() };
    this.counters.nacks++;
    this.changed(nodeId);
  }

  /**
   * Records that the engine already runs the desired resources of a type (e.g. the configuration
   * went back to the last good version after a rejection), so nothing needed sending.
   */
  converged(nodeId: string, typeUrl: string): void {
    const t = this.type(nodeId, typeUrl);
    if (t.state === "Accepted") return;
    t.state = "Accepted";
    t.lastError = undefined;
    this.changed(nodeId);
  }

  /** Whether `version` of `name` was rejected by this engine. */
  isRejected(nodeId: string, typeUrl: string, name: string, version: string): boolean {
    return this.engines.get(nodeId)?.types.get(typeUrl)?.rejected.get(name) === version;
  }
}
