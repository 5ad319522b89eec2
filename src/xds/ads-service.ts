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
import { type AdsFlavour, type AdsServiceOptions, type AdsSession, AdsStream } from "./ads-stream.ts";
import { AsyncQueue } from "./async-queue.ts";
import { type DeltaResponse, DeltaSession, deltaMessage } from "./delta-session.ts";
import { type SotwResponse, SotwSession, sotwMessage } from "./sotw-session.ts";

export type { AdsServiceOptions, NodeAuthorizer } from "./ads-stream.ts";

/** Context key under which the server adapter puts the peer identity of each request. */
export const peerIdentityKey = createContextKey<PeerIdentity | undefined>(undefined, {
  description: "xDS client certificate identity",
});

/**
 * The Aggregated Discovery Service as a ConnectRPC service: delta and state-of-the-world ADS over
 * the shared config cache. The server's default transport for ADS is the direct one
 * (grpc-transport.ts), which writes pre-encoded frames; this one builds protobuf-es messages and
 * is kept as the reference the direct transport is measured and tested against.
 */
export function adsService(opts: AdsServiceOptions): ServiceImpl<typeof AggregatedDiscoveryService> {
  return {
    deltaAggregatedResources: (requests: AsyncIterable<DeltaDiscoveryRequest>, ctx: HandlerContext) =>
      serveStream<DeltaDiscoveryRequest, DeltaResponse, DeltaDiscoveryResponse>(
        requests,
        ctx,
        opts,
        "delta",
        (authorize) => {
          const session = new DeltaSession(opts.cache, opts.status, authorize);
          return { session, message: deltaMessage };
        },
      ),
    streamAggregatedResources: (requests: AsyncIterable<DiscoveryRequest>, ctx: HandlerContext) =>
      serveStream<DiscoveryRequest, SotwResponse, DiscoveryResponse>(
        requests,
        ctx,
        opts,
        "sotw",
        (authorize) => {
          const session = new SotwSession(opts.cache, opts.status, authorize);
          return { session, message: sotwMessage };
        },
      ),
  };
}

/**
 * Runs one ADS stream: requests are read concurrently with configuration changes, and every
 * response the session produces is yielded in order.
 */
async function* serveStream<Req, Planned, Res>(
  requests: AsyncIterable<Req>,
  ctx: HandlerContext,
  opts: AdsServiceOptions,
  flavour: AdsFlavour,
  newSession: (authorize: (nodeId: string) => void) => {
    session: AdsSession<Req, Planned>;
    message: (r: Planned) => Res;
  },
): AsyncGenerator<Res> {
  const peer = ctx.values.get(peerIdentityKey);
  const { session, message } = newSession((nodeId) => opts.authorize(peer, nodeId));
  const out = new AsyncQueue<Res>();
  const stream = new AdsStream(opts, flavour, session, (r) => out.push(message(r)));

  const reading = (async () => {
    try {
      for await (const req of requests) stream.receive(req);
      out.close();
    } catch (e) {
      // The client went away (Envoy restarting, network gone): a normal end of a stream.
      if (ctx.signal.aborted || (e instanceof Error && e.message.includes("Premature close"))) {
        out.close();
        return;
      }
      if (isMicrogatewayError(e) && e.code === "InvalidArgument") opts.status.counters.protocolErrors++;
      stream.failed(e);
      out.fail(toConnectError(e));
    }
  })();

  try {
    yield* out;
  } finally {
    stream.close();
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
export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  if (isMicrogatewayError(e)) return new ConnectError(e.message, connectCodes[e.code] ?? Code.Internal);
  return new ConnectError(`internal error: ${errorMessage(e)}`, Code.Internal);
}
