/**
 * The xDS benchmark's engines process: simulated engines (simulated-engine.ts), each with its own
 * TLS 1.3 connection and ADS stream, connected in batches. It runs apart from the server so that
 * the server's CPU figures exclude the clients' work (both still share the machine's cores). The
 * driver may split the fleet over several of these processes (`--first` is the global index of
 * this process's first engine).
 *
 * Usage: bun run bench/xds/clients.ts --port 40000 --certs /tmp/dir --engines 1000 --routes app_8080
 *          [--first 0] [--batch 200] [--protocol delta|sotw]
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
  type XdsProtocol,
} from "./simulated-engine.ts";

const send = (e: ClientsEvent) => emit(e);

function main(): void {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      certs: { type: "string" },
      engines: { type: "string" },
      first: { type: "string", default: "0" },
      batch: { type: "string", default: "200" },
      protocol: { type: "string", default: "delta" },
      routes: { type: "string" },
    },
  });
  const routeNames = (values.routes ?? "").split(",").filter((r) => r !== "");
  if (routeNames.length === 0)
    throw new Error("--routes <name,...> is required (the RouteConfigurations the listener names)");
  const n = positive("--engines", values.engines);
  const first = Number(values.first);
  if (!Number.isInteger(first) || first < 0)
    throw new Error(`--first ${values.first}: expected an integer >= 0`);
  const batch = positive("--batch", values.batch);
  const port = positive("--port", values.port);
  if (values.protocol !== "delta" && values.protocol !== "sotw")
    throw new Error(`--protocol ${values.protocol}: expected delta or sotw`);
  const protocol: XdsProtocol = values.protocol;
  if (!values.certs) throw new Error("--certs <dir> is required");
  const certs = values.certs;
  const tls: EngineTarget["tls"] = {
    ca: readFileSync(join(certs, CERT_FILES.ca), "utf8"),
    cert: readFileSync(join(certs, CERT_FILES.cert), "utf8"),
    key: readFileSync(join(certs, CERT_FILES.key), "utf8"),
    minVersion: "TLSv1.3",
    maxVersion: "TLSv1.3",
  };
  const targetAt = (p: number): EngineTarget => ({ url: `https://127.0.0.1:${p}`, tls });

  const counters: EngineCounters = { responses: 0, bytesReceived: 0, nacksSent: 0, streamErrors: 0 };
  let connectErrors = 0;
  let ready = 0;
  let disconnected = 0;
  let firstError: string | undefined;
  let failureReported = false;
  let awaiting: { since: number; engines: Set<SimulatedEngine> | undefined; converged: number } | undefined;

  const reportFailure = () => {
    if (failureReported) return;
    failureReported = true;
    send({
      event: "failed",
      message: `${counters.streamErrors} engine stream(s) failed after connecting; first: ${firstError}`,
    });
  };
  const awaitedCount = () => awaiting?.engines?.size ?? n;
  const checkConverged = () => {
    if (!awaiting || awaiting.converged < awaitedCount()) return;
    const { since } = awaiting;
    const awaited = awaiting.engines ? [...awaiting.engines] : engines;
    awaiting = undefined;
    send({
      event: "converged",
      latenciesMs: awaited.map((e) => round3(e.routeAt - since)),
      versions: [...new Set(awaited.map((e) => e.routeVersion))],
    });
  };
  const hooks: EngineHooks = {
    connected(_engine, error) {
      if (error === undefined) return;
      connectErrors++;
      firstError ??= error;
    },
    ready() {
      if (++ready === n) send({ event: "ready", at: wallMs() });
    },
    route(engine) {
      // The first RouteConfiguration response since the mark is the one the awaited change produced.
      if (!awaiting || engine.routeResponses !== engine.mark + 1) return;
      if (awaiting.engines && !awaiting.engines.has(engine)) return;
      awaiting.converged++;
      checkConverged();
    },
    failed(_engine, message) {
      firstError ??= message;
      reportFailure();
    },
    disconnected() {
      if (++disconnected === n) send({ event: "disconnected", at: wallMs() });
    },
  };
  const engines = Array.from(
    { length: n },
    (_, i) => new SimulatedEngine(benchNodeId(first + i), hooks, counters, routeNames, protocol),
  );
  const local = (global: readonly number[]) =>
    global.filter((g) => g >= first && g < first + n).map((g) => engines[g - first]!);

  /** Connects `list` in batches: the accept queue and the handshake CPU spike stay bounded, as in a rolling deploy. */
  const connectAll = async (list: SimulatedEngine[], target: EngineTarget) => {
    for (let i = 0; i < list.length; i += batch) {
      await Promise.all(list.slice(i, i + batch).map((e) => e.connect(target)));
    }
  };

  const exit = () => {
    for (const e of engines) e.close();
    process.exit(0);
  };
  listenForCommands<ClientsCommand>((command) => {
    switch (command.cmd) {
      case "connect": {
        const startedAt = wallMs();
        void connectAll(engines, targetAt(port)).then(() =>
          send({ event: "connected", startedAt, at: wallMs(), connectErrors, firstError }),
        );
        return;
      }
      case "mark":
        for (const e of engines) e.mark = e.routeResponses;
        send({ event: "marked" });
        return;
      case "await": {
        const set = command.engines ? new Set(local(command.engines)) : undefined;
        let converged = 0;
        for (const e of set ?? engines) if (e.routeResponses > e.mark) converged++;
        awaiting = { since: command.since, engines: set, converged };
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
          engineBytes: local(command.engines ?? []).map((e) => e.bytesReceived),
        });
        return;
      }
      case "expect-disconnect":
        disconnected = 0;
        for (const e of engines) e.expectDisconnect();
        return;
      case "reconnect": {
        const errorsBefore = connectErrors;
        void connectAll(
          engines.filter((e) => e.isDisconnected),
          targetAt(command.port),
        ).then(() =>
          send({
            event: "reconnected",
            at: wallMs(),
            connectErrors: connectErrors - errorsBefore,
            firstError,
          }),
        );
        return;
      }
      case "exit":
        exit();
        return;
    }
  }, exit);
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
