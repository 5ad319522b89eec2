/**
 * The agent behind a real Envoy configured as the translation configures a pod's engine: its
 * socket serves the real inspection engine, and its probe port answers once it does.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { extProcTestBootstrap, socketDir, startTestEnvoy, type TestEnvoy } from "../extproc/testing/envoy.ts";
import { encodePolicy, routePolicy } from "../inspect/policy.ts";
import { DEFAULT_DENY_RULES_SPEC } from "../model/types.ts";
import { type Agent, startAgent } from "./agent.ts";

const dir = socketDir();
let agent: Agent;
let envoy: TestEnvoy;

beforeAll(async () => {
  agent = await startAgent({ socketPath: join(dir.path, "inspector.sock"), healthPort: 0, log: () => {} });
  envoy = await startTestEnvoy(
    extProcTestBootstrap(join(dir.path, "inspector.sock"), [
      { prefix: "/healthz" },
      { prefix: "/", policy: encodePolicy(routePolicy({ denyRules: DEFAULT_DENY_RULES_SPEC })) },
    ]),
  );
}, 30_000);

afterAll(async () => {
  await envoy?.stop();
  await agent?.stop();
  dir.remove();
});

test("the probe port answers /healthz", async () => {
  const res = await fetch(`http://127.0.0.1:${agent.healthPort}/healthz`);
  expect(res.status).toBe(200);
});

test("the engine's requests are judged by the built-in rules: SQL injection 400, benign 200", async () => {
  expect((await fetch(`${envoy.url}/search?q=1%27%20OR%201%3D1--`)).status).toBe(400);
  expect((await fetch(`${envoy.url}/search?q=shoes&page=2`)).status).toBe(200);
  // Through the JSON parser: the inspector asks Envoy for the body.
  const body = JSON.stringify({ comment: "<script>alert(1)</script>" });
  const res = await fetch(`${envoy.url}/api/comments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  expect(res.status).toBe(400);
  const benign = await fetch(`${envoy.url}/api/comments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ comment: "nice shoes" }),
  });
  expect(benign.status).toBe(200);
  expect((await fetch(`${envoy.url}/healthz?q=1%27%20OR%201%3D1--`)).status).toBe(200);
}, 15_000);
