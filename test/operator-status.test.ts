/**
 * SidecarGateway status and Events end to end: the operator process against a real kube-apiserver
 * with our CRDs. A valid gateway shows Active and lists its pod; broken references, invalid objects
 * and two gateways selecting one pod show Error naming the object and the field; an engine (a real
 * Envoy) that rejects its configuration gives the pod a Warning Event and its gateway Warning; and
 * once nothing changes, the operator writes nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { parseOperatorConfig } from "../src/inject/operator-config.ts";
import { type Operator, startOperator } from "../src/operator/operator.ts";
import { type KubeCluster, startKubeCluster } from "./support/kube-cluster.ts";
import { freePort, waitFor } from "./support/net.ts";
import {
  getJson,
  INJECT_LABEL,
  installCrds,
  type PodJson,
  type RunningEngine,
  type RunningOperator,
  registerWebhook,
  startEngineForPod,
  startOperatorProcess,
} from "./support/operator.ts";

const OPNS = "mgw-system";
const MWC = "mgw-status-injector";
const NS = "status";
/** The engine's ingress port (public API); the NACK test occupies it. */
const ENGINE_PORT = 13378;

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

interface GatewayJson {
  metadata: { name: string; generation: number; resourceVersion: string };
  status?: {
    status?: string;
    conditions?: Condition[];
    pods?: { name: string; envoyConfig?: string }[];
  };
}

interface EventJson {
  metadata: { name: string; resourceVersion: string };
  involvedObject: { kind: string; name: string; uid?: string };
  reason: string;
  type: string;
  message: string;
}

let cluster: KubeCluster;
let operator: RunningOperator;
let engine: RunningEngine | undefined;
let blocker: Server | undefined;
let inProcess: Operator | undefined;

const gateway = (
  name: string,
  app: string,
  contentSecurity?: string,
) => `apiVersion: microgateway.airlock.com/v1alpha1
kind: SidecarGateway
metadata: { name: ${name}, namespace: ${NS} }
spec:
  podSelector: { matchLabels: { app: ${app} } }
  applications:
    - containerPort: 8080
      routes:
        - pathPrefix: /
          secured: ${contentSecurity ? `{ contentSecurityRef: { name: ${contentSecurity} } }` : "{}"}
`;
const contentSecurity = (name: string, denyRules: string) => `apiVersion: microgateway.airlock.com/v1alpha1
kind: ContentSecurity
metadata: { name: ${name}, namespace: ${NS} }
spec: { filter: { denyRulesRef: { name: ${denyRules} } } }
`;
const denyRules = (name: string, level = "Standard") => `apiVersion: microgateway.airlock.com/v1alpha1
kind: DenyRules
metadata: { name: ${name}, namespace: ${NS} }
spec: { request: { builtIn: { settings: { level: ${level} } } } }
`;
const pod = (name: string, app: string) => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${NS}, labels: { app: ${app}, ${INJECT_LABEL}: "true" } }
spec: { containers: [{ name: app, image: registry.example/${app}:1.0, ports: [{ containerPort: 8080 }] }] }
`;

function getGateway(name: string): Promise<GatewayJson> {
  return getJson<GatewayJson>(cluster, ["get", "sidecargateway", name, "-n", NS]);
}

function conditionOf(gw: GatewayJson | undefined, type: string): Condition | undefined {
  return gw?.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the gateway's status satisfies `check`; fails with the status and the operator's log. */
async function waitForGateway(
  name: string,
  what: string,
  check: (gw: GatewayJson) => boolean,
): Promise<GatewayJson> {
  let last: GatewayJson | undefined;
  await waitFor(
    `SidecarGateway ${name}: ${what}`,
    async () => {
      last = await getGateway(name);
      return check(last);
    },
    15_000,
    100,
  ).catch((e) => {
    throw new Error(
      `${String(e)}\nstatus: ${JSON.stringify(last?.status, null, 2)}\noperator:\n${operator.lines.slice(-20).join("\n")}`,
    );
  });
  return last!;
}

async function eventsOf(kind: string, name: string, reason: string): Promise<EventJson[]> {
  const list = await getJson<{ items: EventJson[] }>(cluster, ["get", "events", "-n", NS]);
  return list.items.filter(
    (e) => e.involvedObject.kind === kind && e.involvedObject.name === name && e.reason === reason,
  );
}

beforeAll(async () => {
  cluster = await startKubeCluster({ controllerManager: true });
  await installCrds(cluster);
  await cluster.apply(
    `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${OPNS} }\n---\napiVersion: v1\nkind: Namespace\nmetadata: { name: ${NS} }\n`,
  );
  operator = await startOperatorProcess(cluster, { operatorNamespace: OPNS, configurationName: MWC });
  await registerWebhook(cluster, operator.ports.webhook, MWC);
  // The pods stay Pending (no kubelet); the operator configures them all the same.
  await cluster.apply(
    [gateway("web", "web", "web"), contentSecurity("web", "web"), denyRules("web"), pod("web", "web")].join(
      "---\n",
    ),
  );
}, 120_000);

afterAll(async () => {
  await inProcess?.stop();
  await engine?.stop();
  blocker?.close();
  await operator?.stop();
  await cluster?.stop();
}, 60_000);

describe("SidecarGateway status", () => {
  test("a valid gateway is Active, lists its pod, and kubectl get shows Active", async () => {
    const gw = await waitForGateway(
      "web",
      "Active with pod web",
      (g) => g.status?.status === "Active" && (g.status.pods?.length ?? 0) === 1,
    );
    expect(gw.status?.pods).toEqual([{ name: "web", envoyConfig: "web" }]);
    const ready = conditionOf(gw, "Ready");
    expect(ready).toMatchObject({
      status: "True",
      reason: "Active",
      observedGeneration: gw.metadata.generation,
    });
    expect(ready?.lastTransitionTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(conditionOf(gw, "Valid")?.status).toBe("True");

    const table = await cluster.kubectl(["get", "sidecargateway", "web", "-n", NS]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+STATUS\s+AGE\s*$/m);
    expect(table.stdout).toMatch(/^web\s+Active\s+/m);
  }, 30_000);

  test("a contentSecurityRef naming a missing object is Error, naming the field; fixing it makes it Active", async () => {
    await cluster.apply(gateway("broken", "broken", "missing"));
    const gw = await waitForGateway("broken", "Error", (g) => g.status?.status === "Error");
    const valid = conditionOf(gw, "Valid");
    expect(valid).toMatchObject({ status: "False", reason: "InvalidReference" });
    expect(valid?.message).toContain(
      `SidecarGateway ${NS}/broken: spec.applications[0].routes[0].secured.contentSecurityRef "missing": ContentSecurity ${NS}/missing does not exist`,
    );
    expect(conditionOf(gw, "Ready")).toMatchObject({ status: "False", reason: "InvalidReference" });
    const table = await cluster.kubectl(["get", "sidecargateway", "broken", "-n", NS]);
    expect(table.stdout).toMatch(/^broken\s+Error\s+/m);

    // Another broken reference: the message follows, lastTransitionTime stays, the generation is observed.
    await Bun.sleep(1100);
    await cluster.apply(gateway("broken", "broken", "missing-too"));
    const again = await waitForGateway("broken", "the new message", (g) =>
      (conditionOf(g, "Valid")?.message ?? "").includes('"missing-too"'),
    );
    expect(again.metadata.generation).toBe(gw.metadata.generation + 1);
    expect(conditionOf(again, "Ready")?.observedGeneration).toBe(again.metadata.generation);
    expect(conditionOf(again, "Ready")?.lastTransitionTime).toBe(
      conditionOf(gw, "Ready")?.lastTransitionTime,
    );

    await cluster.apply([contentSecurity("missing-too", "web")].join("---\n"));
    const fixed = await waitForGateway("broken", "Active", (g) => g.status?.status === "Active");
    expect(conditionOf(fixed, "Ready")?.status).toBe("True");
    expect(conditionOf(fixed, "Ready")?.lastTransitionTime).not.toBe(
      conditionOf(gw, "Ready")?.lastTransitionTime,
    );
  }, 45_000);

  test("two gateways selecting the same pod are both Error, each naming the other and the pod", async () => {
    await cluster.apply(
      [gateway("twin-a", "twin"), gateway("twin-b", "twin"), pod("twin", "twin")].join("---\n"),
    );
    for (const [self, other] of [
      ["twin-a", "twin-b"],
      ["twin-b", "twin-a"],
    ] as const) {
      const gw = await waitForGateway(self, "Error", (g) => g.status?.status === "Error");
      const valid = conditionOf(gw, "Valid");
      expect(valid?.reason).toBe("ConflictingPodSelector");
      expect(valid?.message).toContain(
        `SidecarGateway ${NS}/${self}: spec.podSelector selects Pod ${NS}/twin, which SidecarGateway ${NS}/${other} also selects`,
      );
    }
    // The pod's own condition says the same.
    await waitFor("the pod condition of twin", async () => {
      const p = await getJson<PodJson>(cluster, ["get", "pod", "twin", "-n", NS]);
      const c = p.status?.conditions?.find((x) => x.type === "microgateway.airlock.com/engine-config-valid");
      return c?.status === "False" && (c.message ?? "").includes("more than one SidecarGateway");
    });
  }, 30_000);

  test("an object that fails validation gets one InvalidConfiguration Event per generation, and its gateway is Error", async () => {
    // A CRD older than the operator (helm upgrade leaves CRDs alone) lets through what ours refuses:
    // drop the enum of DenyRules spec.request.builtIn.settings.level.
    const path =
      "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/request/properties/builtIn/properties/settings/properties/level/enum";
    const loosen = await cluster.kubectl([
      "patch",
      "crd",
      "denyrules.microgateway.airlock.com",
      "--type",
      "json",
      "-p",
      JSON.stringify([{ op: "remove", path }]),
    ]);
    expect(loosen.stderr).toBe("");
    await waitFor("the loosened CRD to admit level Max", async () => {
      const r = await cluster.kubectl(["apply", "-f", "-"], { stdin: denyRules("loose", "Max") });
      return r.code === 0;
    });
    await cluster.apply(
      [contentSecurity("loose", "loose"), gateway("loose", "loose", "loose")].join("---\n"),
    );

    await waitFor("an InvalidConfiguration Event on DenyRules loose", async () => {
      return (await eventsOf("DenyRules", "loose", "InvalidConfiguration")).length === 1;
    });
    const [event] = await eventsOf("DenyRules", "loose", "InvalidConfiguration");
    expect(event?.type).toBe("Warning");
    expect(event?.message).toContain(
      `DenyRules ${NS}/loose: spec.request.builtIn.settings.level "Max" must be one of`,
    );
    const described = await cluster.kubectl(["describe", "denyrules", "loose", "-n", NS]);
    expect(described.stdout).toContain("InvalidConfiguration");

    const gw = await waitForGateway("loose", "Error", (g) => g.status?.status === "Error");
    expect(conditionOf(gw, "Valid")?.message).toContain(
      `spec.applications[0].routes[0].secured.contentSecurityRef: ContentSecurity ${NS}/loose: spec.filter.denyRulesRef names DenyRules ${NS}/loose, which is invalid: DenyRules ${NS}/loose: spec.request.builtIn.settings.level "Max"`,
    );

    // A new resourceVersion without a spec change (a label) reports nothing new; a spec change does.
    await cluster.kubectl(["label", "denyrules", "loose", "-n", NS, "touched=yes"]);
    await Bun.sleep(1500);
    expect(await eventsOf("DenyRules", "loose", "InvalidConfiguration")).toHaveLength(1);
    await cluster.apply(denyRules("loose", "Maximum"));
    await waitFor("a second Event for the new generation", async () => {
      return (await eventsOf("DenyRules", "loose", "InvalidConfiguration")).length === 2;
    });
  }, 45_000);
});

describe("engine rejections", () => {
  test("an engine that NACKs gives its pod a Warning Event EngineConfigRejected and its gateway Warning", async () => {
    // A realistic NACK: something in the pod already listens on the engine's port, so Envoy cannot
    // bind the ingress listener it is sent and rejects the listener update.
    blocker = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      blocker!.once("error", reject);
      blocker!.listen({ host: "0.0.0.0", port: ENGINE_PORT, exclusive: true }, resolve);
    });
    engine = await startEngineForPod(cluster, NS, "web");

    await waitFor("an EngineConfigRejected Event on pod web", async () => {
      return (await eventsOf("Pod", "web", "EngineConfigRejected")).length > 0;
    }).catch((e) => {
      throw new Error(
        `${String(e)}\nenvoy:\n${engine?.log().slice(-2000)}\noperator:\n${operator.lines.slice(-20).join("\n")}`,
      );
    });
    const [event] = await eventsOf("Pod", "web", "EngineConfigRejected");
    expect(event?.type).toBe("Warning");
    expect(event?.message).toContain(String(ENGINE_PORT));

    const gw = await waitForGateway("web", "Warning", (g) => g.status?.status === "Warning");
    const engines = conditionOf(gw, "EnginesConfigured");
    expect(engines).toMatchObject({ status: "False", reason: "EngineConfigRejected" });
    expect(engines?.message).toContain(`Pod ${NS}/web: the engine rejected Listener`);
    expect(conditionOf(gw, "Valid")?.status).toBe("True");
    const table = await cluster.kubectl(["get", "sidecargateway", "web", "-n", NS]);
    expect(table.stdout).toMatch(/^web\s+Warning\s+/m);
  }, 60_000);
});

describe("no hot loop", () => {
  test("with nothing changing, the operator writes nothing for several seconds", async () => {
    const state = async () => {
      const list = await getJson<{
        items: { kind: string; metadata: { name: string; resourceVersion: string } }[];
      }>(cluster, [
        "get",
        "sidecargateways,envoyconfigurations,pods,events,contentsecurities,denyrules",
        "-n",
        NS,
      ]);
      return new Map(list.items.map((o) => [`${o.kind} ${o.metadata.name}`, o.metadata.resourceVersion]));
    };
    // Let the previous tests' changes settle: two equal readings 1 s apart.
    let before = await state();
    await waitFor(
      "the status to settle",
      async () => {
        await Bun.sleep(1000);
        const now = await state();
        const settled = JSON.stringify([...now]) === JSON.stringify([...before]);
        before = now;
        return settled;
      },
      20_000,
      0,
    );
    await Bun.sleep(4000);
    const after = await state();
    const changed = [...after].filter(([id, rv]) => before.get(id) !== rv).map(([id]) => id);
    expect(changed).toEqual([]);
    expect(after.size).toBe(before.size);
  }, 45_000);
});

describe("the writers' own counters, in process", () => {
  test("a replica taking over rewrites only what is wrong, then makes no API calls while nothing changes", async () => {
    // The engine's rejection lives in the memory of the replica it is connected to: stop both, and
    // let an in-process operator (whose writers' counters the test can read) take over the Lease.
    await engine?.stop();
    engine = undefined;
    blocker?.close();
    const twinBefore = (await getGateway("twin-a")).metadata.resourceVersion;
    await operator.stop();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfigPath);
    const lines: string[] = [];
    inProcess = await startOperator({
      config: parseOperatorConfig(
        `apiVersion: microgateway.airlock.com/v1alpha1
kind: OperatorConfig
operatorNamespace: ${OPNS}
webhook: { port: ${freePort()}, configurationName: ${MWC}, extraSANs: [127.0.0.1] }
xds: { port: ${freePort()}, host: 127.0.0.1 }
health: { port: ${freePort()} }
metrics: { port: ${freePort()} }
`,
        "test",
      ),
      kubeConfig,
      host: "127.0.0.1",
      log: (line) => lines.push(line),
      leaderElection: { retryPeriodMs: 200 },
    });
    const op = inProcess;
    await waitFor("the in-process operator to lead", () => op.isLeader(), 30_000).catch((e) => {
      throw new Error(`${String(e)}\n${lines.join("\n")}`);
    });
    // Without the engine's report the web gateway is Active again; the others were right already.
    await waitForGateway("web", "Active", (g) => g.status?.status === "Active");
    const counters = () => ({
      gateways: { ...op.gatewayStatusWriter.counters },
      engines: { ...op.statusWriter.counters },
    });
    let before = counters();
    await waitFor(
      "the writers to settle",
      async () => {
        await Bun.sleep(1000);
        const now = counters();
        const settled = JSON.stringify(now) === JSON.stringify(before);
        before = now;
        return settled;
      },
      20_000,
      0,
    );
    expect(before.gateways.writes).toBe(1); // web: Warning -> Active
    expect(before.gateways.errors).toBe(0);
    expect((await getGateway("twin-a")).metadata.resourceVersion).toBe(twinBefore);

    await Bun.sleep(3000);
    expect(counters()).toEqual(before);
  }, 60_000);
});
