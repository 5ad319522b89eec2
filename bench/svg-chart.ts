/**
 * A line chart as a standalone SVG string, written by hand (no plotting dependency): linear axes
 * from 0, "nice" ticks, one polyline with point markers per series, and a legend.
 *
 * @example
 *   const svg = lineChart({
 *     title: "Fan-out p99", xLabel: "engines", yLabel: "seconds",
 *     series: [{ name: "ours", color: "#1f77b4", points: [[1000, 0.9], [5000, 3.3]] }],
 *   });
 */

/** One line of the chart. */
export interface Series {
  readonly name: string;
  readonly color: string;
  /** Dashed line (e.g. the peer), solid otherwise. */
  readonly dashed?: boolean;
  /** [x, y] pairs; drawn in x order. */
  readonly points: readonly (readonly [number, number])[];
}

export interface ChartSpec {
  readonly title: string;
  /** Second title line: machine, load, date. */
  readonly subtitle?: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly width?: number;
  readonly height?: number;
}

const MARGIN = { left: 70, right: 20, top: 56, bottom: 70 };

/** Renders the chart; throws if no series has a point (an empty plot must not be committed). */
export function lineChart(spec: ChartSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 400;
  const all = spec.series.flatMap((s) => s.points);
  if (all.length === 0) throw new Error(`chart "${spec.title}": no data`);
  const xTicks = niceTicks(Math.max(...all.map(([x]) => x)));
  const yTicks = niceTicks(Math.max(...all.map(([, y]) => y)));
  const xMax = xTicks.at(-1)!;
  const yMax = yTicks.at(-1)!;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + (x / xMax) * plotW;
  const py = (y: number) => MARGIN.top + plotH - (y / yMax) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(spec.title)}</text>`,
  ];
  if (spec.subtitle) {
    out.push(`<text x="${width / 2}" y="38" text-anchor="middle" fill="#555">${esc(spec.subtitle)}</text>`);
  }
  for (const t of yTicks) {
    const y = fmt(py(t));
    out.push(
      `<line x1="${MARGIN.left}" y1="${y}" x2="${width - MARGIN.right}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${tickLabel(t)}</text>`,
    );
  }
  for (const t of xTicks) {
    const x = fmt(px(t));
    out.push(
      `<line x1="${x}" y1="${MARGIN.top + plotH}" x2="${x}" y2="${MARGIN.top + plotH + 4}" stroke="#333"/>`,
      `<text x="${x}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${tickLabel(t)}</text>`,
    );
  }
  out.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${width - MARGIN.right}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH + 38}" text-anchor="middle">${esc(spec.xLabel)}</text>`,
    `<text x="16" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${MARGIN.top + plotH / 2})">${esc(spec.yLabel)}</text>`,
  );
  spec.series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : "";
    if (pts.length > 1) {
      const path = pts.map(([x, y]) => `${fmt(px(x))},${fmt(py(y))}`).join(" ");
      out.push(`<polyline points="${path}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    }
    for (const [x, y] of pts) {
      out.push(
        `<circle cx="${fmt(px(x))}" cy="${fmt(py(y))}" r="3.5" fill="${s.color}"><title>${esc(s.name)}: ${x}, ${tickLabel(y)}</title></circle>`,
      );
    }
    const ly = height - 14;
    const lx = MARGIN.left + i * 190;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 34}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

/** 0 and 4-6 evenly spaced round values whose last is at least `max`. */
export function niceTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s * 5 >= max) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = 0; t < max + step * 1e-9; t += step) ticks.push(round(t));
  if (ticks.at(-1)! < max) ticks.push(round(ticks.at(-1)! + step));
  return ticks;
}

function round(v: number): number {
  return Math.round(v * 1e9) / 1e9;
}

function tickLabel(v: number): string {
  if (Number.isInteger(v)) return v >= 10_000 ? v.toLocaleString("en-US") : String(v);
  return String(Math.round(v * 1000) / 1000);
}

function fmt(v: number): string {
  return v.toFixed(1);
}

function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}
