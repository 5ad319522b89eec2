/**
 * The inspector's gRPC server behind a real Envoy (ext_proc over a Unix socket), with a stand-in
 * engine: blocks answer 400/413 with our body, the body is read only when the engine asks, the
 * dynamic metadata reaches the access log, and every failure of the inspector fails closed.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "node:net";
import { join } from "node:path";
import { BLOCKED_BODY } from "./exchange.ts";
import { type InspectorServer, startInspectorServer } from "./server.ts";
import { extProcTestBootstrap, socketDir, startTestEnvoy, type TestEnvoy } from "./testing/envoy.ts";
import { fakeEngine, fakePolicyWire } from "./testing/fake-engine.ts";

const dir = socketDir();
const socketPath = join(dir.path, "inspector.sock");
let server: InspectorServer;
let envoy: TestEnvoy;

beforeAll(async () => {
  server = await startInspectorServer({ engine: fakeEngine, listen: { socketPath } });
  envoy = await startTestEnvoy(
    extProcTestBootstrap(socketPath, [
      { prefix: "/headers", policy: fakePolicyWire({ word: "attack" }) },
      { prefix: "/body", policy: fakePolicyWire({ word: "attack", body: true, maxBody: 1000 }) },
      { prefix: "/logonly", policy: fakePolicyWire({ word: "attack", logOnly: true }) },
      { prefix: "/broken", policy: "not-a-policy" },
      { prefix: "/open" },
    ]),
  );
}, 30_000);

afterAll(async () => {
  await envoy?.stop();
  await server?.close();
  dir.remove();
});

test("a benign request passes and is marked allow", async () => {
  const res = await fetch(`${envoy.url}/headers?q=hello`);
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("ok\n");
});

test("a request the engine blocks on its headers gets 400 and our body", async () => {
  const res = await fetch(`${envoy.url}/headers?q=attack`);
  expect(res.status).toBe(400);
  expect(await res.text()).toBe(BLOCKED_BODY);
  const headerHit = await fetch(`${envoy.url}/headers`, { headers: { "x-thing": "an attack" } });
  expect(headerHit.status).toBe(400);
});

test("the body is read when the engine asks, and a match in it blocks", async () => {
  const benign = await fetch(`${envoy.url}/body`, { method: "POST", body: "just text" });
  expect(benign.status).toBe(200);
  const evil = await fetch(`${envoy.url}/body`, { method: "POST", body: `{"q":"an attack"}` });
  expect(evil.status).toBe(400);
  expect(await evil.text()).toBe(BLOCKED_BODY);
  // Where no body is read, the same body passes.
  const unread = await fetch(`${envoy.url}/headers`, { method: "POST", body: `{"q":"an attack"}` });
  expect(unread.status).toBe(200);
});

test("a body above the size limit gets 413", async () => {
  const res = await fetch(`${envoy.url}/body`, { method: "POST", body: "x".repeat(2000) });
  expect(res.status).toBe(413);
  expect(await res.text()).toBe(BLOCKED_BODY);
});

test("LogOnly passes and the finding reaches the access log as dynamic metadata", async () => {
  const res = await fetch(`${envoy.url}/logonly?marker=attack-logonly`);
  expect(res.status).toBe(200);
  await fetch(`${envoy.url}/headers?marker=attack-blocked`);
  const entries = await waitForLog(envoy, 2, (e) => String(e.path).includes("marker="));
  const logOnly = entries.find((e) => String(e.path).includes("attack-logonly"));
  expect(logOnly?.microgateway).toEqual({
    action: "log_only",
    block_type: "deny_rules",
    block_subtype: "FAKE",
    rule_key: "FAKE_WORD",
    log_only: "FAKE_WORD",
  });
  const blocked = entries.find((e) => String(e.path).includes("attack-blocked"));
  expect(blocked?.status).toBe(400);
  expect(blocked?.microgateway).toEqual({
    action: "block",
    block_type: "deny_rules",
    block_subtype: "FAKE",
    rule_key: "FAKE_WORD",
  });
});

test("a route without inspection never reaches the inspector", async () => {
  const res = await fetch(`${envoy.url}/open?q=attack`);
  expect(res.status).toBe(200);
});

test("an unreadable policy fails closed (500), and the inspector keeps serving", async () => {
  const res = await fetch(`${envoy.url}/broken?q=hello`);
  expect(res.status).toBe(500);
  expect((await fetch(`${envoy.url}/headers?q=hello`)).status).toBe(200);
});

test("garbage on the inspector's socket does not take it down", async () => {
  await new Promise<void>((resolve) => {
    const s = connect(socketPath, () => {
      s.write("GET / HTTP/1.1\r\n\r\n\x00\x01\x02garbage");
      setTimeout(() => {
        s.destroy();
        resolve();
      }, 100);
    });
    s.on("error", () => resolve());
  });
  expect((await fetch(`${envoy.url}/headers?q=attack`)).status).toBe(400);
  expect((await fetch(`${envoy.url}/headers?q=hello`)).status).toBe(200);
});

test("thousands of requests, 24 at a time, are all answered (no stream refused on a long-lived session)", async () => {
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < 2400) {
      const i = next++;
      const res = await fetch(`${envoy.url}/headers?i=${i}${i % 10 === 0 ? "&q=attack" : ""}`);
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: 24 }, worker));
  expect(Object.fromEntries(statuses)).toEqual({ 200: 2160, 400: 240 });
}, 60_000);

test("with the inspector gone, secured routes fail closed and unsecured ones still pass", async () => {
  const dead = socketDir();
  const deadEnvoy = await startTestEnvoy(
    extProcTestBootstrap(join(dead.path, "none.sock"), [
      { prefix: "/secured", policy: fakePolicyWire({ word: "attack" }) },
      { prefix: "/open" },
    ]),
  );
  try {
    expect((await fetch(`${deadEnvoy.url}/secured?q=hello`)).status).toBe(500);
    expect((await fetch(`${deadEnvoy.url}/open?q=hello`)).status).toBe(200);
  } finally {
    await deadEnvoy.stop();
    dead.remove();
  }
}, 30_000);

async function waitForLog(
  e: TestEnvoy,
  count: number,
  pick: (entry: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>[]> {
  // Envoy flushes the stdout access log asynchronously.
  for (let i = 0; i < 100; i++) {
    const entries = e.accessLog().filter(pick);
    if (entries.length >= count) return entries;
    await Bun.sleep(50);
  }
  return e.accessLog().filter(pick);
}
