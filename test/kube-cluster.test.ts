/**
 * The test cluster harness against itself: a real etcd + kube-apiserver (+ kube-controller-manager)
 * validate, authorize and reconcile as a production control plane does, so operator tests can rely on it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { type KubeCluster, startKubeCluster } from "./support/kube-cluster.ts";
import { waitFor } from "./support/net.ts";

let full: KubeCluster; // with kube-controller-manager
let bare: KubeCluster; // etcd + kube-apiserver only

beforeAll(async () => {
  // Started together: clusters must share nothing (ports, files), as parallel test files need.
  const started = await Promise.allSettled([
    startKubeCluster({ controllerManager: true }),
    startKubeCluster(),
  ]);
  const [withKcm, without] = started;
  if (withKcm.status === "rejected" || without.status === "rejected") {
    await Promise.all(started.map((r) => (r.status === "fulfilled" ? r.value.stop() : undefined)));
    throw withKcm.status === "rejected" ? withKcm.reason : (without as PromiseRejectedResult).reason;
  }
  full = withKcm.value;
  bare = without.value;
  console.log(
    `kube cluster startup (two at once): ${full.startupMs} ms with controller manager, ${bare.startupMs} ms without`,
  );
}, 240_000);

afterAll(async () => {
  await Promise.all([full?.stop(), bare?.stop()]);
}, 30_000);

const validPod = `
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: default, labels: { app: web } }
spec:
  containers:
    - name: app
      image: registry.example/web:1.0
`;

describe("kube test cluster", () => {
  test("serves the system namespaces", async () => {
    for (const cluster of [full, bare]) {
      const r = await cluster.kubectl(["get", "namespaces", "-o", "name"]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain("namespace/default");
      expect(r.stdout).toContain("namespace/kube-system");
    }
  }, 30_000);

  test("stores a valid Pod, which stays Pending without a scheduler, and rejects an invalid one", async () => {
    expect(await full.apply(validPod)).toContain("pod/web created");
    const phase = await full.kubectl(["get", "pod", "web", "-o", "jsonpath={.status.phase}"]);
    expect(phase.stdout).toBe("Pending");

    const invalid = validPod.replace("name: web,", "name: Web_Bad,").replace(/\n\s+image: .*\n/, "\n");
    const r = await full.kubectl(["apply", "-f", "-"], { stdin: invalid });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Pod "Web_Bad" is invalid');
    expect(r.stderr).toContain("spec.containers[0].image: Required value");
  }, 30_000);

  test("with the controller manager, a Deployment creates a Pod and deleting it collects the Pod", async () => {
    await full.apply(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: shop, namespace: default }
spec:
  replicas: 1
  selector: { matchLabels: { app: shop } }
  template:
    metadata: { labels: { app: shop } }
    spec: { containers: [{ name: app, image: registry.example/shop:1.0 }] }
`);
    const podNames = async () => {
      const r = await full.kubectl(["get", "pods", "-l", "app=shop", "-o", "name"]);
      return r.stdout.split("\n").filter((l) => l.startsWith("pod/"));
    };
    await waitFor("the Deployment's Pod", async () => (await podNames()).length === 1, 60_000, 250);
    const owner = await full.kubectl([
      "get",
      "pods",
      "-l",
      "app=shop",
      "-o",
      "jsonpath={.items[0].metadata.ownerReferences[0].kind} {.items[0].status.phase}",
    ]);
    expect(owner.stdout).toBe("ReplicaSet Pending");

    const del = await full.kubectl(["delete", "deployment", "shop", "--wait=false"]);
    expect(del.code).toBe(0);
    await waitFor(
      "the garbage collector to delete the Pod",
      async () => (await podNames()).length === 0,
      60_000,
      250,
    );
  }, 150_000);

  test("RBAC: a user is forbidden until a RoleBinding for one of their groups grants access", async () => {
    const jane = await bare.kubeconfigFor({ user: "jane", groups: ["shop-devs"] });
    const denied = await bare.kubectl(["get", "pods", "-n", "default"], { kubeconfigPath: jane });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain(
      'User "jane" cannot list resource "pods" in API group "" in the namespace "default"',
    );

    await bare.apply(`
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: pod-reader, namespace: default }
rules: [{ apiGroups: [""], resources: [pods], verbs: [get, list] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: shop-devs-read-pods, namespace: default }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: Group, name: shop-devs }]
`);
    const allowed = await bare.kubectl(["get", "pods", "-n", "default"], { kubeconfigPath: jane });
    expect(allowed.stderr).toBe("No resources found in default namespace.\n");
    expect(allowed.code).toBe(0);
    const secrets = await bare.kubectl(["get", "secrets", "-n", "default"], { kubeconfigPath: jane });
    expect(secrets.stderr).toContain('User "jane" cannot list resource "secrets"');
  }, 30_000);

  test("@kubernetes/client-node lists Pods with the generated kubeconfig under Bun", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(full.kubeconfigPath);
    const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: "default" });
    expect(pods.items.map((p) => p.metadata?.name)).toContain("web");
  }, 30_000);

  test("stop kills the processes and removes the cluster's files", async () => {
    const dir = dirname(bare.kubeconfigPath);
    await bare.stop();
    expect(existsSync(dir)).toBe(false);
    const r = await fetch(`${bare.server}/readyz`, { tls: { rejectUnauthorized: false } }).catch(
      (e: Error) => e,
    );
    expect(r).toBeInstanceOf(Error);
  }, 30_000);

  test("without the binaries, startKubeCluster says how to install them", async () => {
    const empty = mkdtempSync(join(tmpdir(), "mgw-empty-cache-"));
    const saved = process.env.MICROGATEWAY_CACHE;
    process.env.MICROGATEWAY_CACHE = empty;
    try {
      await expect(startKubeCluster()).rejects.toThrow("Run `bash scripts/setup-cluster.sh`");
    } finally {
      if (saved === undefined) delete process.env.MICROGATEWAY_CACHE;
      else process.env.MICROGATEWAY_CACHE = saved;
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
