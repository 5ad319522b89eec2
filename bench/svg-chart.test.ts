import { describe, expect, test } from "bun:test";
import { lineChart, niceTicks } from "./svg-chart.ts";

describe("niceTicks", () => {
  test("starts at 0 and ends at or above the maximum with a round step", () => {
    expect(niceTicks(4.3)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(niceTicks(10_000)).toEqual([0, 2000, 4000, 6000, 8000, 10000]);
    expect(niceTicks(0.37)).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
  });

  test("a zero maximum still gives an axis", () => {
    expect(niceTicks(0)).toEqual([0, 1]);
  });
});

describe("lineChart", () => {
  const svg = lineChart({
    title: "Fan-out <p99>",
    xLabel: "engines",
    yLabel: "s",
    series: [
      {
        name: "ours",
        color: "#1f77b4",
        points: [
          [5000, 3],
          [1000, 1],
        ],
      },
      { name: "peer", color: "#d62728", dashed: true, points: [[1000, 2]] },
    ],
  });

  test("draws one polyline per series with two or more points, in x order, and a marker per point", () => {
    expect(svg.match(/<polyline /g)?.length).toBe(1);
    expect(svg.match(/<circle /g)?.length).toBe(3);
    const [, points] = svg.match(/<polyline points="([^"]+)"/)!;
    const xs = points!.split(" ").map((p) => Number(p.split(",")[0]));
    expect(xs[0]!).toBeLessThan(xs[1]!);
  });

  test("escapes text and marks the dashed series", () => {
    expect(svg).toContain("Fan-out &lt;p99&gt;");
    expect(svg).toContain('stroke-dasharray="6 4"');
    expect(svg.startsWith("<svg ")).toBe(true);
  });

  test("refuses a chart without data", () => {
    expect(() =>
      lineChart({ title: "t", xLabel: "x", yLabel: "y", series: [{ name: "a", color: "red", points: [] }] }),
    ).toThrow("no data");
  });
});
