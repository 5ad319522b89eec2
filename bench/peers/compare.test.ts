import { describe, expect, test } from "bun:test";
import type { XdsBenchReport, XdsRunResult } from "../xds/report.ts";
import { compareRuns, formatComparison, parseServers } from "./compare.ts";
import { markdownTables, summarize } from "./summarize.ts";

function run(engines: number, coldStartMs: number, p50s: number[]): XdsRunResult {
  return {
    engines,
    ok: true,
    otherCores: 0.1,
    coldStartMs,
    changes: p50s.map((p50, i) => ({
      round: i + 1,
      mode: "LogOnly",
      changedNodes: engines,
      timings: { modelMs: 0, translateEncodeMs: 0, setNodeMs: 0, totalMs: 0 },
      latencyMs: { count: engines, min: p50, p50, p90: p50, p99: p50, max: p50, mean: p50 },
      serverAckedMs: p50,
      serverCpuS: 1,
      clientsCpuS: 0,
      responses: engines,
      resourcesSent: engines,
      bytesSent: 0,
      bytesReceived: 0,
    })),
    errors: { connect: 0, stream: 0, nacksSent: 0, nacksReceived: 0, protocolErrors: 0 },
  };
}

function report(runs: XdsRunResult[]): XdsBenchReport {
  return {
    benchmark: "xds",
    date: "2026-11-26T00:00:00Z",
    command: "test",
    machine: {
      cpus: 2,
      cpuModel: "test",
      memoryGiB: 1,
      kernel: "test",
      bun: "test",
      openFiles: { soft: 1, hard: 1 },
    },
    options: { batch: 200, rounds: 3, timeoutS: 60 },
    runs,
  };
}

describe("compareRuns", () => {
  test("gives peer/ours per metric, with per-change values as the median over the changes", () => {
    const rows = compareRuns(
      report([run(10, 1000, [100, 300, 200])]),
      report([run(10, 3000, [50, 900, 400])]),
    );
    const p50 = rows.find((r) => r.metric === "change p50 ms");
    expect(p50).toMatchObject({ engines: 10, ours: 200, peer: 400, ratio: 2 });
    expect(rows.find((r) => r.metric === "cold start s")?.ratio).toBe(3);
    // Counts have no meaningful ratio.
    expect(rows.find((r) => r.metric === "protocol errors")?.ratio).toBeUndefined();
    expect(formatComparison(rows, "peer")).toContain("above 1 means ours is better");
  });

  test("single-pod and reconnect metrics: medians over rounds, bytes to others summed, with a scenario each", () => {
    const single = (latencyMs: number, bytesToOthers: number) => ({
      round: 1,
      mode: "Block",
      index: 5,
      changedNodes: 1,
      latencyMs,
      serverAckedMs: latencyMs,
      serverCpuS: 0.01,
      bytesToPod: 100,
      bytesToOthers,
      responses: 1,
    });
    const withScenarios = (latencies: number[], others: number, steadyMs: number): XdsRunResult => ({
      ...run(10, 1000, [100]),
      singlePod: latencies.map((l) => single(l, others)),
      reconnect: {
        restartMs: 500,
        restartCpuS: 0.5,
        steadyMs,
        serverCpuS: 1,
        clientsCpuS: 1,
        bytesResent: 0,
        serverBytesSent: 0,
        responses: 0,
        rssConnectedMiB: 10,
        rssPerEngineKiB: 50,
      },
    });
    const rows = compareRuns(
      report([withScenarios([10, 30], 0, 2000)]),
      report([withScenarios([1, 3], 7, 4000)]),
    );
    expect(rows.find((r) => r.metric === "single-pod latency ms")).toMatchObject({
      scenario: "single-pod change",
      ours: 20,
      peer: 2,
      ratio: 0.1,
    });
    // Bytes that must be 0 are summed over the rounds and never turned into a ratio.
    expect(rows.find((r) => r.metric === "single-pod bytes to others")).toMatchObject({ ours: 0, peer: 14 });
    expect(rows.find((r) => r.metric === "single-pod bytes to others")?.ratio).toBeUndefined();
    expect(rows.find((r) => r.metric === "reconnect to steady s")).toMatchObject({
      scenario: "reconnect storm",
      ratio: 2,
    });
    // No SotW run: no value, no ratio.
    expect(rows.find((r) => r.metric === "SotW change p99 ms")).toMatchObject({
      ours: undefined,
      peer: undefined,
    });
  });

  test("skips engine counts only one side measured", () => {
    expect(compareRuns(report([run(10, 1, [1])]), report([run(20, 1, [1])]))).toEqual([]);
  });
});

describe("parseServers", () => {
  test("both runs ours first", () => {
    expect(parseServers("both")).toEqual(["ours", "go-control-plane"]);
    expect(() => parseServers("istio")).toThrow("--server istio");
  });
});

describe("summarize", () => {
  test("takes medians over runs and the range of the ratio", () => {
    const runs = [
      [{ engines: 10, metric: "m", ours: 1, peer: 2, ratio: 2 }],
      [{ engines: 10, metric: "m", ours: 2, peer: 2, ratio: 1 }],
      [{ engines: 10, metric: "m", ours: 3, peer: 12, ratio: 4 }],
    ];
    expect(summarize(runs)).toEqual([
      { engines: 10, metric: "m", runs: 3, ours: 2, peer: 2, ratio: { median: 2, min: 1, max: 4 } },
    ]);
  });
});

describe("markdownTables", () => {
  test("one table per scenario, a column triple per engine count", () => {
    const rows = summarize([
      [
        { engines: 10, metric: "cold start s", scenario: "cold start", ours: 2, peer: 4, ratio: 2 },
        { engines: 20, metric: "cold start s", scenario: "cold start", ours: 3, peer: 3, ratio: 1 },
        { engines: 10, metric: "change p99 ms", scenario: "fan-out", ours: 100, peer: 50, ratio: 0.5 },
      ],
    ]);
    const md = markdownTables(rows, "peer");
    expect(md).toContain("**cold start**");
    expect(md).toContain("**fan-out**");
    expect(md).toContain("| metric | N=10 ours | peer | peer/ours | N=20 ours | peer | peer/ours |");
    expect(md).toContain("| cold start s | 2.00 | 4.00 | 2.00 | 3.00 | 3.00 | 1.00 |");
    // fan-out was measured at 10 engines only.
    expect(md).toContain("| change p99 ms | 100 | 50.00 | 0.50 | – | – | – |");
  });
});
