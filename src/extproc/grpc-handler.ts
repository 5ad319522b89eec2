/**
 * The ExternalProcessor's one method served straight on `node:http2`, with gRPC's framing written
 * out by hand: a 5-byte prefix (compressed flag, big-endian length) per message, the status in
 * trailers. It replaces connect-node for this one hot path, where it measured about 250 µs of CPU
 * per stream instead of about 1900 (bench/waf/mechanism.ts, docs/decisions.md "what asking it
 * costs"); the xDS server does the same for ADS (src/xds/grpc-transport.ts).
 */
import type * as http2 from "node:http2";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type ProcessingRequest,
  ProcessingRequestSchema,
  ProcessingResponseSchema,
} from "../../gen/envoy/service/ext_proc/v3/external_processor_pb.js";
import { errorMessage, isMicrogatewayError } from "../errors.ts";
import { headerRewritePlanFor } from "../inspect/header-rewrite-wire.ts";
import type { HeaderRewritePlan } from "../inspect/header-rewrites.ts";
import { HEADER_REWRITES_METADATA_KEY, POLICY_METADATA_KEY } from "./contract.ts";
import type { InspectionEngine } from "./engine.ts";
import { RequestExchange } from "./exchange.ts";

/** The gRPC method Envoy's ext_proc filter calls. */
export const PROCESS_PATH = "/envoy.service.ext_proc.v3.ExternalProcessor/Process";

/** Largest message accepted (a buffered body plus headers); Envoy's own buffer limit is 1 MiB. */
const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/** gRPC status codes used here. */
const GRPC = { ok: 0, invalidArgument: 3, resourceExhausted: 8, unimplemented: 12, internal: 13 } as const;

/**
 * Serves one HTTP/2 stream as an ExternalProcessor.Process call. Every failure ends the stream
 * with a gRPC error status (Envoy then answers the HTTP request 500); nothing here throws.
 */
export function serveProcessStream<P>(
  engine: InspectionEngine<P>,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  log?: (line: string) => void,
): void {
  stream.on("error", () => {});
  const contentType = String(headers["content-type"] ?? "");
  if (headers[":method"] !== "POST" || !contentType.startsWith("application/grpc")) {
    respondError(stream, GRPC.unimplemented, "only gRPC is served here", 415);
    return;
  }
  if (headers[":path"] !== PROCESS_PATH) {
    respondError(stream, GRPC.unimplemented, `unknown method ${String(headers[":path"])}`);
    return;
  }
  const wire = headers[POLICY_METADATA_KEY];
  if (typeof wire !== "string" || wire === "") {
    respondError(stream, GRPC.invalidArgument, `missing ${POLICY_METADATA_KEY} metadata`);
    return;
  }
  let policy: P;
  try {
    policy = engine.policyFor(wire);
  } catch (e) {
    log?.(`inspector: unreadable policy: ${errorMessage(e)}`);
    respondError(stream, GRPC.invalidArgument, `unreadable ${POLICY_METADATA_KEY}: ${errorMessage(e)}`);
    return;
  }
  const rewrites = headers[HEADER_REWRITES_METADATA_KEY];
  let plan: HeaderRewritePlan | undefined;
  if (typeof rewrites === "string" && rewrites !== "") {
    try {
      plan = headerRewritePlanFor(rewrites);
    } catch (e) {
      const why = `unreadable ${HEADER_REWRITES_METADATA_KEY}: ${errorMessage(e)}`;
      log?.(`inspector: ${why}`);
      respondError(stream, GRPC.invalidArgument, why);
      return;
    }
  }
  const exchange = new RequestExchange(engine, policy, plan);

  let status: number = GRPC.ok;
  let message = "";
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.on("wantTrailers", () => {
    stream.sendTrailers({
      "grpc-status": String(status),
      ...(message === "" ? {} : { "grpc-message": encodeURIComponent(message) }),
    });
  });
  const fail = (code: number, why: string) => {
    if (status !== GRPC.ok) return;
    status = code;
    message = why;
    log?.(`inspector: ${why}`);
    stream.end();
  };

  let pending: Buffer = Buffer.alloc(0);
  stream.on("data", (chunk: Buffer) => {
    if (status !== GRPC.ok) return;
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 5) {
      if (pending[0] !== 0) return fail(GRPC.unimplemented, "compressed messages are not supported");
      const length = pending.readUInt32BE(1);
      if (length > MAX_MESSAGE_BYTES) {
        return fail(GRPC.resourceExhausted, `message of ${length} bytes is over ${MAX_MESSAGE_BYTES}`);
      }
      if (pending.length < 5 + length) return;
      const body = pending.subarray(5, 5 + length);
      pending = pending.subarray(5 + length);
      let request: ProcessingRequest;
      try {
        request = fromBinary(ProcessingRequestSchema, body);
      } catch (e) {
        return fail(GRPC.invalidArgument, `not a ProcessingRequest: ${errorMessage(e)}`);
      }
      let answer: Uint8Array;
      try {
        answer = toBinary(ProcessingResponseSchema, exchange.answer(request));
      } catch (e) {
        return fail(isMicrogatewayError(e) ? GRPC.invalidArgument : GRPC.internal, errorMessage(e));
      }
      const frame = Buffer.allocUnsafe(5 + answer.length);
      frame[0] = 0;
      frame.writeUInt32BE(answer.length, 1);
      frame.set(answer, 5);
      stream.write(frame);
    }
  });
  stream.on("end", () => {
    if (status !== GRPC.ok) return;
    if (pending.length > 0) return fail(GRPC.invalidArgument, "stream ended inside a message");
    stream.end();
  });
}

/** A trailers-only error response. */
function respondError(stream: http2.ServerHttp2Stream, code: number, why: string, httpStatus = 200): void {
  if (stream.headersSent || stream.destroyed) return;
  stream.respond(
    {
      ":status": httpStatus,
      "content-type": "application/grpc",
      "grpc-status": String(code),
      "grpc-message": encodeURIComponent(why),
    },
    { endStream: true },
  );
}
