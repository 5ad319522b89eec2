import {
  Code,
  ConnectError,
  createContextKey,
  type HandlerContext,
  type ServiceImpl,
} from "@connectrpc/connect";
import type { AggregatedDiscoveryService } from "../../gen/envoy/service/discovery/v3/ads_pb.js";
import type {
  DeltaDiscoveryRequest,
  DeltaDiscoveryResponse,
  DiscoveryRequest,
  DiscoveryResponse,
} from "../../gen/envoy/service/discovery/v3/discovery_pb.js";
import type { PeerIdentity } from "../certs/identity.ts";
import { type ErrorCode, errorMessage, isMicrogatewayError } from "../errors.ts";
import { AsyncQueue } from "./async-queue.ts";
import type { ConfigCache } from "./config-cache.ts";
import { DeltaSession } from "./delta-session.ts";
import type { EngineStatusStore } from "./engine-status.ts";
import { SotwSession } from "./sotw-session.ts";

/** Context key under which the server adapter puts the peer identity of each request. */
export const peerIdentityKey = createContextKey<PeerIdentity | undefined>(undefined, {
  description: "xDS client certificate identity",
});

/** Decides whether a peer may be served the configuration of `nodeId`; throws MicrogatewayError to refuse. */
export type NodeAuthorizer = (peer: PeerIdentity | undefined, nodeId: string) => void;

export interface AdsServiceOptions {
  readonly cache: ConfigCache;
  readonly status: EngineStatusStore;
  readonly authorize: NodeAuthorizer;
  readonly log?: (line: string) => void;
}

/** The Aggregated Discovery Service: delta and state-of-the-world ADS over the shared config cache. */
export function adsService(opts: AdsServiceOptions): ServiceImpl<typeof AggregatedDiscoveryService> {
  return {
    deltaAggregatedResources: (requests: AsyncIterable<DeltaDiscoveryRequest>, ctx: HandlerContext) =>
      serveStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>(
        requests,
        ctx,
        opts,
        (authorize) => new DeltaSession(opts.cache, opts.status, authorize),
        "delta",
      ),
    streamAggregatedResources: (requests: AsyncIterable<DiscoveryRequest>, ctx: HandlerContext) =>
      serveStream<DiscoveryRequest, DiscoveryResponse>(
        requests,
        ctx,
        opts,
        (authorize) => new SotwSession(opts.cache, opts.status, authorize),
        "sotw",
      ),
  };
}

interface Session<Req, Res> {
  readonly node: string | undefined;
  handle(req: Req): void;
  next(): Res | undefined;
}

/**
 * Runs one ADS stream: requests are read concurrently with configuration changes, and every
 * response the session produces is yielded in order.
 */
async function* serveStream<Req, Res>(
  requests: AsyncIterable<Req>,
  ctx: HandlerContext,
  opts: AdsServiceOptions,
  newSession: (authorize: (nodeId: string) => void) => Session<Req, Res>,
  flavour: "delta" | "sotw",
): AsyncGenerator<Res> {
  const peer = ctx.values.get(peerIdentityKey);
  const session = newSession((nodeId) => opts.authorize(peer, nodeId));
  const out = new AsyncQueue<Res>();
  const counters = opts.status.counters;
  let unwatch: (() => void) | undefined;
  let nodeId: string | undefined;

  const pump = () => {
    for (let r = session.next(); r !== undefined; r = session.next()) out.push(r);
  };
  const reading = (async () => {
    try {
      for await (const req of requests) {
        session.handle(req);
        if (nodeId === undefined && session.node !== undefined) {
          nodeId = session.node;
          unwatch = opts.cache.watch(nodeId, pump);
          opts.status.engine(nodeId).streams++;
          opts.status.changed(nodeId);
          opts.log?.(`xds: ${flavour} stream opened by ${nodeId}`);
        }
        pump();
      }
      out.close();
    } catch (e) {
      // The client went away (Envoy restarting, network gone): a normal end of a stream.
      if (ctx.signal.aborted || (e instanceof Error && e.message.includes("Premature close"))) {
        out.close();
        return;
      }
      if (isMicrogatewayError(e) && e.code === "InvalidArgument") counters.protocolErrors++;
      opts.log?.(`xds: ${flavour} stream of ${nodeId ?? "unknown node"} failed: ${errorMessage(e)}`);
      out.fail(toConnectError(e));
    }
  })();

  counters.streamsOpened++;
  try {
    yield* out;
  } finally {
    unwatch?.();
    counters.streamsClosed++;
    if (nodeId !== undefined) {
      opts.status.engine(nodeId).streams--;
      opts.status.changed(nodeId);
      opts.log?.(`xds: ${flavour} stream of ${nodeId} closed`);
    }
    // The reader ends when the client half closes or the request is aborted.
    void reading;
  }
}

const connectCodes: Partial<Record<ErrorCode, Code>> = {
  InvalidArgument: Code.InvalidArgument,
  PermissionDenied: Code.PermissionDenied,
  Unauthenticated: Code.Unauthenticated,
};

/** Maps our errors to gRPC status codes; anything unexpected becomes Internal without details. */
function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  if (isMicrogatewayError(e)) return new ConnectError(e.message, connectCodes[e.code] ?? Code.Internal);
  return new ConnectError(`internal error: ${errorMessage(e)}`, Code.Internal);
}
