/**
 * The controller end to end, against a real kube-apiserver with our CRDs and a real Envoy: apply
 * the custom resources, create a labelled pod, run its engine (as the kubelet would) in front of an
 * application, and see `kubectl` edits change what the engine enforces, with status reporting what
 * the engine accepted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type DemoApp, startDemoApp } from "../src/local/demo-app.ts";
import { type KubeCluster, startKubeCluster } from "./support/kube-cluster.ts";
import { freePort, statusOf, waitFor } from "./support/net.ts";
import {
  getJson,
  installCrds,
  type PodJson,
  type RunningEngine,
  type RunningOperator,
  registerWebhook,
  startEngineForPod,
  startOperatorProcess,
} from "./support/operator.ts";

const OPNS = "mgw-system";
const MWC = "mgw-controller-injector";
const NS = "shop";
const ENGINE_URL = "http://127.0.0.1:13378";
const SQLI = "/search?q=1%27%20OR%201%3D1--";
const BENIGN = "/hello?name=O%27Brien";

let cluster: KubeCluster;
let operator: RunningOperator;
let app: DemoApp;
let engine: RunningEngine | undefined;
const appPort = freePort();

function resources(mode: "Block" | "LogOnly" = "Block"): string {
  return `apiVersion: microgateway.airlock.com/v1alpha1
kind: SidecarGateway
metadata: { name: web, namespace: ${NS} }
spec:
  podSelector: { matchLabels: { app: web } }
  applications:
    - containerPort: ${appPort}
      routes:
        - { pathPrefix: /healthz, unsecured: {} }
        - { pathPrefix: /, secured: { contentSecurityRef: { name: web } } }
---
apiVersion: microgateway.airlock.com/v1alpha1
kind: ContentSecurity
metadata: { name: web, namespace: ${NS} }
spec: { filter: { denyRulesRef: { name: web } } }
---
apiVersion: microgateway.airlock.com/v1alpha1
kind: DenyRules
metadata: { name: web, namespace: ${NS} }
spec: { request: { builtIn: { settings: { level: Standard, threatHandlingMode: ${mode} } } } }
`;
}

interface EventJson {
  involvedObject: { kind: string; name: string };
  reason: string;
  message: string;
}

interface EnvoyConfigurationJson {
  spec?: { envoyResources?: Record<string, string[]> };
  status?: {
    status?: string;
    xds?: {
      resourceTypes?: Record<
        string,
        { status: string; errorMessage?: string; resources?: Record<string, { version: string }> }
      >;
    };
  };
  metadata: { ownerReferences?: { kind: string; name: string }[] };
}

beforeAll(async () => {
  cluster = await startKubeCluster({ controllerManager: true });
  await installCrds(cluster);
  await cluster.apply(
    `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${OPNS} }\n---\napiVersion: v1\nkind: Namespace\nmetadata: { name: ${NS} }\n`,
  );
  operator = await startOperatorProcess(cluster, { operatorNamespace: OPNS, configurationName: MWC });
  await registerWebhook(cluster, operator.ports.webhook, MWC);
  app = startDemoApp(appPort);
  await cluster.apply(resources());
  await cluster.apply(`apiVersion: v1
kind: Pod
metadata: { name: web, namespace: ${NS}, labels: { app: web, sidecar.microgateway.airlock.com/inject: "true" } }
spec: { containers: [{ name: app, image: registry.example/web:1.0, ports: [{ containerPort: ${appPort} }] }] }
`);
  engine = await startEngineForPod(cluster, NS, "web");
}, 240_000);

afterAll(async () => {
  await engine?.stop();
  app?.stop();
  await operator?.stop();
  await cluster?.stop();
}, 60_000);

describe("controller: custom resources configure the engines of the selected pods", () => {
  test("a benign request reaches the app and an SQL injection gets 400", async () => {
    await waitFor(
      "the engine's listener",
      async () => (await statusOf(ENGINE_URL + BENIGN)) === 200,
      15_000,
    ).catch((e) => {
      throw new Error(`${String(e)}\noperator:\n${operator.lines.slice(-30).join("\n")}`);
    });
    const before = app.received;
    expect(await statusOf(ENGINE_URL + SQLI)).toBe(400);
    expect(app.received).toBe(before);
  }, 30_000);

  test("the EnvoyConfiguration (owned by the pod) and the pod condition show what the engine accepted", async () => {
    await waitFor(
      "the EnvoyConfiguration status",
      async () => {
        const ec = await getJson<EnvoyConfigurationJson>(cluster, [
          "get",
          "envoyconfiguration",
          "web",
          "-n",
          NS,
        ]).catch(() => undefined);
        return ec?.status?.status === "Active";
      },
      15_000,
    ).catch(async (e) => {
      throw new Error(`${String(e)}\noperator:\n${operator.lines.slice(-30).join("\n")}`);
    });
    const ec = await getJson<EnvoyConfigurationJson>(cluster, ["get", "envoyconfiguration", "web", "-n", NS]);
    expect(ec.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Pod", name: "web" });
    const listener = ec.status?.xds?.resourceTypes?.["type.googleapis.com/envoy.config.listener.v3.Listener"];
    expect(listener?.status).toBe("Accepted");
    expect(listener?.resources?.ingress?.version).toBeString();
    // The spec names the desired resources.
    expect(ec.spec?.envoyResources?.["type.googleapis.com/envoy.config.listener.v3.Listener"]).toEqual([
      "ingress",
    ]);
    const wait = await cluster.kubectl([
      "wait",
      "-n",
      NS,
      "pod/web",
      "--for=condition=microgateway.airlock.com/engine-config-valid=True",
      "--timeout=15s",
    ]);
    expect(wait.stderr).toBe("");
    expect(wait.code).toBe(0);
  }, 30_000);

  test("kubectl patch of the DenyRules to LogOnly lets the same request through within 1 s, same Envoy", async () => {
    const patch = await cluster.kubectl([
      "patch",
      "denyrules",
      "web",
      "-n",
      NS,
      "--type",
      "merge",
      "-p",
      '{"spec":{"request":{"builtIn":{"settings":{"threatHandlingMode":"LogOnly"}}}}}',
    ]);
    expect(patch.code).toBe(0);
    const ms = await waitFor(
      "LogOnly at the engine",
      async () => (await statusOf(ENGINE_URL + SQLI)) === 200,
      1000,
      10,
    );
    console.log(`DenyRules patch -> engine enforces LogOnly: ${Math.round(ms)} ms`);
    await cluster.kubectl([
      "patch",
      "denyrules",
      "web",
      "-n",
      NS,
      "--type",
      "merge",
      "-p",
      '{"spec":{"request":{"builtIn":{"settings":{"threatHandlingMode":"Block"}}}}}',
    ]);
    await waitFor("Block again", async () => (await statusOf(ENGINE_URL + SQLI)) === 400, 5000);
  }, 30_000);

  test("a broken reference is reported and the engine keeps its last good configuration", async () => {
    const patch = await cluster.kubectl([
      "patch",
      "contentsecurity",
      "web",
      "-n",
      NS,
      "--type",
      "merge",
      "-p",
      '{"spec":{"filter":{"denyRulesRef":{"name":"missing"}}}}',
    ]);
    expect(patch.code).toBe(0);
    await waitFor(
      "the pod condition to report the broken reference",
      async () => {
        const p = await getJson<PodJson>(cluster, ["get", "pod", "web", "-n", NS]);
        const c = p.status?.conditions?.find(
          (x) => x.type === "microgateway.airlock.com/engine-config-valid",
        );
        return c?.status === "False" && (c.message ?? "").includes("missing");
      },
      10_000,
    );
    expect(await statusOf(ENGINE_URL + SQLI)).toBe(400);
    expect(await statusOf(ENGINE_URL + BENIGN)).toBe(200);
    await cluster.kubectl([
      "patch",
      "contentsecurity",
      "web",
      "-n",
      NS,
      "--type",
      "merge",
      "-p",
      '{"spec":{"filter":{"denyRulesRef":{"name":"web"}}}}',
    ]);
    await waitFor(
      "the condition to recover",
      async () => {
        const p = await getJson<PodJson>(cluster, ["get", "pod", "web", "-n", NS]);
        return (
          p.status?.conditions?.find((x) => x.type === "microgateway.airlock.com/engine-config-valid")
            ?.status === "True"
        );
      },
      10_000,
    );
  }, 30_000);

  test("a custom rule blocks; a broken regex in it is reported and the engine keeps the last good rules", async () => {
    const withCustomRule = (matcher: string) =>
      resources().replace(
        "spec: { request: { builtIn: { settings: { level: Standard, threatHandlingMode: Block } } } }",
        `spec:
  request:
    builtIn: { settings: { level: Standard, threatHandlingMode: Block } }
    custom: { rules: [{ ruleKey: BLOCK_ADMIN, blockData: { path: { matcher: ${matcher} } } }] }`,
      );
    await cluster.apply(withCustomRule("{ prefix: /admin }"));
    await waitFor(
      "BLOCK_ADMIN at the engine",
      async () => (await statusOf(`${ENGINE_URL}/admin`)) === 400,
      10_000,
    );
    expect(await statusOf(`${ENGINE_URL}/public`)).toBe(200);

    // The CRD admits any string as a regex; RE2 refuses a lookahead, so the operator must.
    const broken = await cluster.kubectl(["apply", "-f", "-"], {
      stdin: withCustomRule('{ regex: "/admin(?!/ok)" }'),
    });
    expect(broken.code).toBe(0);
    const field = "spec.request.custom.rules[0].blockData.path.matcher.regex";
    await waitFor(
      "an InvalidConfiguration Event on DenyRules web naming the field",
      async () => {
        const events = await getJson<{ items: EventJson[] }>(cluster, ["get", "events", "-n", NS]);
        return events.items.some(
          (e) =>
            e.involvedObject.kind === "DenyRules" &&
            e.involvedObject.name === "web" &&
            e.reason === "InvalidConfiguration" &&
            e.message.includes(`DenyRules ${NS}/web: ${field} "/admin(?!/ok)" is not a valid RE2 regex`),
        );
      },
      15_000,
    ).catch((e) => {
      throw new Error(`${String(e)}\noperator:\n${operator.lines.slice(-30).join("\n")}`);
    });
    await waitFor(
      "SidecarGateway web status Error",
      async () =>
        (await getJson<{ status?: { status?: string } }>(cluster, ["get", "sidecargateway", "web", "-n", NS]))
          .status?.status === "Error",
      15_000,
    );
    // The last good version (prefix /admin) stays in force at the engine.
    expect(await statusOf(`${ENGINE_URL}/admin`)).toBe(400);
    expect(await statusOf(ENGINE_URL + SQLI)).toBe(400);
    expect(await statusOf(`${ENGINE_URL}/public`)).toBe(200);

    await cluster.apply(resources());
    await waitFor("BLOCK_ADMIN gone", async () => (await statusOf(`${ENGINE_URL}/admin`)) === 200, 10_000);
  }, 60_000);

  test("deleting the SidecarGateway makes the engine forward nothing", async () => {
    await cluster.kubectl(["delete", "sidecargateway", "web", "-n", NS]);
    await waitFor("the listener to go", async () => (await statusOf(ENGINE_URL + BENIGN)) === 0, 10_000);
    await cluster.apply(resources());
    await waitFor(
      "the listener to come back",
      async () => (await statusOf(ENGINE_URL + BENIGN)) === 200,
      10_000,
    );
  }, 30_000);
});
