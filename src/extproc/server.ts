/**
 * The inspector's gRPC server: Envoy's ext_proc filter opens one ExternalProcessor stream per
 * HTTP request, with the route's policy in the initial metadata. Served by a handwritten gRPC
 * handler on node:http2 (grpc-handler.ts; a stream costs about an eighth of the CPU it costs
 * through connect-node, which stays available as `implementation: "connect"`). Plaintext HTTP/2
 * (h2c) on a Unix socket (in a pod: a shared emptyDir between the engine and the agent
 * container) or on a loopback TCP port.
 */
import { existsSync, rmSync } from "node:fs";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  ExternalProcessor,
  type ProcessingRequest,
} from "../../gen/envoy/service/ext_proc/v3/external_processor_pb.js";
import { errorMessage, MicrogatewayError } from "../errors.ts";
import { headerRewritePlanFor } from "../inspect/header-rewrite-wire.ts";
import {
  describeAddress,
  HEADER_REWRITES_METADATA_KEY,
  type InspectorAddress,
  POLICY_METADATA_KEY,
} from "./contract.ts";
import type { InspectionEngine } from "./engine.ts";
import { RequestExchange } from "./exchange.ts";
import { serveProcessStream } from "./grpc-handler.ts";

export interface InspectorServerOptions<P> {
  readonly engine: InspectionEngine<P>;
  readonly listen: InspectorAddress;
  readonly log?: (line: string) => void;
  /**
   * `handwritten` (default): gRPC framing written out on node:http2 (grpc-handler.ts), several
   * times less CPU per stream; `connect`: connect-node's gRPC handler, kept for comparison.
   */
  readonly implementation?: "handwritten" | "connect";
}

/** A running inspector server. */
export interface InspectorServer {
  /** Where it listens (with the actual port when 0 was asked for). */
  readonly address: InspectorAddress;
  /** Stops accepting connections and closes every open stream. */
  close(): Promise<void>;
}

/**
 * The ExternalProcessor service for `engine`. A stream without a policy, with a policy the engine
 * cannot read, or with messages out of protocol order ends with an error status and the HTTP
 * request is refused by Envoy (fail closed: the filter runs with `failure_mode_allow: false`).
 */
export function externalProcessorService<P>(
  engine: InspectionEngine<P>,
  log?: (line: string) => void,
): ServiceImpl<typeof ExternalProcessor> {
  return {
    async *process(requests: AsyncIterable<ProcessingRequest>, context) {
      const wire = context.requestHeader.get(POLICY_METADATA_KEY);
      if (wire === null || wire === "") {
        throw new ConnectError(`missing ${POLICY_METADATA_KEY} metadata`, Code.InvalidArgument);
      }
      const rewrites = context.requestHeader.get(HEADER_REWRITES_METADATA_KEY);
      let exchange: RequestExchange<P>;
      try {
        exchange = new RequestExchange(
          engine,
          engine.policyFor(wire),
          rewrites === null || rewrites === "" ? undefined : headerRewritePlanFor(rewrites),
        );
      } catch (e) {
        log?.(`inspector: unreadable policy: ${errorMessage(e)}`);
        throw new ConnectError(`unreadable ${POLICY_METADATA_KEY}: ${errorMessage(e)}`, Code.InvalidArgument);
      }
      for await (const request of requests) {
        try {
          yield exchange.answer(request);
        } catch (e) {
          log?.(`inspector: ${errorMessage(e)}`);
          throw new ConnectError(
            errorMessage(e),
            e instanceof MicrogatewayError ? Code.InvalidArgument : Code.Internal,
          );
        }
      }
    },
  };
}

/** Starts the inspector's gRPC server on node:http2, plaintext. */
export async function startInspectorServer<P>(opts: InspectorServerOptions<P>): Promise<InspectorServer> {
  let server: http2.Http2Server;
  if ((opts.implementation ?? "handwritten") === "handwritten") {
    server = http2.createServer();
    server.on("stream", (stream, headers) => serveProcessStream(opts.engine, stream, headers, opts.log));
  } else {
    const handler = connectNodeAdapter({
      routes: (router) => router.service(ExternalProcessor, externalProcessorService(opts.engine, opts.log)),
      grpc: true,
      grpcWeb: false,
      connect: false,
      // A buffered body arrives in one message; Envoy's own buffer limit (1 MiB per connection by
      // default) answers 413 before that. Leave room for framing.
      readMaxBytes: 8 * 1024 * 1024,
    });
    server = http2.createServer(handler);
  }
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
    s.on("error", () => {});
  });
  // Garbage on the socket (not HTTP/2, broken frames) ends that connection, never the process.
  server.on("sessionError", () => {});
  server.on("error", (e: Error) => opts.log?.(`inspector: server error: ${e.message}`));

  const listen = opts.listen;
  if ("socketPath" in listen && existsSync(listen.socketPath)) {
    // A socket left by a previous run of this process (container restart) blocks listen().
    rmSync(listen.socketPath, { force: true });
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const done = () => {
      server.off("error", reject);
      resolve();
    };
    if ("socketPath" in listen) server.listen(listen.socketPath, done);
    else server.listen(listen.port, listen.host, done);
  });
  const address: InspectorAddress =
    "socketPath" in listen ? listen : { host: listen.host, port: (server.address() as AddressInfo).port };
  opts.log?.(`inspector: listening on ${describeAddress(address)}`);
  return {
    address,
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => {
          if ("socketPath" in listen) rmSync(listen.socketPath, { force: true });
          resolve();
        });
        for (const s of sessions) s.destroy();
      });
    },
  };
}
