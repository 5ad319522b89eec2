/**
 * The multipart parser (multipart/form-data, RFC 7578): every field part is a Parameter of source
 * Post; a file part (one with a `filename`) contributes its file name and, for text files
 * (`text/*`, JSON, XML), the first MAX_TEXT_FILE_BYTES of its content. A body without the boundary
 * the Content-Type names, or without its closing delimiter, is reported as broken, never thrown.
 */
import { decodeValue, utf8Text } from "../decode.ts";
import type { InspectedValue } from "../types.ts";

/** How much of a text file part is inspected. */
export const MAX_TEXT_FILE_BYTES = 64 * 1024;

/** What the multipart parser found. */
export interface MultipartResult {
  /** The parts read, in order (also when the body turned out to be broken). */
  readonly values: InspectedValue[];
  readonly error?: string;
}

/** A parameter of a header value: `boundary` of `multipart/form-data; boundary="x"`. */
export function headerParameter(headerValue: string, name: string): string | undefined {
  const re = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, "i");
  const m = re.exec(headerValue);
  if (m === null) return undefined;
  return m[1] !== undefined ? m[1].replaceAll(/\\(.)/g, "$1") : m[2];
}

function isTextType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return (
    type.startsWith("text/") ||
    type.endsWith("json") ||
    type.endsWith("xml") ||
    type === "application/x-www-form-urlencoded"
  );
}

/**
 * Parses a multipart body. `contentType` is the request's Content-Type, which names the boundary.
 *
 * @example parseMultipart(body, "multipart/form-data; boundary=X").values // [{target: "Parameter", name: "a", source: "Post", ...}]
 */
export function parseMultipart(body: Uint8Array, contentType: string): MultipartResult {
  const values: InspectedValue[] = [];
  const boundary = headerParameter(contentType, "boundary");
  if (boundary === undefined || boundary === "" || boundary.length > 200) {
    return { values, error: "multipart body without a valid boundary parameter" };
  }
  // Latin-1 keeps one character per byte, so offsets are byte offsets; parts are re-read as UTF-8.
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("latin1");
  const delimiter = `--${boundary}`;
  let at = text.startsWith(delimiter) ? 0 : text.indexOf(`\n${delimiter}`);
  if (at < 0) return { values, error: "multipart body without its boundary" };
  if (at > 0) at += 1;
  for (;;) {
    at += delimiter.length;
    if (text.startsWith("--", at)) return { values };
    // Transport padding, then the line break ending the delimiter line.
    while (text[at] === " " || text[at] === "\t") at++;
    if (text.startsWith("\r\n", at)) at += 2;
    else if (text[at] === "\n") at += 1;
    else return { values, error: "multipart delimiter not followed by a line break" };
    const headersEnd = findHeadersEnd(text, at);
    if (headersEnd === undefined) return { values, error: "multipart part without the end of its headers" };
    const headers = partHeaders(text.slice(at, headersEnd.start));
    const next = text.indexOf(`\n${delimiter}`, headersEnd.end);
    if (next < 0) return { values, error: "multipart body without its closing boundary" };
    const contentEnd = next > 0 && text[next - 1] === "\r" ? next - 1 : next;
    addPart(values, headers, body.subarray(headersEnd.end, Math.max(headersEnd.end, contentEnd)));
    at = next + 1;
  }
}

function findHeadersEnd(text: string, from: number): { start: number; end: number } | undefined {
  // A part may have no headers at all: the blank line comes first.
  if (text.startsWith("\r\n", from)) return { start: from, end: from + 2 };
  if (text[from] === "\n") return { start: from, end: from + 1 };
  const crlf = text.indexOf("\r\n\r\n", from);
  const lf = text.indexOf("\n\n", from);
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { start: crlf, end: crlf + 4 };
  if (lf >= 0) return { start: lf, end: lf + 2 };
  return undefined;
}

function partHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    // Header values are UTF-8 in practice (RFC 7578 §5.1); re-read them as such.
    const value = utf8Text(Buffer.from(line.slice(colon + 1).trim(), "latin1"));
    headers.set(line.slice(0, colon).trim().toLowerCase(), value);
  }
  return headers;
}

function addPart(values: InspectedValue[], headers: Map<string, string>, content: Uint8Array): void {
  const disposition = headers.get("content-disposition") ?? "";
  const name = headerParameter(disposition, "name") ?? "";
  const filename = headerParameter(disposition, "filename");
  if (filename === undefined) {
    const raw = utf8Text(content);
    values.push({
      target: "Parameter",
      name,
      source: "Post",
      raw,
      decoded: decodeValue(raw, { plusAsSpace: false }),
    });
    return;
  }
  values.push({
    target: "Parameter",
    name,
    source: "Post",
    raw: filename,
    decoded: decodeValue(filename, { plusAsSpace: false }),
    file: "name",
  });
  if (isTextType(headers.get("content-type"))) {
    const raw = utf8Text(content.subarray(0, MAX_TEXT_FILE_BYTES));
    values.push({
      target: "Parameter",
      name,
      source: "Post",
      raw,
      decoded: decodeValue(raw, { plusAsSpace: false }),
      file: "content",
    });
  }
}
