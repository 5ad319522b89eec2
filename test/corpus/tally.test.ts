import { describe, expect, test } from "bun:test";
import { parseCorpusLine } from "./corpus.ts";
import { classify, type SendResult, withPathPrefix } from "./send.ts";
import { formatTally, percent, tally } from "./tally.ts";

function result(id: string, family: string | null, outcome: SendResult["outcome"]): SendResult {
  const location = id.split("-")[1];
  const request = parseCorpusLine(
    JSON.stringify({ id, family, location, method: "GET", target: "/" }),
    "t:1",
  );
  return { request, status: outcome === "passed" ? 200 : outcome === "blocked" ? 400 : 0, outcome };
}

describe("tally", () => {
  test("block rate per family, pass rate for benign, misses named", () => {
    const rows = tally([
      result("sql-query-001", "SQL", "blocked"),
      result("sql-query-002", "SQL", "passed"),
      result("sql-json-003", "SQL", "blocked"),
      result("sql-json-004", "SQL", "error"),
      result("xss-query-001", "XSS", "blocked"),
      result("benign-query-001", null, "passed"),
      result("benign-query-002", null, "blocked"),
    ]);
    expect(rows.map((r) => [r.family, r.total, r.blocked, r.passed, r.errors, r.rate])).toEqual([
      ["SQL", 4, 2, 1, 1, 0.5],
      ["XSS", 1, 1, 0, 0, 1],
      ["benign", 2, 1, 1, 0, 0.5],
    ]);
    expect(rows[0]!.misses).toEqual(["sql-query-002", "sql-json-004"]);
    expect(rows[2]!.misses).toEqual(["benign-query-002"]);
  });

  test("percent rounds down, so a printed rate never overstates", () => {
    expect(percent(0.99949)).toBe("99.9%");
    expect(percent(2 / 3)).toBe("66.6%");
    expect(percent(1)).toBe("100.0%");
  });

  test("the table shows the committed bound where there is one", () => {
    const text = formatTally(tally([result("sql-query-001", "SQL", "blocked")]), { SQL: 0.95 });
    expect(text.split("\n")[2]).toMatch(/^SQL\s+1\s+1\s+0\s+0\s+100\.0%\s+>= 95\.0%$/);
  });
});

describe("send helpers", () => {
  test("only the upstream's marker means passed; the gateway's 4xx and 501 mean blocked", () => {
    expect(classify(200, true)).toBe("passed");
    expect(classify(404, true)).toBe("passed");
    expect(classify(400, false)).toBe("blocked");
    expect(classify(403, false)).toBe("blocked");
    expect(classify(501, false)).toBe("blocked");
    expect(classify(503, false)).toBe("error");
    expect(classify(200, false)).toBe("error");
  });

  test("withPathPrefix handles origin and absolute form", () => {
    expect(withPathPrefix("/a?b=1", "/__bare")).toBe("/__bare/a?b=1");
    expect(withPathPrefix("http://h.example/admin", "/__bare")).toBe("http://h.example/__bare/admin");
    expect(withPathPrefix("http://h.example", "/__bare")).toBe("http://h.example/__bare/");
    expect(withPathPrefix("/a", "")).toBe("/a");
  });
});
