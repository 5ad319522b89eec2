/**
 * Runs wrk against a server with post-review.lua and returns its parsed result and its own CPU, so
 * the report can say how much of the 2 shared cores the load generator took.
 */
import { fileURLToPath } from "node:url";
import { parseWrkOutput, type WrkResult } from "./wrk-output.ts";

/** The Lua script every run uses. */
export const WRK_SCRIPT = fileURLToPath(new URL("./post-review.lua", import.meta.url));

/** One wrk invocation. */
export interface WrkRun {
  readonly url: string;
  readonly connections: number;
  readonly threads: number;
  readonly durationS: number;
  /** The AdmissionReview file the script posts. */
  readonly reviewFile: string;
  /** Check every response in Lua (warm-up only: it costs client CPU). */
  readonly verify: boolean;
}

/** wrk's result plus the command and the CPU wrk used. */
export interface WrkOutcome extends WrkResult {
  readonly command: string;
  /** User plus system CPU of wrk, seconds. */
  readonly wrkCpuS: number;
}

/** wrk's own per-request timeout; a request this slow counts as a socket error. */
const REQUEST_TIMEOUT_S = 5;

/** The command line of `run`, as printed in reports (the environment first). */
export function wrkCommand(run: WrkRun): string[] {
  return [
    "wrk",
    `-t${run.threads}`,
    `-c${run.connections}`,
    `-d${run.durationS}s`,
    "--latency",
    "--timeout",
    `${REQUEST_TIMEOUT_S}s`,
    "-s",
    WRK_SCRIPT,
    run.url,
  ];
}

/** Runs wrk; kills it (by its pid) if it has not finished well after its duration. */
export async function runWrk(run: WrkRun): Promise<WrkOutcome> {
  const argv = wrkCommand(run);
  const env = { ...process.env, REVIEW_FILE: run.reviewFile, VERIFY: run.verify ? "1" : "0" };
  const proc = Bun.spawn(argv, { env, stdout: "pipe", stderr: "pipe" });
  const killer = setTimeout(() => proc.kill("SIGKILL"), (run.durationS + REQUEST_TIMEOUT_S + 10) * 1000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(killer);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${stderr}${stdout}`);
  const usage = proc.resourceUsage();
  const wrkCpuS = usage ? Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6 : Number.NaN;
  const env0 = `REVIEW_FILE=<review.json>${run.verify ? " VERIFY=1" : ""}`;
  return { ...parseWrkOutput(stdout), command: `${env0} ${argv.join(" ")}`, wrkCpuS };
}
