/** Test helpers for real processes on 127.0.0.1. */

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/**
 * Polls `check` until it returns true; returns the milliseconds it took. Throws naming `what`
 * after `timeoutMs` (a deadline for behaviour the spec promises, not a performance assertion).
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<number> {
  const start = performance.now();
  let lastError: unknown;
  while (performance.now() - start < timeoutMs) {
    try {
      if (await check()) return performance.now() - start;
    } catch (e) {
      lastError = e;
    }
    await Bun.sleep(intervalMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ""}`,
  );
}

/**
 * GET on a fresh connection and return the status code (0 if the connection failed). A fresh
 * connection, because a pooled one survives a listener's removal while Envoy drains it.
 */
export async function statusOf(url: string, init?: RequestInit): Promise<number> {
  try {
    const res = await fetch(url, { ...init, keepalive: false });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}
