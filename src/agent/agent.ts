/**
 * The session-agent container's process (`microgateway agent`): serves the request inspector to
 * the pod's engine on a Unix socket in the emptyDir both containers mount, and answers the
 * kubelet's probes on its port.
 */
import { checkSocketPath, describeAddress, POD_INSPECTOR_SOCKET } from "../extproc/contract.ts";
import { inspectorEngine, warmUp } from "../extproc/inspector-engine.ts";
import { type InspectorServer, startInspectorServer } from "../extproc/server.ts";

/** Environment variable that overrides the socket path (the `--socket` flag wins over it). */
export const AGENT_SOCKET_ENV = "MICROGATEWAY_INSPECTOR_SOCKET";

export interface AgentOptions {
  /** Default POD_INSPECTOR_SOCKET. */
  readonly socketPath?: string;
  /** Port of `GET /healthz` (the kubelet's probes). 0: any free port; undefined: no probe port. */
  readonly healthPort?: number;
  readonly log?: (line: string) => void;
}

/** A running agent. */
export interface Agent {
  readonly inspector: InspectorServer;
  /** The probe port, if one was asked for. */
  readonly healthPort: number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the agent: compiles the default policy (so the first requests do not wait for RE2),
 * listens on the socket, then opens the probe port, so a passing probe means the engine can ask.
 *
 * @example const agent = await startAgent({ socketPath: "/var/run/microgateway/inspector.sock", healthPort: 19004 })
 */
export async function startAgent(opts: AgentOptions = {}): Promise<Agent> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const socketPath = checkSocketPath(opts.socketPath ?? POD_INSPECTOR_SOCKET, "inspector socket");
  const engine = inspectorEngine();
  warmUp(engine);
  const inspector = await startInspectorServer({ engine, listen: { socketPath }, log });
  const health =
    opts.healthPort === undefined
      ? undefined
      : Bun.serve({
          hostname: "0.0.0.0",
          port: opts.healthPort,
          fetch: (req) =>
            new URL(req.url).pathname === "/healthz"
              ? new Response("ok\n")
              : new Response("not found\n", { status: 404 }),
        });
  log(
    `agent: inspector on ${describeAddress(inspector.address)}${health ? `, probes on :${health.port}/healthz` : ""}`,
  );
  return {
    inspector,
    healthPort: health?.port,
    async stop() {
      health?.stop(true);
      await inspector.close();
    },
  };
}
