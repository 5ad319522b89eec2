/**
 * A millisecond clock that several processes on one machine can compare.
 *
 * Bun's `process.hrtime` counts from the start of each process, so timestamps from the driver and
 * from its children would not line up. `performance.timeOrigin` is the wall-clock start of the
 * process with sub-millisecond precision; adding the monotonic `performance.now()` gives a clock
 * that agrees across processes to a few microseconds (measured on Linux) and never steps within one.
 */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}
