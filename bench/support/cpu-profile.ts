/**
 * Summarises a V8/Bun `.cpuprofile` (from `bun --cpu-prof`) by sample counts, which unlike the
 * `--cpu-prof-md` self-times are not inflated when the process waits for a core: per function, the
 * share of samples in which it is on top of the stack (self) and anywhere on it (inclusive).
 *
 *   bun bench/support/cpu-profile.ts bench/results/profiles/xds-<date>/server-1000.cpuprofile [--top 30]
 *
 * @example
 *   const rows = profileSummary(JSON.parse(readFileSync(file, "utf8")));
 *   rows[0] // { name: "toBinary (node_modules/@bufbuild/protobuf/...)", self: 0.12, inclusive: 0.4 }
 */
import { readFileSync } from "node:fs";

/** The parts of the Chrome CPU profile format this reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
}

/** One function: where it is defined, and its shares of all samples (0..1). */
export interface ProfileRow {
  readonly name: string;
  readonly self: number;
  readonly inclusive: number;
}

/** Rows for every function seen, by inclusive share, largest first. Idle and GC-root frames included. */
export function profileSummary(profile: CpuProfile): ProfileRow[] {
  const parent = new Map<number, number>();
  const label = new Map<number, string>();
  for (const n of profile.nodes) {
    for (const c of n.children ?? []) parent.set(c, n.id);
    const url = n.callFrame.url.replace(/^.*\/(node_modules|src|bench|gen)\//, "$1/");
    label.set(
      n.id,
      `${n.callFrame.functionName || "(anonymous)"}${url ? ` (${url}:${n.callFrame.lineNumber + 1})` : ""}`,
    );
  }
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const id of profile.samples) {
    const top = label.get(id) ?? "?";
    self.set(top, (self.get(top) ?? 0) + 1);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = label.get(at) ?? "?";
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + 1);
    }
  }
  const total = Math.max(1, profile.samples.length);
  return [...inclusive]
    .map(([name, n]) => ({ name, self: (self.get(name) ?? 0) / total, inclusive: n / total }))
    .sort((a, b) => b.inclusive - a.inclusive);
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith("--"));
  const top = Number(args[args.indexOf("--top") + 1] ?? 30) || 30;
  if (!file) throw new Error("usage: bun bench/support/cpu-profile.ts <file.cpuprofile> [--top 30]");
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const rows = profileSummary(profile);
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`.padStart(6);
  console.log(`${profile.samples.length} samples\n\nby self share:\n  self  incl.  function`);
  for (const r of [...rows].sort((a, b) => b.self - a.self).slice(0, top))
    console.log(`${pct(r.self)} ${pct(r.inclusive)}  ${r.name}`);
  console.log(`\nby inclusive share:\n  self  incl.  function`);
  for (const r of rows.slice(0, top)) console.log(`${pct(r.self)} ${pct(r.inclusive)}  ${r.name}`);
}
