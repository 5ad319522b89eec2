/**
 * Where attacks are looked for, measured: requests/s and latency of a real Envoy in front of a tiny
 * Bun upstream, with
 *   bare      no filter (the ceiling),
 *   rbac      the RBAC deny rules the inspector replaced (Standard level; path and query only),
 *   protocol  the ext_proc filter and inspector with a stand-in engine (string compare): the cost
 *             of asking another process at all,
 *   extproc   the ext_proc filter and the real inspector (Standard deny rules, default limits and
 *             parsers; the JSON body is buffered and parsed),
 *   extproc-connect  the same, served by connect-node instead of the handwritten gRPC handler.
 * Two requests: a GET with three query parameters, and a POST of a 10 KB JSON document.
 * The upstream and the inspector run in their own processes (as in a pod); Envoy runs one worker.
 * Also reports the CPU Envoy and the inspector spend per request (from /proc), which depends less on
 * what else runs on the machine than throughput does.
 *
 *   bun run bench/waf/mechanism.ts [--duration 10] [--connections 16] [--smoke]
 *
 * Prints one JSON line per run, then a Markdown table; writes bench/results/waf-mechanism.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startTestEnvoy, type TestEnvoy } from "../../src/extproc/testing/envoy.ts";
import { fakePolicyWire } from "../../src/extproc/testing/fake-engine.ts";
import { encodePolicy, routePolicy } from "../../src/inspect/policy.ts";
import { BenchChild } from "../support/child-process.ts";
import { machineInfo } from "../support/machine.ts";
import { parseWrkOutput, type WrkResult } from "../webhook/wrk-output.ts";
import { type Mechanism, mechanismBootstrap } from "./envoy-configs.ts";

type Variant = "bare" | "rbac" | "protocol" | "extproc" | "extproc-connect";
type Scenario = "get-3-params" | "post-json-10k";

interface Row extends WrkResult {
  readonly variant: Variant;
  readonly scenario: Scenario;
  readonly round: number;
  /** CPU (user + system) per request, microseconds. */
  readonly envoyCpuUs: number;
  readonly inspectorCpuUs?: number;
  /** Envoy's counters of what went wrong, when requests failed (cumulative for the Envoy process). */
  readonly failures?: Record<string, number>;
}

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "16" },
    rounds: { type: "string", default: "2" },
    smoke: { type: "boolean", default: false },
  },
});
const durationS = values.smoke ? 2 : Number(values.duration);
const connections = Number(values.connections);
const rounds = values.smoke ? 1 : Number(values.rounds);
const here = fileURLToPath(new URL(".", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "mgw-bench-waf-"));
const bodyFile = join(work, "order.json");
writeFileSync(bodyFile, orderJson(10 * 1024));

const GET_TARGET = "/search?q=running+shoes&page=2&sort=price_asc";
const SQLI_TARGET = "/search?q=1%27%20OR%201%3D1--";

const upstream = BenchChild.spawn<never, { event: "ready"; port: number }>({
  name: "upstream",
  argv: ["bun", join(here, "upstream.ts")],
});
const rows: Row[] = [];
try {
  const { port: upstreamPort } = await upstream.next("ready", Date.now() + 15_000);
  const order: Variant[] = values.smoke
    ? ["bare", "extproc"]
    : ["bare", "rbac", "protocol", "extproc", "extproc-connect"];
  for (let round = 1; round <= rounds; round++) {
    for (const variant of order) rows.push(...(await measure(variant, upstreamPort, round)));
  }
} finally {
  await upstream.stop(2000);
  rmSync(work, { recursive: true, force: true });
}

const machine = machineInfo();
mkdirSync(join(here, "../results"), { recursive: true });
writeFileSync(join(here, "../results/waf-mechanism.json"), JSON.stringify({ machine, rows }, null, 2));
console.log(report(rows));

async function measure(variant: Variant, upstreamPort: number, round: number): Promise<Row[]> {
  const socketPath = join(work, "inspector.sock");
  const mechanism: Mechanism = variant === "bare" || variant === "rbac" ? variant : "extproc";
  let inspector: BenchChild<never, { event: "ready" }> | undefined;
  let envoy: TestEnvoy | undefined;
  try {
    if (mechanism === "extproc") {
      inspector = BenchChild.spawn({
        name: `inspector-${variant}`,
        argv: [
          "bun",
          join(here, "inspector.ts"),
          socketPath,
          ...(variant === "protocol" ? ["--fake"] : []),
          ...(variant === "extproc-connect" ? ["--connect"] : []),
        ],
      });
      await inspector.next("ready", Date.now() + 30_000);
    }
    const policy =
      variant === "protocol"
        ? fakePolicyWire({ word: "attack", body: true })
        : encodePolicy(
            routePolicy({
              denyRules: {
                request: { builtIn: { settings: { level: "Standard", threatHandlingMode: "Block" } } },
              },
            }),
          );
    envoy = await startTestEnvoy(
      mechanismBootstrap(
        mechanism,
        upstreamPort,
        mechanism === "extproc" ? { socketPath, policy } : undefined,
      ),
    );
    // The variant must do what it claims before it is timed.
    const benign = await fetch(envoy.url + GET_TARGET);
    if (benign.status !== 200) throw new Error(`${variant}: benign GET answered ${benign.status}`);
    const attack = await fetch(envoy.url + (variant === "protocol" ? "/search?q=attack" : SQLI_TARGET));
    // RBAC denies with 403 (the translation used to map it to 400 in the listener's local replies).
    const expected = variant === "bare" ? 200 : variant === "rbac" ? 403 : 400;
    if (attack.status !== expected) throw new Error(`${variant}: SQL injection answered ${attack.status}`);
    await wrk(envoy.url + GET_TARGET, 1, false);
    await wrk(`${envoy.url}/api/orders`, 1, true);
    const out: Row[] = [];
    for (const scenario of ["get-3-params", "post-json-10k"] as const) {
      const before = [cpuSeconds(envoy.pid), inspector ? cpuSeconds(inspector.pid) : 0];
      const result =
        scenario === "get-3-params"
          ? await wrk(envoy.url + GET_TARGET, durationS, false)
          : await wrk(`${envoy.url}/api/orders`, durationS, true);
      const after = [cpuSeconds(envoy.pid), inspector ? cpuSeconds(inspector.pid) : 0];
      // Failed requests are reported, not hidden: under saturation the inspector's answers can
      // miss Envoy's message timeout (504) or its stream fail (500).
      const failures = result.non2xx > 0 ? await extProcFailures(envoy.adminUrl) : {};
      const perRequest = (i: number) =>
        Math.round(((after[i]! - before[i]!) / result.requests) * 1e6 * 10) / 10;
      const row: Row = {
        variant,
        scenario,
        round,
        ...result,
        envoyCpuUs: perRequest(0),
        ...(inspector ? { inspectorCpuUs: perRequest(1) } : {}),
        ...(result.non2xx > 0 ? { failures } : {}),
      };
      console.log(JSON.stringify(row));
      out.push(row);
    }
    return out;
  } finally {
    await envoy?.stop();
    await inspector?.stop(2000);
  }
}

async function wrk(url: string, seconds: number, post: boolean): Promise<WrkResult> {
  const argv = [
    "wrk",
    "-t1",
    `-c${connections}`,
    `-d${seconds}s`,
    "--latency",
    "--timeout",
    "5s",
    ...(post ? ["-s", join(here, "post-body.lua")] : []),
    url,
  ];
  const proc = Bun.spawn(argv, {
    env: { ...process.env, BODY_FILE: bodyFile },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${stderr}${stdout}`);
  return parseWrkOutput(stdout);
}

/** Envoy's 5xx and ext_proc failure counters that are not 0. */
async function extProcFailures(adminUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${adminUrl}/stats?filter=(ext_proc|downstream_rq_5xx|rq_timeout)`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^(\S+): (\d+)$/.exec(line.trim());
    if (m && m[2] !== "0") out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** User plus system CPU of a process so far, seconds (Linux /proc, 100 ticks per second). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A benign order document of about `bytes` bytes: nested objects, arrays, strings and numbers. */
function orderJson(bytes: number): string {
  const items: unknown[] = [];
  const doc = { customer: { name: "Ada Lovelace", email: "ada@example.com" }, currency: "CHF", items };
  for (let i = 0; JSON.stringify(doc).length < bytes - 120; i++) {
    items.push({
      sku: `SKU-${1000 + i}`,
      name: `Trail running shoe model ${i}`,
      quantity: (i % 3) + 1,
      price: 89.5,
    });
  }
  return JSON.stringify(doc);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : Math.round(((s[mid - 1]! + s[mid]!) / 2) * 10) / 10;
}

function report(all: readonly Row[]): string {
  const lines = [
    `${machine.cpus} CPUs (${machine.cpuModel}), Bun ${machine.bun}; wrk -t1 -c${connections} -d${durationS}s, Envoy --concurrency 1; median of ${rounds} round(s)`,
    "",
    "| request | mechanism | requests/s | vs bare | p50 ms | p99 ms | p99 added ms | Envoy CPU µs/req | inspector CPU µs/req | failed |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const scenario of ["get-3-params", "post-json-10k"] as const) {
    const of = (v: Variant) => all.filter((r) => r.scenario === scenario && r.variant === v);
    const bare = of("bare");
    const bareRps = median(bare.map((r) => r.requestsPerS));
    const bareP99 = median(bare.map((r) => r.p99Ms));
    for (const variant of ["bare", "rbac", "protocol", "extproc", "extproc-connect"] as const) {
      const rs = of(variant);
      if (rs.length === 0) continue;
      const rps = median(rs.map((r) => r.requestsPerS));
      const p99 = median(rs.map((r) => r.p99Ms));
      const inspectorCpu = rs.map((r) => r.inspectorCpuUs).filter((x): x is number => x !== undefined);
      lines.push(
        `| ${scenario} | ${variant} | ${Math.round(rps)} | ${Math.round((rps / bareRps) * 100)}% | ${median(rs.map((r) => r.p50Ms)).toFixed(2)} | ${p99.toFixed(2)} | ${(p99 - bareP99).toFixed(2)} | ${median(rs.map((r) => r.envoyCpuUs))} | ${inspectorCpu.length ? median(inspectorCpu) : "-"} | ${rs.reduce((n, r) => n + r.non2xx + r.socketErrors, 0)} |`,
      );
    }
  }
  return lines.join("\n");
}
