/**
 * Two operator replicas against a real kube-apiserver, as the "Scale model" of ARCHITECTURE.md has
 * them: two `microgateway operator` processes with one operatorNamespace (so one CA and one Lease)
 * and the same configuration but their ports. Exactly one leads. Each serves xDS to the engine
 * connected to it and writes that engine's status: in a cluster a Service spreads engines over the
 * replicas; here each engine's bootstrap is pointed at one replica, and each engine runs in a network
 * namespace of its own (the engine's ports are fixed, as in a pod). The webhook is registered at the
 * replica that does not lead: any replica serves it. The leader is then killed with SIGKILL; the other
 * takes the Lease within lease duration + retry period, restores the webhook's caBundle and renews
 * the bootstrap secret. Lease timings are shortened (3 s); the measured times are printed, and only
 * the bound the leader election promises is asserted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CoordinationV1Api, KubeConfig } from "@kubernetes/client-node";
import { OPERATOR_LEADER_LEASE } from "../src/operator/leader-election.ts";
import { type KubeCluster, startKubeCluster } from "./support/kube-cluster.ts";
import { waitFor } from "./support/net.ts";
import { createNetworkNamespace, type NetworkNamespace } from "./support/netns.ts";
import {
  ENGINE_CONTAINER,
  getJson,
  installCrds,
  type PodJson,
  type RunningEngine,
  type RunningOperator,
  registerWebhook,
  type SecretJson,
  startEngineForPod,
  startOperatorProcess,
} from "./support/operator.ts";

const OPNS = "mgw-ha";
const MWC = "mgw-ha-injector";
const NS = "shop";
const TIMING = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 } as const;
/** Room for API round trips and process scheduling on a busy machine. */
const MARGIN_MS = 1_000;
const CONFIG = `leaderElection: { leaseDuration: 3s, renewDeadline: 2s, retryPeriod: 500ms }
certificates: { renewalPeriod: 3s, leafValidity: 1h }
`;

let cluster: KubeCluster;
let leases: CoordinationV1Api;
let replicaA: RunningOperator;
let replicaB: RunningOperator;
/** One network namespace per engine, as per pod (the engine's ports are fixed). */
const netns: NetworkNamespace[] = [];
const engines: RunningEngine[] = [];

/** The current holder of the Lease ("" when released or absent). */
async function holder(): Promise<string> {
  const lease = await leases.readNamespacedLease({ name: OPERATOR_LEADER_LEASE, namespace: OPNS });
  return lease.spec?.holderIdentity ?? "";
}

function pod(name: string): string {
  return `apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${NS}, labels: { app: web, sidecar.microgateway.airlock.com/inject: "true" } }
spec: { containers: [{ name: app, image: registry.example/web:1.0, ports: [{ containerPort: 8080 }] }] }
`;
}

async function caBundle(): Promise<string> {
  const r = await cluster.kubectl([
    "get",
    "mutatingwebhookconfiguration",
    MWC,
    "-o",
    "jsonpath={.webhooks[0].clientConfig.caBundle}",
  ]);
  return r.stdout;
}

async function envoyConfigurationStatus(name: string): Promise<string | undefined> {
  const ec = await getJson<{ status?: { status?: string } }>(cluster, [
    "get",
    "envoyconfiguration",
    name,
    "-n",
    NS,
  ]).catch(() => undefined);
  return ec?.status?.status;
}

beforeAll(async () => {
  cluster = await startKubeCluster({ controllerManager: true });
  await installCrds(cluster);
  await cluster.apply(
    `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${OPNS} }\n---\napiVersion: v1\nkind: Namespace\nmetadata: { name: ${NS} }\n`,
  );
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  leases = kc.makeApiClient(CoordinationV1Api);
  netns.push(createNetworkNamespace(), createNetworkNamespace());

  const options = { operatorNamespace: OPNS, configurationName: MWC, extraConfig: CONFIG };
  replicaA = await startOperatorProcess(cluster, { ...options, env: { POD_NAME: "replica-a" } });
  // A leads before B starts, so which one leads is known.
  await waitFor("replica A to lead", async () => (await holder()).startsWith("replica-a_"), 15_000);
  replicaB = await startOperatorProcess(cluster, { ...options, env: { POD_NAME: "replica-b" } });
  await registerWebhook(cluster, replicaB.ports.webhook, MWC);

  await cluster.apply(`apiVersion: microgateway.airlock.com/v1alpha1
kind: SidecarGateway
metadata: { name: web, namespace: ${NS} }
spec:
  podSelector: { matchLabels: { app: web } }
  applications: [{ containerPort: 8080, routes: [{ pathPrefix: /, secured: {} }] }]
---
${pod("web-a")}---
${pod("web-b")}`);
  for (const [name, replica, ns] of [
    ["web-a", replicaA, netns[0]],
    ["web-b", replicaB, netns[1]],
  ] as const) {
    if (!ns) throw new Error("no network namespace");
    engines.push(
      await startEngineForPod(cluster, NS, name, {
        netns: ns,
        xds: { address: ns.hostAddress, port: replica.ports.xds },
      }),
    );
  }
}, 240_000);

afterAll(async () => {
  for (const e of engines) await e.stop();
  await replicaA?.kill();
  await replicaB?.stop();
  for (const ns of netns) ns.remove();
  await cluster?.stop();
}, 60_000);

describe("two operator replicas", () => {
  test("exactly one leads; each serves xDS to its engine and writes that engine's status", async () => {
    expect(await holder()).toStartWith("replica-a_");
    expect(replicaA.lines.some((l) => l.startsWith("operator: leading"))).toBe(true);
    expect(replicaB.lines.some((l) => l.startsWith("operator: leading"))).toBe(false);

    const opened = (r: RunningOperator, node: string) =>
      r.lines.some((l) => l.includes(`stream opened by ${node}`));
    expect([opened(replicaA, "web-a.shop"), opened(replicaA, "web-b.shop")]).toEqual([true, false]);
    expect([opened(replicaB, "web-a.shop"), opened(replicaB, "web-b.shop")]).toEqual([false, true]);
    // web-b's engine talks to B only, so B (not the leader) wrote its status.
    for (const name of ["web-a", "web-b"]) {
      await waitFor(
        `${name}'s EnvoyConfiguration to be Active`,
        async () => {
          return (await envoyConfigurationStatus(name)) === "Active";
        },
        15_000,
      );
      const wait = await cluster.kubectl([
        "wait",
        "-n",
        NS,
        `pod/${name}`,
        "--for=condition=microgateway.airlock.com/engine-config-valid=True",
        "--timeout=15s",
      ]);
      expect(wait.code).toBe(0);
    }
  }, 60_000);

  test("after SIGKILL of the leader the other takes over within lease duration + retry period, restores the caBundle and renews the bootstrap secret", async () => {
    const goodBundle = await caBundle();
    const linesBefore = replicaB.lines.length;
    const killedAt = performance.now();
    const killedAtWall = Date.now();
    await replicaA.kill();
    // While nobody leads, the caBundle is broken (as by a stale manual edit): the new leader must fix it.
    const broken = await cluster.kubectl([
      "patch",
      "mutatingwebhookconfiguration",
      MWC,
      "--type=json",
      "-p",
      '[{"op":"replace","path":"/webhooks/0/clientConfig/caBundle","value":"Zm9v"}]',
    ]);
    expect(broken.code).toBe(0);

    const bound = TIMING.leaseDurationMs + TIMING.retryPeriodMs + MARGIN_MS;
    await waitFor(
      "replica B to hold the Lease",
      async () => (await holder()).startsWith("replica-b_"),
      bound + 10_000,
      20,
    );
    const takeover = performance.now() - killedAt;
    await waitFor("the caBundle to be restored", async () => (await caBundle()) === goodBundle, 10_000, 20);
    const restored = performance.now() - killedAt;
    const renewedLine = (l: string) => /renewed [1-9][0-9]* bootstrap secret/.test(l);
    await waitFor(
      "replica B to renew the bootstrap secret",
      () => replicaB.lines.slice(linesBefore).some(renewedLine),
      15_000,
      20,
    );
    const renewed = performance.now() - killedAt;
    console.log(
      `after SIGKILL of the leader: replica B leads after ${takeover.toFixed(0)} ms, caBundle restored after ${restored.toFixed(0)} ms, bootstrap secret renewed after ${renewed.toFixed(0)} ms (lease ${TIMING.leaseDurationMs} ms, retry ${TIMING.retryPeriodMs} ms)`,
    );
    expect(takeover).toBeLessThan(bound);
    expect(replicaB.lines.slice(linesBefore).some((l) => l.startsWith("operator: leading"))).toBe(true);
    const secret = await getJson<SecretJson>(cluster, [
      "get",
      "secret",
      "airlock-microgateway-bootstrap-secret",
      "-n",
      NS,
    ]);
    const issuedAt = Date.parse(secret.metadata.annotations?.["microgateway.airlock.com/issued-at"] ?? "");
    expect(issuedAt).toBeGreaterThan(killedAtWall);

    // The surviving replica keeps injecting (through the restored caBundle) and its engine its status.
    await cluster.apply(pod("web-c"));
    const p = await getJson<PodJson>(cluster, ["get", "pod", "web-c", "-n", NS]);
    expect([...(p.spec.initContainers ?? []), ...p.spec.containers].map((c) => c.name)).toContain(
      ENGINE_CONTAINER,
    );
    expect(await envoyConfigurationStatus("web-b")).toBe("Active");
  }, 60_000);
});
