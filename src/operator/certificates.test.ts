import "reflect-metadata";
import { describe, expect, test } from "bun:test";
import type { V1Secret } from "@kubernetes/client-node";
import { parse } from "yaml";
import { namespaceOfSpiffeId, peerIdentity } from "../certs/identity.ts";
import { operatorConfigFrom } from "../inject/operator-config.ts";
import { OperatorCertificates } from "./certificates.ts";
import { BOOTSTRAP_SECRET, CA_SECRET, ISSUED_AT_ANNOTATION } from "./names.ts";
import { type SecretStore, secretText } from "./secret-store.ts";

/** An in-memory SecretStore with the API server's create/replace semantics (409, resourceVersion). */
function memoryStore() {
  const secrets = new Map<string, V1Secret>();
  let version = 0;
  const calls = { get: 0, create: 0, replace: 0 };
  const store: SecretStore = {
    async get(ns, name) {
      calls.get++;
      return structuredClone(secrets.get(`${ns}/${name}`));
    },
    async create(ns, s) {
      calls.create++;
      const key = `${ns}/${s.metadata?.name}`;
      if (secrets.has(key)) return undefined;
      const stored = {
        ...structuredClone(s),
        metadata: { ...s.metadata, namespace: ns, resourceVersion: String(++version) },
      };
      secrets.set(key, stored);
      return stored;
    },
    async replace(ns, s) {
      calls.replace++;
      const key = `${ns}/${s.metadata?.name}`;
      if (secrets.get(key)?.metadata?.resourceVersion !== s.metadata?.resourceVersion)
        throw new Error("409 conflict");
      const stored = {
        ...structuredClone(s),
        metadata: { ...s.metadata, namespace: ns, resourceVersion: String(++version) },
      };
      secrets.set(key, stored);
      return stored;
    },
    async listByName(name) {
      return [...secrets.values()].filter((s) => s.metadata?.name === name);
    },
  };
  return { store, secrets, calls };
}

const config = operatorConfigFrom(
  {
    apiVersion: "microgateway.airlock.com/v1alpha1",
    kind: "OperatorConfig",
    operatorNamespace: "mgw",
    certificates: { renewalPeriod: "1h", leafValidity: "3h" },
  },
  "test",
);

describe("OperatorCertificates", () => {
  test("the CA is created once and shared: a second operator loads the same one", async () => {
    const { store, secrets } = memoryStore();
    const a = await new OperatorCertificates({ store, config }).authority();
    const b = await new OperatorCertificates({ store, config }).authority();
    expect(b.certificatePem).toBe(a.certificatePem);
    expect(secrets.has(`mgw/${CA_SECRET}`)).toBe(true);
  });

  test("two operators racing to create the CA end up with one", async () => {
    const { store } = memoryStore();
    const [a, b] = await Promise.all([
      new OperatorCertificates({ store, config }).authority(),
      new OperatorCertificates({ store, config }).authority(),
    ]);
    expect(a.certificatePem).toBe(b.certificatePem);
  });

  test("a broken CA secret is an error naming it, never silently replaced", async () => {
    const { store, secrets } = memoryStore();
    await store.create("mgw", {
      metadata: { name: CA_SECRET },
      data: { "tls.crt": Buffer.from("junk").toString("base64") },
    });
    await expect(new OperatorCertificates({ store, config }).authority()).rejects.toThrow(
      `Secret mgw/${CA_SECRET}`,
    );
    expect(secretText(secrets.get(`mgw/${CA_SECRET}`), "tls.crt")).toBe("junk");
  });

  test("the bootstrap secret holds a namespace-bound client certificate, the CA and a bootstrap for the xDS host", async () => {
    const { store, secrets } = memoryStore();
    const certs = new OperatorCertificates({ store, config });
    expect(await certs.ensureBootstrapSecret("shop")).toBe("created");
    const s = secrets.get(`shop/${BOOTSTRAP_SECRET}`);
    const crt = secretText(s, "tls.crt") ?? "";
    const { X509Certificate } = await import("node:crypto");
    const leaf = new X509Certificate(crt);
    const uris = peerIdentity({ subjectaltname: leaf.subjectAltName }).uris;
    expect(uris.map(namespaceOfSpiffeId)).toEqual(["shop"]);
    expect(secretText(s, "ca.crt")).toBe((await certs.authority()).certificatePem);
    const bootstrap = parse(secretText(s, "bootstrap_config.yaml") ?? "") as {
      static_resources: { clusters: { name: string; load_assignment: unknown }[] };
    };
    const xds = bootstrap.static_resources.clusters.find((c) => c.name === "xds_cluster");
    expect(JSON.stringify(xds)).toContain("airlock-microgateway-operator-xds-headless.mgw.svc.cluster.local");
    expect(secretText(s, "tls_certificate_sds_secret.yaml")).toContain("/app/config/tls.crt");
  });

  test("a current secret costs no API call; a due one is renewed; concurrent calls share one request", async () => {
    const { store, calls, secrets } = memoryStore();
    let now = new Date("2026-11-26T00:00:00Z");
    const certs = new OperatorCertificates({ store, config, now: () => now });
    const results = await Promise.all([
      certs.ensureBootstrapSecret("shop"),
      certs.ensureBootstrapSecret("shop"),
    ]);
    expect(results).toEqual(["created", "created"]);
    expect(calls.create).toBe(2); // CA + one bootstrap secret
    const gets = calls.get;
    expect(await certs.ensureBootstrapSecret("shop")).toBe("current");
    expect(calls.get).toBe(gets);

    now = new Date(now.getTime() + 61 * 60_000);
    expect(await certs.ensureBootstrapSecret("shop")).toBe("renewed");
    expect(secrets.get(`shop/${BOOTSTRAP_SECRET}`)?.metadata?.annotations?.[ISSUED_AT_ANNOTATION]).toBe(
      now.toISOString(),
    );
  });

  test("the periodic job renews every due secret of this operator and leaves others alone", async () => {
    const { store, secrets } = memoryStore();
    let now = new Date("2026-11-26T00:00:00Z");
    const certs = new OperatorCertificates({ store, config, now: () => now });
    await certs.ensureBootstrapSecret("a");
    await certs.ensureBootstrapSecret("b");
    await store.create("c", {
      metadata: { name: BOOTSTRAP_SECRET, labels: { "microgateway.airlock.com/managedBy": "other" } },
    });
    now = new Date(now.getTime() + 2 * 3600_000);
    expect(await certs.renewBootstrapSecrets()).toBe(2);
    expect(secrets.get(`c/${BOOTSTRAP_SECRET}`)?.data).toBeUndefined();
  });

  test("with a fixed list of watched namespaces, renewal reads those namespaces' secrets and lists nothing", async () => {
    const { store, secrets } = memoryStore();
    const listless: SecretStore = {
      ...store,
      listByName: () => Promise.reject(new Error("forbidden: cannot list secrets at the cluster scope")),
    };
    const c = operatorConfigFrom(
      {
        apiVersion: "microgateway.airlock.com/v1alpha1",
        kind: "OperatorConfig",
        operatorNamespace: "mgw",
        certificates: { renewalPeriod: "1h", leafValidity: "3h" },
        watch: { namespaces: ["a", "b", "empty"] },
      },
      "test",
    );
    let now = new Date("2026-11-26T00:00:00Z");
    const certs = new OperatorCertificates({ store: listless, config: c, now: () => now });
    for (const ns of ["a", "b", "c"]) await certs.ensureBootstrapSecret(ns);
    const before = secrets.get(`c/${BOOTSTRAP_SECRET}`)?.metadata?.resourceVersion;
    now = new Date(now.getTime() + 2 * 3600_000);
    expect(await certs.renewBootstrapSecrets()).toBe(2);
    expect(secrets.get(`c/${BOOTSTRAP_SECRET}`)?.metadata?.resourceVersion).toBe(before);
    expect(secrets.has(`empty/${BOOTSTRAP_SECRET}`)).toBe(false);
  });

  test("serving certificates name the webhook Service and the xDS host, plus extra SANs", async () => {
    const { store } = memoryStore();
    const c = operatorConfigFrom(
      {
        apiVersion: "microgateway.airlock.com/v1alpha1",
        kind: "OperatorConfig",
        webhook: { extraSANs: ["127.0.0.1"] },
      },
      "test",
    );
    const certs = new OperatorCertificates({ store, config: c });
    const { X509Certificate } = await import("node:crypto");
    const webhook = new X509Certificate((await certs.webhookServing()).certificatePem);
    expect(webhook.subjectAltName).toContain(
      "DNS:airlock-microgateway-operator-webhook.airlock-microgateway-system.svc",
    );
    expect(webhook.subjectAltName).toContain("IP Address:127.0.0.1");
    const xds = new X509Certificate((await certs.xdsServing()).certificatePem);
    expect(xds.subjectAltName).toContain(
      "DNS:airlock-microgateway-operator-xds-headless.airlock-microgateway-system.svc.cluster.local",
    );
  });
});
