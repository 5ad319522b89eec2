/**
 * Runs nginx as a child of the benchmark with a configuration in a temporary folder, and stops it
 * by its pid (the master's; it takes its worker with it), so nothing is left running.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import {
  DEBIAN_PATHS,
  type ModsecurityOptions,
  modsecurityFiles,
  WRITABLE_DIRS,
} from "./modsecurity-config.ts";

/** A running nginx. */
export interface NginxProcess {
  readonly port: number;
  readonly dir: string;
  stop(): Promise<void>;
}

/** Writes the configuration, checks it with `nginx -t`, starts nginx and waits until it accepts connections. */
export async function startModsecurityNginx(o: Omit<ModsecurityOptions, "dir">): Promise<NginxProcess> {
  const dir = mkdtempSync(join(tmpdir(), "mgw-modsec-"));
  chmodSync(dir, 0o755);
  for (const d of WRITABLE_DIRS) {
    mkdirSync(join(dir, d));
    // nginx workers run as nobody when the master is root.
    chmodSync(join(dir, d), 0o777);
  }
  for (const [name, text] of Object.entries(modsecurityFiles({ ...o, dir })))
    writeFileSync(join(dir, name), text);
  const conf = join(dir, "nginx.conf");
  const check = Bun.spawnSync([DEBIAN_PATHS.nginx, "-t", "-q", "-p", dir, "-c", conf], { stderr: "pipe" });
  if (check.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`nginx -t refused the configuration in ${dir}: ${check.stderr.toString()}`);
  }
  const proc: Subprocess = Bun.spawn([DEBIAN_PATHS.nginx, "-p", dir, "-c", conf], {
    stdout: "ignore",
    stderr: "ignore",
  });
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null) {
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await proc.exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) break;
    if (await accepts(o.port)) return { port: o.port, dir, stop };
    await Bun.sleep(50);
  }
  const log = existsSync(join(dir, "error.log")) ? readFileSync(join(dir, "error.log"), "utf8") : "";
  await stop();
  throw new Error(`nginx did not start on 127.0.0.1:${o.port}: ${log}`);
}

async function accepts(port: number): Promise<boolean> {
  try {
    const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    s.end();
    return true;
  } catch {
    return false;
  }
}
