/**
 * Kubernetes resource quantities (`100m`, `0.5`, `256Mi`, `1e3`), parsed the way the API server does
 * (k8s.io/apimachinery/pkg/api/resource, `ParseQuantity`), so that a value we accept in an annotation
 * is one the API server accepts in the container we write it into, and comparisons agree with its
 * "request must be less than or equal to limit" check.
 *
 * Grammar: Kubernetes' split expression `^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$`, a number with
 * at most one dot, and a suffix that is one of the binary SI (`Ki` ... `Ei`), decimal SI (`n u m "" k M
 * G T P E`) or decimal exponent (`e<int>`/`E<int>`) forms. Like Kubernetes, a value is rounded up to
 * the nano unit and, in SI forms, capped at 2^63-1. The Go parser also reads a few degenerate strings
 * (`+`, `-`, `Mi`) as zero; the split expression refuses them and so do we.
 */

/** A parsed quantity: `(negative ? -1 : 1) * mantissa * 10^exponent`, after Kubernetes' rounding. */
export interface Quantity {
  readonly negative: boolean;
  readonly mantissa: bigint;
  readonly exponent: number;
}

/** What {@link parseQuantity} accepts, for messages. */
export const QUANTITY_SYNTAX =
  "Kubernetes quantity such as 100m, 0.5, 2, 256Mi or 1e3 (a number, then optionally one of the suffixes n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or e<exponent>)";

const SPLIT = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const NUMBER = /^([+-]?)([0-9]*)(?:\.([0-9]*))?$/;
const EXPONENT = /^[eE]([+-]?[0-9]+)$/;
const DECIMAL_SI: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_SI: Readonly<Record<string, number>> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const NANO = -9;
// Kubernetes converts the parsed int64 exponent to int32; we refuse what would not fit instead of wrapping.
const MAX_EXPONENT = 2 ** 31 - 1;
const MAX_ALLOWED: Quantity = { negative: false, mantissa: 2n ** 63n - 1n, exponent: 0 };

/**
 * Parses a quantity; undefined if Kubernetes would refuse it.
 *
 * @example parseQuantity("1.5Gi") // { negative: false, mantissa: 15n * 2n ** 30n, exponent: -1 }
 */
export function parseQuantity(text: string): Quantity | undefined {
  const split = SPLIT.exec(text);
  if (!split) return undefined;
  const number = NUMBER.exec(split[1] ?? "");
  if (!number) return undefined;
  const [, sign = "", whole = "", fraction = ""] = number;
  const suffix = split[2] ?? "";

  let mantissa = BigInt(`${whole}${fraction}` || "0");
  let exponent = -fraction.length;
  let capped = true;
  const decimal = DECIMAL_SI[suffix];
  const binary = BINARY_SI[suffix];
  const power = EXPONENT.exec(suffix);
  if (decimal !== undefined) {
    exponent += decimal;
  } else if (binary !== undefined) {
    mantissa *= 1024n ** BigInt(binary);
  } else if (power) {
    const value = Number(power[1]);
    if (!Number.isSafeInteger(value) || Math.abs(value) > MAX_EXPONENT) return undefined;
    exponent += value;
    // Kubernetes caps only the SI forms (its `maxAllowed` check skips DecimalExponent).
    capped = false;
  } else {
    return undefined;
  }

  let q: Quantity = roundUpToNano({ negative: sign === "-" && mantissa !== 0n, mantissa, exponent });
  if (capped && compareMagnitudes(q, MAX_ALLOWED) > 0) q = { ...MAX_ALLOWED, negative: q.negative };
  return q;
}

/** Orders two quantities by value: negative if `a < b`, 0 if equal, positive if `a > b`. */
export function compareQuantities(a: Quantity, b: Quantity): number {
  if (a.negative !== b.negative) return a.negative ? -1 : 1;
  const byMagnitude = compareMagnitudes(a, b);
  return a.negative ? -byMagnitude : byMagnitude;
}

/** Compares absolute values without expanding exponents, so `1e2000000000` costs nothing. */
function compareMagnitudes(a: Quantity, b: Quantity): number {
  if (a.mantissa === 0n || b.mantissa === 0n) {
    return a.mantissa === b.mantissa ? 0 : a.mantissa === 0n ? -1 : 1;
  }
  // Position of the leading digit decides unless both are equal; then the exponents differ by at
  // most the difference in digit counts, which is bounded by the input length.
  const leadA = digits(a.mantissa) + a.exponent;
  const leadB = digits(b.mantissa) + b.exponent;
  if (leadA !== leadB) return leadA < leadB ? -1 : 1;
  const shift = a.exponent - b.exponent;
  const left = shift > 0 ? a.mantissa * 10n ** BigInt(shift) : a.mantissa;
  const right = shift < 0 ? b.mantissa * 10n ** BigInt(-shift) : b.mantissa;
  return left === right ? 0 : left < right ? -1 : 1;
}

/** Kubernetes rounds any non-zero value away from zero to a whole number of nano units. */
function roundUpToNano(q: Quantity): Quantity {
  if (q.exponent >= NANO || q.mantissa === 0n) return q;
  const shift = NANO - q.exponent;
  if (shift > digits(q.mantissa)) return { negative: q.negative, mantissa: 1n, exponent: NANO };
  const divisor = 10n ** BigInt(shift);
  const whole = q.mantissa / divisor;
  return { negative: q.negative, mantissa: q.mantissa % divisor === 0n ? whole : whole + 1n, exponent: NANO };
}

function digits(n: bigint): number {
  return n.toString().length;
}
