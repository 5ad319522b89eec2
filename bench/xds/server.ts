/**
 * The xDS benchmark's server process: the operator's xDS path for N pods (ConfigCache + delta ADS
 * over mTLS on 127.0.0.1), driven by JSON-line commands from run.ts (see messages.ts). It runs in
 * its own process so that its CPU and memory are measured without the simulated engines'.
 *
 * Usage: bun run bench/xds/server.ts --pods 1000 [--manifests examples/local]
 */
import "reflect-metadata";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createAuthority } from "../../src/certs/authority.ts";
import { engineSpiffeId } from "../../src/certs/identity.ts";
import { issueClientCertificate, issueServerCertificate } from "../../src/certs/issue.ts";
import { PodConfigEncoder } from "../../src/translate/pod-config-encoder.ts";
import { ConfigCache } from "../../src/xds/config-cache.ts";
import { EngineStatusStore } from "../../src/xds/engine-status.ts";
import { startXdsServer, type XdsServer } from "../../src/xds/server.ts";
import { wallMs } from "../support/clock.ts";
import { emit, listenForCommands } from "../support/command-channel.ts";
import { BENCH_NAMESPACE, loadBenchFleet, pushFleet } from "./fleet.ts";
import { CERT_FILES, type ServerCommand, type ServerEvent } from "./messages.ts";

const send = (e: ServerEvent) => emit(e);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { pods: { type: "string" }, manifests: { type: "string", default: "examples/local" } },
  });
  const pods = Number(values.pods);
  if (!Number.isInteger(pods) || pods < 1)
    throw new Error(`--pods ${values.pods}: expected a positive integer`);

  const fleet = loadBenchFleet(pods, values.manifests);
  const cache = new ConfigCache();
  const status = new EngineStatusStore();
  // One encoder for the server's life, as the operator's controller has: it remembers the
  // translation of each gateway version.
  const encoder = new PodConfigEncoder();
  const initial = pushFleet(cache, encoder, fleet, "Block");

  const ca = await createAuthority({ commonName: "microgateway bench CA" });
  const serverCert = await issueServerCertificate(ca, {
    commonName: "microgateway bench xds",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  // One client certificate for all engines: they all live in namespace bench, and the handshake
  // cost is the same whether the certificates differ or not.
  const engine = await issueClientCertificate(ca, {
    commonName: "bench engine",
    uris: [engineSpiffeId(BENCH_NAMESPACE)],
  });
  const certDir = mkdtempSync(join(tmpdir(), "microgateway-bench-xds-"));
  writeFileSync(join(certDir, CERT_FILES.ca), ca.certificatePem);
  writeFileSync(join(certDir, CERT_FILES.cert), engine.chainPem);
  writeFileSync(join(certDir, CERT_FILES.key), engine.privateKeyPem, { mode: 0o600 });

  const xds: XdsServer = await startXdsServer({
    cache,
    status,
    tls: {
      certificatePem: serverCert.chainPem,
      privateKeyPem: serverCert.privateKeyPem,
      caPem: ca.certificatePem,
    },
    host: "127.0.0.1",
    port: 0,
    // Per-stream open/close lines would be thousands of lines per run; failures are what matter.
    log: (line) => {
      if (!line.includes("stream opened") && !line.includes(" closed") && !line.includes("listening on")) {
        process.stderr.write(`${line}\n`);
      }
    },
  });

  let settle: { acks: number; unsubscribe: () => void } | undefined;
  const checkSettled = () => {
    if (!settle || status.counters.acks < settle.acks) return;
    settle.unsubscribe();
    send({ event: "settled", at: wallMs(), acks: status.counters.acks });
    settle = undefined;
  };

  let exiting = false;
  const exit = async () => {
    if (exiting) return;
    exiting = true;
    await xds.close();
    rmSync(certDir, { recursive: true, force: true });
    process.exit(0);
  };

  // Ctrl-C reaches the whole process group: still remove the private key from /tmp.
  process.on("SIGINT", exit);
  process.on("SIGTERM", exit);
  listenForCommands<ServerCommand>(async (command) => {
    switch (command.cmd) {
      case "change": {
        const receivedAt = wallMs();
        const push = pushFleet(cache, encoder, fleet, command.mode);
        send({ event: "changed", receivedAt, ...push });
        return;
      }
      case "stats": {
        if (command.gc) Bun.gc(true);
        const mem = process.memoryUsage();
        send({
          event: "stats",
          at: wallMs(),
          cpu: process.cpuUsage(),
          rss: mem.rss,
          heapUsed: mem.heapUsed,
          counters: { ...status.counters },
          distinctResources: cache.distinctResources,
        });
        return;
      }
      case "settle": {
        settle?.unsubscribe();
        // Every ACK goes through status.accept, which notifies subscribers: no polling needed.
        settle = { acks: command.acks, unsubscribe: status.subscribe(checkSettled) };
        checkSettled();
        return;
      }
      case "exit":
        await exit();
        return;
    }
  }, exit);

  send({
    event: "ready",
    port: xds.port,
    certDir,
    pods,
    setupMs: initial.totalMs,
    listenerVersion: initial.listenerVersion,
  });
}

main().catch((e: unknown) => {
  emit({ event: "failed", message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  process.exit(1);
});
