/**
 * A single-consumer async queue: producers `push`, one `for await` loop consumes. Used to merge
 * two event sources (client requests and configuration changes) into one response stream.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private failWaiter: ((e: unknown) => void) | undefined;
  private done = false;
  private error: { e: unknown } | undefined;

  /** Adds an item; ignored after close. */
  push(item: T): void {
    if (this.done) return;
    const w = this.waiter;
    if (w) {
      this.waiter = this.failWaiter = undefined;
      w({ value: item, done: false });
    } else this.items.push(item);
  }

  /** Ends the stream after the queued items. */
  close(): void {
    if (this.done) return;
    this.done = true;
    const w = this.waiter;
    this.waiter = this.failWaiter = undefined;
    if (w && this.items.length === 0) w({ value: undefined, done: true });
  }

  /** Ends the stream with an error (raised to the consumer after the queued items). */
  fail(e: unknown): void {
    if (this.done) return;
    this.error = { e };
    this.done = true;
    const f = this.failWaiter;
    this.waiter = this.failWaiter = undefined;
    if (f && this.items.length === 0) f(e);
  }

  /** Number of items waiting for the consumer. */
  get length(): number {
    return this.items.length;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length > 0) return Promise.resolve({ value: this.items.shift() as T, done: false });
        if (this.done) {
          if (this.error) return Promise.reject(this.error.e);
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => {
          this.waiter = resolve;
          this.failWaiter = reject;
        });
      },
      return: () => {
        this.close();
        this.items.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
