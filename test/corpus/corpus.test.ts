import { describe, expect, test } from "bun:test";
import { RULE_FAMILIES } from "../../src/api/deny-rules.ts";
import { CorpusError, loadCorpus, parseCorpusLine, requestBytes } from "./corpus.ts";

const corpus = loadCorpus();
const good = {
  id: "sql-query-900",
  family: "SQL",
  location: "query",
  method: "GET",
  target: "/search?q=1'%20or%201=1",
};
const line = (patch: Record<string, unknown>) => JSON.stringify({ ...good, ...patch });

describe("the corpus files", () => {
  test("every line is valid and every id unique (loadCorpus throws otherwise)", () => {
    expect(corpus.attacks.length).toBeGreaterThan(0);
    expect(corpus.benign.length).toBeGreaterThan(0);
  });

  test("every rule family has at least 20 attacks, and SQL and XSS reach all seven value locations", () => {
    const small = RULE_FAMILIES.map(
      (f) => [f, corpus.attacks.filter((r) => r.family === f).length] as const,
    ).filter(([, n]) => n < 20);
    expect(small).toEqual([]);
    for (const family of ["SQL", "XSS"]) {
      const locations = new Set(corpus.attacks.filter((r) => r.family === family).map((r) => r.location));
      expect([...locations].sort()).toEqual([
        "cookie",
        "form",
        "header",
        "json",
        "multipart",
        "path",
        "query",
      ]);
    }
  });

  test("the benign corpus has several hundred requests in every location a value can be in", () => {
    expect(corpus.benign.length).toBeGreaterThanOrEqual(400);
    const locations = new Set(corpus.benign.map((r) => r.location));
    for (const l of ["path", "query", "header", "cookie", "form", "json", "multipart"] as const) {
      expect(locations).toContain(l);
    }
  });

  test("JSON bodies with a JSON content type parse, except the SANITY and PROTOCOL lines that are broken on purpose", () => {
    const broken = [...corpus.benign, ...corpus.attacks].filter((r) => {
      if (r.contentType !== "application/json" || r.family === "SANITY" || r.family === "PROTOCOL")
        return false;
      try {
        JSON.parse(r.body ?? "");
        return false;
      } catch {
        return true;
      }
    });
    expect(broken.map((r) => r.id)).toEqual([]);
  });
});

describe("parseCorpusLine", () => {
  test("accepts a minimal line and names its source", () => {
    const r = parseCorpusLine(line({}), "attacks/sql.jsonl:1");
    expect(r).toMatchObject({
      id: "sql-query-900",
      family: "SQL",
      headers: {},
      source: "attacks/sql.jsonl:1",
    });
  });

  test.each([
    [{ family: "SQLI" }, 'family "SQLI" must be null or one of ENCODING'],
    [{ location: "body" }, 'location "body" must be one of'],
    [{ id: "xss-query-900" }, 'must start with "sql-query-"'],
    [{ id: "sql-query-1" }, "must look like sql-query-001"],
    [{ target: "/search?q=<script>" }, "characters a client would percent-encode"],
    [{ target: "/a b" }, "characters a client would percent-encode"],
    [{ target: "/doc#part" }, "characters a client would percent-encode"],
    [{ method: "get" }, "upper-case letters"],
    [{ headers: { "X-A": "a\r\nX-B: b" } }, "must not contain CR or LF"],
    [{ headers: { "Content-Type": "text/plain" } }, "is set by the sender"],
    [{ contentType: "text/plain" }, "contentType without a body"],
    [{ extra: 1 }, 'unknown field "extra"'],
  ])("refuses %j", (patch, message) => {
    expect(() => parseCorpusLine(line(patch), "f.jsonl:7")).toThrow(CorpusError);
    expect(() => parseCorpusLine(line(patch), "f.jsonl:7")).toThrow(message);
    expect(() => parseCorpusLine(line(patch), "f.jsonl:7")).toThrow("f.jsonl:7");
  });

  test("benign lines have family null and ids starting with benign-", () => {
    expect(parseCorpusLine(line({ family: null, id: "benign-query-001" }), "b:1").family).toBeNull();
    expect(() => parseCorpusLine(line({ family: null }), "b:1")).toThrow('must start with "benign-query-"');
  });
});

describe("requestBytes", () => {
  test("sends the target unmodified and counts the body's UTF-8 bytes", () => {
    const r = parseCorpusLine(
      line({
        method: "POST",
        location: "json",
        id: "sql-json-900",
        body: '{"q":"Zürich 北京"}',
        contentType: "application/json",
      }),
      "x:1",
    );
    const text = requestBytes(r, "shop.test").toString("utf8");
    expect(text).toStartWith("POST /search?q=1'%20or%201=1 HTTP/1.1\r\nHost: shop.test\r\n");
    expect(text).toContain(
      "Content-Type: application/json\r\nContent-Length: 22\r\nConnection: close\r\n\r\n",
    );
    expect(text).toEndWith('{"q":"Zürich 北京"}');
  });

  test("repeats array headers and leaves framing to a line that sets it", () => {
    const r = parseCorpusLine(
      line({
        id: "sql-request-900",
        location: "request",
        method: "POST",
        headers: { "Content-Length": ["6", "0"], Host: "other.test" },
        body: "abcdef",
      }),
      "x:1",
    );
    const text = requestBytes(r, "shop.test").toString("latin1");
    expect(text).toContain("Content-Length: 6\r\nContent-Length: 0\r\n");
    expect(text).toContain("Host: other.test\r\n");
    expect(text).not.toContain("shop.test");
    expect(text.match(/Content-Length/g)).toHaveLength(2);
  });
});
