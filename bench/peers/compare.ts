/**
 * Ours against a peer control plane: the same xDS benchmark run against both servers, reduced to
 * one row per metric with the ratio peer/ours. Every metric here is a time, a CPU cost or a memory
 * size, so lower is better and a ratio above 1 means ours is better.
 */
import type { XdsBenchReport, XdsRunResult } from "../xds/report.ts";

/** The servers run.ts can measure: ours (bench/xds/server.ts) and the peers in bench/peers/. */
export type ServerKind = "ours" | "go-control-plane";

/** Parses `--server ours|go-control-plane|both`; `both` runs ours first, then the peer. */
export function parseServers(value: string): ServerKind[] {
  switch (value) {
    case "ours":
      return ["ours"];
    case "go-control-plane":
      return ["go-control-plane"];
    case "both":
      return ["ours", "go-control-plane"];
    default:
      throw new Error(`--server ${value}: expected ours, go-control-plane or both`);
  }
}

/** One metric at one engine count, for both servers. */
export interface ComparisonRow {
  readonly engines: number;
  readonly metric: string;
  readonly scenario?: string;
  readonly ours?: number;
  readonly peer?: number;
  /** peer / ours; absent for counts (errors, load) and when either side has no value. */
  readonly ratio?: number;
}

/** The JSON written by `run.ts --server both`. */
export interface PeerComparisonReport {
  readonly benchmark: "xds-peers";
  readonly peer: ServerKind;
  readonly ours: XdsBenchReport;
  readonly peerReport: XdsBenchReport;
  readonly comparison: ComparisonRow[];
}

type Metric = {
  readonly name: string;
  /** The scenario the metric belongs to (bench/README.md has one table per scenario). */
  readonly scenario: string;
  readonly value: (r: XdsRunResult) => number | undefined;
  /** False for counts whose ratio means nothing (errors, other processes' load). */
  readonly ratio: boolean;
};

/** Per-change values are the median over the run's changes (the first one includes any warm-up). */
const METRICS: readonly Metric[] = [
  {
    name: "other cores (load from other sessions)",
    scenario: "machine",
    value: (r) => r.otherCores,
    ratio: false,
  },
  { name: "cold start s", scenario: "cold start", value: (r) => seconds(r.coldStartMs), ratio: true },
  {
    name: "cold start srv CPU s",
    scenario: "cold start",
    value: (r) => r.server?.cpuColdStartS,
    ratio: true,
  },
  {
    name: "change p50 ms",
    scenario: "fan-out",
    value: (r) => medianOf(r, (c) => c.latencyMs.p50),
    ratio: true,
  },
  {
    name: "change p99 ms",
    scenario: "fan-out",
    value: (r) => medianOf(r, (c) => c.latencyMs.p99),
    ratio: true,
  },
  {
    name: "change max ms",
    scenario: "fan-out",
    value: (r) => medianOf(r, (c) => c.latencyMs.max),
    ratio: true,
  },
  {
    name: "change all ACKed ms",
    scenario: "fan-out",
    value: (r) => medianOf(r, (c) => c.serverAckedMs),
    ratio: true,
  },
  {
    name: "srv CPU per change s",
    scenario: "fan-out",
    value: (r) => medianOf(r, (c) => c.serverCpuS),
    ratio: true,
  },
  {
    name: "RSS before engines MiB",
    scenario: "cold start",
    value: (r) => r.server?.rssBeforeClientsMiB,
    ratio: true,
  },
  // Steadier than the per-engine figure, which subtracts two RSS readings the allocator blurs.
  { name: "RSS connected MiB", scenario: "cold start", value: (r) => r.server?.rssConnectedMiB, ratio: true },
  { name: "RSS KiB/engine", scenario: "cold start", value: (r) => r.server?.rssPerEngineKiB, ratio: true },
  { name: "heap KiB/engine", scenario: "cold start", value: (r) => r.server?.heapPerEngineKiB, ratio: true },
  {
    name: "cold start peak RSS MiB",
    scenario: "cold start",
    value: (r) => r.peakRssColdStartMiB,
    ratio: true,
  },
  { name: "fan-out peak RSS MiB", scenario: "fan-out", value: (r) => r.peakRssChangesMiB, ratio: true },
  {
    name: "generator CPU at cold start s",
    scenario: "cold start",
    value: (r) => r.clients?.cpuColdStartS,
    ratio: false,
  },
  {
    name: "generator CPU per change s",
    scenario: "fan-out",
    value: (r) => medianOf(r, (c) => c.clientsCpuS),
    ratio: false,
  },
  {
    name: "single-pod latency ms",
    scenario: "single-pod change",
    value: (r) => median((r.singlePod ?? []).map((c) => c.latencyMs)),
    ratio: true,
  },
  {
    name: "single-pod srv CPU ms",
    scenario: "single-pod change",
    value: (r) => median((r.singlePod ?? []).map((c) => c.serverCpuS * 1000)),
    ratio: true,
  },
  {
    name: "single-pod srv CPU in the quiet 250 ms after, ms",
    scenario: "single-pod change",
    value: (r) => {
      const quiet = (r.singlePod ?? []).map((c) => c.serverCpuQuietS);
      return quiet.every((q) => q !== undefined) && quiet.length > 0
        ? median(quiet.map((q) => q! * 1000))
        : undefined;
    },
    ratio: false,
  },
  {
    name: "single-pod bytes to others",
    scenario: "single-pod change",
    value: (r) => (r.singlePod ? r.singlePod.reduce((a, c) => a + c.bytesToOthers, 0) : undefined),
    ratio: false,
  },
  {
    name: "restart to listening s",
    scenario: "reconnect storm",
    value: (r) => seconds(r.reconnect?.restartMs),
    ratio: true,
  },
  {
    name: "reconnect to steady s",
    scenario: "reconnect storm",
    value: (r) => seconds(r.reconnect?.steadyMs),
    ratio: true,
  },
  {
    name: "reconnect srv CPU s",
    scenario: "reconnect storm",
    value: (r) => r.reconnect?.serverCpuS,
    ratio: true,
  },
  {
    name: "reconnect bytes re-sent",
    scenario: "reconnect storm",
    value: (r) => r.reconnect?.bytesResent,
    ratio: false,
  },
  {
    name: "reconnect peak RSS MiB",
    scenario: "reconnect storm",
    value: (r) => r.reconnect?.peakRssMiB,
    ratio: true,
  },
  {
    name: "SotW cold start s",
    scenario: "delta vs state of the world",
    value: (r) => seconds(r.sotw?.coldStartMs),
    ratio: true,
  },
  {
    name: "SotW change p99 ms",
    scenario: "delta vs state of the world",
    value: (r) => medianOfSotw(r, (c) => c.latencyMs.p99),
    ratio: true,
  },
  {
    name: "SotW srv CPU per change s",
    scenario: "delta vs state of the world",
    value: (r) => medianOfSotw(r, (c) => c.serverCpuS),
    ratio: true,
  },
  {
    name: "SotW MiB per change",
    scenario: "delta vs state of the world",
    value: (r) => medianOfSotw(r, (c) => c.bytesReceived / 2 ** 20),
    ratio: true,
  },
  {
    name: "delta MiB per change",
    scenario: "fan-out",
    value: (r) => medianOf(r, (c) => c.bytesReceived / 2 ** 20),
    ratio: true,
  },
  { name: "protocol errors", scenario: "errors", value: errorCount, ratio: false },
];

/** The comparison rows for every engine count both reports measured. */
export function compareRuns(ours: XdsBenchReport, peer: XdsBenchReport): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  for (const o of ours.runs) {
    const p = peer.runs.find((r) => r.engines === o.engines);
    if (!p) continue;
    for (const m of METRICS) {
      const a = m.value(o);
      const b = m.value(p);
      const ratio = m.ratio && a !== undefined && b !== undefined && a > 0 ? b / a : undefined;
      rows.push({ engines: o.engines, metric: m.name, scenario: m.scenario, ours: a, peer: b, ratio });
    }
  }
  return rows;
}

/** The comparison as a table per engine count. */
export function formatComparison(rows: readonly ComparisonRow[], peerName: string): string {
  const lines = [
    `Ours vs ${peerName} (same engines, same resources; per-change values are medians over the changes).`,
    `peer/ours = ${peerName} / ours: above 1 means ours is better (lower time, CPU or memory).`,
  ];
  for (const engines of [...new Set(rows.map((r) => r.engines))]) {
    const block = rows.filter((r) => r.engines === engines);
    lines.push("", `${engines} engines:`);
    const header = ["metric", "ours", peerName, "peer/ours"];
    const cells = block.map((r) => [
      r.metric,
      num(r.ours),
      num(r.peer),
      r.ratio === undefined ? "-" : r.ratio.toFixed(2),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
    const line = (c: string[]) =>
      c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ");
    lines.push(line(header), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line));
  }
  return lines.join("\n");
}

function medianOf(
  r: XdsRunResult,
  value: (c: XdsRunResult["changes"][number]) => number,
): number | undefined {
  if (r.changes.length === 0) return undefined;
  const sorted = r.changes.map(value).sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function medianOfSotw(
  r: XdsRunResult,
  value: (c: XdsRunResult["changes"][number]) => number,
): number | undefined {
  return r.sotw ? median(r.sotw.changes.map(value)) : undefined;
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function errorCount(r: XdsRunResult): number | undefined {
  const total = (e: XdsRunResult["errors"]) =>
    e ? e.connect + e.stream + e.nacksSent + e.nacksReceived + e.protocolErrors : 0;
  return r.errors ? total(r.errors) + total(r.sotw?.errors) : undefined;
}

function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

function num(v: number | undefined): string {
  if (v === undefined) return "-";
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2);
}
