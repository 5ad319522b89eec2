/**
 * Test helpers for the operator against a real API server: run `microgateway operator` as its own
 * process, register its webhook, and run an injected pod's engine as the kubelet would (same args,
 * the bootstrap secret's files at /app/config in a private mount namespace). There is no kubelet in
 * the test cluster, so the engine is the one thing the tests start themselves.
 */

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { startAgent } from "../../src/agent/agent.ts";
import { BOOTSTRAP_FILES } from "../../src/bootstrap/engine-bootstrap.ts";
import { POD_INSPECTOR_SOCKET_DIR } from "../../src/extproc/contract.ts";
import { findEnvoy } from "../../src/local/envoy-process.ts";
import type { KubeCluster } from "./kube-cluster.ts";
import { freePort, waitFor } from "./net.ts";
import type { NetworkNamespace } from "./netns.ts";

export const ENGINE_CONTAINER = "airlock-microgateway-engine";
export const INJECT_LABEL = "sidecar.microgateway.airlock.com/inject";

export interface RunningOperator {
  /** Everything the operator printed so far. */
  readonly lines: string[];
  readonly ports: { webhook: number; xds: number; health: number; metrics: number };
  stop(): Promise<void>;
  /** SIGKILL, as a node failure or an OOM kill would end it: no lease release, no final writes. */
  kill(): Promise<void>;
}

export interface OperatorProcessOptions {
  readonly operatorNamespace: string;
  /** The MutatingWebhookConfiguration whose caBundle the operator maintains. */
  readonly configurationName: string;
  /** More OperatorConfig YAML (top-level keys). */
  readonly extraConfig?: string;
  /** Run as another user, e.g. a path from {@link KubeCluster.kubeconfigFor}. Default: the admin kubeconfig. */
  readonly kubeconfigPath?: string;
  /** More environment variables, e.g. POD_NAME (the leader election identity's prefix). */
  readonly env?: Record<string, string>;
}

/** Runs `microgateway operator` as its own process, exactly as the container would, and waits for /readyz. */
export async function startOperatorProcess(
  cluster: KubeCluster,
  opts: OperatorProcessOptions,
): Promise<RunningOperator> {
  const ports = { webhook: freePort(), xds: freePort(), health: freePort(), metrics: freePort() };
  const dir = mkdtempSync(join(tmpdir(), "mgw-operator-"));
  const configPath = join(dir, "operator-config.yaml");
  writeFileSync(
    configPath,
    `apiVersion: microgateway.airlock.com/v1alpha1
kind: OperatorConfig
operatorNamespace: ${opts.operatorNamespace}
webhook: { port: ${ports.webhook}, configurationName: ${opts.configurationName}, extraSANs: [127.0.0.1] }
xds: { port: ${ports.xds}, host: 127.0.0.1 }
health: { port: ${ports.health} }
metrics: { port: ${ports.metrics} }
${opts.extraConfig ?? ""}`,
  );
  const proc = Bun.spawn(
    ["bun", join(import.meta.dir, "../../src/cli/main.ts"), "operator", "--config", configPath],
    {
      env: { ...process.env, KUBECONFIG: opts.kubeconfigPath ?? cluster.kubeconfigPath, ...opts.env },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const lines: string[] = [];
  const collect = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) lines.push(...dec.decode(chunk).split("\n").filter(Boolean));
  };
  void collect(proc.stdout);
  void collect(proc.stderr);
  await waitFor(
    "the operator to be ready",
    async () =>
      (await fetch(`http://127.0.0.1:${ports.health}/readyz`).catch(() => undefined))?.status === 200,
    30_000,
  ).catch((e) => {
    proc.kill("SIGKILL");
    throw new Error(`${String(e)}\noperator output:\n${lines.join("\n")}`);
  });
  return {
    lines,
    ports,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      proc.kill("SIGKILL");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A MutatingWebhookConfiguration like the chart's, pointing at 127.0.0.1 and without a caBundle (the operator fills it in). */
export function webhookConfiguration(
  port: number,
  name: string,
  extraMatchLabels: Record<string, string> = {},
): string {
  const labels = { [INJECT_LABEL]: "true", ...extraMatchLabels };
  return `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: { name: ${name} }
webhooks:
  - name: mutate-pod.microgateway.airlock.com
    admissionReviewVersions: [v1]
    clientConfig: { url: "https://127.0.0.1:${port}/mutate-v1-pod" }
    rules: [{ operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods] }]
    objectSelector: { matchLabels: ${JSON.stringify(labels)} }
    failurePolicy: Fail
    sideEffects: NoneOnDryRun
    timeoutSeconds: 5
    reinvocationPolicy: IfNeeded
`;
}

/** Registers the webhook and waits until the operator has set its caBundle. */
export async function registerWebhook(
  cluster: KubeCluster,
  port: number,
  name: string,
  extraMatchLabels?: Record<string, string>,
): Promise<void> {
  await cluster.apply(webhookConfiguration(port, name, extraMatchLabels));
  await waitFor(
    `the operator to set the caBundle of ${name}`,
    async () =>
      (
        await cluster.kubectl([
          "get",
          "mutatingwebhookconfiguration",
          name,
          "-o",
          "jsonpath={.webhooks[0].clientConfig.caBundle}",
        ])
      ).stdout.length > 100,
    30_000,
  );
}

/** `kubectl get ... -o json`, parsed; throws with kubectl's message on failure. */
export async function getJson<T>(cluster: KubeCluster, args: string[]): Promise<T> {
  const r = await cluster.kubectl([...args, "-o", "json"]);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export interface ContainerJson {
  name: string;
  args?: string[];
  restartPolicy?: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

export interface PodJson {
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    containers: ContainerJson[];
    initContainers?: ContainerJson[];
    volumes?: { name: string; secret?: { secretName: string } }[];
  };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export interface SecretJson {
  metadata: { annotations?: Record<string, string> };
  data: Record<string, string>;
}

/** An engine started from an injected pod. */
export interface RunningEngine {
  /** Where its listeners are reached (127.0.0.1, or the address of its network namespace). */
  readonly address: string;
  readonly args: readonly string[];
  /** Envoy's output so far. */
  log(): string;
  stop(): Promise<void>;
}

/** Options of {@link startEngineForPod}. */
export interface EngineOptions {
  /**
   * Dial this operator replica instead of the bootstrap's xDS address (a Service would pick one in a
   * cluster); the server name the engine verifies stays the bootstrap's.
   */
  readonly xds?: { readonly address: string; readonly port: number };
  /** Run in this network namespace (a second engine next to the first, as in another pod). */
  readonly netns?: NetworkNamespace;
}

/**
 * Starts the engine of an injected pod as the kubelet would: the container's args with `$(VAR)`
 * expanded from its env (downward API values filled in), and the namespace's bootstrap secret
 * mounted at /app/config; the pod's session agent (the inspector) runs in this process with its
 * socket bind-mounted where the engine expects it. Waits until the engine's `/ready` on 19001 answers 200.
 */
export async function startEngineForPod(
  cluster: KubeCluster,
  namespace: string,
  podName: string,
  opts: EngineOptions = {},
): Promise<RunningEngine> {
  const pod = await getJson<PodJson>(cluster, ["get", "pod", podName, "-n", namespace]);
  const engine = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find(
    (c) => c.name === ENGINE_CONTAINER,
  );
  if (!engine) throw new Error(`pod ${namespace}/${podName} has no ${ENGINE_CONTAINER} container`);
  const secret = await getJson<SecretJson>(cluster, [
    "get",
    "secret",
    "airlock-microgateway-bootstrap-secret",
    "-n",
    namespace,
  ]);
  const dir = mkdtempSync(join(tmpdir(), "mgw-engine-"));
  // The pod's session agent (the inspector the engine asks over a Unix socket in a shared
  // emptyDir), run in this process as its container would run `microgateway agent`.
  const socketDir = mkdtempSync(join(tmpdir(), "mgw-agent-"));
  const agent = await startAgent({ socketPath: join(socketDir, "inspector.sock"), log: () => {} });
  for (const [file, data] of Object.entries(secret.data))
    writeFileSync(join(dir, file), Buffer.from(data, "base64"));
  if (opts.xds) redirectXds(join(dir, BOOTSTRAP_FILES.bootstrap), opts.xds);
  const address = opts.netns?.address ?? "127.0.0.1";
  const env: Record<string, string> = { POD_NAME: podName, POD_NAMESPACE: namespace, POD_IP: address };
  for (const e of engine.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  const args = (engine.args ?? []).map((a) => a.replace(/\$\(([A-Z_]+)\)/g, (_, v: string) => env[v] ?? ""));
  const script = `mkdir -p /app/config ${POD_INSPECTOR_SOCKET_DIR} && mount --bind "${dir}" /app/config && mount --bind "${socketDir}" ${POD_INSPECTOR_SOCKET_DIR} && mount -t tmpfs tmpfs /dev/shm && exec "$0" "$@"`;
  // --log-path /dev/stdout must be a file or a pipe (as in a container), not a socket.
  const logPath = `${dir}-envoy.log`;
  const proc = Bun.spawn(
    [
      ...(opts.netns?.exec ?? []),
      ...["unshare", "--mount", "--propagation", "private", "sh", "-c", script, findEnvoy(), ...args],
    ],
    {
      stdout: Bun.file(logPath),
      stderr: Bun.file(logPath),
    },
  );
  const log = () => (existsSync(logPath) ? readFileSync(logPath, "utf8") : "");
  const stop = async () => {
    proc.kill("SIGTERM");
    await proc.exited;
    await agent.stop();
    rmSync(socketDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
    rmSync(logPath, { force: true });
  };
  try {
    await waitFor(
      "the engine's /ready on 19001",
      async () => (await fetch(`http://${address}:19001/ready`).catch(() => undefined))?.status === 200,
      30_000,
    );
  } catch (e) {
    const output = log().slice(-3000);
    await stop();
    throw new Error(`${String(e)}\nengine args: ${args.join(" ")}\nenvoy output:\n${output}`);
  }
  return { address, args, log, stop };
}

/** Points the bootstrap's xDS cluster at another address and port. */
function redirectXds(path: string, to: { address: string; port: number }): void {
  interface Cluster {
    name: string;
    type?: string;
    load_assignment: {
      endpoints: { lb_endpoints: { endpoint: { address: { socket_address: unknown } } }[] }[];
    };
  }
  const bootstrap = parse(readFileSync(path, "utf8")) as { static_resources: { clusters: Cluster[] } };
  const xds = bootstrap.static_resources.clusters.find((c) => c.name === "xds_cluster");
  const endpoint = xds?.load_assignment.endpoints[0]?.lb_endpoints[0]?.endpoint;
  if (!xds || !endpoint) throw new Error(`${path}: no xds_cluster endpoint`);
  xds.type = "STATIC";
  endpoint.address.socket_address = { address: to.address, port_value: to.port };
  writeFileSync(path, stringify(bootstrap));
}

/** Installs our CRDs (chart/microgateway/crds) and waits until the API server serves them. */
export async function installCrds(cluster: KubeCluster): Promise<void> {
  const crds = await cluster.kubectl(["apply", "-f", join(import.meta.dir, "../../chart/microgateway/crds")]);
  if (crds.code !== 0) throw new Error(`applying the CRDs failed: ${crds.stderr}`);
  const wait = await cluster.kubectl([
    "wait",
    "--for=condition=Established",
    "crd",
    "--all",
    "--timeout=60s",
  ]);
  if (wait.code !== 0) throw new Error(`the CRDs did not become Established: ${wait.stderr}`);
}
