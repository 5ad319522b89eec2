import type * as http2 from "node:http2";
import { type DescMessage, fromBinary, type MessageShape } from "@bufbuild/protobuf";
import {
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
} from "../../gen/envoy/service/discovery/v3/discovery_pb.js";
import type { PeerIdentity } from "../certs/identity.ts";
import { errorMessage, isMicrogatewayError, MicrogatewayError } from "../errors.ts";
import { toConnectError } from "./ads-service.ts";
import { type AdsFlavour, type AdsServiceOptions, type AdsSession, AdsStream } from "./ads-stream.ts";
import { type DeltaRequest, type DeltaResponse, DeltaSession, deltaFrame } from "./delta-session.ts";
import { GrpcFrameReader } from "./grpc-frames.ts";
import { type SotwResponse, SotwSession, sotwFrame } from "./sotw-session.ts";
import { decodeDeltaAck } from "./wire.ts";

const SERVICE = "/envoy.service.discovery.v3.AggregatedDiscoveryService";
/** gRPC paths of the two ADS methods. */
export const DELTA_ADS_PATH = `${SERVICE}/DeltaAggregatedResources`;
export const SOTW_ADS_PATH = `${SERVICE}/StreamAggregatedResources`;

/** grpc-status of a stream that ended well (connect's Code enum starts at 1). */
const GRPC_OK = 0;

/** The largest request message accepted (Istio's receive limit; Envoy's requests are far smaller). */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/**
 * The ADS streams served directly on node:http2, without ConnectRPC's per-message machinery: each
 * request frame is decoded and handed to the session synchronously, and each response is written
 * as one frame laid out from the resources' pre-encoded bytes (wire.ts). Same protocol, same
 * sessions and status as the ConnectRPC service (ads-service.ts), which serves everything else on
 * the port; decision and numbers in docs/decisions.md ("ADS without connect-es on the hot path").
 *
 * The handler returns false (and touches nothing) for a request that is not an ADS call.
 */
export function directAdsHandler(
  opts: AdsServiceOptions,
): (
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
  peer: PeerIdentity | undefined,
) => boolean {
  // Responses carry content-derived nonces, so streams sent the same change share one frame.
  const deltaFrames = new FrameMemo<DeltaResponse>(deltaFrame);
  const sotwFrames = new FrameMemo<SotwResponse>(sotwFrame);
  return (req, res, peer) => {
    const path = req.headers[":path"];
    if (path === DELTA_ADS_PATH) {
      run(req, res, peer, "delta", decodeDelta, (authorize) => ({
        session: new DeltaSession(opts.cache, opts.status, authorize),
        frame: deltaFrames.frame,
      }));
      return true;
    }
    if (path === SOTW_ADS_PATH) {
      run(req, res, peer, "sotw", decodeSotw, (authorize) => ({
        session: new SotwSession(opts.cache, opts.status, authorize),
        frame: sotwFrames.frame,
      }));
      return true;
    }
    return false;
  };

  function run<Req, Res>(
    req: http2.Http2ServerRequest,
    res: http2.Http2ServerResponse,
    peer: PeerIdentity | undefined,
    flavour: AdsFlavour,
    /** Request bytes -> request; throws MicrogatewayError InvalidArgument on garbage. */
    decode: (bytes: Uint8Array) => Req,
    newSession: (authorize: (nodeId: string) => void) => {
      session: AdsSession<Req, Res>;
      frame: (r: Res) => Uint8Array;
    },
  ): void {
    const contentType = req.headers["content-type"] ?? "";
    if (req.method !== "POST" || !/^application\/grpc(\+proto)?(;|$)/.test(contentType)) {
      res.writeHead(415, { "content-type": "text/plain" });
      res.end("gRPC only (application/grpc)\n");
      return;
    }
    res.writeHead(200, { "content-type": "application/grpc" });
    const { session, frame } = newSession((nodeId) => opts.authorize(peer, nodeId));
    let ended = false;
    const stream = new AdsStream(opts, flavour, session, (r) => {
      if (!ended) res.write(frame(r));
    });
    const end = (code: number, message?: string) => {
      if (ended) return;
      ended = true;
      stream.close();
      res.addTrailers({
        "grpc-status": String(code),
        ...(message === undefined ? {} : { "grpc-message": encodeURIComponent(message) }),
      });
      res.end();
    };
    const fail = (e: unknown) => {
      if (isMicrogatewayError(e) && e.code === "InvalidArgument") opts.status.counters.protocolErrors++;
      stream.failed(e);
      const err = toConnectError(e);
      end(err.code, err.rawMessage);
    };
    const reader = new GrpcFrameReader(MAX_REQUEST_BYTES, (bytes) => {
      stream.receive(decode(bytes));
    });
    req.on("data", (chunk: Buffer) => {
      if (ended) return;
      try {
        reader.push(chunk);
      } catch (e) {
        fail(e);
      }
    });
    // The client half-closed: a clean end. Gone without a word (reset, disconnect): just clean up.
    req.on("end", () => {
      if (reader.pending) fail(new MicrogatewayError("InvalidArgument", "stream ended inside a message"));
      else end(GRPC_OK);
    });
    const gone = () => {
      ended = true;
      stream.close();
    };
    req.on("aborted", gone);
    res.on("close", gone);
    req.on("error", gone);
  }
}

/** Decodes a request with protobuf-es; garbage is an InvalidArgument naming the message type. */
function decodeWith<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> {
  try {
    return fromBinary(schema, bytes);
  } catch (e) {
    throw new MicrogatewayError(
      "InvalidArgument",
      `${schema.name}: not a valid protobuf message: ${errorMessage(e)}`,
    );
  }
}

/** Plain ACKs (every engine ACKs every push) by hand, anything else with protobuf-es. */
const decodeDelta = (bytes: Uint8Array): DeltaRequest =>
  decodeDeltaAck(bytes) ?? decodeWith(DeltaDiscoveryRequestSchema, bytes);
const decodeSotw = (bytes: Uint8Array) => decodeWith(DiscoveryRequestSchema, bytes);

/**
 * The last frames built, by type URL and nonce: a change fanned out to N streams is framed once
 * and the same bytes are written N times. Bounded: old entries are dropped first.
 */
class FrameMemo<R extends { readonly typeUrl: string; readonly nonce: string }> {
  private readonly frames = new Map<string, Uint8Array>();

  constructor(
    private readonly build: (r: R) => Uint8Array,
    private readonly capacity = 64,
  ) {}

  readonly frame = (r: R): Uint8Array => {
    const key = `${r.typeUrl}\0${r.nonce}`;
    let bytes = this.frames.get(key);
    if (bytes === undefined) {
      bytes = this.build(r);
      if (this.frames.size >= this.capacity) this.frames.delete(this.frames.keys().next().value!);
      this.frames.set(key, bytes);
    }
    return bytes;
  };
}
