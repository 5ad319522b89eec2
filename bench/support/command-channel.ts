/**
 * The child side of a benchmark process: commands arrive as JSON lines on stdin, events leave as
 * JSON lines on stdout. stdout carries nothing else, so logs go to stderr.
 */
import { createInterface } from "node:readline";

/** Writes one event line for the driver. */
export function emit<E extends { readonly event: string }>(event: E): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/**
 * Calls `onCommand` for every command line from the driver, one at a time. When stdin closes the
 * driver is gone (finished, crashed or killed), so `onClose` runs: a benchmark child must never
 * outlive its driver and keep thousands of sockets open.
 */
export function listenForCommands<Command>(
  onCommand: (command: Command) => void | Promise<void>,
  onClose: () => void,
): void {
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  let queue = Promise.resolve();
  lines.on("line", (line) => {
    if (line.trim() === "") return;
    queue = queue.then(async () => {
      try {
        await onCommand(JSON.parse(line) as Command);
      } catch (e) {
        emit<FailedEvent>({ event: "failed", message: e instanceof Error ? e.message : String(e) });
      }
    });
  });
  lines.on("close", () => void queue.then(onClose));
}

/** Sent by a child when a command could not be carried out; the driver aborts the run. */
export interface FailedEvent {
  readonly event: "failed";
  readonly message: string;
}
