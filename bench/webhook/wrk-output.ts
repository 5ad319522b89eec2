/**
 * Parses what `wrk --latency` prints. Pure, so the driver's reading of wrk is tested against real
 * output (wrk-output.test.ts) rather than trusted.
 */

/** One wrk run as the benchmark reports it. */
export interface WrkResult {
  readonly requests: number;
  readonly durationS: number;
  readonly requestsPerS: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  /** Responses with status > 399 (wrk's "Non-2xx or 3xx responses"). */
  readonly non2xx: number;
  /** connect + read + write + timeout socket errors. */
  readonly socketErrors: number;
  /** From the verifying Lua script, when it ran. */
  readonly verify?: { readonly checked: number; readonly bad: number };
}

/** Parses wrk's stdout; throws naming the line it could not find. */
export function parseWrkOutput(text: string): WrkResult {
  const summary = text.match(/^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)\b/m);
  if (!summary) throw new Error(`wrk output has no "<n> requests in <t>" line:\n${text}`);
  const rps = text.match(/^Requests\/sec:\s+([\d.]+)/m);
  if (!rps) throw new Error(`wrk output has no "Requests/sec:" line:\n${text}`);
  const percentile = (p: number): number => {
    const m = text.match(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m"));
    if (!m) throw new Error(`wrk output has no ${p}% latency line (was --latency given?):\n${text}`);
    return toMs(Number(m[1]), m[2] ?? "");
  };
  const socket = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const non2xx = text.match(/Non-2xx or 3xx responses: (\d+)/);
  const verify = text.match(/^verify: checked=(\d+) bad=(\d+)/m);
  return {
    requests: Number(summary[1]),
    durationS: toMs(Number(summary[2]), summary[3] ?? "") / 1000,
    requestsPerS: Number(rps[1]),
    p50Ms: percentile(50),
    p90Ms: percentile(90),
    p99Ms: percentile(99),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: socket ? socket.slice(1, 5).reduce((sum, n) => sum + Number(n), 0) : 0,
    ...(verify ? { verify: { checked: Number(verify[1]), bad: Number(verify[2]) } } : {}),
  };
}

function toMs(value: number, unit: string): number {
  switch (unit) {
    case "us":
      return value / 1000;
    case "ms":
      return value;
    case "s":
      return value * 1000;
    case "m":
      return value * 60_000;
    case "h":
      return value * 3_600_000;
    default:
      throw new Error(`unknown wrk time unit "${unit}"`);
  }
}
