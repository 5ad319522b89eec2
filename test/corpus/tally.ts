/**
 * Per-family block rates and the benign pass rate of a corpus run, and the table printed from
 * them. Pure: the corpus test, the ModSecurity comparison and their unit tests share it.
 *
 * @example
 * const rows = tally(results);            // one row per family present, then "benign"
 * console.log(formatTally(rows));
 */
import { RULE_FAMILIES, type RuleFamily } from "../../src/api/deny-rules.ts";
import type { SendResult } from "./send.ts";

/** One family's (or the benign corpus') numbers. */
export interface TallyRow {
  /** A rule family, or `benign`. */
  readonly family: RuleFamily | "benign";
  readonly total: number;
  readonly blocked: number;
  readonly passed: number;
  readonly errors: number;
  /** blocked / total for a family, passed / total for benign; 0 when total is 0. */
  readonly rate: number;
  /** Ids of the requests that went the wrong way (attacks passed, benign blocked), and errors. */
  readonly misses: readonly string[];
}

/** Rows in RULE_FAMILIES order (families without requests left out), then `benign`. */
export function tally(results: readonly SendResult[]): TallyRow[] {
  const rows: TallyRow[] = [];
  for (const family of [...RULE_FAMILIES, "benign" as const]) {
    const mine = results.filter((r) => (r.request.family ?? "benign") === family);
    if (mine.length === 0) continue;
    const count = (o: SendResult["outcome"]) => mine.filter((r) => r.outcome === o).length;
    const good = family === "benign" ? "passed" : "blocked";
    rows.push({
      family,
      total: mine.length,
      blocked: count("blocked"),
      passed: count("passed"),
      errors: count("error"),
      rate: count(good) / mine.length,
      misses: mine.filter((r) => r.outcome !== good).map((r) => r.request.id),
    });
  }
  return rows;
}

/** The rate as a percentage with one decimal, e.g. `97.3%`. */
export function percent(rate: number): string {
  return `${(Math.floor(rate * 1000) / 10).toFixed(1)}%`;
}

/** A fixed-width table: family, requests, blocked, passed, errors, rate (and the committed bound, if given). */
export function formatTally(
  rows: readonly TallyRow[],
  committed: Readonly<Record<string, number>> = {},
): string {
  const header = ["family", "requests", "blocked", "passed", "errors", "rate", "committed"];
  const body = rows.map((r) => [
    r.family === "benign" ? "benign (pass rate)" : r.family,
    String(r.total),
    String(r.blocked),
    String(r.passed),
    String(r.errors),
    percent(r.rate),
    committed[r.family] === undefined ? "-" : `>= ${percent(committed[r.family]!)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}
