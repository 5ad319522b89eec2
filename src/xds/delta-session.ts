import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import {
  type DeltaDiscoveryResponse,
  DeltaDiscoveryResponseSchema,
  ResourceSchema,
} from "../../gen/envoy/service/discovery/v3/discovery_pb.js";
import { MicrogatewayError } from "../errors.ts";
import type { CachedResource } from "./cached-resource.ts";
import type { ConfigCache } from "./config-cache.ts";
import type { EngineStatusStore } from "./engine-status.ts";
import { compareTypes, isRemovedLast } from "./resource-types.ts";
import { streamNode } from "./stream-node.ts";
import { type DeltaResponseParts, deltaResponseFrame } from "./wire.ts";

const WILDCARD = "*";
const NO_RESOURCES: ReadonlyMap<string, CachedResource> = new Map();

/** Subscription state of one type URL on one stream. */
interface TypeSubscription {
  /** Subscribed to everything of this type (explicit "*" or legacy: no names ever subscribed). */
  wildcard: boolean;
  /** Explicitly subscribed names (without "*"). */
  readonly names: Set<string>;
  /** What the client has, by name, as far as this stream knows (from ACKs and initial_resource_versions). */
  readonly known: Map<string, string>;
  /** Names the client asked for since the last response: they must be answered even if unchanged. */
  readonly forced: Set<string>;
  /** The client's first request on this stream still awaits an answer. */
  initial: boolean;
  /**
   * The cache's map of this type when the type was last found to have nothing to send; undefined
   * once a request touched the type. The type is looked at again unless this is still the cache's
   * map (the cache replaces a node's maps on every change): every ACK of a fan-out would otherwise
   * diff every subscribed type twice.
   */
  clean: ReadonlyMap<string, CachedResource> | undefined;
}

/** A delta response as the session decides it; `frame` or `message` turn it into bytes or a message. */
export interface DeltaResponse extends DeltaResponseParts {
  readonly resources: readonly CachedResource[];
}

/** The response as one gRPC message frame, built from the resources' pre-encoded bytes. */
export function deltaFrame(r: DeltaResponse): Uint8Array {
  return deltaResponseFrame(r);
}

/** The response as a protobuf-es message (the connect transport and tests). */
export function deltaMessage(r: DeltaResponse): DeltaDiscoveryResponse {
  return create(DeltaDiscoveryResponseSchema, {
    typeUrl: r.typeUrl,
    nonce: r.nonce,
    systemVersionInfo: r.systemVersionInfo,
    resources: r.resources.map((x) =>
      create(ResourceSchema, { name: x.name, version: x.version, resource: x.any }),
    ),
    removedResources: [...r.removed],
  });
}

/**
 * What the session reads of a DeltaDiscoveryRequest: a protobuf-es message, or a plain ACK decoded
 * by hand (wire.ts decodeDeltaAck).
 */
export interface DeltaRequest {
  readonly typeUrl: string;
  readonly responseNonce: string;
  readonly node?: { readonly id: string } | undefined;
  readonly resourceNamesSubscribe: readonly string[];
  readonly resourceNamesUnsubscribe: readonly string[];
  readonly initialResourceVersions: Readonly<Record<string, string>>;
  readonly errorDetail?: { readonly message: string; readonly code: number } | undefined;
}

interface InFlight {
  readonly nonce: string;
  readonly typeUrl: string;
  readonly sent: ReadonlyMap<string, string>;
  readonly removed: readonly string[];
}

/**
 * The incremental (delta) ADS protocol for one stream, as a plain state machine: feed it requests
 * and configuration changes, and ask it for the next response. No I/O, no timers.
 *
 * Rules followed (xDS protocol; see shared/reference/peers-and-xds.md §2):
 * - ACK vs NACK is decided by the presence of `error_detail`, for the response named by the nonce.
 * - One response in flight per stream: the next is computed only after the previous is ACKed or
 *   NACKed. With types visited in make-before-break order, this makes a push that adds a cluster
 *   and a listener using it send the cluster, wait for Envoy to apply it, then the listener.
 * - Subscriptions are honoured whatever the nonce; a name just subscribed is always answered
 *   (with the resource, or in `removed_resources` if it does not exist).
 * - `initial_resource_versions` seed what the client has: unchanged resources are not re-sent,
 *   and names the client has but should not are removed.
 * - Unchanged resources are never re-sent; a version the engine rejected is not pushed again.
 */
export class DeltaSession {
  private nodeId: string | undefined;
  private readonly types = new Map<string, TypeSubscription>();
  /** The subscribed types in push order (kept sorted as types are added). */
  private order: string[] = [];
  private inFlight: InFlight | undefined;

  constructor(
    private readonly cache: ConfigCache,
    private readonly status: EngineStatusStore,
    /** Checks that the stream may be served the node (authorization); throws to refuse. */
    private readonly authorizeNode: (nodeId: string) => void = () => {},
  ) {}

  /** The node id this stream serves, known after the first request. */
  get node(): string | undefined {
    return this.nodeId;
  }

  /** Whether a response is awaiting its ACK/NACK. */
  get waiting(): boolean {
    return this.inFlight !== undefined;
  }

  /**
   * Applies one request from the client. Throws MicrogatewayError for protocol violations
   * (the stream should then be closed with that error).
   */
  handle(req: DeltaRequest): void {
    this.bindNode(req);
    const typeUrl = req.typeUrl;
    if (typeUrl === "")
      throw new MicrogatewayError("InvalidArgument", "DeltaDiscoveryRequest.type_url is empty");

    if (req.responseNonce !== "") this.settle(req);

    let sub = this.types.get(typeUrl);
    if (!sub) {
      sub = {
        wildcard: false,
        names: new Set(),
        known: new Map(),
        forced: new Set(),
        initial: true,
        clean: undefined,
      };
      this.types.set(typeUrl, sub);
      this.order = [...this.types.keys()].sort(compareTypes);
      for (const [name, version] of Object.entries(req.initialResourceVersions)) sub.known.set(name, version);
      // Legacy wildcard: the first request names nothing.
      if (req.resourceNamesSubscribe.length === 0) sub.wildcard = true;
      if (sub.known.size > 0) sub.initial = false; // a reconnecting client is already initialised
      this.status.type(this.nodeId!, typeUrl);
    }
    sub.clean = undefined; // touched by this request (and its ACK): look at it again
    for (const name of req.resourceNamesSubscribe) {
      if (name === WILDCARD) {
        sub.wildcard = true;
        continue;
      }
      sub.names.add(name);
      // A name subscribed again is answered even if unchanged, but not one the client reports
      // having in this very request (a reconnect: Envoy subscribes its routes with their versions).
      if (req.initialResourceVersions[name] === undefined) sub.forced.add(name);
    }
    for (const name of req.resourceNamesUnsubscribe) {
      if (name === WILDCARD) {
        sub.wildcard = false;
        for (const known of [...sub.known.keys()]) if (!sub.names.has(known)) sub.known.delete(known);
        continue;
      }
      sub.names.delete(name);
      sub.forced.delete(name);
      // Still covered by the wildcard: the client drops it, so it must get it again (or its removal).
      if (sub.wildcard) sub.forced.add(name);
      else sub.known.delete(name);
    }
  }

  /** `nextResponse` as a protobuf-es message. */
  next(): DeltaDiscoveryResponse | undefined {
    const r = this.nextResponse();
    return r && deltaMessage(r);
  }

  /**
   * The next response to send, or undefined if there is nothing to send or a response is still
   * awaiting its ACK. Call it after every `handle` and after every configuration change.
   */
  nextResponse(): DeltaResponse | undefined {
    // A node the cache does not know yet (an operator that restarted and has not finished its first
    // sync, a pod whose engine connects before the controller saw it) is not a node that should
    // have nothing: answering would remove what a reconnecting engine runs. Wait; the cache's
    // watch calls again once the node is set.
    if (this.inFlight || this.nodeId === undefined) return undefined;
    // One lookup of the node per call: a fan-out calls this for every stream and every ACK.
    const node = this.cache.nodeTypes(this.nodeId);
    if (node === undefined) return undefined;
    const order = this.order;
    const current = (typeUrl: string) => node.get(typeUrl) ?? NO_RESOURCES;
    const stale = (typeUrl: string) => this.types.get(typeUrl)!.clean !== current(typeUrl);
    // Pass 1: updates of every type, removals of all but clusters/endpoints.
    for (const typeUrl of order) {
      if (!stale(typeUrl)) continue;
      const r = this.diff(typeUrl, current(typeUrl), { upserts: true, removals: !isRemovedLast(typeUrl) });
      if (r) return r;
    }
    // Pass 2: cluster and endpoint removals, once nothing above still references them.
    for (const typeUrl of order) {
      if (!isRemovedLast(typeUrl) || !stale(typeUrl)) continue;
      const r = this.diff(typeUrl, current(typeUrl), { upserts: false, removals: true });
      if (r) return r;
    }
    // Every type has nothing to send: remember against which configuration.
    for (const typeUrl of order) this.types.get(typeUrl)!.clean = current(typeUrl);
    return undefined;
  }

  private bindNode(req: DeltaRequest): void {
    this.nodeId = streamNode(this.nodeId, req.node?.id, "DeltaDiscoveryRequest", this.authorizeNode);
  }

  /** Handles the ACK/NACK part of a request. */
  private settle(req: DeltaRequest): void {
    const f = this.inFlight;
    if (!f || f.nonce !== req.responseNonce || f.typeUrl !== req.typeUrl) {
      this.status.counters.staleNonces++;
      return;
    }
    this.inFlight = undefined;
    const sub = this.types.get(f.typeUrl)!;
    const nodeId = this.nodeId!;
    if (req.errorDetail) {
      // NACK: the engine keeps what it had. Forget what we sent so `known` stays what it runs.
      for (const name of f.sent.keys()) sub.known.delete(name);
      for (const name of f.removed) sub.known.delete(name);
      const accepted = this.status.type(nodeId, f.typeUrl).accepted;
      for (const name of f.sent.keys()) {
        const v = accepted.get(name);
        if (v !== undefined) sub.known.set(name, v);
      }
      this.status.reject(nodeId, f.typeUrl, f.sent, req.errorDetail.message, req.errorDetail.code);
      return;
    }
    for (const [name, version] of f.sent) sub.known.set(name, version);
    for (const name of f.removed) sub.known.delete(name);
    this.status.accept(nodeId, f.typeUrl, f.sent, f.removed);
  }

  /** Whether the client has every desired resource of a type at its desired version. */
  private runsDesired(sub: TypeSubscription, current: ReadonlyMap<string, CachedResource>): boolean {
    if (sub.wildcard) {
      for (const r of current.values()) if (sub.known.get(r.name) !== r.version) return false;
    } else {
      for (const name of sub.names) {
        const r = current.get(name);
        if (r && sub.known.get(name) !== r.version) return false;
      }
    }
    return true;
  }

  private diff(
    typeUrl: string,
    current: ReadonlyMap<string, CachedResource>,
    pass: { upserts: boolean; removals: boolean },
  ): DeltaResponse | undefined {
    const sub = this.types.get(typeUrl)!;
    const nodeId = this.nodeId!;
    const upserts: CachedResource[] = [];
    const removed: string[] = [];

    if (pass.upserts) {
      const consider = (r: CachedResource) => {
        if (sub.known.get(r.name) === r.version && !sub.forced.has(r.name)) return;
        if (this.status.isRejected(nodeId, typeUrl, r.name, r.version)) return;
        upserts.push(r);
      };
      if (sub.wildcard) for (const r of current.values()) consider(r);
      else
        for (const name of sub.names) {
          const r = current.get(name);
          if (r) consider(r);
        }
    }
    if (pass.removals) {
      for (const name of sub.known.keys()) {
        if (!current.has(name) && (sub.wildcard || sub.names.has(name))) removed.push(name);
      }
      // Names just subscribed that do not exist: say so instead of letting the client time out.
      for (const name of sub.forced) if (!current.has(name) && !sub.known.has(name)) removed.push(name);
    }

    for (const r of upserts) sub.forced.delete(r.name);
    // Every forced name is answered once the pass that handles removals has run.
    if (pass.removals) sub.forced.clear();
    // A client's first request is answered even when there is nothing to send (Envoy waits for it
    // to finish initialising); for clusters that answer comes with the removal pass.
    const mustAnswer = sub.initial && pass.removals;
    if (upserts.length === 0 && removed.length === 0 && !mustAnswer) {
      if (pass.removals && this.runsDesired(sub, current)) this.status.converged(nodeId, typeUrl);
      return undefined;
    }
    sub.initial = false;

    const nonce = contentNonce(typeUrl, upserts, removed);
    const sent = new Map<string, string>();
    let bytes = 0;
    for (const r of upserts) {
      sent.set(r.name, r.version);
      bytes += r.size;
    }
    this.inFlight = { nonce, typeUrl, sent, removed };
    const t = this.status.type(nodeId, typeUrl);
    t.state = "Sent";
    const c = this.status.counters;
    c.responses++;
    c.resourcesSent += upserts.length;
    c.bytesSent += bytes;
    return { typeUrl, nonce, resources: upserts, removed, systemVersionInfo: nonce };
  }
}

/**
 * The nonce of a response: a hash of what it carries. Every stream that is sent the same change
 * gets the same nonce, hence byte-identical responses, which the transport encodes once and shares
 * (grpc-transport.ts). A nonce only has to identify the response in flight on its stream, and two
 * responses with equal nonces carry the same thing, so an ACK means the same for either
 * (docs/decisions.md, "Content-derived nonces").
 */
export function contentNonce(
  typeUrl: string,
  upserts: readonly CachedResource[],
  removed: readonly string[],
): string {
  // The common push, one changed resource and nothing removed, is the same for every stream that
  // gets it: hash it once per resource, not once per stream.
  const only = upserts.length === 1 && removed.length === 0 ? upserts[0]! : undefined;
  if (only && only.typeUrl === typeUrl) {
    const known = singleNonces.get(only);
    if (known !== undefined) return known;
  }
  const h = createHash("sha256").update(typeUrl);
  for (const r of upserts) h.update("\n+").update(r.name).update("\0").update(r.version);
  for (const name of removed) h.update("\n-").update(name);
  const nonce = h.digest("base64url").slice(0, 22);
  if (only && only.typeUrl === typeUrl) singleNonces.set(only, nonce);
  return nonce;
}

/** contentNonce of a response carrying only this resource (see there). */
const singleNonces = new WeakMap<CachedResource, string>();
