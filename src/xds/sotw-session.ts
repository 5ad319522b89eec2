import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import {
  type DiscoveryRequest,
  type DiscoveryResponse,
  DiscoveryResponseSchema,
} from "../../gen/envoy/service/discovery/v3/discovery_pb.js";
import { MicrogatewayError } from "../errors.ts";
import type { CachedResource } from "./cached-resource.ts";
import type { ConfigCache } from "./config-cache.ts";
import type { EngineStatusStore } from "./engine-status.ts";
import { compareTypes } from "./resource-types.ts";
import { streamNode } from "./stream-node.ts";
import { type SotwResponseParts, sotwResponseFrame } from "./wire.ts";

/** A state-of-the-world response as the session decides it. */
export interface SotwResponse extends SotwResponseParts {
  readonly resources: readonly CachedResource[];
}

/** The response as one gRPC message frame, built from the resources' pre-encoded bytes. */
export function sotwFrame(r: SotwResponse): Uint8Array {
  return sotwResponseFrame(r);
}

/** The response as a protobuf-es message (the connect transport and tests). */
export function sotwMessage(r: SotwResponse): DiscoveryResponse {
  return create(DiscoveryResponseSchema, {
    typeUrl: r.typeUrl,
    versionInfo: r.versionInfo,
    nonce: r.nonce,
    resources: r.resources.map((x) => x.any),
  });
}

interface SotwSubscription {
  /** Requested names; empty means wildcard (all resources of the type). */
  names: ReadonlySet<string>;
  /** version_info the client has (from its last ACK, or its first request after a reconnect). */
  clientVersion: string;
  /** The names changed since the last response: answer even if the version did not. */
  namesChanged: boolean;
}

interface InFlight {
  readonly nonce: string;
  readonly typeUrl: string;
  readonly version: string;
  readonly sent: ReadonlyMap<string, string>;
}

/**
 * The state-of-the-world ADS protocol for one stream (for clients that do not speak delta):
 * every response carries the whole requested set of a type, versioned by a hash of that set.
 * Same discipline as DeltaSession: one response in flight, make-before-break type order,
 * stale nonces ignored, a rejected set never re-sent, an unchanged set never re-sent.
 */
export class SotwSession {
  private nodeId: string | undefined;
  private readonly types = new Map<string, SotwSubscription>();
  private inFlight: InFlight | undefined;

  constructor(
    private readonly cache: ConfigCache,
    private readonly status: EngineStatusStore,
    private readonly authorizeNode: (nodeId: string) => void = () => {},
  ) {}

  /** The node id this stream serves, known after the first request. */
  get node(): string | undefined {
    return this.nodeId;
  }

  /** Applies one request; throws MicrogatewayError on protocol violations. */
  handle(req: DiscoveryRequest): void {
    this.nodeId = streamNode(this.nodeId, req.node?.id, "DiscoveryRequest", this.authorizeNode);
    if (req.typeUrl === "")
      throw new MicrogatewayError("InvalidArgument", "DiscoveryRequest.type_url is empty");

    if (req.responseNonce !== "") {
      const f = this.inFlight;
      if (!f || f.nonce !== req.responseNonce || f.typeUrl !== req.typeUrl) {
        // A request answering an older response: the protocol says not to respond to it.
        this.status.counters.staleNonces++;
        return;
      }
      this.inFlight = undefined;
      const sub = this.types.get(req.typeUrl)!;
      if (req.errorDetail) {
        this.status.reject(this.nodeId, f.typeUrl, f.sent, req.errorDetail.message, req.errorDetail.code);
        sub.clientVersion = req.versionInfo;
      } else {
        const removed = [...this.status.type(this.nodeId, f.typeUrl).accepted.keys()].filter(
          (n) => !f.sent.has(n),
        );
        this.status.accept(this.nodeId, f.typeUrl, f.sent, removed);
        sub.clientVersion = f.version;
      }
    }

    const names = new Set(req.resourceNames.filter((n) => n !== "*"));
    const sub = this.types.get(req.typeUrl);
    if (!sub) {
      // A fresh client sends no version_info, so it gets an answer; a reconnecting one sends the version
      // it has, and gets nothing if that is still current.
      this.types.set(req.typeUrl, { names, clientVersion: req.versionInfo, namesChanged: false });
      this.status.type(this.nodeId, req.typeUrl);
    } else if (!sameSet(sub.names, names)) {
      sub.names = names;
      sub.namesChanged = true;
    }
  }

  /** `nextResponse` as a protobuf-es message. */
  next(): DiscoveryResponse | undefined {
    const r = this.nextResponse();
    return r && sotwMessage(r);
  }

  /** The next response to send, or undefined (nothing changed, or awaiting an ACK). */
  nextResponse(): SotwResponse | undefined {
    // A node the cache does not know yet (an operator that restarted and has not finished its first
    // sync, a pod whose engine connects before the controller saw it) is not a node that should
    // have nothing: answering would remove what a reconnecting engine runs. Wait; the cache's
    // watch calls again once the node is set.
    if (this.inFlight || this.nodeId === undefined || !this.cache.hasNode(this.nodeId)) return undefined;
    for (const typeUrl of [...this.types.keys()].sort(compareTypes)) {
      const r = this.respond(typeUrl);
      if (r) return r;
    }
    return undefined;
  }

  private respond(typeUrl: string): SotwResponse | undefined {
    const nodeId = this.nodeId!;
    const sub = this.types.get(typeUrl)!;
    const current = this.cache.resources(nodeId, typeUrl);
    const selected: CachedResource[] =
      sub.names.size === 0
        ? [...current.values()]
        : [...sub.names].map((n) => current.get(n)).filter((r): r is CachedResource => r !== undefined);
    selected.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const version = setVersion(selected, sub.names.size === 0 ? current : undefined);
    const t = this.status.type(nodeId, typeUrl);
    const rejected = t.state === "Rejected" && t.lastError && versionOfMap(t.lastError.versions) === version;
    if ((version === sub.clientVersion && !sub.namesChanged) || rejected) return undefined;
    sub.namesChanged = false;

    // The set's version names the response (see contentNonce in delta-session.ts).
    const nonce = version;
    const sent = new Map(selected.map((r) => [r.name, r.version]));
    this.inFlight = { nonce, typeUrl, version, sent };
    t.state = "Sent";
    const c = this.status.counters;
    c.responses++;
    c.resourcesSent += selected.length;
    for (const r of selected) c.bytesSent += r.size;
    return { typeUrl, versionInfo: version, nonce, resources: selected };
  }
}

/**
 * The version of a set of resources. Every stream sent the same change asks for the same set, so
 * it is memoized: on the resource when the set is one resource (a listener, a route
 * configuration), on the cache's map when the set is all of a type (`whole`; the cache replaces
 * maps on change, never mutates them). Otherwise one SHA-256 per stream and change.
 */
function setVersion(
  resources: readonly CachedResource[],
  whole?: ReadonlyMap<string, CachedResource>,
): string {
  const memo = resources.length === 1 ? singleVersions.get(resources[0]!) : whole && wholeVersions.get(whole);
  if (memo !== undefined) return memo;
  const version = versionOfMap(new Map(resources.map((r) => [r.name, r.version])));
  if (resources.length === 1) singleVersions.set(resources[0]!, version);
  else if (whole) wholeVersions.set(whole, version);
  return version;
}

const singleVersions = new WeakMap<CachedResource, string>();
const wholeVersions = new WeakMap<ReadonlyMap<string, CachedResource>, string>();

/** Version of a set of resources: a hash of its sorted name/version pairs. */
function versionOfMap(versions: ReadonlyMap<string, string>): string {
  const h = createHash("sha256");
  for (const name of [...versions.keys()].sort())
    h.update(name).update("\0").update(versions.get(name)!).update("\n");
  return h.digest("base64url").slice(0, 22);
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
