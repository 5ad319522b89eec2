/**
 * Spreads a configuration change over the event loop. A change to a policy shared by every pod
 * wakes every stream at once; answering all of them in one synchronous burst would hold the loop
 * (no ACKs read, no sockets flushed) and queue every stream's response in memory at the same
 * time. The scheduler runs the woken streams in batches, one batch per turn of the loop, so
 * responses drain to the sockets while the next batch is built.
 *
 * @example
 * const fanOut = new FanOutScheduler();
 * cache.watch(nodeId, () => fanOut.schedule(pump)); // pump runs soon, at most once per wake-up
 */
export class FanOutScheduler {
  private readonly pending = new Set<() => void>();
  private scheduled = false;

  /** @param batch streams answered per turn of the event loop */
  constructor(private readonly batch = 128) {}

  /** Runs `task` on a later turn; scheduling it again before it ran runs it once. */
  schedule(task: () => void): void {
    this.pending.add(task);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.drain);
  }

  /** Drops a task that has not run yet (its stream closed). */
  cancel(task: () => void): void {
    this.pending.delete(task);
  }

  /** Tasks waiting to run. */
  get size(): number {
    return this.pending.size;
  }

  private readonly drain = (): void => {
    let n = 0;
    for (const task of this.pending) {
      this.pending.delete(task);
      task();
      if (++n >= this.batch) break;
    }
    if (this.pending.size > 0) setImmediate(this.drain);
    else this.scheduled = false;
  };
}
