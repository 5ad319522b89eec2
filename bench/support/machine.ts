import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, release, totalmem } from "node:os";

/** What a result was measured on; printed in reports so numbers are never read without their machine. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly bun: string;
  readonly openFiles: OpenFileLimit;
}

/** RLIMIT_NOFILE of this process: soft (what applies) and hard (what the soft limit may be raised to). */
export interface OpenFileLimit {
  readonly soft: number;
  readonly hard: number;
}

/** Describes the machine this process runs on (Linux: reads /proc). */
export function machineInfo(): MachineInfo {
  return {
    cpus: availableParallelism(),
    cpuModel: cpuModel(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    bun: Bun.version,
    openFiles: openFileLimit(),
  };
}

/**
 * Reads the open-file limit from /proc/self/limits. Node and Bun expose no getrlimit, and the
 * limit is what decides how many connections one benchmark process can hold.
 */
export function openFileLimit(): OpenFileLimit {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const [soft, hard] = (line?.match(/\d+|unlimited/g) ?? []).map((v) =>
    v === "unlimited" ? Number.POSITIVE_INFINITY : Number(v),
  );
  if (soft === undefined || hard === undefined)
    throw new Error("cannot read Max open files from /proc/self/limits");
  return { soft, hard };
}

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"));
    return line?.split(":")[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * CPU seconds all processes of the machine have spent busy since boot (Linux /proc/stat: user, nice,
 * system, irq, softirq, steal). The difference over a run, minus the benchmark's own processes' CPU,
 * is what other processes took from it: on a shared machine that, not the load average (which still
 * remembers the previous run), says whether the numbers are trustworthy.
 */
export function machineBusySeconds(): number {
  const fields = readFileSync("/proc/stat", "utf8")
    .split("\n", 1)[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  // /proc/stat counts in USER_HZ, which is 100 on every mainstream Linux build.
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** How many cores other processes keep busy right now, sampled over `ms` while the caller is idle. */
export async function busyCoresNow(ms = 1000): Promise<number> {
  const before = machineBusySeconds();
  const self = process.cpuUsage();
  await Bun.sleep(ms);
  const own = process.cpuUsage(self);
  return (machineBusySeconds() - before - (own.user + own.system) / 1e6) / (ms / 1000);
}

/** Peak resident set (VmHWM) of process `pid` in bytes, or undefined if /proc does not say. */
export function peakRss(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8")
      .split("\n")
      .find((l) => l.startsWith("VmHWM:"));
    const kib = Number(line?.match(/\d+/)?.[0]);
    return Number.isFinite(kib) ? kib * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resets the peak resident set of `pid` to its current RSS (Linux: `5` into /proc/<pid>/clear_refs),
 * so that `peakRss` afterwards is the peak of what follows. Returns false where that is not allowed.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}
