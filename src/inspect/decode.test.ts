import { describe, expect, test } from "bun:test";
import { decodeHtmlEntities, decodeValue, percentDecodeOnce } from "./decode.ts";

const query = { plusAsSpace: true };
const plain = { plusAsSpace: false };

describe("percent-decoding", () => {
  test("one round decodes escapes to UTF-8 and keeps broken escapes", () => {
    expect(percentDecodeOnce("%3Cscript%3e")).toBe("<script>");
    expect(percentDecodeOnce("caf%C3%A9")).toBe("café");
    expect(percentDecodeOnce("100%")).toBe("100%");
    expect(percentDecodeOnce("%zz%4")).toBe("%zz%4");
    expect(percentDecodeOnce("%%41")).toBe("%A");
  });

  test("double and triple encoding fall out, a fourth layer stays", () => {
    expect(decodeValue("%253Cscript%253E", plain)).toBe("<script>");
    expect(decodeValue("%25253Cscript", plain)).toBe("<script");
    expect(decodeValue("%2525253C", plain)).toBe("%3C");
  });

  test("+ is a space in query and form values only, and %2B stays a plus", () => {
    expect(decodeValue("a+b%2Bc", query)).toBe("a b+c");
    expect(decodeValue("a+b", plain)).toBe("a+b");
  });

  test("invalid UTF-8 becomes U+FFFD instead of failing", () => {
    expect(decodeValue("%C3%28", plain)).toBe("\ufffd(");
    expect(decodeValue("%FF%FE", plain)).toBe("\ufffd\ufffd");
    // An overlong encoding of "/" is not a slash.
    expect(decodeValue("%C0%AF", plain)).not.toContain("/");
  });

  test("a value without anything to decode is returned as it is", () => {
    const value = "just a value";
    expect(decodeValue(value, query)).toBe(value);
  });
});

describe("HTML entities", () => {
  test("named, decimal and hex references, with and without semicolon", () => {
    expect(decodeHtmlEntities("&lt;svg&gt;")).toBe("<svg>");
    expect(decodeHtmlEntities("&#60;&#x3C;&#X3c;")).toBe("<<<");
    expect(decodeHtmlEntities("&#106avascript&colon;")).toBe("javascript:");
    expect(decodeHtmlEntities("&ltscript")).toBe("<script");
  });

  test("unknown names and names that need a semicolon stay as they are", () => {
    expect(decodeHtmlEntities("Tom &amp; Jerry &unknown; &colon")).toBe("Tom & Jerry &unknown; &colon");
  });

  test("code points that are not characters become U+FFFD", () => {
    expect(decodeHtmlEntities("&#0;&#xD800;&#x110000;")).toBe("\ufffd\ufffd\ufffd");
  });

  test("entities are resolved after percent-decoding", () => {
    expect(decodeValue("%26lt%3Bscript%26gt%3B", query)).toBe("<script>");
  });
});
