/**
 * Facts about the machine a result was measured on, and how busy other processes kept it: on a
 * machine shared with other work, that decides whether a run's numbers can be trusted.
 */
import { readFileSync } from "node:fs";
import { availableParallelism, release, totalmem } from "node:os";

/** What a result was measured on. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly bun: string;
  readonly node: string;
  readonly wrk: string;
}

/** Describes this machine (Linux: reads /proc); `node` and `wrk` are asked for their versions. */
export function machineInfo(): MachineInfo {
  const model = readFileSync("/proc/cpuinfo", "utf8")
    .split("\n")
    .find((l) => l.startsWith("model name"));
  return {
    cpus: availableParallelism(),
    cpuModel: model?.split(":")[1]?.trim() ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    bun: Bun.version,
    node: commandOutput(["node", "--version"]),
    // wrk has no --version flag; its usage text starts with the version.
    wrk: commandOutput(["wrk", "--version"]).split("\n")[0] ?? "unknown",
  };
}

/**
 * CPU seconds all processes of the machine have spent busy since boot (/proc/stat: user, nice,
 * system, irq, softirq, steal). The difference over a run, minus the benchmark's own processes,
 * is what other work took from it.
 */
export function machineBusySeconds(): number {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "")
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  // /proc/stat counts in USER_HZ, which is 100 on every mainstream Linux build.
  return (user + nice + system + irq + softirq + steal) / 100;
}

function commandOutput(argv: string[]): string {
  const out = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  return `${out.stdout.toString()}${out.stderr.toString()}`.trim() || "unknown";
}
