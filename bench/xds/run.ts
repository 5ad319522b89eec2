/**
 * The xDS benchmark driver. For each engine count N and each server (ours, go-control-plane) it runs
 * the scenarios against the same simulated engines (clients.ts) and the same resources:
 *   cold start  all N connect; time until every engine has ACKed its clusters, listener and routes
 *   fan-out     one change to the policy all pods share; p50/p99/max until each engine has it
 *   single-pod  one pod's configuration changes; its latency, and bytes to all others (must be 0)
 *   reconnect   the server process restarts; all N reconnect with initial_resource_versions;
 *               time to steady state and bytes re-sent
 *   sotw        cold start and fan-out again with the engines speaking state of the world
 * Every scenario reports server CPU seconds, peak RSS and protocol errors (must be 0).
 *
 *   bun run bench/xds/run.ts                               # N = 1000, ours
 *   bun run bench/xds/run.ts --n 1000,5000 --server both   # ours, then go-control-plane, and the ratios
 *   bun run bench/xds/run.ts --smoke                       # N = 20, quick, for CI
 *   bun run bench/xds/run.ts --profile                     # also the server's CPU profile
 *   bun run bench/xds/run.ts --client-procs 2              # engines split over 2 processes
 *   bun run bench/xds/run.ts --scenarios fanout,single-pod # cold start always runs
 *
 * Prints tables and writes bench/results/xds-<date>.json (with --server both: xds-peers-<date>.json,
 * both reports and the ratios; see bench/peers/RESULTS.md). Exits 1 if any run failed or saw a
 * connect error, stream error, NACK or protocol error.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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
import { writeCertificates } from "../peers/export-fleet.ts";
import { launchGoControlPlane } from "../peers/go-control-plane/launch.ts";
import { BenchChild } from "../support/child-process.ts";
import { wallMs } from "../support/clock.ts";
import {
  busyCoresNow,
  machineBusySeconds,
  machineInfo,
  openFileLimit,
  peakRss,
  resetPeakRss,
} from "../support/machine.ts";
import { distribution } from "../support/percentiles.ts";
import { ClientGroup } from "./client-group.ts";
import type { ClientsStats, ServerCommand, ServerEvent, ServerStats } from "./messages.ts";
import {
  type ChangeResult,
  type ErrorCounts,
  formatReport,
  type ReconnectResult,
  type SinglePodResult,
  type SotwResult,
  type XdsBenchReport,
  type XdsRunResult,
} from "./report.ts";
import type { XdsProtocol } from "./simulated-engine.ts";

const ROOT = join(import.meta.dir, "..", "..");
/** File descriptors a child needs besides one socket per engine (stdio, bun's own, listening socket). */
const SPARE_FDS = 256;
const MiB = 2 ** 20;
/** Single-pod changes per run: there and back, twice (even, so the fleet ends uniform). */
const SINGLE_POD_ROUNDS = 4;
/** Resource types every engine subscribes: Cluster, Listener, RouteConfiguration. */
const TYPES_PER_ENGINE = 3;
/** After a single-pod change or a reconnect has settled, how long to keep counting bytes that should not come. */
const QUIET_MS = 250;

/** Scenarios besides the cold start, which every run needs. */
export const SCENARIOS = ["fanout", "single-pod", "reconnect", "sotw"] as const;
export type Scenario = (typeof SCENARIOS)[number];

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
  readonly clientProcs: number;
  readonly scenarios: ReadonlySet<Scenario>;
}

/** How to start the server process of one run; `dir` (certificates, resources) is deleted after the run. */
interface ServerLaunch {
  readonly argv: readonly string[];
  readonly dir: string;
}

type Server = BenchChild<ServerCommand, ServerEvent>;

async function main(): Promise<number> {
  const opts = options();
  const reports = new Map<ServerKind, XdsBenchReport>();
  for (const kind of opts.servers) {
    reports.set(kind, {
      benchmark: "xds",
      date: new Date().toISOString(),
      command: `bun run bench/xds/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
      machine: machineInfo(),
      options: {
        batch: opts.batch,
        rounds: opts.rounds,
        timeoutS: opts.timeoutS,
        clientProcs: opts.clientProcs,
        scenarios: ["cold-start", ...opts.scenarios],
      },
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
      try {
        const result = await runOnce(n, opts, launch);
        if (result.ok && opts.scenarios.has("sotw")) {
          process.stderr.write(`xds bench: ${n} engines${label}, state of the world...\n`);
          (result as { sotw?: SotwResult }).sotw = await runSotw(n, opts, launch);
        }
        report.runs.push(result);
        const error =
          result.error ?? (result.sotw && !result.sotw.ok ? `sotw: ${result.sotw.error}` : undefined);
        if (error) process.stderr.write(`xds bench: ${n} engines${label} failed: ${error}\n`);
      } finally {
        rmSync(launch.dir, { recursive: true, force: true });
      }
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
  const ok = (r: XdsRunResult) => r.ok && (r.sotw === undefined || r.sotw.ok);
  return [...reports.values()].every((r) => r.runs.every(ok)) ? 0 : 1;
}

/**
 * The server process of one run: ours, or a peer from bench/peers/ (built and given its resources
 * now). Both read the same kind of certificate folder, which outlives a server restart.
 */
async function serverLaunch(kind: ServerKind, n: number, opts: Options): Promise<ServerLaunch> {
  if (kind === "go-control-plane") {
    const peer = await launchGoControlPlane(n, opts.profileDir);
    return { argv: [...peer.argv, "--keep"], dir: peer.dir };
  }
  const dir = mkdtempSync(join(tmpdir(), "microgateway-bench-xds-"));
  await writeCertificates(dir);
  const profile = opts.profileDir
    ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${opts.profileDir}`, `--cpu-prof-name=server-${n}`]
    : [];
  return { argv: ["bun", ...profile, "bench/xds/server.ts", "--pods", String(n), "--certs", dir], dir };
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
      "client-procs": { type: "string", default: "1" },
      scenarios: { type: "string", default: SCENARIOS.join(",") },
    },
  });
  const int = (flag: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} ${v}: expected a positive integer`);
    return n;
  };
  const scenarios = new Set<Scenario>();
  for (const s of values.scenarios.split(",").map((v) => v.trim())) {
    if (s === "" || s === "cold-start") continue;
    if (!(SCENARIOS as readonly string[]).includes(s))
      throw new Error(`--scenarios: unknown scenario "${s}"; known: cold-start, ${SCENARIOS.join(", ")}`);
    scenarios.add(s as Scenario);
  }
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
    clientProcs: int("client-procs", values["client-procs"]),
    scenarios,
  };
}

/** The server, the engines and the bookkeeping of one run. */
interface Run {
  readonly n: number;
  readonly opts: Options;
  readonly deadline: number;
  readonly launch: ServerLaunch;
  server: Server;
  readonly clients: ClientGroup;
}

const launchStarts = new WeakMap<ServerLaunch, number>();

/** Starts the server and waits until it listens; returns it with its readiness event and how long that took. */
async function startServer(launch: ServerLaunch, n: number, deadline: number, mode?: ThreatHandlingMode) {
  const spawnedAt = wallMs();
  // Each start of the server writes its own CPU profile (the restarted one would overwrite the first).
  const starts = (launchStarts.get(launch) ?? 0) + 1;
  launchStarts.set(launch, starts);
  const argv = launch.argv.map((a) => (a.startsWith("--cpu-prof-name=") ? `${a}-${starts}` : a));
  const server: Server = BenchChild.spawn({
    name: "server",
    argv: mode ? [...argv, "--mode", mode] : argv,
    openFiles: openFilesFor(n),
    cwd: ROOT,
  });
  const ready = await server.next("ready", deadline);
  return { server, ready, startMs: wallMs() - spawnedAt };
}

/** Spawns the server and `protocol` engines and measures the cold start. */
async function coldStart(
  n: number,
  opts: Options,
  launch: ServerLaunch,
  protocol: XdsProtocol,
  deadline: number,
) {
  const { server, ready } = await startServer(launch, n, deadline);
  const clients = ClientGroup.spawn({
    engines: n,
    procs: opts.clientProcs,
    port: ready.port,
    certDir: ready.certDir,
    batch: opts.batch,
    protocol,
    routeNames: ready.routeNames,
    openFiles: openFilesFor(n),
    cwd: ROOT,
  });
  const run: Run = { n, opts, deadline, launch, server, clients };
  const before = await stats(server, deadline, true);
  resetPeakRss(server.pid);
  clients.send({ cmd: "connect" });
  const connected = await clients.next("connected", deadline);
  if (connected.connectErrors > 0) {
    throw Object.assign(
      new Error(
        `${connected.connectErrors} of ${n} engines could not connect; first: ${connected.firstError}`,
      ),
      { run },
    );
  }
  const readyAt = (await clients.next("ready", deadline)).at;
  // Each engine ACKs one Cluster, one Listener and one RouteConfiguration response at startup.
  await settle(server, TYPES_PER_ENGINE * n, deadline);
  const peak = peakRss(server.pid);
  const after = await stats(server, deadline, true);
  const clientsAt = await clientStats(clients, deadline);
  return {
    run,
    setupMs: ready.setupMs,
    connectMs: connected.at - connected.startedAt,
    coldStartMs: readyAt - connected.startedAt,
    before,
    after,
    peakMiB: peak === undefined ? undefined : peak / MiB,
    clientsAt,
  };
}

/** One measured delta run with `n` engines; never throws, a failure is part of the result. */
async function runOnce(n: number, opts: Options, launch: ServerLaunch): Promise<XdsRunResult> {
  const deadline = Date.now() + opts.timeoutS * 1000;
  const changes: ChangeResult[] = [];
  const partial: { -readonly [K in keyof XdsRunResult]?: XdsRunResult[K] } = {};
  const startedAt = Date.now();
  const busyAtStart = machineBusySeconds();
  const driverCpuAtStart = process.cpuUsage();
  let run: Run | undefined;
  let serverCpuS = 0; // CPU of servers that already exited (before the restart)
  try {
    const cold = await coldStart(n, opts, launch, "delta", deadline).catch((e: unknown) => {
      run = (e as { run?: Run }).run;
      throw e;
    });
    run = cold.run;
    partial.setupMs = cold.setupMs;
    partial.connectMs = cold.connectMs;
    partial.coldStartMs = cold.coldStartMs;
    partial.peakRssColdStartMiB = cold.peakMiB;
    partial.server = {
      rssBeforeClientsMiB: cold.before.rss / MiB,
      rssConnectedMiB: cold.after.rss / MiB,
      rssPerEngineKiB: (cold.after.rss - cold.before.rss) / n / 1024,
      heapUsedBeforeClientsMiB: cold.before.heapUsed / MiB,
      heapUsedConnectedMiB: cold.after.heapUsed / MiB,
      heapPerEngineKiB: (cold.after.heapUsed - cold.before.heapUsed) / n / 1024,
      cpuColdStartS: cpuSeconds(cold.after) - cpuSeconds(cold.before),
      distinctResources: cold.after.distinctResources,
      staleNonces: cold.after.counters.staleNonces,
    };
    partial.clients = {
      rssMiB: cold.clientsAt.rss / MiB,
      cpuColdStartS: clientCpuSeconds(cold.clientsAt),
      procs: opts.clientProcs,
    };

    if (opts.scenarios.has("fanout")) {
      resetPeakRss(run.server.pid);
      for (let round = 1; round <= opts.rounds; round++) changes.push(await change(run, round));
      const peak = peakRss(run.server.pid);
      partial.peakRssChangesMiB = peak === undefined ? undefined : peak / MiB;
    }
    const current = currentMode(changes);
    if (opts.scenarios.has("single-pod")) {
      // The pod moves to the other mode and back, twice (a median of 4, the first of which runs
      // colder code), so the fleet is uniform again afterwards.
      const other: ThreatHandlingMode = current === "Block" ? "LogOnly" : "Block";
      partial.singlePod = [];
      for (let round = 1; round <= SINGLE_POD_ROUNDS; round++) {
        partial.singlePod.push(await singlePod(run, round, round % 2 === 1 ? other : current));
      }
    }
    const first = await stats(run.server, deadline, false);
    let errors = await errorCounts(run, first);
    if (opts.scenarios.has("reconnect")) {
      serverCpuS += cpuSeconds(first);
      const storm = await reconnectStorm(run, current);
      partial.reconnect = storm.result;
      const again = await errorCounts(run, storm.end);
      // Client-side counts are cumulative; server-side ones add up over both server processes.
      errors = {
        ...again,
        nacksReceived: errors.nacksReceived + again.nacksReceived,
        protocolErrors: errors.protocolErrors + again.protocolErrors,
      };
    }
    const end = await stats(run.server, deadline, false);
    serverCpuS += cpuSeconds(end);
    const clientsEnd = await clientStats(run.clients, deadline);
    // The children started inside this window, so their whole cpuUsage() is ours.
    const driverCpu = process.cpuUsage(driverCpuAtStart);
    const ownCpuS = serverCpuS + clientCpuSeconds(clientsEnd) + (driverCpu.user + driverCpu.system) / 1e6;
    partial.otherCores = Math.max(
      0,
      (machineBusySeconds() - busyAtStart - ownCpuS) / ((Date.now() - startedAt) / 1000),
    );
    partial.errors = errors;
    if (partial.server) partial.server = { ...partial.server, staleNonces: end.counters.staleNonces };
    const bad = Object.entries(errors).filter(([, v]) => v > 0);
    if (bad.length > 0) throw new Error(`protocol errors: ${bad.map(([k, v]) => `${k} ${v}`).join(", ")}`);
    return { engines: n, ok: true, ...partial, changes };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    return { engines: n, ok: false, error, ...partial, changes };
  } finally {
    await stopRun(run);
  }
}

/** The state-of-the-world run: cold start and the fan-out changes with SotW engines. */
async function runSotw(n: number, opts: Options, launch: ServerLaunch): Promise<SotwResult> {
  // The comparison is secondary to the delta run: give it half the time, so a stuck run costs less.
  const deadline = Date.now() + (opts.timeoutS * 1000) / 2;
  const changes: ChangeResult[] = [];
  const partial: { -readonly [K in keyof SotwResult]?: SotwResult[K] } = {};
  let run: Run | undefined;
  try {
    const cold = await coldStart(n, opts, launch, "sotw", deadline).catch((e: unknown) => {
      run = (e as { run?: Run }).run;
      throw e;
    });
    run = cold.run;
    partial.coldStartMs = cold.coldStartMs;
    partial.cpuColdStartS = cpuSeconds(cold.after) - cpuSeconds(cold.before);
    partial.rssPerEngineKiB = (cold.after.rss - cold.before.rss) / n / 1024;
    resetPeakRss(run.server.pid);
    // The same changes as the delta run's first rounds (LogOnly, then Block), so the rows compare.
    for (let round = 1; round <= Math.min(2, opts.rounds); round++)
      changes.push(await change(run, round, false));
    const peak = peakRss(run.server.pid);
    partial.peakRssMiB = peak === undefined ? undefined : peak / MiB;
    const end = await stats(run.server, deadline, false);
    const errors = await errorCounts(run, end);
    partial.errors = errors;
    partial.staleNonces = end.counters.staleNonces;
    const bad = Object.entries(errors).filter(([, v]) => v > 0);
    if (bad.length > 0) throw new Error(`protocol errors: ${bad.map(([k, v]) => `${k} ${v}`).join(", ")}`);
    return { ok: true, ...partial, changes };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e), ...partial, changes };
  } finally {
    await stopRun(run);
  }
}

async function stopRun(run: Run | undefined): Promise<void> {
  // Engines first, so the server sees clients leave rather than its own shutdown breaking streams.
  await run?.clients.stop(5000);
  await run?.server.stop(5000);
}

/** The mode the fleet is in after the fan-out rounds (the example starts in Block). */
function currentMode(changes: readonly ChangeResult[]): ThreatHandlingMode {
  return (changes.at(-1)?.mode as ThreatHandlingMode | undefined) ?? "Block";
}

/** Pushes one DenyRules change and measures it until every engine runs it and the server has every ACK. */
async function change(run: Run, round: number, checkVersion = true): Promise<ChangeResult> {
  const { server, clients, n, deadline } = run;
  // The example starts in Block, so odd rounds switch to LogOnly and even rounds back.
  const mode: ThreatHandlingMode = round % 2 === 1 ? "LogOnly" : "Block";
  const pre = await stats(server, deadline, false);
  const clientsPre = await clientStats(clients, deadline);
  clients.send({ cmd: "mark" });
  await clients.next("marked", deadline);
  const since = wallMs();
  server.send({ cmd: "change", mode });
  const changed = await server.next("changed", deadline);
  if (changed.changedNodes !== n)
    throw new Error(`change ${round}: ${changed.changedNodes} of ${n} pods changed`);
  clients.send({ cmd: "await", since });
  const converged = await clients.next("converged", deadline);
  // Delta engines report the route configuration's resource version, which both servers name in `changed`.
  if (checkVersion && (converged.versions.length !== 1 || converged.versions[0] !== changed.routeVersion)) {
    throw new Error(
      `change ${round}: engines run route versions ${converged.versions.join(", ")}, expected ${changed.routeVersion}`,
    );
  }
  // A state-of-the-world server may send more than the routes (go-control-plane re-sends the
  // clusters too): every response it sent must be ACKed before the change is done.
  // Only this change's responses count; one whose ACK the server counted as stale is not waited for.
  const mid = await stats(server, deadline, false);
  const d = (k: "responses" | "nacks" | "staleNonces") => mid.counters[k] - pre.counters[k];
  const acks = pre.counters.acks + Math.max(n, d("responses") - d("nacks") - d("staleNonces"));
  const settled = await settle(server, acks, deadline);
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
    clientsCpuS: clientCpuSeconds(clientsPost) - clientCpuSeconds(clientsPre),
    responses: post.counters.responses - pre.counters.responses,
    resourcesSent: post.counters.resourcesSent - pre.counters.resourcesSent,
    bytesSent: post.counters.bytesSent - pre.counters.bytesSent,
    bytesReceived: clientsPost.bytesReceived - clientsPre.bytesReceived,
  };
}

/** Changes one pod's configuration (pod N/2) and measures its latency and what everybody else received. */
async function singlePod(run: Run, round: number, mode: ThreatHandlingMode): Promise<SinglePodResult> {
  const { server, clients, deadline } = run;
  const index = Math.floor(run.n / 2);
  // The controller's side of a pod change (model, translation of a known gateway version) is
  // ready, as in an operator; what is measured is getting it to the pod and nobody else.
  server.send({ cmd: "prepare-pod", mode });
  await server.next("prepared", deadline);
  const pre = await stats(server, deadline, false);
  const clientsPre = await clientStats(clients, deadline, [index]);
  clients.send({ cmd: "mark" });
  await clients.next("marked", deadline);
  const since = wallMs();
  server.send({ cmd: "change-pod", index, mode });
  const changed = await server.next("changed", deadline);
  if (changed.changedNodes !== 1)
    throw new Error(`single-pod change ${round}: ${changed.changedNodes} pods changed`);
  clients.send({ cmd: "await", since, engines: [index] });
  const converged = await clients.next("converged", deadline);
  const settled = await settle(server, pre.counters.acks + 1, deadline);
  const acked = await stats(server, deadline, false);
  // Anything wrongly pushed to other engines would be on its way by now.
  await Bun.sleep(QUIET_MS);
  const post = await stats(server, deadline, false);
  const clientsPost = await clientStats(clients, deadline, [index]);
  const bytesToPod = clientsPost.engineBytes[0]! - clientsPre.engineBytes[0]!;
  return {
    round,
    mode,
    index,
    changedNodes: changed.changedNodes,
    latencyMs: converged.latenciesMs[0]!,
    serverAckedMs: settled.at - since,
    serverCpuS: cpuSeconds(acked) - cpuSeconds(pre),
    serverCpuQuietS: cpuSeconds(post) - cpuSeconds(acked),
    bytesToPod,
    bytesToOthers: clientsPost.bytesReceived - clientsPre.bytesReceived - bytesToPod,
    responses: post.counters.responses - pre.counters.responses,
  };
}

/**
 * Restarts the server process and lets every engine reconnect with what it runs. Steady state: every
 * engine reconnected, the new server holds 3N subscriptions (Cluster, Listener, RouteConfiguration)
 * and has every response it sent ACKed.
 */
async function reconnectStorm(
  run: Run,
  mode: ThreatHandlingMode,
): Promise<{ result: ReconnectResult; end: ServerStats }> {
  const { clients, n, deadline } = run;
  clients.send({ cmd: "expect-disconnect" });
  await run.server.stop(5000);
  await clients.next("disconnected", deadline);
  const clientsPre = await clientStats(clients, deadline);

  // The new server starts with the configuration the fleet has: nothing should need re-sending.
  const restarted = await startServer(run.launch, n, deadline, mode);
  run.server = restarted.server;
  const server = restarted.server;
  const atReady = await stats(server, deadline, true);
  resetPeakRss(server.pid);
  const since = wallMs();
  clients.send({ cmd: "reconnect", port: restarted.ready.port });
  const reconnected = await clients.next("reconnected", deadline);
  if (reconnected.connectErrors > 0) {
    throw new Error(
      `reconnect: ${reconnected.connectErrors} engines could not connect; first: ${reconnected.firstError}`,
    );
  }
  let settled = await settle(server, 0, deadline, TYPES_PER_ENGINE * n);
  // Whatever the server did send must be ACKed before the fleet is steady.
  const mid = await stats(server, deadline, false);
  if (mid.counters.responses > mid.counters.acks + mid.counters.nacks) {
    settled = await settle(server, mid.counters.responses - mid.counters.nacks, deadline);
  }
  const steadyAt = Math.max(settled.at, reconnected.at);
  await Bun.sleep(QUIET_MS);
  const post = await stats(server, deadline, false);
  const clientsPost = await clientStats(clients, deadline);
  const peak = peakRss(server.pid);
  const after = await stats(server, deadline, true);
  return {
    result: {
      restartMs: restarted.startMs,
      restartCpuS: cpuSeconds(atReady),
      steadyMs: steadyAt - since,
      serverCpuS: cpuSeconds(post) - cpuSeconds(atReady),
      clientsCpuS: clientCpuSeconds(clientsPost) - clientCpuSeconds(clientsPre),
      bytesResent: clientsPost.bytesReceived - clientsPre.bytesReceived,
      serverBytesSent: post.counters.bytesSent - atReady.counters.bytesSent,
      responses: post.counters.responses - atReady.counters.responses,
      peakRssMiB: peak === undefined ? undefined : peak / MiB,
      rssConnectedMiB: after.rss / MiB,
      rssPerEngineKiB: (after.rss - atReady.rss) / n / 1024,
    },
    end: after,
  };
}

/** Protocol health so far: the engines' counts and the current server's. */
async function errorCounts(run: Run, server: ServerStats): Promise<ErrorCounts> {
  const c = await clientStats(run.clients, run.deadline);
  return {
    connect: c.connectErrors,
    stream: c.streamErrors,
    nacksSent: c.nacksSent,
    nacksReceived: server.counters.nacks,
    protocolErrors: server.counters.protocolErrors,
  };
}

async function stats(server: Server, deadline: number, gc: boolean): Promise<ServerStats> {
  server.send({ cmd: "stats", gc });
  return server.next("stats", deadline);
}

async function clientStats(
  clients: ClientGroup,
  deadline: number,
  engines?: number[],
): Promise<ClientsStats> {
  clients.send({ cmd: "stats", engines });
  return clients.next("stats", deadline);
}

async function settle(server: Server, acks: number, deadline: number, subscriptions?: number) {
  server.send({ cmd: "settle", acks, subscriptions });
  return server.next("settled", deadline);
}

function cpuSeconds(s: ServerStats): number {
  return (s.cpu.user + s.cpu.system) / 1e6;
}

function clientCpuSeconds(s: ClientsStats): number {
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

if (import.meta.main) process.exit(await main());
