/**
 * The machine facts of the webhook benchmark: the shared ones (bench/support/machine.ts) plus the
 * versions of the other runtime and the load generator it compares and uses.
 */
import { machineInfo as sharedMachineInfo } from "../support/machine.ts";

export { machineBusySeconds } from "../support/machine.ts";

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

/** Describes this machine; `node` and `wrk` are asked for their versions. */
export function machineInfo(): MachineInfo {
  const { cpus, cpuModel, memoryGiB, kernel, bun } = sharedMachineInfo();
  return {
    cpus,
    cpuModel,
    memoryGiB,
    kernel,
    bun,
    node: commandOutput(["node", "--version"]),
    // wrk has no --version flag; its usage text starts with the version.
    wrk: commandOutput(["wrk", "--version"]).split("\n")[0] ?? "unknown",
  };
}

function commandOutput(argv: string[]): string {
  const out = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  return `${out.stdout.toString()}${out.stderr.toString()}`.trim() || "unknown";
}
