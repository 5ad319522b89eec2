/** Distribution of one measurement over many samples, in the samples' unit. */
export interface Distribution {
  readonly count: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/**
 * Summarises samples with nearest-rank percentiles (p99 of 100 samples is the 99th smallest), so every
 * reported value is one that was actually observed. Throws on an empty sample set: a benchmark that
 * measured nothing must not print zeros.
 */
export function distribution(samples: ArrayLike<number>): Distribution {
  if (samples.length === 0) throw new Error("distribution of zero samples");
  const sorted = Float64Array.from(samples).sort();
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    min: sorted[0]!,
    p50: rank(50),
    p90: rank(90),
    p99: rank(99),
    max: sorted[sorted.length - 1]!,
    mean: sum / sorted.length,
  };
}
