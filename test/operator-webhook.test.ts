/**
 * The operator against a real kube-apiserver (etcd, kube-apiserver, kube-controller-manager from
 * scripts/setup-cluster.sh): pods created through the API come out injected, the namespace gets its
 * bootstrap secret, and a real Envoy started exactly as the injected container would be (same args,
 * the secret's files at /app/config) connects to the operator's xDS server over mTLS and becomes
 * ready. Nothing is mocked; only the kubelet is missing, so the test runs the engine itself.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { findEnvoy } from "../src/local/envoy-process.ts";
import { type KubeCluster, startKubeCluster } from "./support/kube-cluster.ts";
import { freePort, waitFor } from "./support/net.ts";

const OPNS = "mgw-system";
const MWC = "mgw-test-injector";
const ENGINE = "airlock-microgateway-engine";

interface RunningOperator {
  readonly lines: string[];
  readonly ports: { webhook: number; xds: number; health: number; metrics: number };
  stop(): Promise<void>;
}

/** Runs `microgateway operator` as its own process, exactly as the container would. */
async function startOperatorProcess(
  cluster: KubeCluster,
  extra = "",
  configurationName = MWC,
): Promise<RunningOperator> {
  const ports = { webhook: freePort(), xds: freePort(), health: freePort(), metrics: freePort() };
  const dir = mkdtempSync(join(tmpdir(), "mgw-operator-"));
  const configPath = join(dir, "operator-config.yaml");
  writeFileSync(
    configPath,
    `apiVersion: microgateway.airlock.com/v1alpha1
kind: OperatorConfig
operatorNamespace: ${OPNS}
webhook: { port: ${ports.webhook}, configurationName: ${configurationName}, extraSANs: [127.0.0.1] }
xds: { port: ${ports.xds}, host: 127.0.0.1 }
health: { port: ${ports.health} }
metrics: { port: ${ports.metrics} }
${extra}`,
  );
  const proc = Bun.spawn(
    ["bun", join(import.meta.dir, "../src/cli/main.ts"), "operator", "--config", configPath],
    {
      env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath },
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
  };
}

function webhookConfiguration(port: number, name = MWC): string {
  return `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: { name: ${name} }
webhooks:
  - name: mutate-pod.microgateway.airlock.com
    admissionReviewVersions: [v1]
    clientConfig: { url: "https://127.0.0.1:${port}/mutate-v1-pod" }
    rules: [{ operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods] }]
    objectSelector: { matchLabels: { sidecar.microgateway.airlock.com/inject: "true" } }
    failurePolicy: Fail
    sideEffects: NoneOnDryRun
    timeoutSeconds: 5
    reinvocationPolicy: IfNeeded
`;
}

function pod(
  name: string,
  namespace: string,
  annotations: Record<string, string> = {},
  inject = true,
): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${namespace}
  labels: { app: ${name}${inject ? `, sidecar.microgateway.airlock.com/inject: "true"` : ""} }
  annotations: ${JSON.stringify(annotations)}
spec:
  containers:
    - name: app
      image: registry.example/${name}:1.0
      ports: [{ containerPort: 8080 }]
`;
}

async function getJson<T>(cluster: KubeCluster, args: string[]): Promise<T> {
  const r = await cluster.kubectl([...args, "-o", "json"]);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

interface PodJson {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: { name: string }[];
    initContainers?: {
      name: string;
      args?: string[];
      restartPolicy?: string;
      env?: { name: string; value?: string; valueFrom?: unknown }[];
    }[];
    volumes?: { name: string; secret?: { secretName: string } }[];
  };
}

interface SecretJson {
  metadata: { annotations?: Record<string, string> };
  data: Record<string, string>;
}

let cluster: KubeCluster;
let operator: RunningOperator;

beforeAll(async () => {
  cluster = await startKubeCluster({ controllerManager: true });
  await cluster.apply(
    `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${OPNS} }\n---\napiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n---\napiVersion: v1\nkind: Namespace\nmetadata: { name: dry }\n`,
  );
  operator = await startOperatorProcess(cluster);
  // Registered without a caBundle: the operator fills in its own CA.
  await cluster.apply(webhookConfiguration(operator.ports.webhook));
  await waitFor(
    "the operator to set the caBundle",
    async () =>
      (
        await cluster.kubectl([
          "get",
          "mutatingwebhookconfiguration",
          MWC,
          "-o",
          "jsonpath={.webhooks[0].clientConfig.caBundle}",
        ])
      ).stdout.length > 100,
    30_000,
  );
}, 240_000);

afterAll(async () => {
  await operator?.stop();
  await cluster?.stop();
}, 60_000);

describe("operator webhook against a real kube-apiserver", () => {
  test("the operator created its CA secret and serves health endpoints", async () => {
    const ca = await getJson<SecretJson>(cluster, [
      "get",
      "secret",
      "airlock-microgateway-ca-cert",
      "-n",
      OPNS,
    ]);
    expect(Buffer.from(ca.data["tls.crt"] ?? "", "base64").toString()).toContain("BEGIN CERTIFICATE");
    expect((await fetch(`http://127.0.0.1:${operator.ports.health}/healthz`)).status).toBe(200);
  });

  test("a labelled pod is stored with the engine injected and its namespace gets the bootstrap secret", async () => {
    await cluster.apply(pod("web", "shop"));
    const p = await getJson<PodJson>(cluster, ["get", "pod", "web", "-n", "shop"]);
    // Kubernetes 1.35 without nodes: native sidecars (init containers that keep running).
    const engine = p.spec.initContainers?.find((c) => c.name === ENGINE);
    expect(engine).toBeDefined();
    expect(engine?.restartPolicy).toBe("Always");
    expect(p.spec.containers.map((c) => c.name)).toEqual(["app"]);
    expect(p.metadata.labels?.["microgateway.airlock.com/managedBy"]).toBe(OPNS);
    expect(
      p.spec.volumes?.find((v) => v.secret?.secretName === "airlock-microgateway-bootstrap-secret"),
    ).toBeDefined();

    const secret = await getJson<SecretJson>(cluster, [
      "get",
      "secret",
      "airlock-microgateway-bootstrap-secret",
      "-n",
      "shop",
    ]);
    for (const key of [
      "bootstrap_config.yaml",
      "tls.crt",
      "tls.key",
      "ca.crt",
      "tls_certificate_sds_secret.yaml",
      "validation_context_sds_secret.yaml",
    ]) {
      expect(secret.data[key]).toBeString();
    }
    const ca = await getJson<SecretJson>(cluster, [
      "get",
      "secret",
      "airlock-microgateway-ca-cert",
      "-n",
      OPNS,
    ]);
    expect(secret.data["ca.crt"]).toBe(ca.data["tls.crt"] ?? "");
  }, 30_000);

  test("a pod without the label is untouched", async () => {
    await cluster.apply(pod("plain", "shop", {}, false));
    const p = await getJson<PodJson>(cluster, ["get", "pod", "plain", "-n", "shop"]);
    expect(p.spec.initContainers ?? []).toHaveLength(0);
    expect(p.spec.containers.map((c) => c.name)).toEqual(["app"]);
  }, 30_000);

  test("an invalid annotation is denied with a message naming it and the accepted values", async () => {
    const r = await cluster.kubectl(["apply", "-f", "-"], {
      stdin: pod("bad", "shop", { "sidecar.microgateway.airlock.com/engineLogLevel": "loud" }),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("sidecar.microgateway.airlock.com/engineLogLevel");
    expect(r.stderr).toContain("trace");
    // The webhook is still up.
    await cluster.apply(pod("after-bad", "shop"));
  }, 30_000);

  test("annotations win over the configuration", async () => {
    await cluster.apply(
      pod("tuned", "shop", {
        "sidecar.microgateway.airlock.com/engineCpuLimits": "500m",
        "sidecar.microgateway.airlock.com/engineLogLevel": "debug",
      }),
    );
    const p = await getJson<
      PodJson & {
        spec: { initContainers: { name: string; resources?: { limits?: Record<string, string> } }[] };
      }
    >(cluster, ["get", "pod", "tuned", "-n", "shop"]);
    const engine = p.spec.initContainers.find((c) => c.name === ENGINE) as {
      args?: string[];
      resources?: { limits?: Record<string, string> };
    };
    expect(engine.resources?.limits?.cpu).toBe("500m");
    expect(engine.args?.join(" ")).toContain("--log-level debug");
  }, 30_000);

  test("a server-side dry run shows the injection but has no side effect", async () => {
    const r = await cluster.kubectl(["apply", "--dry-run=server", "-o", "json", "-f", "-"], {
      stdin: pod("preview", "dry"),
    });
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout) as PodJson;
    expect(p.spec.initContainers?.some((c) => c.name === ENGINE)).toBe(true);
    const secret = await cluster.kubectl([
      "get",
      "secret",
      "airlock-microgateway-bootstrap-secret",
      "-n",
      "dry",
    ]);
    expect(secret.code).not.toBe(0);
    expect(secret.stderr).toContain("NotFound");
  }, 30_000);

  test("a Deployment's pods are injected", async () => {
    await cluster.apply(`apiVersion: apps/v1
kind: Deployment
metadata: { name: shop, namespace: shop }
spec:
  replicas: 1
  selector: { matchLabels: { app: shop } }
  template:
    metadata: { labels: { app: shop, sidecar.microgateway.airlock.com/inject: "true" } }
    spec: { containers: [{ name: app, image: registry.example/shop:1.0 }] }
`);
    let names: string[] = [];
    await waitFor(
      "the Deployment's pod",
      async () => {
        const list = await getJson<{ items: PodJson[] }>(cluster, [
          "get",
          "pods",
          "-n",
          "shop",
          "-l",
          "app=shop",
        ]);
        names = list.items.flatMap((i) => (i.spec.initContainers ?? []).map((c) => c.name));
        return list.items.length === 1;
      },
      60_000,
    );
    expect(names).toContain(ENGINE);
  }, 90_000);

  test("a real Envoy started from the injected pod and its secret connects over mTLS and becomes ready", async () => {
    await cluster.apply(pod("engine", "shop"));
    const p = await getJson<PodJson & { metadata: { name: string; namespace: string } }>(cluster, [
      "get",
      "pod",
      "engine",
      "-n",
      "shop",
    ]);
    const engine = p.spec.initContainers?.find((c) => c.name === ENGINE);
    const secret = await getJson<SecretJson>(cluster, [
      "get",
      "secret",
      "airlock-microgateway-bootstrap-secret",
      "-n",
      "shop",
    ]);
    const dir = mkdtempSync(join(tmpdir(), "mgw-engine-"));
    for (const [file, data] of Object.entries(secret.data))
      writeFileSync(join(dir, file), Buffer.from(data, "base64"));
    // The kubelet's $(VAR) expansion, from the container's own env (downward API values filled in).
    const env: Record<string, string> = { POD_NAME: "engine", POD_NAMESPACE: "shop", POD_IP: "127.0.0.1" };
    for (const e of engine?.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    const args = (engine?.args ?? []).map((a) =>
      a.replace(/\$\(([A-Z_]+)\)/g, (_, v: string) => env[v] ?? ""),
    );
    // The secret is mounted at /app/config in the container: the same path in a private mount namespace.
    const script = `mkdir -p /app/config && mount --bind "${dir}" /app/config && mount -t tmpfs tmpfs /dev/shm && exec "$0" "$@"`;
    // The engine logs to --log-path /dev/stdout, which must be a file or pipe (as in a container), not a socket.
    const logPath = join(dir, "..", `${dir.split("/").pop()}-envoy.log`);
    const envoy = Bun.spawn(
      ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, findEnvoy(), ...args],
      {
        stdout: Bun.file(logPath),
        stderr: Bun.file(logPath),
      },
    );
    const envoyLog = () => (existsSync(logPath) ? readFileSync(logPath, "utf8") : "");
    try {
      await waitFor(
        "the engine's /ready on 19001",
        async () => (await fetch("http://127.0.0.1:19001/ready").catch(() => undefined))?.status === 200,
        30_000,
      ).catch((e) => {
        throw new Error(
          `${String(e)}\nengine args: ${args.join(" ")}\nenvoy output:\n${envoyLog().slice(-3000)}\noperator:\n${operator.lines.slice(-20).join("\n")}`,
        );
      });
      await waitFor(
        "the operator to see the engine's stream",
        () => operator.lines.some((l) => l.includes("stream opened by engine.shop")),
        10_000,
      );
    } finally {
      envoy.kill("SIGTERM");
      await envoy.exited;
      rmSync(dir, { recursive: true, force: true });
      rmSync(logPath, { force: true });
    }
  }, 60_000);

  test("the webhook's serving certificate is from the operator's CA and names the Service", async () => {
    const san = await new Promise<string>((resolve, reject) => {
      const s = connect(
        { host: "127.0.0.1", port: operator.ports.webhook, rejectUnauthorized: false },
        () => {
          resolve(String(s.getPeerCertificate().subjectaltname));
          s.destroy();
        },
      );
      s.on("error", reject);
    });
    expect(san).toContain(`DNS:airlock-microgateway-operator-webhook.${OPNS}.svc`);
    expect(san).toContain("IP Address:127.0.0.1");
  });
});

describe("certificate renewal", () => {
  test("bootstrap secrets and the webhook certificate are renewed on schedule, with no failed admission", async () => {
    const ns = "renew";
    const name = "mgw-renew-injector";
    await cluster.apply(`apiVersion: v1\nkind: Namespace\nmetadata: { name: ${ns} }\n`);
    const fast = await startOperatorProcess(
      cluster,
      "certificates: { renewalPeriod: 3s, leafValidity: 30s }\n",
      name,
    );
    try {
      // This operator answers for pods labelled differently, through its own configuration.
      await cluster.apply(
        webhookConfiguration(fast.ports.webhook, name).replace(
          `sidecar.microgateway.airlock.com/inject: "true"`,
          `sidecar.microgateway.airlock.com/inject: "true", renew: "yes"`,
        ),
      );
      await waitFor(
        "the caBundle of the second configuration",
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
        20_000,
      );
      const serial = () =>
        new Promise<string>((resolve, reject) => {
          const s = connect(
            { host: "127.0.0.1", port: fast.ports.webhook, rejectUnauthorized: false },
            () => {
              resolve(s.getPeerCertificate().serialNumber);
              s.destroy();
            },
          );
          s.on("error", reject);
        });
      const first = await serial();
      const issued = async () =>
        (
          await getJson<SecretJson>(cluster, [
            "get",
            "secret",
            "airlock-microgateway-bootstrap-secret",
            "-n",
            ns,
          ])
        ).metadata.annotations?.["microgateway.airlock.com/issued-at"];
      let n = 0;
      const podWithLabel = (i: number) =>
        pod(`r${i}`, ns).replace(
          `sidecar.microgateway.airlock.com/inject: "true"`,
          `sidecar.microgateway.airlock.com/inject: "true", renew: "yes"`,
        );
      await cluster.apply(podWithLabel(n++));
      const firstIssued = await issued();
      expect(firstIssued).toBeString();
      // Keep creating pods across renewals: every one must be admitted.
      await waitFor(
        "a renewal",
        async () => {
          await cluster.apply(podWithLabel(n++));
          return (await serial()) !== first && (await issued()) !== firstIssued;
        },
        20_000,
        500,
      );
      expect(fast.lines.some((l) => l.includes("renewed the serving certificates"))).toBe(true);
    } finally {
      await fast.stop();
    }
  }, 60_000);
});
