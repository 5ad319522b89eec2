#!/usr/bin/env bun
/**
 * The `microgateway` command.
 *
 *   microgateway local -f <file-or-dir> [-f ...] [--upstream http://127.0.0.1:PORT] [--demo]
 *   microgateway operator [--config FILE]
 *   microgateway agent [--socket PATH] [--health-port N]
 */
import { parseArgs } from "node:util";
import { errorMessage, isMicrogatewayError } from "../errors.ts";
import { DEFAULT_OPERATOR_CONFIG, parseOperatorConfig } from "../inject/operator-config.ts";
import { startLocalMode } from "../local/local-mode.ts";

const USAGE = `Usage:
  microgateway local -f <file-or-dir> [-f ...] [options]
      Runs the firewall on this machine: a real Envoy on 127.0.0.1:13378 in front of your
      application, configured from the manifests (SidecarGateway, ContentSecurity, DenyRules).
      Edits of the manifests are applied live; a broken edit is reported and ignored.
    --upstream URL      the application, e.g. http://127.0.0.1:3000
                        (default: 127.0.0.1:<containerPort> of the SidecarGateway)
    --demo              also start a small built-in application on the upstream address
    --pod NAME          the Pod of the manifests to protect, if they define several
    --engine-port N     default 13378
    --admin-port N      Envoy admin port (default 19000); also --probe-port (19001), --metrics-port (19002)
    --xds-port N        default: any free port
    --sotw              make Envoy use state-of-the-world ADS instead of delta
    --envoy-log         print Envoy's own log lines
  microgateway operator [--config FILE]
      Runs the operator: the sidecar injection webhook, the xDS server and the certificates.
      Talks to the cluster it runs in, or to the one named by KUBECONFIG.
    --config FILE       the OperatorConfig (see examples/operator-config.yaml); default: all defaults
  microgateway agent [--socket PATH] [--health-port N]
      Runs the request inspector of one pod (in its session-agent container): Envoy's ext_proc
      filter asks it about every request of a secured route, over a Unix socket.
    --socket PATH       default $MICROGATEWAY_INSPECTOR_SOCKET, else /var/run/microgateway/inspector.sock
    --health-port N     serve GET /healthz for the kubelet's probes on this port
  microgateway help
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command === "operator") return runOperator(rest);
  if (command === "agent") return runAgent(rest);
  if (command !== "local") {
    process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      file: { type: "string", short: "f", multiple: true },
      upstream: { type: "string" },
      demo: { type: "boolean" },
      pod: { type: "string" },
      "engine-port": { type: "string" },
      "admin-port": { type: "string" },
      "probe-port": { type: "string" },
      "metrics-port": { type: "string" },
      "xds-port": { type: "string" },
      sotw: { type: "boolean" },
      "envoy-log": { type: "boolean" },
    },
    strict: true,
  });
  const files = values.file ?? [];
  if (files.length === 0) {
    process.stderr.write(`local: at least one -f <file-or-dir> is required\n\n${USAGE}`);
    return 2;
  }
  const port = (name: keyof typeof values): number | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      throw new Error(`--${name} ${String(v)}: expected a port number`);
    return n;
  };

  const local = await startLocalMode({
    files,
    upstream: values.upstream,
    demoApp: values.demo ?? false,
    pod: values.pod,
    enginePort: port("engine-port"),
    adminPort: port("admin-port"),
    probePort: port("probe-port"),
    metricsPort: port("metrics-port"),
    xdsPort: port("xds-port"),
    apiType: values.sotw ? "GRPC" : "DELTA_GRPC",
    onEnvoyLog: values["envoy-log"] ? (line) => console.log(`envoy: ${line}`) : undefined,
  });
  const u = local.url;
  console.log(`
Microgateway is protecting the application (engine node ${local.nodeId}).
Send requests to ${u}/ , for example:
  curl -i '${u}/hello?name=world'                      # passes: 200 from the application
  curl -i "${u}/search?q=1'%20OR%201=1--"              # SQL injection: 400 blocked
  curl -i '${u}/?comment=%3Cscript%3Ealert(1)%3C/script%3E'   # XSS: 400 blocked
Edit the manifests (${files.join(", ")}): changes apply without restarting Envoy.
Envoy admin: ${local.envoy.adminUrl}  (its log: ${local.workDir}/envoy.log)
Press Ctrl-C to stop.
`);
  let stopping = false;
  await new Promise<void>((resolve) => {
    const stop = () => {
      stopping = true;
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    void local.envoy.exited.then(async (code) => {
      // Ctrl-C in a terminal reaches Envoy too, and it may exit before our handler runs.
      await Bun.sleep(200);
      if (!stopping)
        console.error(`Envoy exited unexpectedly (code ${code}); see ${local.workDir}/envoy.log`);
      resolve();
    });
  });
  console.log("stopping...");
  await local.stop();
  return 0;
}

async function runOperator(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: "string" } }, strict: true });
  const config = values.config
    ? parseOperatorConfig(await Bun.file(values.config).text(), values.config)
    : DEFAULT_OPERATOR_CONFIG;
  // Loaded lazily: local mode should not pay for the Kubernetes client.
  const { KubeConfig } = await import("@kubernetes/client-node");
  const { startOperator } = await import("../operator/operator.ts");
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const operator = await startOperator({ config, kubeConfig });
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  console.log("operator: stopping");
  await operator.stop();
  return 0;
}

async function runAgent(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { socket: { type: "string" }, "health-port": { type: "string" } },
    strict: true,
  });
  const healthPort = values["health-port"] === undefined ? undefined : Number(values["health-port"]);
  if (healthPort !== undefined && (!Number.isInteger(healthPort) || healthPort < 0 || healthPort > 65535)) {
    throw new Error(`--health-port ${String(values["health-port"])}: expected a port number`);
  }
  const { AGENT_SOCKET_ENV, startAgent } = await import("../agent/agent.ts");
  const agent = await startAgent({
    socketPath: values.socket ?? (process.env[AGENT_SOCKET_ENV] || undefined),
    healthPort,
  });
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  console.log("agent: stopping");
  await agent.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`microgateway: ${isMicrogatewayError(e) ? e.message : errorMessage(e)}`);
    process.exit(1);
  },
);
