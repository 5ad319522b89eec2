/** Renders a webhook benchmark run as Markdown, ready to paste into bench/README.md. */
import type { MachineInfo } from "./machine.ts";

/** One measured wrk run against one server. */
export interface WebhookRow {
  /** `bun-http2`, `bun-serve` or `node-http2`. */
  readonly server: string;
  readonly runtime: string;
  readonly connections: number;
  readonly wrkThreads: number;
  readonly durationS: number;
  readonly requests: number;
  readonly requestsPerS: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  /** wrk's non-2xx responses plus socket errors (connect, read, write, timeout). */
  readonly errors: number;
  /** Server CPU (user + system, all threads) per request, microseconds. */
  readonly serverCpuUsPerRequest: number;
  /** Average cores busy over the run: the server, wrk, and everything else on the machine. */
  readonly serverCores: number;
  readonly wrkCores: number;
  readonly otherCores: number;
  /** Cores other processes kept busy just before the run, with the server idle. */
  readonly otherCoresBefore: number;
  /** The server's RSS right after the run, and its peak since it started (VmHWM). */
  readonly rssMiB: number;
  readonly peakRssMiB: number;
  readonly command: string;
}

/** The results table: one line per server and connection count. */
export function resultsTable(rows: readonly WebhookRow[]): string {
  const head =
    "| server | runtime | conns | req/s | p50 ms | p99 ms | errors | server CPU/req µs | cores: server / wrk / other | RSS after MiB (peak) |";
  const rule = "|---|---|---:|---:|---:|---:|---:|---:|---|---:|";
  const lines = rows.map(
    (r) =>
      `| ${r.server} | ${r.runtime} | ${r.connections} | ${fixed(r.requestsPerS, 0)} | ${fixed(r.p50Ms, 2)} | ${fixed(r.p99Ms, 2)} | ${r.errors} | ${fixed(r.serverCpuUsPerRequest, 0)} | ${fixed(r.serverCores, 2)} / ${fixed(r.wrkCores, 2)} / ${fixed(r.otherCores, 2)} | ${fixed(r.rssMiB, 0)} (${fixed(r.peakRssMiB, 0)}) |`,
  );
  return [head, rule, ...lines].join("\n");
}

/** One line naming the machine. */
export function machineLine(m: MachineInfo): string {
  return `${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Linux ${m.kernel}, Bun ${m.bun}, Node ${m.node}, ${m.wrk}`;
}

function fixed(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "n/a";
}
