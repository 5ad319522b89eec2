/**
 * The ADS service through ConnectRPC (connect-node on node:http2's compatibility API): the first
 * transport, kept for comparison with the direct one (grpc-transport.ts; `adsTransport: "connect"`,
 * bench `MICROGATEWAY_BENCH_ADS_TRANSPORT=connect`). Its own module so that the default transport
 * does not load ConnectRPC.
 */
import type * as http2 from "node:http2";
import { createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { AggregatedDiscoveryService } from "../../gen/envoy/service/discovery/v3/ads_pb.js";
import type { PeerIdentity } from "../certs/identity.ts";
import { adsService, peerIdentityKey } from "./ads-service.ts";
import type { AdsServiceOptions } from "./ads-stream.ts";

/** A node:http2 request handler serving ADS (gRPC only) with the peer identity `identity` finds. */
export function connectHandler(
  ads: AdsServiceOptions,
  identity: (req: http2.Http2ServerRequest) => PeerIdentity | undefined,
): (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void {
  return connectNodeAdapter({
    routes: (router) => router.service(AggregatedDiscoveryService, adsService(ads)),
    // Only gRPC: Envoy and gRPC clients speak it; nothing else should reach this port.
    grpc: true,
    grpcWeb: false,
    connect: false,
    contextValues: (req) =>
      createContextValues().set(peerIdentityKey, identity(req as http2.Http2ServerRequest)),
    // Envoy configurations can be large; mirror Istio's 4 MiB receive limit for requests.
    readMaxBytes: 4 * 1024 * 1024,
  });
}
