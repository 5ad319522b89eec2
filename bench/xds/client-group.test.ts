import { describe, expect, test } from "bun:test";
import { merge } from "./client-group.ts";

describe("merge of clients events", () => {
  test("connected: earliest start, latest end, errors summed, first error kept", () => {
    expect(
      merge([
        { event: "connected", startedAt: 10, at: 50, connectErrors: 0 },
        { event: "connected", startedAt: 12, at: 70, connectErrors: 2, firstError: "boom" },
      ]),
    ).toEqual({ event: "connected", startedAt: 10, at: 70, connectErrors: 2, firstError: "boom" });
  });

  test("converged: latencies of every process, versions deduplicated", () => {
    expect(
      merge([
        { event: "converged", latenciesMs: [1, 2], versions: ["v2"] },
        { event: "converged", latenciesMs: [3], versions: ["v2"] },
      ]),
    ).toEqual({ event: "converged", latenciesMs: [1, 2, 3], versions: ["v2"] });
  });

  test("stats: counters and CPU summed, per-engine bytes concatenated", () => {
    const stats = (engines: number, bytes: number[]) => ({
      event: "stats" as const,
      cpu: { user: 100, system: 10 },
      rss: 1000,
      engines,
      ready: engines,
      connectErrors: 0,
      streamErrors: 0,
      nacksSent: 0,
      responses: engines * 2,
      bytesReceived: engines * 10,
      engineBytes: bytes,
    });
    expect(merge([stats(3, [7]), stats(2, [])])).toEqual({
      ...stats(5, [7]),
      cpu: { user: 200, system: 20 },
      rss: 2000,
      firstError: undefined,
    });
  });

  test("a single event is returned as is", () => {
    const ready = { event: "ready" as const, at: 5 };
    expect(merge([ready])).toBe(ready);
  });
});
