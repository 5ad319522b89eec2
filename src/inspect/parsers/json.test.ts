import { describe, expect, test } from "bun:test";
import { jsonChildPath, MAX_JSON_DEPTH, parseJson } from "./json.ts";

describe("parseJson", () => {
  test("every key and string value by JSONPath, in document order; numbers and booleans skipped", () => {
    const { values, error } = parseJson(
      '{"user":{"name":"x","age":3,"ok":true},"items":["a",{"b":"c"}],"n":null}',
    );
    expect(error).toBeUndefined();
    expect(values.map((v) => [v.name, v.jsonKey === true ? "key" : "value", v.raw])).toEqual([
      ["$.user", "key", "user"],
      ["$.items", "key", "items"],
      ["$.n", "key", "n"],
      ["$.user.name", "key", "name"],
      ["$.user.age", "key", "age"],
      ["$.user.ok", "key", "ok"],
      ["$.user.name", "value", "x"],
      ["$.items[0]", "value", "a"],
      ["$.items[1].b", "key", "b"],
      ["$.items[1].b", "value", "c"],
    ]);
  });

  test("values are decoded after JSON unescaping", () => {
    const { values } = parseJson('{"q":"\\u003cscript\\u003e %3Cb%3E"}');
    expect(values[1]).toMatchObject({ raw: "<script> %3Cb%3E", decoded: "<script> <b>" });
  });

  test("keys that are not identifiers are quoted", () => {
    expect(jsonChildPath("$", "a b")).toBe("$['a b']");
    expect(jsonChildPath("$", "it's")).toBe("$['it\\'s']");
    expect(jsonChildPath("$.x", "ok_1")).toBe("$.x.ok_1");
  });

  test("the shape: nesting depth, most keys and most elements with their paths", () => {
    const { shape } = parseJson('{"a":{"b":[1,2,3,[4]]},"c":{"x":1,"y":2,"z":3}}');
    expect(shape).toEqual({
      nestingDepth: 4,
      keyCount: 3,
      keyCountPath: "$.c",
      elementCount: 4,
      elementCountPath: "$.a.b",
    });
    expect(parseJson('"just a string"').shape?.nestingDepth).toBe(0);
  });

  test("malformed JSON is reported, never thrown", () => {
    for (const text of ['{"a":', "{a:1}", "", "[1,]", '{"a":"b"} x']) {
      const result = parseJson(text);
      expect(result.error).toStartWith("invalid JSON");
      expect(result.values).toEqual([]);
    }
  });

  test("nesting up to MAX_JSON_DEPTH is walked; deeper is an error that still reports the depth", () => {
    const ok = `${"[".repeat(MAX_JSON_DEPTH)}"x"${"]".repeat(MAX_JSON_DEPTH)}`;
    const result = parseJson(ok);
    expect(result.error).toBeUndefined();
    expect(result.shape?.nestingDepth).toBe(MAX_JSON_DEPTH);
    expect(result.values).toHaveLength(1);
    const deep = parseJson(`${"[".repeat(100_000)}"x"${"]".repeat(100_000)}`);
    expect(deep.error).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
    expect(deep.values).toEqual([]);
    expect(deep.shape?.nestingDepth).toBeGreaterThan(MAX_JSON_DEPTH);
    const objects = parseJson(`${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`);
    expect(objects.error).toContain("deeper than");
  });
});
