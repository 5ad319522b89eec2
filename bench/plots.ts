/**
 * SVG plots of xDS results against N, ours and go-control-plane: fan-out p99, cold start, server
 * CPU per change and memory per engine. Reads suite results (bench/suite.ts) or xds-peers results
 * (bench/xds/run.ts --server both); several files are merged by N (a later file wins for an N both
 * have), so a 10,000-engine run can join a 1,000/5,000 one.
 *
 *   bun run bench/plots.ts bench/published/suite-*.json [--out bench/plots]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import type { PeerComparisonReport } from "./peers/compare.ts";
import type { SuiteReport } from "./suite.ts";
import { lineChart, type Series } from "./svg-chart.ts";
import type { XdsBenchReport, XdsRunResult } from "./xds/report.ts";

const OURS = { name: "ours (Bun)", color: "#1f77b4" };
const PEER = { name: "go-control-plane v0.14", color: "#d62728", dashed: true };

/** One value per N for each server. */
interface Curve {
  readonly ours: Map<number, number>;
  readonly peer: Map<number, number>;
}

/** The xDS reports inside a suite or xds-peers result, or nothing. */
export function xdsReports(json: unknown): { ours?: XdsBenchReport; peer?: XdsBenchReport } {
  const kind = (json as { benchmark?: string } | null)?.benchmark;
  if (kind === "suite") {
    const xds = (json as SuiteReport).parts.find((p) => p.name === "xds")?.result;
    return xds ? xdsReports(xds) : {};
  }
  if (kind === "xds-peers") {
    const both = json as PeerComparisonReport;
    return { ours: both.ours, peer: both.peerReport };
  }
  if (kind === "xds") return { ours: json as XdsBenchReport };
  return {};
}

/** Charts as file name -> SVG, from the runs of `files` (already parsed). */
export function charts(inputs: readonly unknown[], subtitle: string): Map<string, string> {
  const metrics: Record<string, (r: XdsRunResult) => number | undefined> = {
    fanoutP99: (r) => median(r.changes.map((c) => c.latencyMs.p99 / 1000)),
    coldStart: (r) => (r.coldStartMs === undefined ? undefined : r.coldStartMs / 1000),
    cpuPerChange: (r) => median(r.changes.map((c) => c.serverCpuS)),
    rssPerEngine: (r) => r.server?.rssPerEngineKiB,
  };
  const curves = new Map<string, Curve>();
  for (const key of Object.keys(metrics)) curves.set(key, { ours: new Map(), peer: new Map() });
  for (const input of inputs) {
    const { ours, peer } = xdsReports(input);
    for (const [side, report] of [
      ["ours", ours],
      ["peer", peer],
    ] as const) {
      for (const run of report?.runs ?? []) {
        if (!run.ok) continue;
        for (const [key, value] of Object.entries(metrics)) {
          const v = value(run);
          if (v !== undefined) curves.get(key)![side].set(run.engines, v);
        }
      }
    }
  }
  const series = (c: Curve): Series[] => [
    { ...OURS, points: [...c.ours] },
    ...(c.peer.size > 0 ? [{ ...PEER, points: [...c.peer] }] : []),
  ];
  const out = new Map<string, string>();
  const add = (file: string, key: string, title: string, yLabel: string) => {
    const c = curves.get(key)!;
    if (c.ours.size + c.peer.size === 0) return;
    out.set(file, lineChart({ title, subtitle, xLabel: "connected engines (N)", yLabel, series: series(c) }));
  };
  add(
    "fanout-p99-vs-n.svg",
    "fanoutP99",
    "Fan-out: one shared-policy change, p99 until received",
    "seconds (p99 over engines)",
  );
  add("cold-start-vs-n.svg", "coldStart", "Cold start: all N connect until all ACKed", "seconds");
  add("cpu-per-change-vs-n.svg", "cpuPerChange", "Server CPU per shared-policy change", "CPU seconds");
  add(
    "memory-per-engine-vs-n.svg",
    "rssPerEngine",
    "Server memory per connected engine (RSS after full GC)",
    "KiB per engine",
  );
  return out;
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { out: { type: "string", default: join(import.meta.dir, "plots") } },
  });
  if (positionals.length === 0)
    throw new Error("usage: bun run bench/plots.ts <suite-*.json|xds-peers-*.json>... [--out dir]");
  const inputs = positionals.map((f) => JSON.parse(readFileSync(f, "utf8")) as unknown);
  const first = xdsReports(inputs[0]).ours;
  const m = first?.machine;
  const subtitle = m
    ? `${m.cpus} vCPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Bun ${m.bun}; shared machine (load: see bench/README.md); ${first.date.slice(0, 10)}`
    : "";
  const out = charts(inputs, subtitle);
  if (out.size === 0) throw new Error("no successful xDS runs in the given files");
  mkdirSync(values.out, { recursive: true });
  for (const [file, svg] of out) {
    writeFileSync(join(values.out, file), svg);
    console.log(relative(process.cwd(), join(values.out, file)));
  }
}
