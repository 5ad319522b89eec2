/**
 * The operator's least-privilege RBAC, proven against a real kube-apiserver: in each install mode the
 * operator process runs as its ServiceAccount's user holding nothing but the manifests of
 * chart/microgateway/rbac/ (operator.yaml plus the mode's file), and the main flow still works: a
 * labelled pod is injected, its namespace gets the bootstrap secret, a real engine ACKs its
 * configuration, status is written, the leader renews the bootstrap secrets and keeps the caBundle,
 * and the operator logs no "forbidden". Outside the watch scope a labelled pod is admitted unchanged;
 * in selector mode a namespace losing its label takes its pods' configuration away.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { type KubeCluster, startKubeCluster } from "./support/kube-cluster.ts";
import { statusOf, waitFor } from "./support/net.ts";
import { createNetworkNamespace, type NetworkNamespace } from "./support/netns.ts";
import {
  ENGINE_CONTAINER,
  getJson,
  installCrds,
  type PodJson,
  type RunningEngine,
  type RunningOperator,
  registerWebhook,
  startEngineForPod,
  startOperatorProcess,
} from "./support/operator.ts";

const RBAC_DIR = join(import.meta.dir, "../chart/microgateway/rbac");
/** The names the manifests are written for (the defaults of the OperatorConfig). */
const DEFAULT_NAMESPACE = "airlock-microgateway-system";
const DEFAULT_WEBHOOK = "airlock-microgateway-sidecar-injector";
const MODE_LABEL = "mgw-test/mode";
const WATCH_LABEL = "mgw-test/watch";

type Mode = "all-namespaces" | "namespaces" | "namespace-selector";

let cluster: KubeCluster;
/** Where the engines run: a network namespace of their own keeps their fixed ports off the host's. */
let netns: NetworkNamespace;

beforeAll(async () => {
  netns = createNetworkNamespace();
  cluster = await startKubeCluster({ controllerManager: true });
  await installCrds(cluster);
}, 180_000);

afterAll(async () => {
  netns?.remove();
  await cluster?.stop();
}, 60_000);

/**
 * The manifests of a mode, for an operator in `operatorNamespace` with its own webhook configuration;
 * in list mode the per-namespace Role and RoleBinding (written for `shop`) once per watched namespace.
 */
function rbacManifests(mode: Mode, operatorNamespace: string, webhook: string, watched: string[]): string {
  const docs: unknown[] = [];
  for (const file of ["operator.yaml", `${mode}.yaml`]) {
    const text = readFileSync(join(RBAC_DIR, file), "utf8")
      .replaceAll(DEFAULT_NAMESPACE, operatorNamespace)
      .replaceAll(DEFAULT_WEBHOOK, webhook);
    for (const doc of parseAllDocuments(text)) {
      const o = doc.toJS() as { metadata: { namespace?: string } };
      if (o.metadata.namespace !== "shop") docs.push(o);
      else for (const ns of watched) docs.push({ ...o, metadata: { ...o.metadata, namespace: ns } });
    }
  }
  return docs.map((d) => stringify(d)).join("---\n");
}

function namespaces(...names: string[]): string {
  return names.map((n) => `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${n} }\n`).join("---\n");
}

function resources(namespace: string, mode: Mode, pod = "web"): string {
  return `apiVersion: microgateway.airlock.com/v1alpha1
kind: SidecarGateway
metadata: { name: web, namespace: ${namespace} }
spec:
  podSelector: { matchLabels: { app: web } }
  applications:
    - containerPort: 8080
      routes: [{ pathPrefix: /, secured: { contentSecurityRef: { name: web } } }]
---
apiVersion: microgateway.airlock.com/v1alpha1
kind: ContentSecurity
metadata: { name: web, namespace: ${namespace} }
spec: { filter: { denyRulesRef: { name: web } } }
---
apiVersion: microgateway.airlock.com/v1alpha1
kind: DenyRules
metadata: { name: web, namespace: ${namespace} }
spec: { request: { builtIn: { settings: { level: Standard, threatHandlingMode: Block } } } }
---
${podManifest(namespace, mode, pod)}`;
}

function podManifest(namespace: string, mode: Mode, name: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${namespace}
  labels: { app: web, sidecar.microgateway.airlock.com/inject: "true", ${MODE_LABEL}: ${mode} }
spec: { containers: [{ name: app, image: registry.example/web:1.0, ports: [{ containerPort: 8080 }] }] }
`;
}

function isInjected(p: PodJson): boolean {
  return [...(p.spec.initContainers ?? []), ...p.spec.containers].some((c) => c.name === ENGINE_CONTAINER);
}

/** One install mode: its operator, running as the ServiceAccount user with only the mode's RBAC. */
async function startMode(
  mode: Mode,
  operatorNamespace: string,
  watch: string,
  watched: string[],
): Promise<RunningOperator> {
  const webhook = `${operatorNamespace}-injector`;
  await cluster.apply(namespaces(operatorNamespace));
  await cluster.apply(rbacManifests(mode, operatorNamespace, webhook, watched));
  const kubeconfigPath = await cluster.kubeconfigFor({
    user: `system:serviceaccount:${operatorNamespace}:airlock-microgateway-operator`,
    groups: ["system:serviceaccounts", `system:serviceaccounts:${operatorNamespace}`],
  });
  const operator = await startOperatorProcess(cluster, {
    operatorNamespace,
    configurationName: webhook,
    kubeconfigPath,
    // A short renewal period, so that the leader's renewal (list or reads, then updates) runs here.
    extraConfig: `watch: ${watch}\ncertificates: { renewalPeriod: 2s, leafValidity: 1h }\n`,
  });
  // Registering waits until the operator has set the caBundle (get and update on this one object).
  await registerWebhook(cluster, operator.ports.webhook, webhook, { [MODE_LABEL]: mode });
  return operator;
}

/**
 * Pod injected, bootstrap secret, engine ACKs, EnvoyConfiguration, SidecarGateway status and pod
 * condition written, bootstrap secrets renewed.
 */
async function expectMainFlow(operator: RunningOperator, namespace: string): Promise<RunningEngine> {
  const p = await getJson<PodJson>(cluster, ["get", "pod", "web", "-n", namespace]);
  expect(isInjected(p)).toBe(true);
  const engine = await startEngineForPod(cluster, namespace, "web", {
    netns,
    xds: { address: netns.hostAddress, port: operator.ports.xds },
  });
  const fail = (e: unknown) => {
    throw new Error(`${String(e)}\noperator:\n${operator.lines.slice(-30).join("\n")}`);
  };
  await waitFor(
    "the EnvoyConfiguration status",
    async () => {
      const ec = await getJson<{ status?: { status?: string } }>(cluster, [
        "get",
        "envoyconfiguration",
        "web",
        "-n",
        namespace,
      ]).catch(() => undefined);
      return ec?.status?.status === "Active";
    },
    15_000,
  ).catch(fail);
  // The leader writes the SidecarGateway's status (a status patch after a list or read).
  await waitFor(
    "the SidecarGateway status",
    async () =>
      (await getJson<{ status?: unknown }>(cluster, ["get", "sidecargateway", "web", "-n", namespace]))
        .status !== undefined,
    15_000,
  ).catch(fail);
  const wait = await cluster.kubectl([
    "wait",
    "-n",
    namespace,
    "pod/web",
    "--for=condition=microgateway.airlock.com/engine-config-valid=True",
    "--timeout=15s",
  ]);
  expect(wait.code).toBe(0);
  await waitFor(
    "the leader to renew a bootstrap secret",
    () => operator.lines.some((l) => /renewed [1-9][0-9]* bootstrap secret/.test(l)),
    15_000,
  ).catch(fail);
  return engine;
}

function expectNoForbidden(operator: RunningOperator): void {
  expect(operator.lines.filter((l) => /forbidden/i.test(l))).toEqual([]);
}

describe("the operator with only the RBAC of chart/microgateway/rbac/", () => {
  test("all namespaces: ClusterRole (secrets readable by the bootstrap secret's name only)", async () => {
    const operator = await startMode("all-namespaces", "rbac-all", "{}", []);
    let engine: RunningEngine | undefined;
    try {
      await cluster.apply(namespaces("all-shop"));
      await cluster.apply(resources("all-shop", "all-namespaces"));
      engine = await expectMainFlow(operator, "all-shop");
      expectNoForbidden(operator);
    } finally {
      await engine?.stop();
      await operator.stop();
    }
    // The least privilege is real: another secret cannot be read.
    const r = await cluster.kubectl([
      "auth",
      "can-i",
      "get",
      "secret/other",
      "-n",
      "all-shop",
      "--as=system:serviceaccount:rbac-all:airlock-microgateway-operator",
    ]);
    expect(r.stdout.trim()).toBe("no");
  }, 120_000);

  test("a list of namespaces: Roles only; a pod and a gateway in another namespace are ignored", async () => {
    await cluster.apply(namespaces("list-shop", "list-other"));
    const operator = await startMode("namespaces", "rbac-list", "{ namespaces: [list-shop] }", ["list-shop"]);
    let engine: RunningEngine | undefined;
    try {
      await cluster.apply(resources("list-shop", "namespaces"));
      await cluster.apply(resources("list-other", "namespaces"));
      engine = await expectMainFlow(operator, "list-shop");

      const other = await getJson<PodJson>(cluster, ["get", "pod", "web", "-n", "list-other"]);
      expect(isInjected(other)).toBe(false);
      expect(other.metadata.labels?.["microgateway.airlock.com/managedBy"]).toBeUndefined();
      expect(operator.lines.some((l) => l.includes("Pod list-other/web not injected"))).toBe(true);
      const secret = await cluster.kubectl([
        "get",
        "secret",
        "airlock-microgateway-bootstrap-secret",
        "-n",
        "list-other",
      ]);
      expect(secret.code).not.toBe(0);
      const gateway = await getJson<{ status?: unknown }>(cluster, [
        "get",
        "sidecargateway",
        "web",
        "-n",
        "list-other",
      ]);
      expect(gateway.status).toBeUndefined();
      expectNoForbidden(operator);
    } finally {
      await engine?.stop();
      await operator.stop();
    }
    const r = await cluster.kubectl([
      "auth",
      "can-i",
      "list",
      "pods",
      "--all-namespaces",
      "--as=system:serviceaccount:rbac-list:airlock-microgateway-operator",
    ]);
    expect(r.stdout.trim()).toBe("no");
  }, 120_000);

  test("a namespace selector: a namespace gaining or losing the label adds or removes its pods", async () => {
    const operator = await startMode(
      "namespace-selector",
      "rbac-sel",
      `{ namespaceSelector: { matchLabels: { ${WATCH_LABEL}: "true" } } }`,
      [],
    );
    let engine: RunningEngine | undefined;
    try {
      await cluster.apply(namespaces("sel-shop"));
      await cluster.apply(podManifest("sel-shop", "namespace-selector", "early"));
      expect(isInjected(await getJson<PodJson>(cluster, ["get", "pod", "early", "-n", "sel-shop"]))).toBe(
        false,
      );

      // Labelled and at once a pod: the webhook reads the namespace if its informer lags.
      const label = await cluster.kubectl(["label", "namespace", "sel-shop", `${WATCH_LABEL}=true`]);
      expect(label.code).toBe(0);
      await cluster.apply(resources("sel-shop", "namespace-selector"));
      engine = await expectMainFlow(operator, "sel-shop");
      const listener = `http://${engine.address}:13378/`;
      expect(await statusOf(listener)).not.toBe(0);

      await cluster.kubectl(["label", "namespace", "sel-shop", `${WATCH_LABEL}-`]);
      await waitFor("the engine to lose its listener", async () => (await statusOf(listener)) === 0, 10_000);
      await cluster.kubectl(["label", "namespace", "sel-shop", `${WATCH_LABEL}=true`]);
      await waitFor("the listener to come back", async () => (await statusOf(listener)) !== 0, 10_000);
      expectNoForbidden(operator);
    } finally {
      await engine?.stop();
      await operator.stop();
    }
  }, 120_000);
});
