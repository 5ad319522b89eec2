/**
 * Starts the go-control-plane peer for bench/xds/run.ts: builds the Go program (build.sh, a no-op
 * when nothing changed) and exports the fleet it serves (export-fleet.ts) into a fresh temporary
 * folder, which the program deletes when it exits.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const HERE = import.meta.dir;
const ROOT = join(HERE, "..", "..", "..");

let built: string | undefined;

/** Builds the peer once per process and returns the binary's path; throws with the build's output. */
export function buildGoControlPlane(): string {
  if (built) return built;
  const result = Bun.spawnSync(["bash", join(HERE, "build.sh")], {
    cwd: ROOT,
    stderr: "pipe",
    stdout: "pipe",
  });
  const out = result.stdout.toString().trim();
  if (result.exitCode !== 0) {
    throw new Error(
      `bench/peers/go-control-plane/build.sh failed (exit ${result.exitCode}):\n${out}\n${result.stderr.toString()}`,
    );
  }
  built = out.split("\n").at(-1) ?? "";
  return built;
}

/** What to spawn for one run with `pods` engines, and the folder it serves from. */
export interface PeerLaunch {
  readonly argv: readonly string[];
  /** Exported resources and certificates; the peer deletes it on exit, the driver after the run. */
  readonly dir: string;
}

/**
 * Builds the peer and exports the fleet of `pods` pods in a separate Bun process, so none of it
 * runs inside a measured run (call it before the run's CPU and load accounting starts). With
 * `profileDir`, the peer writes `server-<pods>-go-control-plane.{cpu,heap}.pprof` there.
 */
export async function launchGoControlPlane(pods: number, profileDir?: string): Promise<PeerLaunch> {
  const binary = buildGoControlPlane();
  const dir = mkdtempSync(join(tmpdir(), "microgateway-bench-peer-"));
  const exporter = Bun.spawn(
    ["bun", join(HERE, "..", "export-fleet.ts"), "--pods", String(pods), "--out", dir],
    { cwd: ROOT, stdout: "inherit", stderr: "pipe" },
  );
  const [code, stderr] = await Promise.all([exporter.exited, new Response(exporter.stderr).text()]);
  if (code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`export-fleet.ts --pods ${pods} failed (exit ${code}): ${stderr.trim()}`);
  }
  process.stderr.write(`xds bench: ${stderr.trim()}\n`);
  const profile: string[] = [];
  if (profileDir) {
    mkdirSync(profileDir, { recursive: true });
    profile.push("--profile", join(profileDir, `server-${pods}-go-control-plane`));
  }
  return { argv: [binary, "--resources", dir, ...profile], dir };
}
