/**
 * The driver's handle on one benchmark server process: spawn it, wait for its JSON-line events with
 * a deadline, ask it for stats, read its peak RSS from /proc, and end it by its own pid.
 */
import type { Subprocess } from "bun";
import { readLines } from "../support/child-process.ts";
import type { ListeningEvent, ServerEvent, StatsEvent } from "./server-control.ts";

const STDERR_KEPT = 20;

/** A running server; every wait takes an absolute `Date.now()` deadline so a run stays bounded in time. */
export class ServerProcess {
  private readonly events: ServerEvent[] = [];
  private readonly stderrTail: string[] = [];
  private wake: (() => void) | undefined;
  private exitCode: number | null = null;

  private constructor(
    readonly name: string,
    private readonly proc: Subprocess<"pipe", "pipe", "pipe">,
  ) {
    void readLines(proc.stdout, (line) => {
      this.events.push(JSON.parse(line) as ServerEvent);
      this.wake?.();
    });
    void readLines(proc.stderr, (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_KEPT) this.stderrTail.shift();
      process.stderr.write(`[${name}] ${line}\n`);
    });
    void proc.exited.then((code) => {
      this.exitCode = code;
      this.wake?.();
    });
  }

  /** Starts `argv` directly (no shell), so `pid` is the server's own process. */
  static spawn(name: string, argv: readonly string[]): ServerProcess {
    return new ServerProcess(name, Bun.spawn([...argv], { stdin: "pipe", stdout: "pipe", stderr: "pipe" }));
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Waits for the server to listen. */
  listening(deadline: number): Promise<ListeningEvent> {
    return this.next("listening", deadline);
  }

  /** Cumulative CPU, RSS and admission counters of the server. */
  async stats(deadline: number): Promise<StatsEvent> {
    this.proc.stdin.write("stats\n");
    this.proc.stdin.flush();
    return this.next("stats", deadline);
  }

  /** Peak resident set size of the server so far (VmHWM), in bytes. */
  async peakRssBytes(): Promise<number> {
    const status = await Bun.file(`/proc/${this.pid}/status`).text();
    const kib = status.match(/^VmHWM:\s+(\d+) kB/m)?.[1];
    if (kib === undefined) throw new Error(`${this.name}: no VmHWM in /proc/${this.pid}/status`);
    return Number(kib) * 1024;
  }

  /** Closes stdin (the server then stops and exits); kills this pid if it is still running after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.exitCode !== null) return;
    try {
      this.proc.stdin.end();
    } catch {
      // Already closed: the kill below still applies.
    }
    const exited = await Promise.race([
      this.proc.exited.then(() => true),
      Bun.sleep(graceMs).then(() => false),
    ]);
    if (!exited) {
      this.proc.kill("SIGKILL");
      await this.proc.exited;
    }
  }

  private async next<K extends ServerEvent["event"]>(
    kind: K,
    deadline: number,
  ): Promise<Extract<ServerEvent, { event: K }>> {
    for (;;) {
      const i = this.events.findIndex((e) => e.event === kind);
      if (i !== -1) return this.events.splice(i, 1)[0] as Extract<ServerEvent, { event: K }>;
      if (this.exitCode !== null) {
        throw new Error(`${this.name} exited with code ${this.exitCode} before "${kind}"${this.tail()}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no "${kind}" before the deadline${this.tail()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private tail(): string {
    return this.stderrTail.length > 0 ? `; its last stderr lines:\n  ${this.stderrTail.join("\n  ")}` : "";
  }
}
