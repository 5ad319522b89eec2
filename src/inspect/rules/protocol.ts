/**
 * The PROTOCOL family: HTTP protocol anomalies that reach the application. Envoy's codec already
 * answers many with 400 or 501 before the inspector is asked (checked on Envoy 1.40 with raw
 * HTTP/1.1 requests): Content-Length together with Transfer-Encoding, any Transfer-Encoding but
 * `chunked`, repeated or malformed Content-Length, unknown or lower-case methods over HTTP/1.1,
 * a space before a header's colon, a missing Host, raw CR/LF in a header value; and it strips the
 * headers a `Connection` header names. Those are not repeated here. What does reach the inspector:
 * TRACE (and any method over HTTP/2), repeated Host, Content-Type, Authorization, Origin, Referer and
 * User-Agent headers (Envoy joins each into one value with a bare comma), header names with underscores, bodies on GET, and CR/LF that arrive
 * percent-encoded in values.
 */
import type { ParsedRequest, RequestRule, ValueRule } from "../types.ts";

/** Where a decoded line break can end up in a response header (not JSON: it carries text with lines). */
const SPLITTABLE = ["Path", "PathSegment", "Parameter", "Header", "Cookie"] as const;
/** A line break, optionally followed by folding whitespace. */
const LINE_START = String.raw`[\r\n][ \t]*`;

export const PROTOCOL_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "PROTOCOL_RESPONSE_SPLITTING",
    family: "PROTOCOL",
    level: "Basic",
    targets: SPLITTABLE,
    regex: `${LINE_START}(?:(?:set-cookie|content-length|transfer-encoding)[ \\t]*:|http/[0-9]+(?:\\.[0-9]+)?[ \\t]+[1-5][0-9][0-9])`,
    description:
      "A line break followed by Set-Cookie, a framing header or a status line (response splitting)",
    examples: [
      "/home\r\nSet-Cookie: session=attacker",
      "x\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK",
      "en\n\nHTTP/1.1 200 OK\nContent-Type: text/html",
      "a\r\n Transfer-Encoding: chunked",
    ],
    benign: ["line one\r\nline two", "set-cookie: is a header name", "HTTP/1.1 200 OK", "a\nset cookie"],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "PROTOCOL_HEADER_INJECTION",
    family: "PROTOCOL",
    level: "Standard",
    targets: SPLITTABLE,
    regex: `${LINE_START}(?:location|refresh|link|content-(?:type|disposition|security-policy)|access-control-[a-z-]+|cache-control|www-authenticate|x-[a-z0-9-]+)[ \\t]*:`,
    description: "A line break followed by a response header that redirects, caches or relaxes the browser",
    examples: [
      "/redirect\r\nLocation: https://evil.example/",
      "en\r\nAccess-Control-Allow-Origin: *",
      "x\nRefresh: 0; url=//evil.example",
      "a\r\nX-XSS-Protection: 0",
    ],
    benign: ["Meet me\r\nat the location of the office", "line\nx-ray results", "cache\ncontrol"],
  },
  {
    key: "PROTOCOL_LINE_BREAK_IN_HEADER",
    family: "PROTOCOL",
    level: "Standard",
    targets: ["Header", "Cookie"],
    regex: String.raw`[\r\n]`,
    description: "A (percent-encoded) CR or LF in a decoded header or cookie value",
    examples: ["a\r\nb", "session\nid", "\r"],
    benign: ["text/html, application/json", "Mozilla/5.0 (X11; Linux x86_64)", "a; b=c"],
  },
  {
    key: "PROTOCOL_RANGE_FLOOD",
    family: "PROTOCOL",
    level: "Standard",
    targets: ["Header"],
    names: ["range", "request-range"],
    regex: "(?:,[^,]*){10}",
    description: "A Range header with more than 10 ranges (overlapping ranges exhaust servers)",
    examples: [
      "bytes=0-,5-0,5-1,5-2,5-3,5-4,5-5,5-6,5-7,5-8,5-9",
      `bytes=${Array(20).fill("0-1").join(",")}`,
      "bytes=1-1, 2-2, 3-3, 4-4, 5-5, 6-6, 7-7, 8-8, 9-9, 10-10, 11-11",
    ],
    benign: ["bytes=0-1023", "bytes=0-99,200-299,400-499", "bytes=-500"],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "PROTOCOL_HEADER_LIKE_LINE",
    family: "PROTOCOL",
    level: "Strict",
    targets: SPLITTABLE,
    regex: `${LINE_START}[a-z0-9_-]+[ \\t]*:`,
    description: "A line break followed by anything shaped like a header (Name:), in any but JSON values",
    examples: ["x\r\nFoo: bar", "a\nNote: text areas have these too", "\r\n X-A:"],
    benign: ["line one\r\nline two", "Note: one line", "a\n: b"],
  },
];

/** Methods browsers and API clients send. */
const COMMON_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);
/** Further methods of the IANA HTTP method registry in use (WebDAV, CalDAV, PURGE is not registered). */
const REGISTERED_METHODS = new Set([
  ...COMMON_METHODS,
  "ACL",
  "BIND",
  "CHECKIN",
  "CHECKOUT",
  "COPY",
  "LABEL",
  "LINK",
  "LOCK",
  "MERGE",
  "MKACTIVITY",
  "MKCALENDAR",
  "MKCOL",
  "MKREDIRECTREF",
  "MKWORKSPACE",
  "MOVE",
  "ORDERPATCH",
  "PROPFIND",
  "PROPPATCH",
  "QUERY",
  "REBIND",
  "REPORT",
  "SEARCH",
  "UNBIND",
  "UNCHECKOUT",
  "UNLINK",
  "UNLOCK",
  "UPDATE",
  "UPDATEREDIRECTREF",
  "VERSION-CONTROL",
]);
/** Methods that echo the request or expose debugging (TRACE: cross-site tracing; TRACK: IIS; DEBUG: ASP.NET). */
const DEBUG_METHODS = new Set(["TRACE", "TRACK", "DEBUG"]);
/** Headers through which frameworks let a client replace the method. */
const METHOD_OVERRIDES = ["x-http-method-override", "x-http-method", "x-method-override"];
/**
 * Headers of which a request has one; a second one is read differently by different parsers. Envoy
 * joins repeated copies of these (its inline headers) into one value with `,`, so each gets a way
 * to count the copies in a value: `Bearer a,Bearer b` is two, `Digest a="1", b="2"` is one.
 */
const SINGLETONS: Readonly<Record<string, (value: string) => number>> = {
  host: (value) => value.split(",").length,
  "content-type": (value) => Math.max(1, mediaTypes(value).length),
  authorization: (value) => Math.max(1, outsideQuotes(value, ",").filter(isCredentials).length),
  origin: (value) => value.split(",").length,
  // A URL can hold commas; a second absolute URL cannot be part of the first.
  referer: (value) => Math.max(1, value.split(",").filter((part) => part.includes("://")).length),
  // Commas inside a product comment are the User-Agent's own: `(KHTML, like Gecko)`.
  "user-agent": (value) => topLevelCommas(value) + 1,
};

export const PROTOCOL_REQUEST_RULES: readonly RequestRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "PROTOCOL_DEBUG_METHOD",
    family: "PROTOCOL",
    level: "Basic",
    description: "TRACE, TRACK or DEBUG, as the method or through a method-override header",
    check: (request) => {
      const method = methodsOf(request).find((m) => DEBUG_METHODS.has(m.value.toUpperCase()));
      return method && `${method.from} ${method.value}`;
    },
  },
  {
    key: "PROTOCOL_CONFLICTING_HOST",
    family: "PROTOCOL",
    level: "Basic",
    description: "More than one Host (Envoy joins repeated Host headers into `a,b`)",
    check: (request) => {
      const hosts = headerValues(request, "host").flatMap((v) => v.split(",").map((h) => h.trim()));
      return new Set(hosts.map((h) => h.toLowerCase())).size > 1 ? `host ${listExcerpt(hosts)}` : undefined;
    },
  },
  {
    key: "PROTOCOL_CONFLICTING_CONTENT_TYPE",
    family: "PROTOCOL",
    level: "Basic",
    description: "More than one media type in Content-Type (repeated headers, joined by Envoy with a comma)",
    check: (request) => {
      const types = headerValues(request, "content-type").flatMap(mediaTypes);
      return new Set(types).size > 1 ? `content-type ${listExcerpt(types)}` : undefined;
    },
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "PROTOCOL_UNKNOWN_METHOD",
    family: "PROTOCOL",
    level: "Standard",
    description: "A method (or method override) that is not in the IANA method registry, or not upper case",
    check: (request) => {
      const method = methodsOf(request).find((m) => !REGISTERED_METHODS.has(m.value));
      return method && `${method.from} ${excerpt(method.value)} is not a registered method`;
    },
  },
  {
    key: "PROTOCOL_REPEATED_HEADER",
    family: "PROTOCOL",
    level: "Standard",
    description: `A header that must occur once sent more than once (${Object.keys(SINGLETONS).join(", ")})`,
    check: (request) => {
      for (const [name, copies] of Object.entries(SINGLETONS)) {
        const count = headerValues(request, name).reduce((sum, value) => sum + copies(value), 0);
        if (count > 1) return `header ${name} sent ${count} times`;
      }
      return undefined;
    },
  },
  {
    key: "PROTOCOL_URL_OVERRIDE_HEADER",
    family: "PROTOCOL",
    level: "Standard",
    description: "X-Original-URL or X-Rewrite-URL, which some frameworks route by instead of the path",
    check: (request) => {
      const header = request.headers.find(([name]) => name === "x-original-url" || name === "x-rewrite-url");
      return header && `${header[0]}: ${excerpt(header[1])}`;
    },
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "PROTOCOL_UNUSUAL_METHOD",
    family: "PROTOCOL",
    level: "Strict",
    description: `A method other than ${[...COMMON_METHODS].join(", ")} (WebDAV included)`,
    check: (request) => {
      const method = methodsOf(request).find((m) => !COMMON_METHODS.has(m.value));
      return method && `${method.from} ${excerpt(method.value)}`;
    },
  },
  {
    key: "PROTOCOL_BODY_WITHOUT_SEMANTICS",
    family: "PROTOCOL",
    level: "Strict",
    description: "A body on GET or HEAD (smuggling and cache poisoning; some search APIs use it)",
    check: (request) => {
      const method = request.method.toUpperCase();
      if (method !== "GET" && method !== "HEAD") return undefined;
      const length = headerValues(request, "content-length").find((v) => v.trim() !== "0");
      const chunked = headerValues(request, "transfer-encoding").length > 0;
      if (length !== undefined || chunked || (request.bodySize ?? 0) > 0) return `${method} with a body`;
      return undefined;
    },
  },
  {
    key: "PROTOCOL_UNDERSCORE_HEADER",
    family: "PROTOCOL",
    level: "Strict",
    description: "A header name with an underscore (CGI and WSGI read X_Forwarded_For as X-Forwarded-For)",
    check: (request) => {
      const header = request.headers.find(([name]) => name.includes("_"));
      return header && `header ${excerpt(header[0])}`;
    },
  },
];

/** Values of header `name` (lower case), in order. */
function headerValues(request: ParsedRequest, name: string): string[] {
  return request.headers.filter(([n]) => n === name).map(([, v]) => v);
}

/** The method and every method-override header, each with where it came from. */
function methodsOf(request: ParsedRequest): { from: string; value: string }[] {
  return [
    { from: "method", value: request.method },
    ...METHOD_OVERRIDES.flatMap((name) =>
      headerValues(request, name).map((value) => ({ from: name, value: value.trim() })),
    ),
  ];
}

/** `value` split at `separator` where it is not inside double quotes. */
function outsideQuotes(value: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (const c of value) {
    if (c === '"') quoted = !quoted;
    if (c === separator && !quoted) {
      parts.push(current);
      current = "";
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** RFC 9110 token characters, of which an authentication scheme is made. */
const TOKEN = new Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

/** Whether `part` starts credentials: a scheme, a space, something (`Bearer x`, not `realm="y"`). */
function isCredentials(part: string): boolean {
  const text = part.trim();
  const space = text.indexOf(" ");
  if (space <= 0 || text.slice(space).trim() === "") return false;
  for (const c of text.slice(0, space)) if (!TOKEN.has(c)) return false;
  return true;
}

/** Commas outside parentheses (User-Agent comments). */
function topLevelCommas(value: string): number {
  let depth = 0;
  let commas = 0;
  for (const c of value) {
    if (c === "(") depth++;
    else if (c === ")") depth = Math.max(0, depth - 1);
    else if (c === "," && depth === 0) commas++;
  }
  return commas;
}

/**
 * The media types (`type/subtype`, lower case) in a Content-Type value, which is more than one when
 * repeated headers were joined with commas. Commas inside quoted parameters do not separate.
 *
 * @example mediaTypes('multipart/form-data; boundary="a,b"') // ["multipart/form-data"]
 */
export function mediaTypes(value: string): string[] {
  return outsideQuotes(value, ",")
    .map((part) => (part.split(";")[0] ?? "").trim().toLowerCase())
    .filter((type) => type.includes("/"));
}

function listExcerpt(values: readonly string[]): string {
  return excerpt(values.join(", "));
}

function excerpt(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 61)}...` : text);
}
