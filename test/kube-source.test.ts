/**
 * The Kubernetes source against a real kube-apiserver with our CRDs: snapshots follow edits, a
 * status-only write (what the operator itself does) causes no new snapshot work, and an edit that
 * fails validation is reported while the model keeps the object's last good version.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { KubeConfig } from "@kubernetes/client-node";
import { type KubeSnapshot, type KubeSource, startKubeSource } from "../src/source/kube-source.ts";
import { type KubeCluster, startKubeCluster } from "./support/kube-cluster.ts";
import { waitFor } from "./support/net.ts";
import { installCrds } from "./support/operator.ts";

let cluster: KubeCluster;
let source: KubeSource;
const snapshots: KubeSnapshot[] = [];

const denyRules = (level: string) => `apiVersion: microgateway.airlock.com/v1alpha1
kind: DenyRules
metadata: { name: strict, namespace: shop }
spec: { request: { builtIn: { settings: { level: ${level} } } } }
`;

beforeAll(async () => {
  cluster = await startKubeCluster();
  await installCrds(cluster);
  await cluster.apply("apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n");
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cluster.kubeconfigPath);
  source = await startKubeSource({
    kubeConfig,
    operatorNamespace: "mgw-system",
    debounceMs: 20,
    onSnapshot: (s) => snapshots.push(s),
  });
}, 120_000);

afterAll(async () => {
  await source?.stop();
  await cluster?.stop();
}, 30_000);

const level = () => source.current().model.denyRules.get("shop/strict")?.spec.request.builtIn.settings.level;

test("an edit arrives as a snapshot naming the changed object", async () => {
  await cluster.apply(denyRules("Strict"));
  await waitFor("the DenyRules in the model", () => level() === "Strict");
  expect([...snapshots.at(-1)!.changed]).toContain("DenyRules shop/strict");
}, 20_000);

test("a status-only update produces no new snapshot", async () => {
  // The operator writes SidecarGateway status through the status subresource: it must not come back
  // as work for the controller.
  await cluster.apply(`apiVersion: microgateway.airlock.com/v1alpha1
kind: SidecarGateway
metadata: { name: web, namespace: shop }
spec: { podSelector: { matchLabels: { app: web } }, applications: [{ containerPort: 8080 }] }
`);
  await waitFor("the gateway in the model", () => source.current().model.gateways.has("shop/web"));
  await Bun.sleep(200);
  const before = snapshots.length;
  const r = await cluster.kubectl([
    "patch",
    "sidecargateway",
    "web",
    "-n",
    "shop",
    "--subresource=status",
    "--type",
    "merge",
    "-p",
    '{"status":{"status":"Active"}}',
  ]);
  expect(r.code).toBe(0);
  await Bun.sleep(500);
  expect(snapshots.length).toBe(before);
}, 20_000);

test("an invalid edit is reported and the model keeps the last good version", async () => {
  // A CRD older than the operator can let through what ours refuses: drop the level enum.
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
  expect(loosen.code).toBe(0);
  await waitFor(
    "the loosened CRD to admit level Max",
    async () => (await cluster.kubectl(["apply", "-f", "-"], { stdin: denyRules("Max") })).code === 0,
  );
  await waitFor("the invalid edit to be reported", () =>
    source.current().invalid.has("DenyRules shop/strict"),
  );
  expect(source.current().invalid.get("DenyRules shop/strict")?.message).toContain(
    'spec.request.builtIn.settings.level "Max"',
  );
  expect(level()).toBe("Strict");
  await cluster.apply(denyRules("Basic"));
  await waitFor(
    "the fixed edit",
    () => level() === "Basic" && !source.current().invalid.has("DenyRules shop/strict"),
  );
}, 30_000);

test("the watches survive a kube-apiserver crash and restart", async () => {
  await cluster.restartApiServer();
  await cluster.apply(denyRules("Strict"));
  await waitFor("an edit made after the restart", () => level() === "Strict", 40_000);
}, 60_000);
