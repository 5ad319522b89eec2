/**
 * The driver side of a benchmark child process: spawn it with a raised open-file limit, send it
 * JSON-line commands, and wait for its JSON-line events with a deadline. See command-channel.ts for
 * the child side.
 */
import type { Subprocess } from "bun";
import type { FailedEvent } from "./command-channel.ts";

/** How to start a child. */
export interface SpawnOptions {
  /** Short name used in error messages and as the prefix of forwarded stderr lines. */
  readonly name: string;
  readonly argv: readonly string[];
  /** Soft RLIMIT_NOFILE for the child (it must not exceed the hard limit). */
  readonly openFiles?: number;
  readonly cwd?: string;
}

const STDERR_KEPT = 30;

/** A running child; every wait takes an absolute deadline so a whole run stays bounded in time. */
export class BenchChild<Command, Event extends { readonly event: string }> {
  private readonly events: (Event | FailedEvent)[] = [];
  private wake: (() => void) | undefined;
  private readonly stderrTail: string[] = [];
  private exitCode: number | null = null;

  private constructor(
    readonly name: string,
    private readonly proc: Subprocess<"pipe", "pipe", "pipe">,
  ) {
    void readLines(proc.stdout, (line) => {
      this.events.push(JSON.parse(line) as Event | FailedEvent);
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

  /** Starts the child. With `openFiles`, it runs under `sh -c 'ulimit -n …; exec …'` (Bun has no setrlimit). */
  static spawn<C, E extends { readonly event: string }>(opts: SpawnOptions): BenchChild<C, E> {
    const argv =
      opts.openFiles === undefined
        ? [...opts.argv]
        : ["sh", "-c", `ulimit -n ${opts.openFiles} && exec "$@"`, "sh", ...opts.argv];
    const proc = Bun.spawn(argv, { cwd: opts.cwd, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    return new BenchChild<C, E>(opts.name, proc);
  }

  /** The child's process id. */
  get pid(): number {
    return this.proc.pid;
  }

  /** Sends one command line. */
  send(command: Command): void {
    this.proc.stdin.write(`${JSON.stringify(command)}\n`);
    this.proc.stdin.flush();
  }

  /**
   * The first not yet consumed event of kind `kind`. Rejects if the child reports `failed`, exits,
   * or the deadline (a `wallMs()`-style epoch in ms, i.e. `Date.now()` scale) passes first.
   */
  async next<K extends Event["event"]>(kind: K, deadline: number): Promise<Extract<Event, { event: K }>> {
    for (;;) {
      const failed = this.events.find((e): e is FailedEvent => e.event === "failed");
      if (failed) throw new Error(`${this.name}: ${failed.message}`);
      const i = this.events.findIndex((e) => e.event === kind);
      if (i !== -1) return this.events.splice(i, 1)[0] as Extract<Event, { event: K }>;
      if (this.exitCode !== null) {
        throw new Error(
          `${this.name} exited with code ${this.exitCode} while the driver waited for "${kind}"${this.tail()}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no "${kind}" event before the deadline${this.tail()}`);
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

  /**
   * Ends the child: closes its stdin (children exit when the driver goes away), then kills it
   * by pid if it is still running after `graceMs`.
   */
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

  private tail(): string {
    return this.stderrTail.length > 0 ? `; its last stderr lines:\n  ${this.stderrTail.join("\n  ")}` : "";
  }
}

/** Calls `onLine` for every non-empty line of a child's output stream. */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    rest += decoder.decode(chunk, { stream: true });
    let nl = rest.indexOf("\n");
    while (nl !== -1) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (line.trim() !== "") onLine(line);
      nl = rest.indexOf("\n");
    }
  }
  if (rest.trim() !== "") onLine(rest);
}
