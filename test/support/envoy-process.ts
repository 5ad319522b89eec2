import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { findEnvoy } from "../../src/local/envoy-process.ts";

/** The Envoy binary, found as local mode finds it; throws (so a test fails rather than skips) when there is none. */
export const envoyBinary: () => string = findEnvoy;

/** Runs `envoy --mode validate` on a bootstrap file; Envoy compiles every regex in it. */
export async function validateEnvoyConfig(configPath: string): Promise<{ exitCode: number; output: string }> {
  const proc = Bun.spawn([envoyBinary(), "--mode", "validate", "-c", configPath, "-l", "error"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { exitCode, output: stdout + stderr };
}

/** An Envoy started by `startEnvoy`. */
export interface RunningEnvoy {
  /** Port of the first listener. */
  readonly listenerPort: number;
  /** Current value of a counter from the admin API (0 if Envoy has not created it yet). */
  counter(name: string): Promise<number>;
  /** Kills the process and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts Envoy on a bootstrap whose admin and listener bind port 0, waits until it is ready and
 * reads the chosen ports back. Hot restart is disabled, so parallel test runs share no memory.
 */
export async function startEnvoy(configPath: string, workDir: string): Promise<RunningEnvoy> {
  const adminAddressPath = join(workDir, "admin-address");
  const proc = Bun.spawn(
    [
      envoyBinary(),
      "-c",
      configPath,
      "--disable-hot-restart",
      "--concurrency",
      "1",
      "-l",
      "error",
      "--admin-address-path",
      adminAddressPath,
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  const stderr = new Response(proc.stderr).text();
  const stop = async (): Promise<void> => {
    proc.kill();
    await proc.exited;
  };
  try {
    const admin = `http://${await waitFor(async () => (await readFile(adminAddressPath, "utf8")).trim(), proc)}`;
    await waitFor(async () => {
      const res = await fetch(`${admin}/ready`);
      if (res.status !== 200) throw new Error(`not ready: ${res.status}`);
    }, proc);
    const listeners = (await (await fetch(`${admin}/listeners?format=json`)).json()) as {
      listener_statuses: { local_address: { socket_address: { port_value: number } } }[];
    };
    const listenerPort = listeners.listener_statuses[0]?.local_address.socket_address.port_value;
    if (listenerPort === undefined) throw new Error("Envoy reports no listener");
    return {
      listenerPort,
      async counter(name) {
        const res = await fetch(
          `${admin}/stats?format=json&filter=${encodeURIComponent(`^${name.replaceAll(".", "\\.")}$`)}`,
        );
        const body = (await res.json()) as { stats: { name: string; value?: number }[] };
        return body.stats.find((s) => s.name === name)?.value ?? 0;
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw new Error(`Envoy did not start: ${e instanceof Error ? e.message : String(e)}\n${await stderr}`);
  }
}

/** Retries `attempt` every 50 ms for up to 10 s, giving up early if the process exits. */
async function waitFor<T>(attempt: () => Promise<T>, proc: { exitCode: number | null }): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (proc.exitCode !== null) throw new Error(`envoy exited with ${proc.exitCode}`);
      if (Date.now() > deadline) throw e;
      await Bun.sleep(50);
    }
  }
}
