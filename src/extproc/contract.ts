/**
 * What Envoy's configuration (src/translate/inspector.ts) and the inspector's server must agree
 * on: where the inspector listens and the metadata that carries a route's policy.
 *
 * In a pod the inspector listens on a Unix socket in an emptyDir that the engine and the
 * session-agent containers both mount (POD_INSPECTOR_SOCKET); in local mode on a socket in the
 * run's temporary folder.
 */
import { join } from "node:path";
import { MicrogatewayError } from "../errors.ts";

/** A Unix socket path, or a TCP port on a loopback host (0: any free port). */
export type InspectorAddress =
  | { readonly socketPath: string }
  | { readonly host: string; readonly port: number };

/** gRPC initial metadata that carries a route's policy (set by the route's ExtProcPerRoute). */
export const POLICY_METADATA_KEY = "x-microgateway-policy";

/**
 * gRPC initial metadata that carries a route's HeaderRewritePlan (src/inspect/header-rewrite-wire.ts),
 * set only on routes whose header rewrites need the inspector (allow lists, pattern removals,
 * conditional additions, authentication challenges, permissive CORS).
 */
export const HEADER_REWRITES_METADATA_KEY = "x-microgateway-header-rewrites";

/**
 * Streams Envoy opens on one connection to the inspector before it moves to a new one. Bun's
 * `node:http2` server stops taking streams on a session after about 1000 (it refuses them, and
 * under concurrency Envoy answers those requests 500); draining each connection well before that
 * keeps every stream on a session that accepts it. Measured: 2500 sequential requests used 3
 * connections without this; with it, concurrent load saw no refused stream.
 */
export const INSPECTOR_STREAMS_PER_CONNECTION = 500;

/** Mount path of the shared emptyDir in the engine and session-agent containers. */
export const POD_INSPECTOR_SOCKET_DIR = "/var/run/microgateway";

/** The inspector's socket in a pod. */
export const POD_INSPECTOR_SOCKET = join(POD_INSPECTOR_SOCKET_DIR, "inspector.sock");

/** `unix:<path>` or `<host>:<port>`, for logs. */
export function describeAddress(address: InspectorAddress): string {
  return "socketPath" in address ? `unix:${address.socketPath}` : `${address.host}:${address.port}`;
}

/**
 * `path` if it can be a Unix socket path: absolute and at most 107 bytes (the kernel's
 * `sun_path` limit). Throws MicrogatewayError naming `what` otherwise.
 *
 * @example checkSocketPath("/var/run/microgateway/inspector.sock", "--socket")
 */
export function checkSocketPath(path: string, what: string): string {
  if (!path.startsWith("/")) {
    throw new MicrogatewayError(
      "InvalidArgument",
      `${what} ${JSON.stringify(path)}: must be an absolute path`,
    );
  }
  if (Buffer.byteLength(path) > 107) {
    throw new MicrogatewayError(
      "InvalidArgument",
      `${what} ${JSON.stringify(path)}: a Unix socket path may have at most 107 bytes`,
    );
  }
  return path;
}
