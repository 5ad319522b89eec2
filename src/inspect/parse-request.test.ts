import { describe, expect, test } from "bun:test";
import {
  parseHead,
  parseRequest,
  rawPathOf,
  rawQueryOf,
  SKIPPED_HEADERS,
  withBody,
} from "./parse-request.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("parseRequest", () => {
  test("path, segments by index, query parameters, headers and cookies, in request order", () => {
    const request = parseRequest({
      method: "GET",
      rawTarget: "/shop/a%2Fb/%3Cx%3E?q=a+b&id=1#frag",
      headers: [
        [":authority", "shop"],
        ["User-Agent", "curl/8"],
        ["Cookie", "sid=abc; pref=%3Cb%3E"],
        ["content-length", "0"],
      ],
      remoteIp: "10.1.2.3",
    });
    expect(request.headers).toEqual([
      ["user-agent", "curl/8"],
      ["cookie", "sid=abc; pref=%3Cb%3E"],
      ["content-length", "0"],
    ]);
    expect(request.remoteIp).toBe("10.1.2.3");
    expect(request.values.map((v) => [v.target, v.name, v.decoded])).toEqual([
      ["Path", undefined, "/shop/a/b/<x>"],
      ["PathSegment", "0", "shop"],
      ["PathSegment", "1", "a/b"],
      ["PathSegment", "2", "<x>"],
      ["Parameter", "q", "a b"],
      ["Parameter", "id", "1"],
      ["Header", "user-agent", "curl/8"],
      ["Cookie", "sid", "abc"],
      ["Cookie", "pref", "<b>"],
    ]);
    expect(SKIPPED_HEADERS.has("content-length")).toBe(true);
  });

  test("a body is read only by the selected parser", () => {
    const input = { method: "POST", rawTarget: "/f", headers: [], body: bytes("a=1&b=%3C") };
    const unread = parseRequest(input);
    expect(unread.bodySize).toBe(9);
    expect(unread.bodyParser).toBeUndefined();
    expect(unread.values.some((v) => v.source === "Post")).toBe(false);
    const form = parseRequest(input, "form");
    expect(form.bodyParser).toBe("form");
    expect(form.values.filter((v) => v.source === "Post").map((v) => [v.name, v.decoded])).toEqual([
      ["a", "1"],
      ["b", "<"],
    ]);
  });

  test("a malformed body leaves bodyError and keeps the head's values", () => {
    const json = parseRequest({ method: "POST", rawTarget: "/j?x=1", headers: [], body: bytes("{") }, "json");
    expect(json.bodyError).toStartWith("invalid JSON");
    expect(json.values.map((v) => v.target)).toEqual(["Path", "PathSegment", "Parameter"]);
    const multipart = parseRequest(
      {
        method: "POST",
        rawTarget: "/m",
        headers: [["content-type", "multipart/form-data"]],
        body: bytes("x"),
      },
      "multipart",
    );
    expect(multipart.bodyError).toContain("boundary");
  });

  test("withBody on a head gives the same as parsing at once", () => {
    const input = {
      method: "POST",
      rawTarget: "/j",
      headers: [["content-type", "application/json"]] as [string, string][],
      body: bytes('{"a":"b"}'),
    };
    expect(withBody(parseHead(input), input.body, "json")).toEqual(parseRequest(input, "json"));
  });

  test("rawPathOf and rawQueryOf split at the first ? and drop the fragment", () => {
    expect(rawPathOf("/a/b?c=d?e#f")).toBe("/a/b");
    expect(rawQueryOf("/a/b?c=d?e#f")).toBe("c=d?e");
    expect(rawQueryOf("/a")).toBe("");
    expect(rawPathOf("/a#x")).toBe("/a");
  });
});
