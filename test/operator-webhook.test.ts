/**
 * The operator against a real kube-apiserver (etcd, kube-apiserver, kube-controller-manager from
 * scripts/setup-cluster.sh): pods created through the API come out injected, the namespace gets its
 * bootstrap secret, and a real Envoy started exactly as the injected container would be (same args,
 * the secret's files at /app/config) connects to the operator's xDS server over mTLS and becomes
 * ready. Nothing is mocked; only the kubelet is missing, so the test runs the engine itself.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:tls";
import { type KubeCluster, startKubeCluster } from "./support/kube-cluster.ts";
import { waitFor } from "./support/net.ts";
import {
  ENGINE_CONTAINER,
  getJson,
  type PodJson,
  type RunningOperator,
  registerWebhook,
  type SecretJson,
  startEngineForPod,
  startOperatorProcess,
} from "./support/operator.ts";

const OPNS = "mgw-system";
const MWC = "mgw-test-injector";

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

let cluster: KubeCluster;
let operator: RunningOperator;

beforeAll(async () => {
  cluster = await startKubeCluster({ controllerManager: true });
  await cluster.apply(
    `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${OPNS} }\n---\napiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n---\napiVersion: v1\nkind: Namespace\nmetadata: { name: dry }\n`,
  );
  operator = await startOperatorProcess(cluster, { operatorNamespace: OPNS, configurationName: MWC });
  // Registered without a caBundle: the operator fills in its own CA.
  await registerWebhook(cluster, operator.ports.webhook, MWC);
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
    const engine = p.spec.initContainers?.find((c) => c.name === ENGINE_CONTAINER);
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
    const engine = p.spec.initContainers.find((c) => c.name === ENGINE_CONTAINER) as {
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
    expect(p.spec.initContainers?.some((c) => c.name === ENGINE_CONTAINER)).toBe(true);
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
    expect(names).toContain(ENGINE_CONTAINER);
  }, 90_000);

  test("a real Envoy started from the injected pod and its secret connects over mTLS and becomes ready", async () => {
    await cluster.apply(pod("engine", "shop"));
    const engine = await startEngineForPod(cluster, "shop", "engine");
    try {
      await waitFor(
        "the operator to see the engine's stream",
        () => operator.lines.some((l) => l.includes("stream opened by engine.shop")),
        10_000,
      );
    } finally {
      await engine.stop();
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
  // Its own cluster: this operator must be the only one (and so the leader) in its namespace.
  let cluster: KubeCluster;
  beforeAll(async () => {
    cluster = await startKubeCluster({ controllerManager: true });
    await cluster.apply(`apiVersion: v1\nkind: Namespace\nmetadata: { name: ${OPNS} }\n`);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  test("bootstrap secrets and the webhook certificate are renewed on schedule, with no failed admission", async () => {
    const ns = "renew";
    const name = "mgw-renew-injector";
    await cluster.apply(`apiVersion: v1\nkind: Namespace\nmetadata: { name: ${ns} }\n`);
    const fast = await startOperatorProcess(cluster, {
      operatorNamespace: OPNS,
      configurationName: name,
      extraConfig: "certificates: { renewalPeriod: 3s, leafValidity: 30s }\n",
    });
    try {
      // This operator answers for pods labelled differently, through its own configuration.
      await registerWebhook(cluster, fast.ports.webhook, name, { renew: "yes" });
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
