/**
 * AdmissionReview throughput and latency over TLS: the production webhook path under Bun and under
 * Node, and the same app on Bun.serve. Starts each server in its own process on a free port with a
 * fresh certificate, checks one answer by hand, warms it up with every response checked, measures
 * with wrk, and checks the server's own counters: every request must have been answered with a patch.
 *
 * Usage: bun run bench/webhook/run.ts [--smoke] [--duration-s 10] [--warmup-s 3]
 *          [--connections 50,1] [--servers bun-http2,bun-serve,node-http2] [--quiet-wait-s 0]
 * Prints a Markdown table and writes bench/results/webhook-<date>.json; exits 1 on any error.
 */
import "reflect-metadata";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createAuthority } from "../../src/certs/authority.ts";
import { issueServerCertificate } from "../../src/certs/issue.ts";
import { sourceState } from "../support/source-state.ts";
import { machineBusySeconds, machineInfo } from "./machine.ts";
import { benchReview } from "./pod.ts";
import { machineLine, resultsTable, type WebhookRow } from "./report.ts";
import type { StatsEvent } from "./server-control.ts";
import { ServerProcess } from "./server-process.ts";
import { verifyOneResponse } from "./verify-response.ts";
import { runWrk, WRK_SCRIPT } from "./wrk.ts";

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const REPO = here("../../");
const MIB = 2 ** 20;
/** Above this many cores busy with other work before a measured run, the run is flagged as disturbed. */
const QUIET_CORES = 0.25;
/** Warm-up ends once this many requests are answered and CPU per request has settled... */
const WARM_REQUESTS_MIN = 5_000;
const WARM_TOLERANCE = 0.1;
/** ...or after this many rounds of --warmup-s. */
const WARM_ROUNDS_MAX = 8;

/** The three servers compared; `argv` gets the run's temporary folder (with the Node bundle). */
const SERVERS = {
  "bun-http2": {
    what: "(a) production: startWebhookServer (node:http2 TLS, HTTP/1.1 fallback) on Bun",
    argv: () => [process.execPath, here("./server-production.ts")],
  },
  "bun-serve": {
    what: "(b) the same Hono app on Bun.serve with TLS (not shipped: no certificate rotation)",
    argv: () => [process.execPath, here("./server-bun-serve.ts")],
  },
  "node-http2": {
    what: "(c) production path bundled with bun build --target=node, run by node",
    argv: (tmp: string) => ["node", join(tmp, "server.mjs")],
  },
} as const;
type ServerId = keyof typeof SERVERS;

const { values: flags } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    "duration-s": { type: "string" },
    "warmup-s": { type: "string" },
    connections: { type: "string", default: "50,1" },
    servers: { type: "string", default: Object.keys(SERVERS).join(",") },
    "quiet-wait-s": { type: "string", default: "0" },
  },
});
const durationS = Number(flags["duration-s"] ?? (flags.smoke ? 1 : 10));
const warmupS = Number(flags["warmup-s"] ?? (flags.smoke ? 1 : 3));
const quietWaitS = Number(flags["quiet-wait-s"]);
const connections = flags.connections.split(",").map(Number);
const servers = flags.servers.split(",").map((s) => {
  if (!(s in SERVERS))
    throw new Error(`--servers: unknown server "${s}"; known: ${Object.keys(SERVERS).join(", ")}`);
  return s as ServerId;
});
if (
  !(durationS > 0) ||
  !(warmupS > 0) ||
  !(quietWaitS >= 0) ||
  connections.some((c) => !(Number.isInteger(c) && c > 0))
) {
  throw new Error(
    "--duration-s and --warmup-s must be positive, --quiet-wait-s at least 0, --connections positive integers",
  );
}

/** wrk threads for `c` connections: one per core of this 2-core machine, never more than connections. */
const wrkThreads = (c: number) => Math.min(2, c);

// The load generator comes from Debian; say how to get it instead of failing on a spawn error.
for (const tool of ["wrk", "node"]) {
  if (!Bun.which(tool)) {
    console.error(
      `bench/webhook needs ${tool} on PATH (${tool === "wrk" ? "apt-get install wrk" : "Node.js 20"})`,
    );
    process.exit(1);
  }
}

const problems: string[] = [];
const rows: WebhookRow[] = [];
/** Per server: what it is, how it answered the hand-checked request, how busy the machine was before it. */
const serverInfo: Record<string, unknown> = {};
const machine = machineInfo();
const source = sourceState(REPO);
const review = benchReview();
const tmp = mkdtempSync(join(tmpdir(), "mgw-webhook-bench-"));
const reviewFile = join(tmp, "review.json");
writeFileSync(reviewFile, review.body);
const nodeBuild = [
  "bun",
  "build",
  "bench/webhook/server-production.ts",
  "--target=node",
  "--outfile",
  "<tmp>/server.mjs",
];
log(`machine: ${machineLine(machine)}`);
log(`review: ${review.body.length} bytes, managedFields ${review.managedFieldsBytes} bytes`);

try {
  if (servers.includes("node-http2")) buildNodeBundle();
  for (const id of servers) {
    try {
      await measure(id);
    } catch (e) {
      problems.push(`${id}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const date = new Date()
  .toISOString()
  .replace(/\.\d+Z$/, "")
  .replaceAll(":", "-");
const out = join(REPO, "bench/results", `webhook-${flags.smoke ? "smoke-" : ""}${date}.json`);
mkdirSync(join(REPO, "bench/results"), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      suite: "webhook",
      date: new Date().toISOString(),
      smoke: flags.smoke,
      machine,
      source,
      review: { bodyBytes: review.body.length, managedFieldsBytes: review.managedFieldsBytes },
      options: { durationS, warmupS, connections, servers, quietWaitS },
      servers: serverInfo,
      nodeBuild: nodeBuild.join(" "),
      rows,
      problems,
    },
    null,
    2,
  )}\n`,
);
console.log(`\n${machineLine(machine)}\n`);
console.log(resultsTable(rows));
console.log(`\nresults: ${relative(process.cwd(), out)}`);
if (problems.length > 0) {
  console.log(`\nFAILED:\n- ${problems.join("\n- ")}`);
  process.exit(1);
}

/** Bundles the production server for Node, as (c) runs it. */
function buildNodeBundle(): void {
  const argv = nodeBuild.map((a) => a.replace("<tmp>", tmp));
  const built = Bun.spawnSync(argv, { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  if (built.exitCode !== 0) {
    throw new Error(`${argv.join(" ")} failed: ${built.stderr.toString()}${built.stdout.toString()}`);
  }
}

/** Starts one server with a fresh certificate, checks it, warms it up, measures each connection count. */
async function measure(id: ServerId): Promise<void> {
  const dir = join(tmp, id);
  mkdirSync(dir, { mode: 0o700 });
  const ca = await createAuthority({ commonName: "microgateway-webhook-bench-ca" });
  const leaf = await issueServerCertificate(ca, { commonName: "webhook-bench", ipAddresses: ["127.0.0.1"] });
  const chainFile = join(dir, "chain.pem");
  const keyFile = join(dir, "key.pem");
  writeFileSync(chainFile, leaf.chainPem);
  writeFileSync(keyFile, leaf.privateKeyPem, { mode: 0o600 });
  chmodSync(keyFile, 0o600);

  log(`${id}: starting ${SERVERS[id].what}`);
  const server = ServerProcess.spawn(id, [...SERVERS[id].argv(tmp), "--chain", chainFile, "--key", keyFile]);
  try {
    const { port, runtime } = await server.listening(Date.now() + 30_000);
    const url = `https://127.0.0.1:${port}/mutate-v1-pod`;
    const verified = await verifyOneResponse(url, ca.certificatePem, review);
    log(`${id}: ${runtime} on port ${port}, one response checked: ${JSON.stringify(verified)}`);
    const warmUp = await warmUntilSteady(id, server, url);
    serverInfo[id] = { what: SERVERS[id].what, runtime, verified, warmUp };
    for (const c of connections) {
      const row = await measureRun(id, runtime, server, url, c);
      rows.push(row);
      log(`${id} c=${c}: ${row.requestsPerS.toFixed(0)} req/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms`);
    }
  } finally {
    await server.stop(3_000);
  }
}

/** Server CPU per request of one warm-up round. */
interface WarmUpRound {
  readonly requests: number;
  readonly serverCpuUsPerRequest: number;
}

/**
 * Warm-up rounds at the highest connection count, every response checked in Lua, until the server
 * has answered WARM_REQUESTS_MIN requests and its CPU per request has settled (within
 * WARM_TOLERANCE of the round before), or WARM_ROUNDS_MAX rounds have run. A fixed time is not
 * enough: Node 20 spends ~3 ms of CPU per request for its first thousand or so requests and ~1.3 ms
 * once optimised, and on a busy machine a few seconds hold only a few hundred requests.
 */
async function warmUntilSteady(id: ServerId, server: ServerProcess, url: string): Promise<WarmUpRound[]> {
  const c = Math.max(...connections);
  const rounds: WarmUpRound[] = [];
  for (let i = 0; i < (flags.smoke ? 1 : WARM_ROUNDS_MAX); i++) {
    const before = await server.stats(Date.now() + 5_000);
    const warm = await runWrk({
      url,
      connections: c,
      threads: wrkThreads(c),
      durationS: warmupS,
      reviewFile,
      verify: true,
    });
    const after = await server.stats(Date.now() + 5_000);
    const bad = warm.verify?.bad ?? Number.NaN;
    if (!warm.verify || warm.verify.checked === 0 || bad > 0 || warm.non2xx + warm.socketErrors > 0) {
      throw new Error(
        `warm-up: ${bad} of ${warm.verify?.checked ?? "?"} responses were not 200 with a patch, ${warm.non2xx} non-2xx, ${warm.socketErrors} socket errors`,
      );
    }
    checkCounters(`${id} warm-up ${i + 1}`, before, after, warm.requests);
    const round = {
      requests: warm.requests,
      serverCpuUsPerRequest: (after.cpuUs - before.cpuUs) / (after.requests - before.requests),
    };
    rounds.push(round);
    log(
      `${id}: warm-up ${i + 1}: ${round.requests} requests, each 200 with a JSONPatch, ${round.serverCpuUsPerRequest.toFixed(0)} µs server CPU each`,
    );
    const previous = rounds.at(-2);
    const settled =
      previous !== undefined &&
      Math.abs(round.serverCpuUsPerRequest / previous.serverCpuUsPerRequest - 1) < WARM_TOLERANCE;
    if (settled && rounds.reduce((n, r) => n + r.requests, 0) >= WARM_REQUESTS_MIN) break;
  }
  return rounds;
}

/** One measured wrk run at `c` connections, after waiting (bounded) for other work on the machine to calm down. */
async function measureRun(
  id: ServerId,
  runtime: string,
  server: ServerProcess,
  url: string,
  c: number,
): Promise<WebhookRow> {
  const otherCoresBefore = await waitQuiet(`${id} c=${c}`);
  const before = await server.stats(Date.now() + 5_000);
  const busyBefore = machineBusySeconds();
  const selfBefore = process.cpuUsage();
  const wrk = await runWrk({
    url,
    connections: c,
    threads: wrkThreads(c),
    durationS,
    reviewFile,
    verify: false,
  });
  const self = process.cpuUsage(selfBefore);
  const busy = machineBusySeconds() - busyBefore;
  const after = await server.stats(Date.now() + 5_000);
  const serverCpuS = (after.cpuUs - before.cpuUs) / 1e6;
  checkCounters(`${id} c=${c}`, before, after, wrk.requests);
  const errors = wrk.non2xx + wrk.socketErrors;
  if (errors > 0)
    problems.push(`${id} c=${c}: ${wrk.non2xx} non-2xx responses, ${wrk.socketErrors} socket errors`);
  return {
    server: id,
    runtime,
    connections: c,
    wrkThreads: wrkThreads(c),
    durationS: wrk.durationS,
    requests: wrk.requests,
    requestsPerS: wrk.requestsPerS,
    p50Ms: wrk.p50Ms,
    p90Ms: wrk.p90Ms,
    p99Ms: wrk.p99Ms,
    errors,
    serverCpuUsPerRequest: (serverCpuS * 1e6) / (after.requests - before.requests),
    serverCores: serverCpuS / wrk.durationS,
    wrkCores: wrk.wrkCpuS / wrk.durationS,
    otherCores: (busy - serverCpuS - wrk.wrkCpuS - (self.user + self.system) / 1e6) / wrk.durationS,
    otherCoresBefore,
    rssMiB: after.rssBytes / MIB,
    peakRssMiB: (await server.peakRssBytes()) / MIB,
    command: wrk.command
      .replace(WRK_SCRIPT, relative(REPO, WRK_SCRIPT))
      .replace(url, "https://127.0.0.1:<port>/mutate-v1-pod"),
  };
}

/**
 * Other work on a shared machine takes cores from a run. Samples it while nothing of ours runs (the
 * server idles) and waits up to --quiet-wait-s for it to drop below QUIET_CORES; returns the last sample.
 */
async function waitQuiet(what: string): Promise<number> {
  const quietBy = Date.now() + quietWaitS * 1000;
  let other = await otherCoresNow(1_000);
  while (other > QUIET_CORES && Date.now() < quietBy) other = await otherCoresNow(1_000);
  if (other > QUIET_CORES)
    log(`${what}: WARNING: other processes kept ${other.toFixed(2)} cores busy before the run`);
  return other;
}

/**
 * The server's view must match wrk's: every request it handled was a Pod CREATE it injected, none
 * failed, and it handled at least what wrk counted (wrk drops the replies still in flight at the end).
 */
function checkCounters(what: string, before: StatsEvent, after: StatsEvent, wrkRequests: number): void {
  const delta = (k: keyof Omit<StatsEvent, "event">) => after[k] - before[k];
  const requests = delta("requests");
  const notInjected = ["malformed", "errors", "skipped", "denied"] as const;
  for (const k of notInjected) {
    if (delta(k) > 0) problems.push(`${what}: the server counted ${delta(k)} ${k} requests`);
  }
  if (delta("injected") !== requests) {
    problems.push(`${what}: the server handled ${requests} requests but injected ${delta("injected")} pods`);
  }
  if (requests < wrkRequests)
    problems.push(`${what}: wrk counted ${wrkRequests} responses, the server only ${requests}`);
}

/** Cores other processes keep busy, sampled over `ms` while the driver waits. */
async function otherCoresNow(ms: number): Promise<number> {
  const busy = machineBusySeconds();
  const self = process.cpuUsage();
  await Bun.sleep(ms);
  const own = process.cpuUsage(self);
  return (machineBusySeconds() - busy - (own.user + own.system) / 1e6) / (ms / 1000);
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}
