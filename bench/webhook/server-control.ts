/**
 * The child side of a benchmark server process, shared by both server entries and runnable on Bun
 * and on Node (no Bun APIs): reads the TLS key pair the driver wrote, reports `listening` and
 * `stats` as JSON lines on stdout, answers `stats` commands from stdin, and exits when stdin closes
 * so that a server never outlives its driver.
 */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { BenchAdmissionApp } from "./admission-app.ts";

/** The serving key pair, PEM. */
export interface ServerTls {
  /** Leaf then CA. */
  readonly chainPem: string;
  readonly privateKeyPem: string;
}

/** `listening`: the server accepts connections on `port`. */
export interface ListeningEvent {
  readonly event: "listening";
  readonly port: number;
  readonly runtime: string;
}

/** `stats`: cumulative figures since the server started. */
export interface StatsEvent {
  readonly event: "stats";
  readonly rssBytes: number;
  /** User plus system CPU of the whole process, microseconds. */
  readonly cpuUs: number;
  readonly requests: number;
  readonly malformed: number;
  readonly errors: number;
  readonly injected: number;
  readonly skipped: number;
  readonly denied: number;
}

/** Every event a server prints. */
export type ServerEvent = ListeningEvent | StatsEvent;

/** Reads `--chain <file> --key <file>` from the command line. */
export function serverTlsFromArgs(argv: readonly string[]): ServerTls {
  const value = (flag: string): string => {
    const i = argv.indexOf(flag);
    const v = i === -1 ? undefined : argv[i + 1];
    if (v === undefined) throw new Error(`missing ${flag} <file>`);
    return v;
  };
  return {
    chainPem: readFileSync(value("--chain"), "utf8"),
    privateKeyPem: readFileSync(value("--key"), "utf8"),
  };
}

/** The runtime this process runs on, e.g. `bun 1.4.5` or `node 20.20.2`. */
export function runtimeName(): string {
  const bun = process.versions.bun;
  return bun ? `bun ${bun}` : `node ${process.versions.node}`;
}

/** Announces the server and serves the driver's commands until stdin closes, then stops and exits. */
export function serveControl(port: number, bench: BenchAdmissionApp, stop: () => Promise<void>): void {
  emit({ event: "listening", port, runtime: runtimeName() });
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (line.trim() !== "stats") return;
    const cpu = process.cpuUsage();
    emit({
      event: "stats",
      rssBytes: process.memoryUsage.rss(),
      cpuUs: cpu.user + cpu.system,
      ...bench.webhook,
      injected: bench.admissions.injected,
      skipped: bench.admissions.skipped,
      denied: bench.admissions.denied,
    });
  });
  lines.on("close", () => {
    void stop().finally(() => process.exit(0));
  });
}

function emit(event: ServerEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}
