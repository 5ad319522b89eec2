import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { namespaceOfSpiffeId, type PeerIdentity, peerIdentity } from "../certs/identity.ts";
import { MicrogatewayError } from "../errors.ts";
import { parseNodeId } from "../model/types.ts";
import type { NodeAuthorizer } from "./ads-service.ts";
import type { AdsServiceOptions } from "./ads-stream.ts";
import type { ConfigCache } from "./config-cache.ts";
import type { EngineStatusStore } from "./engine-status.ts";
import { FanOutScheduler } from "./fan-out.ts";
import { directAdsHandler } from "./grpc-transport.ts";

/** PEM material of the xDS server: its certificate and key, and the CA that signs engine certificates. */
export interface XdsServerTls {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly caPem: string;
}

export interface XdsServerOptions {
  readonly cache: ConfigCache;
  readonly status: EngineStatusStore;
  /** Mutual TLS (TLS 1.3 only). Required unless `insecurePlaintext` is set (tests of the protocol only). */
  readonly tls?: XdsServerTls;
  readonly insecurePlaintext?: boolean;
  readonly host?: string;
  /** 0 picks a free port. Default 13377. */
  readonly port?: number;
  /** Default: `namespaceAuthorizer`. */
  readonly authorize?: NodeAuthorizer;
  readonly log?: (line: string) => void;
  /**
   * How ADS streams are carried: `direct` (default) writes pre-encoded frames on node:http2
   * (grpc-transport.ts); `connect` goes through ConnectRPC's service machinery, kept for
   * comparison (bench/xds `--ads-transport connect`).
   */
  readonly adsTransport?: "direct" | "connect";
}

export interface XdsServer {
  readonly port: number;
  /** Swaps the server certificate (rotation); new connections use it, open streams keep theirs. */
  updateTls(tls: XdsServerTls): void;
  /** Stops accepting connections and closes every open stream. */
  close(): Promise<void>;
}

/**
 * An engine may only read the configuration of pods in the namespace its client certificate
 * names (`spiffe://microgateway.airlock.com/ns/<namespace>/...`), and node ids must be
 * `<pod>.<namespace>`.
 */
export const namespaceAuthorizer: NodeAuthorizer = (peer, nodeId) => {
  const node = parseNodeId(nodeId);
  if (!node) throw new MicrogatewayError("InvalidArgument", `node.id "${nodeId}" must be <pod>.<namespace>`);
  if (!peer) throw new MicrogatewayError("Unauthenticated", "no client certificate");
  const namespaces = peer.uris.map(namespaceOfSpiffeId).filter((n) => n !== undefined);
  if (!namespaces.includes(node.namespace)) {
    throw new MicrogatewayError(
      "PermissionDenied",
      `client certificate (${namespaces.length > 0 ? `namespace ${namespaces.join(", ")}` : "no engine identity"}) may not read the configuration of node "${nodeId}" in namespace ${node.namespace}`,
    );
  }
};

/** Starts the ADS server: gRPC over HTTP/2 (node:http2), mutual TLS 1.3. */
export async function startXdsServer(opts: XdsServerOptions): Promise<XdsServer> {
  if (!opts.tls && !opts.insecurePlaintext) {
    throw new MicrogatewayError(
      "Internal",
      "the xDS server needs TLS material (or insecurePlaintext for protocol tests)",
    );
  }
  const ads: AdsServiceOptions = {
    cache: opts.cache,
    status: opts.status,
    authorize: opts.authorize ?? (opts.insecurePlaintext ? () => {} : namespaceAuthorizer),
    log: opts.log,
    fanOut: new FanOutScheduler(),
  };
  const secure = opts.tls
    ? {
        ...secureContextOptions(opts.tls),
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: "TLSv1.3" as const,
        maxVersion: "TLSv1.3" as const,
        allowHTTP1: false,
      }
    : undefined;
  let server: http2.Http2Server | http2.Http2SecureServer;
  if ((opts.adsTransport ?? "direct") === "direct") {
    // The stream API: no compatibility request/response objects (grpc-transport.ts).
    const direct = directAdsHandler(ads);
    server = secure ? http2.createSecureServer(secure) : http2.createServer();
    server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) =>
      direct(stream, headers, identityOfStream(stream)),
    );
  } else {
    // ConnectRPC, kept for comparison; loaded only when asked for.
    const { connectHandler } = await import("./connect-transport.ts");
    const handler = connectHandler(ads, (req) =>
      identityOfStream((req as { stream?: http2.ServerHttp2Stream }).stream),
    );
    server = secure ? http2.createSecureServer(secure, handler) : http2.createServer(handler);
  }

  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
    s.on("error", () => {});
  });
  // A bad handshake or garbage on the socket must never take the server down.
  server.on("tlsClientError", (e: Error) => opts.log?.(`xds: TLS handshake failed: ${e.message}`));
  server.on("sessionError", () => {});
  server.on("error", (e: Error) => opts.log?.(`xds: server error: ${e.message}`));

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 13377, opts.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  opts.log?.(
    `xds: listening on ${opts.host ?? "0.0.0.0"}:${port} (${opts.tls ? "mTLS, TLS 1.3" : "plaintext"})`,
  );

  return {
    port,
    updateTls(tls) {
      if (!("setSecureContext" in server))
        throw new MicrogatewayError("Internal", "plaintext server has no TLS");
      (server as http2.Http2SecureServer).setSecureContext(secureContextOptions(tls));
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sessions) s.destroy();
      });
    },
  };
}

function secureContextOptions(tls: XdsServerTls) {
  return { cert: tls.certificatePem, key: tls.privateKeyPem, ca: tls.caPem };
}

function identityOfStream(stream: http2.ServerHttp2Stream | undefined): PeerIdentity | undefined {
  // The stream's session holds the TLS socket.
  const socket = stream?.session?.socket as TLSSocket | undefined;
  if (!socket || typeof socket.getPeerCertificate !== "function") return undefined;
  return peerIdentity(socket.getPeerCertificate());
}
