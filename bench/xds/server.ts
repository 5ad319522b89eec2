/**
 * The xDS benchmark's server process: the operator's xDS path for N pods (ConfigCache + delta ADS
 * over mTLS on 127.0.0.1), driven by JSON-line commands from run.ts (see messages.ts). It runs in
 * its own process so that its CPU and memory are measured without the simulated engines'.
 *
 * Usage: bun run bench/xds/server.ts --pods 1000 --certs DIR [--mode Block|LogOnly] [--manifests examples/local]
 * (DIR holds the CA, server and engine certificates: bench/peers/export-fleet.ts writeCertificates)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Model } from "../../src/model/model.ts";
import type { ThreatHandlingMode } from "../../src/model/types.ts";
import { PodConfigEncoder } from "../../src/translate/pod-config-encoder.ts";
import { ConfigCache } from "../../src/xds/config-cache.ts";
import { EngineStatusStore } from "../../src/xds/engine-status.ts";
import { startXdsServer, type XdsServer } from "../../src/xds/server.ts";
import { wallMs } from "../support/clock.ts";
import { emit, listenForCommands } from "../support/command-channel.ts";
import { benchModel, type FleetPush, loadBenchFleet, pushFleet, pushPod, routeNamesOf } from "./fleet.ts";
import { CERT_FILES, EXPORT_FILES, type ServerCommand, type ServerEvent } from "./messages.ts";

const send = (e: ServerEvent) => emit(e);
/** How often a `settle` that waits for subscriptions looks at the status store. */
const SUBSCRIPTION_POLL_MS = 20;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pods: { type: "string" },
      certs: { type: "string" },
      // A restarted server starts in the mode the fleet was in, as an operator rebuilds its cache
      // from the cluster's current objects.
      mode: { type: "string", default: "Block" },
      manifests: { type: "string", default: "examples/local" },
    },
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
  if (values.mode !== "Block" && values.mode !== "LogOnly")
    throw new Error(`--mode ${values.mode}: expected Block or LogOnly`);
  // Models by mode for single-pod changes: a controller holds its model, it does not rebuild it
  // for one pod (the full change in pushFleet does rebuild it, as after a policy edit).
  const models = new Map<ThreatHandlingMode, Model>();
  const push = (mode: ThreatHandlingMode): FleetPush => {
    const { model, ...timings } = pushFleet(cache, encoder, fleet, mode);
    models.set(mode, model);
    return timings;
  };
  const modelFor = (mode: ThreatHandlingMode): Model => {
    let model = models.get(mode);
    if (!model) {
      model = benchModel(fleet, mode);
      models.set(mode, model);
    }
    return model;
  };
  const initial = push(values.mode);

  // The driver writes the certificates (bench/peers/export-fleet.ts writeCertificates), so that a
  // restarted server and the peer present the same CA to the same engines; it also deletes them.
  const certDir = values.certs;
  if (!certDir) throw new Error("--certs <dir> is required (written by the driver)");
  const read = (file: string) => readFileSync(join(certDir, file), "utf8");
  const xds: XdsServer = await startXdsServer({
    cache,
    status,
    // MICROGATEWAY_BENCH_ADS_TRANSPORT=connect measures the ConnectRPC transport instead of the direct one.
    adsTransport: process.env.MICROGATEWAY_BENCH_ADS_TRANSPORT === "connect" ? "connect" : "direct",
    tls: {
      certificatePem: read(EXPORT_FILES.serverCert),
      privateKeyPem: read(EXPORT_FILES.serverKey),
      caPem: read(CERT_FILES.ca),
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

  let settle: { acks: number; subscriptions: number; unsubscribe: () => void } | undefined;
  const checkSettled = () => {
    if (!settle || status.counters.acks < settle.acks) return;
    if (settle.subscriptions > 0 && subscriptions(status) < settle.subscriptions) return;
    settle.unsubscribe();
    send({ event: "settled", at: wallMs(), acks: status.counters.acks });
    settle = undefined;
  };
  let exiting = false;
  const exit = async () => {
    if (exiting) return;
    exiting = true;
    await xds.close();
    process.exit(0);
  };

  process.on("SIGINT", exit);
  process.on("SIGTERM", exit);
  listenForCommands<ServerCommand>(async (command) => {
    switch (command.cmd) {
      case "change": {
        const receivedAt = wallMs();
        send({ event: "changed", receivedAt, ...push(command.mode) });
        return;
      }
      case "prepare-pod": {
        // The translation of the mode's gateway version, as a fleet push would have left it.
        encoder.encode(modelFor(command.mode), fleet.pods[0]!);
        send({ event: "prepared" });
        return;
      }
      case "change-pod": {
        const receivedAt = wallMs();
        const changed = pushPod(cache, encoder, modelFor(command.mode), fleet, command.index);
        send({ event: "changed", receivedAt, ...changed });
        return;
      }
      case "stats": {
        // CPU first, as the peer samples it: the collection below is the measurement's, not the server's.
        const cpu = process.cpuUsage();
        if (command.gc) await collectAndReturnMemory();
        const mem = process.memoryUsage();
        send({
          event: "stats",
          at: wallMs(),
          cpu,
          rss: mem.rss,
          heapUsed: mem.heapUsed,
          // Not the subscription count: it walks every engine (tens of ms at 10,000), which would
          // be counted as the server's CPU of the scenario; `settle` computes it when it waits for it.
          counters: { ...status.counters },
          distinctResources: cache.distinctResources,
        });
        return;
      }
      case "settle": {
        settle?.unsubscribe();
        // Every ACK goes through status.accept, which notifies subscribers. A subscription does not
        // notify (only a stream's first request does), so waiting for subscriptions also polls.
        const unsubscribe = status.subscribe(checkSettled);
        const poll = command.subscriptions ? setInterval(checkSettled, SUBSCRIPTION_POLL_MS) : undefined;
        settle = {
          acks: command.acks,
          subscriptions: command.subscriptions ?? 0,
          unsubscribe: () => {
            unsubscribe();
            clearInterval(poll);
          },
        };
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
    routeVersion: initial.routeVersion,
    routeNames: routeNamesOf(cache, fleet.pods),
  });
}

/**
 * A full collection, then the allocator's freed pages back to the OS: the counterpart of the peer's
 * `debug.FreeOSMemory()`. Bun has no call for the second part; its allocator returns pages on its
 * own over the next second or so (measured: 95 -> 83 MiB for the server with 1,000 pods), so this
 * collects four times over 1.5 s.
 */
async function collectAndReturnMemory(): Promise<void> {
  Bun.gc(true);
  for (let i = 0; i < 4; i++) {
    await Bun.sleep(375);
    Bun.gc(true);
  }
}

/**
 * Subscriptions the server holds on open streams: (node, type) pairs it has a request for. A
 * fresh server that N engines reconnected to, each subscribing Cluster and Listener, holds 2N.
 */
function subscriptions(status: EngineStatusStore): number {
  let n = 0;
  for (const e of status.all()) if (e.streams > 0) n += e.types.size;
  return n;
}

main().catch((e: unknown) => {
  emit({ event: "failed", message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  process.exit(1);
});
