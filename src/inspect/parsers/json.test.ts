import { describe, expect, test } from "bun:test";
import { jsonChildPath, parseJson } from "./json.ts";

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

  test("100,000 levels of nesting do not overflow the stack", () => {
    const deep = `${"[".repeat(100_000)}"x"${"]".repeat(100_000)}`;
    const result = parseJson(deep);
    expect(result.error).toBeUndefined();
    expect(result.shape?.nestingDepth).toBe(100_000);
    expect(result.values).toHaveLength(1);
    const objects = `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`;
    expect(parseJson(objects).shape?.nestingDepth).toBe(50_000);
  });
});
