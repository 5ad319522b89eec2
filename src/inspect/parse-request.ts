/**
 * A request as Envoy hands it to the inspector -> ParsedRequest: the path, its segments, query
 * parameters, headers, cookies and, if a body parser was selected (src/inspect/parser-selection.ts),
 * the body's parameters or JSON properties. Never throws: a body its parser cannot read leaves
 * `bodyError` set, which the engine reports as a `parser` finding.
 *
 * Headers not inspected as Header values (SKIPPED_HEADERS): `cookie`, whose cookies are inspected
 * one by one as Cookie values instead, and `content-length`, a number Envoy has already validated.
 * Pseudo-headers (`:path`, `:method`, `:authority`, ...) are not headers here: the path is
 * inspected as Path, the method by request rules, and `:authority` is Envoy's to route on.
 */
import { decodeValue, utf8Text } from "./decode.ts";
import { formParameters } from "./parsers/form.ts";
import { parseJson } from "./parsers/json.ts";
import { parseMultipart } from "./parsers/multipart.ts";
import type { InspectedValue, JsonShape, ParsedRequest } from "./types.ts";

/** What the plumbing knows of a request. Header names in any case; pseudo-headers are dropped. */
export interface RequestInput {
  readonly method: string;
  /** `:path` as sent: path and query, percent-encoding intact. */
  readonly rawTarget: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: Uint8Array;
  readonly remoteIp?: string;
}

/** Headers that are not inspected as Header values (see the file comment). */
export const SKIPPED_HEADERS: ReadonlySet<string> = new Set(["cookie", "content-length"]);

/** The path part of a request target (before `?` and `#`), percent-encoding intact. */
export function rawPathOf(rawTarget: string): string {
  const end = rawTarget.search(/[?#]/);
  return end < 0 ? rawTarget : rawTarget.slice(0, end);
}

/** The query part of a request target (after the first `?`, before `#`), or "". */
export function rawQueryOf(rawTarget: string): string {
  const q = rawTarget.indexOf("?");
  if (q < 0) return "";
  const hash = rawTarget.indexOf("#", q);
  return hash < 0 ? rawTarget.slice(q + 1) : rawTarget.slice(q + 1, hash);
}

/** Header list with lower-case names and without pseudo-headers. */
export function normalizeHeaders(headers: readonly (readonly [string, string])[]): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of headers) {
    if (name.startsWith(":")) continue;
    out.push([name.toLowerCase(), value]);
  }
  return out;
}

/** The first value of header `name` (lower case), if any. */
export function headerValue(
  headers: readonly (readonly [string, string])[],
  name: string,
): string | undefined {
  for (const [n, v] of headers) if (n === name) return v;
  return undefined;
}

/**
 * Parses `input`; `parser` is the body parser selected for it (none: the body is not read).
 * The same as `withBody(parseHead(input), input.body, parser)`.
 *
 * @example parseRequest({method: "GET", rawTarget: "/a/b?q=1", headers: []}).values.map((v) => v.target) // ["Path", "PathSegment", "PathSegment", "Parameter"]
 */
export function parseRequest(input: RequestInput, parser?: "form" | "json" | "multipart"): ParsedRequest {
  return withBody(parseHead(input), input.body, parser);
}

/**
 * What can be parsed before the body arrives: path, segments, query, headers, cookies. Enough for
 * `bodyNeeded` and `headerPhaseLimits`; `withBody` adds the body later without parsing these again.
 */
export function parseHead(input: Omit<RequestInput, "body">): ParsedRequest {
  const headers = normalizeHeaders(input.headers);
  const values: InspectedValue[] = [];
  const rawPath = rawPathOf(input.rawTarget);
  values.push({ target: "Path", raw: rawPath, decoded: decodeValue(rawPath, { plusAsSpace: false }) });
  const segments = rawPath.split("/");
  // "/a/b" -> "", "a", "b": the empty string before the first slash is not a segment.
  const first = segments[0] === "" ? 1 : 0;
  for (let i = first; i < segments.length; i++) {
    const raw = segments[i] as string;
    values.push({
      target: "PathSegment",
      name: String(i - first),
      raw,
      decoded: decodeValue(raw, { plusAsSpace: false }),
    });
  }
  values.push(...formParameters(rawQueryOf(input.rawTarget), "Query"));
  for (const [name, value] of headers) {
    if (name === "cookie") values.push(...cookies(value));
    else if (!SKIPPED_HEADERS.has(name))
      values.push({
        target: "Header",
        name,
        raw: value,
        decoded: decodeValue(value, { plusAsSpace: false }),
      });
  }
  return {
    method: input.method,
    rawTarget: input.rawTarget,
    headers,
    values,
    ...(input.remoteIp === undefined ? {} : { remoteIp: input.remoteIp }),
  };
}

/**
 * `head` (from `parseHead`) with its body: its size, and its values if `parser` reads it.
 *
 * @example withBody(head, new TextEncoder().encode('{"a":"b"}'), "json")
 */
export function withBody(
  head: ParsedRequest,
  body: Uint8Array | undefined,
  parser?: "form" | "json" | "multipart",
): ParsedRequest {
  if (body === undefined) return head;
  if (parser === undefined) return { ...head, bodySize: body.byteLength };
  const values = [...head.values];
  const headers = head.headers;
  let bodyError: string | undefined;
  let json: JsonShape | undefined;
  switch (parser) {
    case "form":
      values.push(...formParameters(utf8Text(body), "Post"));
      break;
    case "json": {
      const result = parseJson(utf8Text(body));
      values.push(...result.values);
      bodyError = result.error;
      json = result.shape;
      break;
    }
    case "multipart": {
      const result = parseMultipart(body, headerValue(headers, "content-type") ?? "");
      values.push(...result.values);
      bodyError = result.error;
      break;
    }
  }
  return {
    ...head,
    values,
    bodyParser: parser,
    bodySize: body.byteLength,
    ...(bodyError === undefined ? {} : { bodyError }),
    ...(json === undefined ? {} : { json }),
  };
}

/** The cookies of one Cookie header: `a=1; b=2`, each a Cookie value named by the cookie. */
function cookies(header: string): InspectedValue[] {
  const out: InspectedValue[] = [];
  for (const part of header.split(";")) {
    const pair = part.trim();
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = eq < 0 ? "" : pair.slice(0, eq).trim();
    const raw = eq < 0 ? pair : pair.slice(eq + 1).trim();
    out.push({ target: "Cookie", name, raw, decoded: decodeValue(raw, { plusAsSpace: false }) });
  }
  return out;
}
