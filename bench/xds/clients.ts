/**
 * The xDS benchmark's engines process: N simulated engines (simulated-engine.ts), each with its own
 * TLS 1.3 connection and delta ADS stream, connected in batches. It runs apart from the server so
 * that the server's CPU figures exclude the clients' work (both still share the machine's cores).
 *
 * Usage: bun run bench/xds/clients.ts --port 40000 --certs /tmp/dir --engines 1000 [--batch 200]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { wallMs } from "../support/clock.ts";
import { emit, listenForCommands } from "../support/command-channel.ts";
import { benchNodeId } from "./fleet.ts";
import { CERT_FILES, type ClientsCommand, type ClientsEvent } from "./messages.ts";
import {
  type EngineCounters,
  type EngineHooks,
  type EngineTarget,
  SimulatedEngine,
} from "./simulated-engine.ts";

const send = (e: ClientsEvent) => emit(e);

function main(): void {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      certs: { type: "string" },
      engines: { type: "string" },
      batch: { type: "string", default: "200" },
    },
  });
  const n = positive("--engines", values.engines);
  const batch = positive("--batch", values.batch);
  const port = positive("--port", values.port);
  if (!values.certs) throw new Error("--certs <dir> is required");
  const certs = values.certs;
  const target: EngineTarget = {
    url: `https://127.0.0.1:${port}`,
    tls: {
      ca: readFileSync(join(certs, CERT_FILES.ca), "utf8"),
      cert: readFileSync(join(certs, CERT_FILES.cert), "utf8"),
      key: readFileSync(join(certs, CERT_FILES.key), "utf8"),
      minVersion: "TLSv1.3",
      maxVersion: "TLSv1.3",
    },
  };

  const counters: EngineCounters = { responses: 0, bytesReceived: 0, nacksSent: 0, streamErrors: 0 };
  let connectErrors = 0;
  let ready = 0;
  let firstError: string | undefined;
  let failureReported = false;
  let start = 0;
  let awaiting: { version: string; since: number; converged: number } | undefined;

  const reportFailure = () => {
    if (failureReported) return;
    failureReported = true;
    send({
      event: "failed",
      message: `${counters.streamErrors} engine stream(s) failed after connecting; first: ${firstError}`,
    });
  };
  const checkConverged = () => {
    if (!awaiting || awaiting.converged < n) return;
    const since = awaiting.since;
    awaiting = undefined;
    send({ event: "converged", latenciesMs: engines.map((e) => round3(e.listenerAt - since)) });
  };
  const hooks: EngineHooks = {
    connected(_engine, error) {
      if (error === undefined) return;
      connectErrors++;
      firstError ??= error;
    },
    ready() {
      if (++ready === n) send({ event: "ready", coldStartMs: wallMs() - start });
    },
    listener(engine, previous) {
      if (awaiting && engine.listenerVersion === awaiting.version && previous !== awaiting.version) {
        awaiting.converged++;
        checkConverged();
      }
    },
    failed(_engine, message) {
      firstError ??= message;
      reportFailure();
    },
  };
  const engines = Array.from({ length: n }, (_, i) => new SimulatedEngine(benchNodeId(i), hooks, counters));

  const exit = () => {
    for (const e of engines) e.close();
    process.exit(0);
  };
  listenForCommands<ClientsCommand>((command) => {
    switch (command.cmd) {
      case "await": {
        let converged = 0;
        for (const e of engines) if (e.listenerVersion === command.version) converged++;
        awaiting = { version: command.version, since: command.since, converged };
        checkConverged();
        return;
      }
      case "stats": {
        send({
          event: "stats",
          cpu: process.cpuUsage(),
          rss: process.memoryUsage().rss,
          engines: n,
          ready,
          connectErrors,
          ...counters,
          firstError,
        });
        return;
      }
      case "exit":
        exit();
        return;
    }
  }, exit);

  void (async () => {
    start = wallMs();
    // Batches keep the accept queue and the handshake CPU spike bounded, as a rolling deploy would.
    for (let i = 0; i < n; i += batch) {
      await Promise.all(engines.slice(i, i + batch).map((e) => e.connect(target)));
    }
    send({ event: "connected", connectMs: wallMs() - start, connectErrors, firstError });
  })();
}

function positive(flag: string, value: string | undefined): number {
  const v = Number(value);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} ${value}: expected a positive integer`);
  return v;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

try {
  main();
} catch (e) {
  emit({ event: "failed", message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
}
