import { describe, expect, test } from "bun:test";
import type { StringMatch } from "../model/types.ts";
import { compileCidrs, compileConditions, compileMatch, mediaTypeOf } from "./matchers.ts";
import { parseHead } from "./parse-request.ts";

const m = (kind: StringMatch["kind"], value: string, ignoreCase = false): StringMatch => ({
  kind,
  value,
  ignoreCase,
});

describe("compileMatch", () => {
  test("each kind, with and without ignoreCase", () => {
    expect(compileMatch(m("exact", "/a"), [])("/a")).toBe(true);
    expect(compileMatch(m("exact", "/a"), [])("/A")).toBe(false);
    expect(compileMatch(m("exact", "/a", true), [])("/A")).toBe(true);
    expect(compileMatch(m("prefix", "/ad"), [])("/admin")).toBe(true);
    expect(compileMatch(m("suffix", ".php", true), [])("/x.PHP")).toBe(true);
    expect(compileMatch(m("contains", "mid"), [])("amidst")).toBe(true);
  });

  test("a regex must match the whole value, in RE2", () => {
    const programs: never[] = [];
    const re = compileMatch(m("regex", "/api/v[0-9]+"), programs);
    expect(re("/api/v2")).toBe(true);
    expect(re("/api/v2/x")).toBe(false);
    expect(re("x/api/v2")).toBe(false);
    expect(compileMatch(m("regex", "abc", true), [])("ABC")).toBe(true);
    expect(compileMatch(m("regex", "a|b"), [])("ab")).toBe(false);
    expect(programs).toHaveLength(1);
  });
});

describe("compileConditions", () => {
  const head = (method: string, path: string, headers: [string, string][] = [], remoteIp?: string) =>
    parseHead({ method, rawTarget: path, headers, ...(remoteIp === undefined ? {} : { remoteIp }) });

  test("every condition set must match; none set matches everything", () => {
    const c = compileConditions({ method: ["POST"], path: m("prefix", "/api") }, []);
    expect(c(head("POST", "/api/x"))).toBe(true);
    expect(c(head("GET", "/api/x"))).toBe(false);
    expect(c(head("POST", "/web"))).toBe(false);
    expect(compileConditions({}, [])(head("GET", "/"))).toBe(true);
  });

  test("the path matcher sees the decoded path", () => {
    expect(compileConditions({ path: m("prefix", "/admin") }, [])(head("GET", "/%61dmin"))).toBe(true);
  });

  test("header name (ignoring case) and value; mediaType without parameters", () => {
    const c = compileConditions({ header: { name: m("exact", "X-Debug"), value: m("exact", "1") } }, []);
    expect(c(head("GET", "/", [["x-debug", "1"]]))).toBe(true);
    expect(c(head("GET", "/", [["x-debug", "2"]]))).toBe(false);
    const media = compileConditions({ mediaType: m("exact", "application/json") }, []);
    expect(media(head("POST", "/", [["content-type", "Application/JSON; charset=utf-8"]]))).toBe(true);
    expect(media(head("POST", "/"))).toBe(false);
    expect(mediaTypeOf(" text/html ; q=1")).toBe("text/html");
  });

  test("remoteIP ranges with invert, and invert of the whole", () => {
    const inside = compileConditions({ remoteIP: { cidrRanges: ["10.0.0.0/8"], invert: false } }, []);
    const outside = compileConditions({ remoteIP: { cidrRanges: ["10.0.0.0/8"], invert: true } }, []);
    expect(inside(head("GET", "/", [], "10.9.9.9"))).toBe(true);
    expect(outside(head("GET", "/", [], "10.9.9.9"))).toBe(false);
    expect(outside(head("GET", "/", [], "192.0.2.1"))).toBe(true);
    expect(inside(head("GET", "/"))).toBe(false);
    const notGet = compileConditions({ method: ["GET"], invert: true }, []);
    expect(notGet(head("GET", "/"))).toBe(false);
    expect(notGet(head("PUT", "/"))).toBe(true);
  });

  test("CIDRs: IPv4, IPv6, IPv4-mapped IPv6, and garbage refused", () => {
    const within = compileCidrs(["192.168.0.0/16", "2001:db8::/32"]);
    expect(within("192.168.3.4")).toBe(true);
    expect(within("::ffff:192.168.3.4")).toBe(true);
    expect(within("2001:db8:1::5")).toBe(true);
    expect(within("2001:db9::5")).toBe(false);
    expect(within("not an ip")).toBe(false);
    expect(() => compileCidrs(["10.0.0.0/40"])).toThrow("is not a CIDR range");
  });
});
