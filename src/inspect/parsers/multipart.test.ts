import { describe, expect, test } from "bun:test";
import { headerParameter, MAX_TEXT_FILE_BYTES, parseMultipart } from "./multipart.ts";

const CT = "multipart/form-data; boundary=XyZ";

function body(...parts: string[]): Uint8Array {
  return new TextEncoder().encode(`${parts.map((p) => `--XyZ\r\n${p}\r\n`).join("")}--XyZ--\r\n`);
}

describe("parseMultipart", () => {
  test("fields are Post parameters; a file contributes its name, a text file also its content", () => {
    const result = parseMultipart(
      body(
        'Content-Disposition: form-data; name="title"\r\n\r\nHello <b>',
        'Content-Disposition: form-data; name="doc"; filename="a\'.txt"\r\nContent-Type: text/plain\r\n\r\nline1\r\nline2',
        'Content-Disposition: form-data; name="img"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG',
      ),
      CT,
    );
    expect(result.error).toBeUndefined();
    expect(result.values.map((v) => [v.name, v.file ?? "field", v.decoded])).toEqual([
      ["title", "field", "Hello <b>"],
      ["doc", "name", "a'.txt"],
      ["doc", "content", "line1\r\nline2"],
      ["img", "name", "x.png"],
    ]);
    expect(result.values.every((v) => v.target === "Parameter" && v.source === "Post")).toBe(true);
  });

  test("a quoted boundary, a preamble and LF-only line breaks", () => {
    const text = 'preamble\n--a b\nContent-Disposition: form-data; name="x"\n\nvalue\n--a b--';
    const result = parseMultipart(new TextEncoder().encode(text), 'multipart/form-data; boundary="a b"');
    expect(result).toEqual({
      values: [{ target: "Parameter", name: "x", source: "Post", raw: "value", decoded: "value" }],
    });
  });

  test("UTF-8 field values, invalid bytes replaced", () => {
    const bytes = new Uint8Array([
      ...new TextEncoder().encode('--XyZ\r\nContent-Disposition: form-data; name="n"\r\n\r\ncafé '),
      0xff,
      ...new TextEncoder().encode("\r\n--XyZ--"),
    ]);
    expect(parseMultipart(bytes, CT).values[0]?.decoded).toBe("café \ufffd");
  });

  test("a text file is inspected up to MAX_TEXT_FILE_BYTES", () => {
    const big = "a".repeat(MAX_TEXT_FILE_BYTES + 100);
    const result = parseMultipart(
      body(
        `Content-Disposition: form-data; name="f"; filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n${big}`,
      ),
      CT,
    );
    expect(result.values[1]?.raw.length).toBe(MAX_TEXT_FILE_BYTES);
  });

  test("broken bodies are reported with what was read before, never thrown", () => {
    const cases: [Uint8Array, string, string][] = [
      [
        body('Content-Disposition: form-data; name="a"\r\n\r\n1'),
        "multipart/form-data",
        "without a valid boundary",
      ],
      [new TextEncoder().encode("no boundary here"), CT, "without its boundary"],
      [
        new TextEncoder().encode(
          '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--XyZ\r\nContent-Disposition: form-data; name="b"\r\n\r\n2',
        ),
        CT,
        "without its closing boundary",
      ],
      [
        new TextEncoder().encode("--XyZ\r\nContent-Disposition: form-data"),
        CT,
        "without the end of its headers",
      ],
      [new TextEncoder().encode("--XyZgarbage"), CT, "not followed by a line break"],
    ];
    for (const [bytes, contentType, message] of cases) {
      const result = parseMultipart(bytes, contentType);
      expect(result.error).toContain(message);
    }
    const partial = parseMultipart(cases[2]?.[0] as Uint8Array, CT);
    expect(partial.values.map((v) => v.name)).toEqual(["a"]);
  });

  test("headerParameter reads plain and quoted parameters", () => {
    expect(headerParameter('form-data; name="a\\"b"; filename=x.txt', "name")).toBe('a"b');
    expect(headerParameter('form-data; name="a"; filename=x.txt', "filename")).toBe("x.txt");
    expect(headerParameter("form-data; filename=x", "name")).toBeUndefined();
  });
});
