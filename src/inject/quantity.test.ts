import { describe, expect, test } from "bun:test";
import { compareQuantities, parseQuantity } from "./quantity.ts";

function cmp(a: string, b: string): number {
  const qa = parseQuantity(a);
  const qb = parseQuantity(b);
  if (!qa || !qb) throw new Error(`unparseable ${a} or ${b}`);
  return Math.sign(compareQuantities(qa, qb));
}

describe("parseQuantity accepts what the API server accepts", () => {
  test.each([
    "0",
    "1",
    "100m",
    "0.5",
    ".5",
    "1.",
    "256Mi",
    "1.5Gi",
    "2Ei",
    "1n",
    "1u",
    "3k",
    "1M",
    "1G",
    "1T",
    "1P",
    "1E",
    "1e3",
    "1E-3",
    "1e+3",
    "+1",
    "-1",
    "007",
  ])("%p", (text) => {
    expect(parseQuantity(text)).toBeDefined();
  });

  // The invalid list of Kubernetes' own quantity tests, plus suffix case and placement mistakes.
  test.each([
    "",
    "1.1.M",
    "1+1.0M",
    "0.1mi",
    "0.1am",
    "aoeu",
    ".5i",
    "1i",
    "-3.01i",
    "-3.01e-",
    " 1",
    "1 ",
    "1ki",
    "1KI",
    "1kb",
    "1e",
    "1m3",
    "Mi",
    "+",
    "1,5",
    "1e2147483648",
  ])("%p is refused", (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });

  test("a minus sign makes a negative value, except on zero", () => {
    expect(parseQuantity("-1")?.negative).toBe(true);
    expect(parseQuantity("-0")?.negative).toBe(false);
  });
});

describe("compareQuantities orders by value across suffixes", () => {
  test.each([
    ["1", "1000m", 0],
    ["0.5", "500m", 0],
    ["1Ki", "1024", 0],
    ["1e3", "1k", 0],
    ["1k", "1Ki", -1],
    ["256M", "256Mi", -1],
    ["100m", "0.1", 0],
    ["99m", "0.1", -1],
    ["1Gi", "1073741824", 0],
    ["1.5Gi", "1536Mi", 0],
    ["-1", "0", -1],
    ["-2", "-1", -1],
    ["2", "10", -1],
    ["1e-3", "1m", 0],
  ] as const)("%p vs %p", (a, b, expected) => {
    expect(cmp(a, b)).toBe(expected);
    expect(cmp(b, a)).toBe(-expected === 0 ? 0 : -expected);
  });

  test("values below a nano unit round up to one nano unit, as Kubernetes does", () => {
    expect(cmp("0.1n", "1n")).toBe(0);
    expect(cmp("1.1n", "2n")).toBe(0);
    expect(cmp("1e-30", "1n")).toBe(0);
  });

  test("SI forms are capped at 2^63-1; the exponent form is not (as in Kubernetes)", () => {
    expect(cmp("10E", "9223372036854775807")).toBe(0);
    expect(cmp("100Ei", "9223372036854775807")).toBe(0);
    expect(cmp("1e19", "9223372036854775807")).toBe(1);
  });

  test("huge exponents compare without being expanded", () => {
    expect(cmp("1e2147483647", "2e2147483647")).toBe(-1);
    expect(cmp("1e-2147483647", "0")).toBe(1);
  });
});
