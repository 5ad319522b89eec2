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
/** grpc-status of a method the server does not have. */
const GRPC_UNIMPLEMENTED = 12;

/** The largest request message accepted (Istio's receive limit; Envoy's requests are far smaller). */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/**
 * The ADS streams served directly on node:http2's stream API, without ConnectRPC's per-message
 * machinery and without the compatibility layer's request/response objects (each of those is a
 * second Readable/Writable around the stream, on every chunk): each request frame is decoded and
 * handed to the session synchronously, and each response is written as one frame laid out from the
 * resources' pre-encoded bytes (wire.ts). Same protocol, same sessions and status as the
 * ConnectRPC service (ads-service.ts); decision and numbers in docs/decisions.md ("ADS without
 * connect-es on the hot path"). Any other path is answered UNIMPLEMENTED.
 */
export function directAdsHandler(
  opts: AdsServiceOptions,
): (
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  peer: PeerIdentity | undefined,
) => void {
  // Responses carry content-derived nonces, so streams sent the same change share one frame.
  const deltaFrames = new FrameMemo<DeltaResponse>(deltaFrame);
  const sotwFrames = new FrameMemo<SotwResponse>(sotwFrame);
  return (stream, headers, peer) => {
    const path = headers[":path"];
    const contentType = headers["content-type"] ?? "";
    if (headers[":method"] !== "POST" || !/^application\/grpc(\+proto)?(;|$)/.test(contentType)) {
      respondPlain(stream, 415, "gRPC only (application/grpc)\n");
      return;
    }
    if (path === DELTA_ADS_PATH) {
      run(stream, peer, "delta", decodeDelta, (authorize) => ({
        session: new DeltaSession(opts.cache, opts.status, authorize),
        frame: deltaFrames.frame,
      }));
      return;
    }
    if (path === SOTW_ADS_PATH) {
      run(stream, peer, "sotw", decodeSotw, (authorize) => ({
        session: new SotwSession(opts.cache, opts.status, authorize),
        frame: sotwFrames.frame,
      }));
      return;
    }
    // Trailers-only, as gRPC servers answer an unknown method.
    respond(
      stream,
      {
        ":status": 200,
        "content-type": "application/grpc",
        "grpc-status": String(GRPC_UNIMPLEMENTED),
        "grpc-message": encodeURIComponent(`unknown method ${path}`),
      },
      true,
    );
  };

  function run<Req, Res>(
    h2: http2.ServerHttp2Stream,
    peer: PeerIdentity | undefined,
    flavour: AdsFlavour,
    /** Request bytes -> request; throws MicrogatewayError InvalidArgument on garbage. */
    decode: (bytes: Uint8Array) => Req,
    newSession: (authorize: (nodeId: string) => void) => {
      session: AdsSession<Req, Res>;
      frame: (r: Res) => Uint8Array;
    },
  ): void {
    // Trailers end the call: `end` asks for them, `wantTrailers` sends them.
    if (!respond(h2, { ":status": 200, "content-type": "application/grpc" }, false, true)) return;
    const { session, frame } = newSession((nodeId) => opts.authorize(peer, nodeId));
    let ended = false;
    let trailers: Record<string, string> = { "grpc-status": String(GRPC_OK) };
    const stream = new AdsStream(opts, flavour, session, (r) => {
      if (!ended) h2.write(frame(r));
    });
    h2.once("wantTrailers", () => {
      try {
        h2.sendTrailers(trailers);
      } catch {
        // the stream went away meanwhile
      }
    });
    const end = (code: number, message?: string) => {
      if (ended) return;
      ended = true;
      stream.close();
      trailers = {
        "grpc-status": String(code),
        ...(message === undefined ? {} : { "grpc-message": encodeURIComponent(message) }),
      };
      if (!h2.destroyed) h2.end();
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
    h2.on("data", (chunk: Buffer) => {
      if (ended) return;
      try {
        reader.push(chunk);
      } catch (e) {
        fail(e);
      }
    });
    // The client half-closed: a clean end. Gone without a word (reset, disconnect): just clean up.
    h2.on("end", () => {
      if (reader.pending) fail(new MicrogatewayError("InvalidArgument", "stream ended inside a message"));
      else end(GRPC_OK);
    });
    const gone = () => {
      ended = true;
      stream.close();
    };
    h2.on("aborted", gone);
    h2.on("close", gone);
    h2.on("error", gone);
  }
}

/** Sends response headers; false if the stream is already gone. */
function respond(
  stream: http2.ServerHttp2Stream,
  headers: http2.OutgoingHttpHeaders,
  endStream: boolean,
  waitForTrailers = false,
): boolean {
  try {
    stream.respond(headers, { endStream, waitForTrailers });
    return true;
  } catch {
    return false; // closed by the client before we answered
  }
}

function respondPlain(stream: http2.ServerHttp2Stream, status: number, body: string): void {
  if (respond(stream, { ":status": status, "content-type": "text/plain" }, false)) stream.end(body);
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
