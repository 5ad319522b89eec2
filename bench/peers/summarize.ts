/**
 * Folds several `run.ts --server both` results into one table: per engine count and metric, the
 * median of ours, of the peer and of the per-run ratio peer/ours, with the ratio's range. On a
 * machine shared with other sessions one run is noise; the medians of several are the result.
 *
 *   bun run bench/peers/summarize.ts bench/results/xds-peers-*.json
 *   bun run bench/peers/summarize.ts --markdown bench/published/suite-*.json   # one Markdown table per scenario
 */
import { readFileSync } from "node:fs";
import { xdsReports } from "../plots.ts";
import { type ComparisonRow, compareRuns } from "./compare.ts";

/** One metric at one engine count over several runs. */
export interface SummaryRow {
  readonly engines: number;
  readonly metric: string;
  readonly scenario?: string;
  readonly runs: number;
  readonly ours?: number;
  readonly peer?: number;
  readonly ratio?: { readonly median: number; readonly min: number; readonly max: number };
}

/** Medians over runs of every (engines, metric) pair, in the order the metrics first appear. */
export function summarize(runs: readonly (readonly ComparisonRow[])[]): SummaryRow[] {
  const groups = new Map<string, ComparisonRow[]>();
  for (const rows of runs) {
    for (const row of rows) {
      const key = `${row.engines}\0${row.metric}`;
      const group = groups.get(key) ?? [];
      group.push(row);
      groups.set(key, group);
    }
  }
  const out: SummaryRow[] = [];
  for (const group of [...groups.values()].sort((a, b) => a[0]!.engines - b[0]!.engines)) {
    const first = group[0]!;
    const ratios = defined(group.map((r) => r.ratio));
    out.push({
      engines: first.engines,
      metric: first.metric,
      scenario: first.scenario,
      runs: group.length,
      ours: median(defined(group.map((r) => r.ours))),
      peer: median(defined(group.map((r) => r.peer))),
      ratio:
        ratios.length > 0
          ? { median: median(ratios)!, min: Math.min(...ratios), max: Math.max(...ratios) }
          : undefined,
    });
  }
  return out;
}

function defined(values: readonly (number | undefined)[]): number[] {
  return values.filter((v): v is number => v !== undefined);
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function num(v: number | undefined): string {
  if (v === undefined) return "–";
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2);
}

/**
 * One Markdown table per scenario: a row per metric, and for each N the columns ours, peer and
 * peer/ours (above 1: ours is better). Medians over the runs given.
 */
export function markdownTables(rows: readonly SummaryRow[], peer: string): string {
  const engines = [...new Set(rows.map((r) => r.engines))].sort((a, b) => a - b);
  const scenarios = [...new Set(rows.map((r) => r.scenario ?? "other"))];
  const out: string[] = [];
  for (const scenario of scenarios) {
    const metrics = [
      ...new Set(rows.filter((r) => (r.scenario ?? "other") === scenario).map((r) => r.metric)),
    ];
    out.push(`**${scenario}**`, "");
    const header = ["metric", ...engines.flatMap((n) => [`N=${n} ours`, peer, "peer/ours"])];
    out.push(`| ${header.join(" | ")} |`, `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
    for (const metric of metrics) {
      const cells = [metric];
      for (const n of engines) {
        const r = rows.find((x) => x.engines === n && x.metric === metric);
        cells.push(num(r?.ours), num(r?.peer), r?.ratio ? r.ratio.median.toFixed(2) : "–");
      }
      out.push(`| ${cells.join(" | ")} |`);
    }
    out.push("");
  }
  return out.join("\n");
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const markdown = args.includes("--markdown");
  const files = args.filter((a) => a !== "--markdown");
  if (files.length === 0)
    throw new Error(
      "usage: bun run bench/peers/summarize.ts [--markdown] <xds-peers-*.json|suite-*.json>...",
    );
  const reports = files.map((f) => xdsReports(JSON.parse(readFileSync(f, "utf8")) as unknown));
  const both = reports.filter((r) => r.ours && r.peer);
  if (both.length === 0) throw new Error("none of the files holds runs of both servers");
  // Recomputed from the raw runs, so files written before a metric was added still count.
  const rows = summarize(both.map((r) => compareRuns(r.ours!, r.peer!)));
  const peer = "go-control-plane";
  if (markdown) {
    console.log(markdownTables(rows, peer));
    process.exit(0);
  }
  console.log(`${files.length} runs; medians over runs; ratio = ${peer} / ours (above 1: ours is better)\n`);
  const header = ["engines", "metric", "runs", "ours", peer, "ratio", "ratio range"];
  const cells = rows.map((r) => [
    String(r.engines),
    r.metric,
    String(r.runs),
    num(r.ours),
    num(r.peer),
    r.ratio ? r.ratio.median.toFixed(2) : "-",
    r.ratio ? `${r.ratio.min.toFixed(2)}-${r.ratio.max.toFixed(2)}` : "-",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c.map((v, i) => (i === 1 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ");
  console.log([line(header), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n"));
}
