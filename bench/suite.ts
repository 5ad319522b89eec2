/**
 * The whole benchmark suite in one command: the xDS scenarios for our server and go-control-plane
 * (bench/xds), the controller's translation and encoding cost (bench/controller), the webhook over
 * TLS with wrk (bench/webhook) and the webhook handler's own CPU (bench/webhook/handler-cost.ts).
 * Each part runs in its own process, one after the other, and writes its own JSON; this driver
 * collects them into one file, bench/results/suite-<date>.json, with the machine and the commit.
 *
 *   bun run bench                            # N = 1000,5000, both servers (~6 min on this 2-core machine)
 *   bun run bench -- --n 1000,5000,10000 --timeout-s 600
 *   bun run bench -- --smoke                 # small N, short runs, for CI: exit 1 on any error, no timing assertions
 *   bun run bench -- --only xds,controller   # a subset (xds, controller, webhook, handler-cost)
 *   bun run bench/plots.ts bench/results/suite-<date>.json   # SVG plots from the result
 *
 * A part whose tool is missing (go for the peer, wrk or node for the webhook) is skipped and says
 * so in the JSON and on stderr; a part that fails makes the suite exit 1.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { readLines } from "./support/child-process.ts";
import { busyCoresNow, type MachineInfo, machineInfo } from "./support/machine.ts";
import { type SourceState, sourceState } from "./support/source-state.ts";

const ROOT = join(import.meta.dir, "..");
const PARTS = ["xds", "controller", "webhook", "handler-cost"] as const;
type PartName = (typeof PARTS)[number];

/** What one part of the suite did. */
export interface PartResult {
  readonly name: PartName;
  readonly status: "ok" | "failed" | "skipped";
  /** Why it was skipped or how it failed. */
  readonly reason?: string;
  readonly command?: string;
  readonly durationS?: number;
  /** The part's own JSON (its results file, or for handler-cost its JSON lines). */
  readonly result?: unknown;
}

/** bench/results/suite-<date>.json */
export interface SuiteReport {
  readonly benchmark: "suite";
  readonly date: string;
  readonly command: string;
  readonly smoke: boolean;
  readonly machine: MachineInfo;
  readonly source: SourceState;
  /** Cores other processes kept busy just before the suite started (sampled over 2 s). */
  readonly otherCoresAtStart: number;
  readonly parts: PartResult[];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      smoke: { type: "boolean", default: false },
      n: { type: "string", default: "1000,5000" },
      server: { type: "string", default: "both" },
      "timeout-s": { type: "string", default: "600" },
      "client-procs": { type: "string", default: "1" },
      only: { type: "string", default: PARTS.join(",") },
      out: { type: "string" },
    },
  });
  const only = new Set(values.only.split(",").map((p) => p.trim()));
  for (const p of only) {
    if (!(PARTS as readonly string[]).includes(p))
      throw new Error(`--only: unknown part "${p}"; known: ${PARTS.join(", ")}`);
  }
  const smoke = values.smoke;
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(":", "-");
  const out = values.out ?? join(ROOT, "bench", "results", `suite-${smoke ? "smoke-" : ""}${stamp}.json`);
  const report: SuiteReport = {
    benchmark: "suite",
    date: new Date().toISOString(),
    command: `bun run bench ${process.argv.slice(2).join(" ")}`.trim(),
    smoke,
    machine: machineInfo(),
    source: sourceState(ROOT),
    otherCoresAtStart: await busyCoresNow(2000),
    parts: [],
  };
  if (report.source.uncommittedSrc.length > 0) {
    log(
      `suite: measuring the working tree; uncommitted under src/: ${report.source.uncommittedSrc.join(", ")}`,
    );
  }

  const tmp = join(ROOT, "bench", "results", `.suite-${stamp}`);
  mkdirSync(tmp, { recursive: true });
  try {
    for (const name of PARTS) {
      if (!only.has(name)) continue;
      const part = await runPart(name, { smoke, tmp, values });
      report.parts.push(part);
      log(`suite: ${name}: ${part.status}${part.reason ? ` (${part.reason})` : ""}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nsuite: ${report.parts.map((p) => `${p.name} ${p.status}`).join(", ")}`);
  console.log(`results: ${relative(process.cwd(), out)}`);
  return report.parts.some((p) => p.status === "failed") ? 1 : 0;
}

interface PartContext {
  readonly smoke: boolean;
  readonly tmp: string;
  readonly values: { n: string; server: string; "timeout-s": string; "client-procs": string };
}

async function runPart(name: PartName, ctx: PartContext): Promise<PartResult> {
  const { smoke, tmp, values } = ctx;
  switch (name) {
    case "xds": {
      let server = values.server;
      let reason: string | undefined;
      if (server !== "ours" && !Bun.which("go")) {
        server = "ours";
        reason = "go is not on PATH: the go-control-plane peer was skipped";
        log(`suite: xds: ${reason}`);
      }
      const file = join(tmp, "xds.json");
      const sizes = smoke ? ["--smoke"] : ["--n", values.n, "--timeout-s", values["timeout-s"]];
      const argv = ["bun", "bench/xds/run.ts", ...sizes, "--server", server];
      argv.push("--client-procs", values["client-procs"], "--out", file);
      const part = await runCommand(name, argv, () => readJson(file));
      return reason && part.status === "ok" ? { ...part, reason } : part;
    }
    case "controller":
      // The controller benchmark prints the path of its JSON as its last line.
      return runCommand(name, ["bun", "bench/controller/run.ts", ...(smoke ? ["--smoke"] : [])], (stdout) =>
        readJson(resultsPath(stdout)),
      );
    case "webhook": {
      const missing = ["wrk", "node"].filter((t) => !Bun.which(t));
      if (missing.length > 0) {
        return {
          name,
          status: "skipped",
          reason: `${missing.join(" and ")} not on PATH (apt-get install wrk; Node 20)`,
        };
      }
      return runCommand(name, ["bun", "bench/webhook/run.ts", ...(smoke ? ["--smoke"] : [])], (stdout) =>
        readJson(resultsPath(stdout)),
      );
    }
    case "handler-cost":
      return runCommand(name, ["bun", "bench/webhook/handler-cost.ts"], (stdout) =>
        stdout
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l) as unknown),
      );
  }
}

/** Runs one part, echoing its output, and reads its result with `collect` if it succeeded. */
async function runCommand(
  name: PartName,
  argv: string[],
  collect: (stdout: string) => unknown,
): Promise<PartResult> {
  const command = argv.join(" ");
  log(`suite: ${name}: ${command}`);
  const started = performance.now();
  const proc = Bun.spawn(argv, { cwd: ROOT, stdout: "pipe", stderr: "inherit", stdin: "ignore" });
  const lines: string[] = [];
  await readLines(proc.stdout, (line) => {
    lines.push(line);
    console.log(line);
  });
  const code = await proc.exited;
  const durationS = Math.round((performance.now() - started) / 100) / 10;
  const stdout = lines.join("\n");
  let result: unknown;
  try {
    result = collect(stdout);
  } catch (e) {
    if (code === 0) return { name, status: "failed", reason: `no result: ${String(e)}`, command, durationS };
  }
  if (code !== 0) return { name, status: "failed", reason: `exit ${code}`, command, durationS, result };
  return { name, status: "ok", command, durationS, result };
}

/** The file named by a benchmark's `results: <path>` line. */
function resultsPath(stdout: string): string {
  const line = stdout
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("results: "));
  if (!line) throw new Error("the benchmark printed no `results: <file>` line");
  const path = line.slice("results: ".length).trim();
  return path.startsWith("/") ? path : join(ROOT, path);
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, "utf8"));
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

if (import.meta.main) process.exit(await main());
