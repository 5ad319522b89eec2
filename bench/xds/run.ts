/**
 * The xDS fan-out benchmark driver. For each engine count N it starts the server process
 * (server.ts) and the engines process (clients.ts), measures the cold start until every engine has
 * ACKed its clusters and listener, then pushes DenyRules changes and measures how long each takes
 * to reach every engine, what the server spent on it, and whether any stream broke or NACKed.
 *
 *   bun run bench/xds/run.ts                      # N = 1000
 *   bun run bench/xds/run.ts --n 100,1000,2000    # several sizes, one after the other
 *   bun run bench/xds/run.ts --smoke              # N = 20, quick, for CI
 *   bun run bench/xds/run.ts --profile            # also write the server's CPU profile (.cpuprofile + .md)
 *   bun run bench/xds/run.ts --server both        # ours, then go-control-plane (bench/peers/), and the ratios
 *
 * Prints tables and writes bench/results/xds-<date>.json (with --server both: xds-peers-<date>.json,
 * both reports and the ratios; see bench/peers/RESULTS.md). Exits 1 if any run failed or saw a
 * connect error, stream error, NACK or protocol error.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";
import type { ThreatHandlingMode } from "../../src/model/types.ts";
import {
  compareRuns,
  formatComparison,
  type PeerComparisonReport,
  parseServers,
  type ServerKind,
} from "../peers/compare.ts";
import { launchGoControlPlane } from "../peers/go-control-plane/launch.ts";
import { BenchChild } from "../support/child-process.ts";
import { wallMs } from "../support/clock.ts";
import { busyCoresNow, machineBusySeconds, machineInfo, openFileLimit } from "../support/machine.ts";
import { distribution } from "../support/percentiles.ts";
import type { ClientsCommand, ClientsEvent, ServerCommand, ServerEvent, ServerStats } from "./messages.ts";
import { type ChangeResult, formatReport, type XdsBenchReport, type XdsRunResult } from "./report.ts";

const ROOT = join(import.meta.dir, "..", "..");
/** File descriptors a child needs besides one socket per engine (stdio, bun's own, listening socket). */
const SPARE_FDS = 256;
const MiB = 2 ** 20;

interface Options {
  readonly engineCounts: number[];
  readonly batch: number;
  readonly rounds: number;
  readonly timeoutS: number;
  readonly out: string;
  /** Directory for CPU profiles of the server process (Bun's --cpu-prof), or undefined. */
  readonly profileDir?: string;
  /** Which xDS servers to measure, one after the other for each N (`--server`). */
  readonly servers: ServerKind[];
}

/** How to start the server process of one run; `dir` (if any) is deleted after the run. */
interface ServerLaunch {
  readonly argv: readonly string[];
  readonly dir?: string;
}

type Server = BenchChild<ServerCommand, ServerEvent>;
type Clients = BenchChild<ClientsCommand, ClientsEvent>;

async function main(): Promise<number> {
  const opts = options();
  const reports = new Map<ServerKind, XdsBenchReport>();
  for (const kind of opts.servers) {
    reports.set(kind, {
      benchmark: "xds",
      date: new Date().toISOString(),
      command: `bun run bench/xds/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
      machine: machineInfo(),
      options: { batch: opts.batch, rounds: opts.rounds, timeoutS: opts.timeoutS },
      runs: [],
    });
  }
  for (const n of opts.engineCounts) {
    for (const [kind, report] of reports) {
      const label = kind === "ours" ? "" : ` (${kind})`;
      process.stderr.write(`xds bench: ${n} engines${label}...\n`);
      let launch: ServerLaunch;
      try {
        launch = await serverLaunch(kind, n, opts);
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        report.runs.push({ engines: n, ok: false, error, changes: [] });
        process.stderr.write(`xds bench: ${n} engines${label} failed: ${error}\n`);
        continue;
      }
      const busy = await busyCoresNow();
      if (busy > 0.2) {
        process.stderr.write(
          `xds bench: warning: other processes keep ${busy.toFixed(1)} of ${report.machine.cpus} cores busy; they compete with the benchmark and make its numbers worse than the code's\n`,
        );
      }
      const result = await runOnce(n, opts, launch);
      report.runs.push(result);
      if (!result.ok) process.stderr.write(`xds bench: ${n} engines${label} failed: ${result.error}\n`);
    }
  }
  const ours = reports.get("ours");
  const peers = [...reports].filter(([kind]) => kind !== "ours");
  let written: unknown = ours;
  if (ours) console.log(formatReport(ours));
  for (const [kind, report] of peers) {
    if (ours) console.log("");
    console.log(`Server: ${kind} (bench/peers/${kind}), same engines and resources\n`);
    console.log(formatReport(report));
    if (ours) {
      const comparison = compareRuns(ours, report);
      console.log(`\n${formatComparison(comparison, kind)}`);
      const both: PeerComparisonReport = {
        benchmark: "xds-peers",
        peer: kind,
        ours,
        peerReport: report,
        comparison,
      };
      written = both;
    } else {
      written = report;
    }
  }
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(written, null, 2)}\n`);
  console.log(`\nresults: ${relative(process.cwd(), opts.out)}`);
  if (opts.profileDir) console.log(`server CPU profiles: ${relative(process.cwd(), opts.profileDir)}`);
  return [...reports.values()].every((r) => r.runs.every((run) => run.ok)) ? 0 : 1;
}

/** The server process of one run: ours, or a peer from bench/peers/ (built and given its resources now). */
async function serverLaunch(kind: ServerKind, n: number, opts: Options): Promise<ServerLaunch> {
  if (kind === "go-control-plane") return launchGoControlPlane(n, opts.profileDir);
  const profile = opts.profileDir
    ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${opts.profileDir}`, `--cpu-prof-name=server-${n}`]
    : [];
  return { argv: ["bun", ...profile, "bench/xds/server.ts", "--pods", String(n)] };
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      n: { type: "string", default: "1000" },
      smoke: { type: "boolean", default: false },
      batch: { type: "string", default: "200" },
      rounds: { type: "string", default: "3" },
      "timeout-s": { type: "string", default: "120" },
      out: { type: "string" },
      profile: { type: "boolean", default: false },
      server: { type: "string", default: "ours" },
    },
  });
  const int = (flag: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} ${v}: expected a positive integer`);
    return n;
  };
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(":", "-");
  const servers = parseServers(values.server);
  const kind = servers.length > 1 ? "peers-" : servers[0] === "ours" ? "" : `${servers[0]}-`;
  return {
    engineCounts: values.smoke ? [20] : values.n.split(",").map((v) => int("n", v.trim())),
    batch: int("batch", values.batch),
    rounds: values.smoke ? 2 : int("rounds", values.rounds),
    timeoutS: values.smoke ? 60 : int("timeout-s", values["timeout-s"]),
    out:
      values.out ?? join(ROOT, "bench", "results", `xds-${kind}${values.smoke ? "smoke-" : ""}${stamp}.json`),
    profileDir: values.profile ? join(ROOT, "bench", "results", "profiles", `xds-${stamp}`) : undefined,
    servers,
  };
}

/** One measured run with `n` engines; never throws, a failure is part of the result. */
async function runOnce(n: number, opts: Options, launch: ServerLaunch): Promise<XdsRunResult> {
  const deadline = Date.now() + opts.timeoutS * 1000;
  const changes: ChangeResult[] = [];
  let server: Server | undefined;
  let clients: Clients | undefined;
  let certDir: string | undefined;
  const partial: { -readonly [K in keyof XdsRunResult]?: XdsRunResult[K] } = {};
  const startedAt = Date.now();
  const busyAtStart = machineBusySeconds();
  const driverCpuAtStart = process.cpuUsage();
  try {
    const openFiles = openFilesFor(n);
    server = BenchChild.spawn({ name: "server", argv: launch.argv, openFiles, cwd: ROOT });
    const ready = await server.next("ready", deadline);
    certDir = ready.certDir;
    partial.setupMs = ready.setupMs;
    const before = await stats(server, deadline, true);

    clients = BenchChild.spawn({
      name: "clients",
      argv: [
        "bun",
        "bench/xds/clients.ts",
        "--port",
        String(ready.port),
        "--certs",
        ready.certDir,
        "--engines",
        String(n),
        "--batch",
        String(opts.batch),
      ],
      openFiles,
      cwd: ROOT,
    });
    const connected = await clients.next("connected", deadline);
    partial.connectMs = connected.connectMs;
    if (connected.connectErrors > 0) {
      throw new Error(
        `${connected.connectErrors} of ${n} engines could not connect; first: ${connected.firstError}`,
      );
    }
    partial.coldStartMs = (await clients.next("ready", deadline)).coldStartMs;
    // Each engine ACKs one Cluster and one Listener response at startup.
    await settle(server, 2 * n, deadline);
    const connectedStats = await stats(server, deadline, true);
    const clientsAtReady = await clientStats(clients, deadline);
    partial.server = {
      rssBeforeClientsMiB: before.rss / MiB,
      rssConnectedMiB: connectedStats.rss / MiB,
      rssPerEngineKiB: (connectedStats.rss - before.rss) / n / 1024,
      heapUsedBeforeClientsMiB: before.heapUsed / MiB,
      heapUsedConnectedMiB: connectedStats.heapUsed / MiB,
      heapPerEngineKiB: (connectedStats.heapUsed - before.heapUsed) / n / 1024,
      cpuColdStartS: cpuSeconds(connectedStats) - cpuSeconds(before),
      distinctResources: connectedStats.distinctResources,
      staleNonces: connectedStats.counters.staleNonces,
    };
    partial.clients = {
      rssMiB: clientsAtReady.rss / MiB,
      cpuColdStartS: (clientsAtReady.cpu.user + clientsAtReady.cpu.system) / 1e6,
    };

    for (let round = 1; round <= opts.rounds; round++) {
      changes.push(await change(server, clients, n, round, deadline));
    }

    const end = await stats(server, deadline, false);
    const clientsEnd = await clientStats(clients, deadline);
    // Both children started inside this window, so their whole cpuUsage() is ours.
    const driverCpu = process.cpuUsage(driverCpuAtStart);
    const ownCpuS =
      cpuSeconds(end) +
      (clientsEnd.cpu.user + clientsEnd.cpu.system + driverCpu.user + driverCpu.system) / 1e6;
    partial.otherCores = Math.max(
      0,
      (machineBusySeconds() - busyAtStart - ownCpuS) / ((Date.now() - startedAt) / 1000),
    );
    const errors = {
      connect: clientsEnd.connectErrors,
      stream: clientsEnd.streamErrors,
      nacksSent: clientsEnd.nacksSent,
      nacksReceived: end.counters.nacks,
      protocolErrors: end.counters.protocolErrors,
    };
    partial.errors = errors;
    if (partial.server) partial.server = { ...partial.server, staleNonces: end.counters.staleNonces };
    const bad = Object.entries(errors).filter(([, v]) => v > 0);
    if (bad.length > 0) throw new Error(`protocol errors: ${bad.map(([k, v]) => `${k} ${v}`).join(", ")}`);
    return { engines: n, ok: true, ...partial, changes };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    return { engines: n, ok: false, error, ...partial, changes };
  } finally {
    // Engines first, so the server sees clients leave rather than its own shutdown breaking streams.
    await clients?.stop(5000);
    await server?.stop(5000);
    if (certDir) rmSync(certDir, { recursive: true, force: true });
    if (launch.dir) rmSync(launch.dir, { recursive: true, force: true });
  }
}

/** Pushes one DenyRules change and measures it until every engine runs it and the server has every ACK. */
async function change(
  server: Server,
  clients: Clients,
  n: number,
  round: number,
  deadline: number,
): Promise<ChangeResult> {
  // The example starts in Block, so odd rounds switch to LogOnly and even rounds back.
  const mode: ThreatHandlingMode = round % 2 === 1 ? "LogOnly" : "Block";
  const pre = await stats(server, deadline, false);
  const clientsPre = await clientStats(clients, deadline);
  const since = wallMs();
  server.send({ cmd: "change", mode });
  const changed = await server.next("changed", deadline);
  if (changed.changedNodes !== n)
    throw new Error(`change ${round}: ${changed.changedNodes} of ${n} pods changed`);
  clients.send({ cmd: "await", version: changed.listenerVersion, since });
  const converged = await clients.next("converged", deadline);
  const settled = await settle(server, pre.counters.acks + n, deadline);
  const post = await stats(server, deadline, false);
  const clientsPost = await clientStats(clients, deadline);
  return {
    round,
    mode,
    changedNodes: changed.changedNodes,
    timings: {
      modelMs: changed.modelMs,
      translateEncodeMs: changed.translateEncodeMs,
      setNodeMs: changed.setNodeMs,
      totalMs: changed.totalMs,
    },
    latencyMs: distribution(converged.latenciesMs),
    serverAckedMs: settled.at - since,
    serverCpuS: cpuSeconds(post) - cpuSeconds(pre),
    clientsCpuS:
      (clientsPost.cpu.user + clientsPost.cpu.system - clientsPre.cpu.user - clientsPre.cpu.system) / 1e6,
    responses: post.counters.responses - pre.counters.responses,
    resourcesSent: post.counters.resourcesSent - pre.counters.resourcesSent,
    bytesSent: post.counters.bytesSent - pre.counters.bytesSent,
    bytesReceived: clientsPost.bytesReceived - clientsPre.bytesReceived,
  };
}

async function stats(server: Server, deadline: number, gc: boolean): Promise<ServerStats> {
  server.send({ cmd: "stats", gc });
  return server.next("stats", deadline);
}

async function clientStats(clients: Clients, deadline: number) {
  clients.send({ cmd: "stats" });
  return clients.next("stats", deadline);
}

async function settle(server: Server, acks: number, deadline: number) {
  server.send({ cmd: "settle", acks });
  return server.next("settled", deadline);
}

function cpuSeconds(s: ServerStats): number {
  return (s.cpu.user + s.cpu.system) / 1e6;
}

/**
 * The open-file limit each child needs for `n` connections. Children get it through `ulimit -n`,
 * which may raise the soft limit up to the hard one; beyond that only root can help, so say how.
 */
function openFilesFor(n: number): number {
  const needed = n + SPARE_FDS;
  const { soft, hard } = openFileLimit();
  if (needed > hard) {
    throw new Error(
      `${n} engines need about ${needed} open files per process, but the hard limit is ${hard} ` +
        "(ulimit -Hn). Raise it (e.g. `ulimit -Hn 65536` as root, or nofile in /etc/security/limits.conf) or use a smaller --n.",
    );
  }
  return Math.max(soft === Number.POSITIVE_INFINITY ? needed : soft, needed);
}

process.exit(await main());
