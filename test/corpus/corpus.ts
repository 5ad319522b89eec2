/**
 * The WAF corpus: attack requests per rule family and benign requests, one JSON object per line
 * (format in README.md). This module reads and validates the files and turns a line into the
 * bytes that go on the wire, so the corpus test and the benchmarks send exactly the same requests.
 *
 * @example
 * const corpus = loadCorpus();
 * const sql = corpus.attacks.filter((r) => r.family === "SQL");
 * const wire = requestBytes(sql[0]!, "shop.test"); // "GET /products?id=1'%20OR... HTTP/1.1\r\n..."
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RULE_FAMILIES, type RuleFamily } from "../../src/api/deny-rules.ts";

/** Where in the request the attack sits; `request` is the request as a whole (method, framing, several places). */
export const CORPUS_LOCATIONS = [
  "path",
  "query",
  "header",
  "cookie",
  "form",
  "json",
  "multipart",
  "request",
] as const;
export type CorpusLocation = (typeof CORPUS_LOCATIONS)[number];

/** One request of the corpus. */
export interface CorpusRequest {
  /** `<family or benign>-<location>-<nnn>`, unique across all files. */
  readonly id: string;
  /** The rule family the attack belongs to; null for benign traffic. */
  readonly family: RuleFamily | null;
  readonly location: CorpusLocation;
  readonly method: string;
  /** The request target exactly as sent: origin form (`/path?query`) or absolute form (`http://host/path`). */
  readonly target: string;
  /** Header fields in order; an array value sends the field once per element. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  /** The body as text (sent as UTF-8); absent for no body. */
  readonly body?: string;
  /** Sent as Content-Type when the line has a body. */
  readonly contentType?: string;
  /** What the line tries, for the reader and the failure report. */
  readonly note?: string;
  /** Where the line comes from: `<file>:<line number>`. */
  readonly source: string;
}

/** The whole corpus. */
export interface Corpus {
  readonly attacks: readonly CorpusRequest[];
  readonly benign: readonly CorpusRequest[];
}

/** The folder holding benign.jsonl and attacks/. */
export const CORPUS_DIR = import.meta.dir;

const ID = /^[a-z]+-[a-z]+-\d{3}$/;
const METHOD = /^[A-Z]+$/;
// RFC 3986 characters only, and no fragment: a client percent-encodes everything else and never
// sends a fragment, so an unencoded space, quote, angle bracket or # in a target would test the
// HTTP parser, not the rules.
const TARGET = /^(?:\/|https?:\/\/)[A-Za-z0-9\-._~:/?[\]@!$&'()*+,;=%]*$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
const FIELDS = new Set([
  "id",
  "family",
  "location",
  "method",
  "target",
  "headers",
  "body",
  "contentType",
  "note",
]);

/** A line the loader refused, with file and line number. */
export class CorpusError extends Error {
  override readonly name = "CorpusError";
}

/**
 * Parses one corpus line. Throws a CorpusError naming `source` and the field for a line that is not
 * a valid request: unknown fields, a family not in RULE_FAMILIES, a target with characters a client
 * would have encoded, CR or LF in a header (header injection belongs in a target or body).
 */
export function parseCorpusLine(text: string, source: string): CorpusRequest {
  const fail = (what: string): never => {
    throw new CorpusError(`${source}: ${what}`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return fail(`not JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return fail("not a JSON object");
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.has(k)) fail(`unknown field "${k}"`);
  const str = (k: string, required: boolean): string | undefined => {
    const v = o[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string") return fail(`${k} must be a string`);
    return v;
  };
  const id = str("id", true)!;
  if (!ID.test(id)) fail(`id "${id}" must look like sql-query-001`);
  const family = o.family;
  if (family !== null && !RULE_FAMILIES.includes(family as RuleFamily)) {
    fail(`family ${JSON.stringify(family)} must be null or one of ${RULE_FAMILIES.join(", ")}`);
  }
  const location = str("location", true)!;
  if (!CORPUS_LOCATIONS.includes(location as CorpusLocation)) {
    fail(`location "${location}" must be one of ${CORPUS_LOCATIONS.join(", ")}`);
  }
  const prefix = family === null ? "benign" : (family as string).toLowerCase();
  if (!id.startsWith(`${prefix}-${location}-`)) fail(`id "${id}" must start with "${prefix}-${location}-"`);
  const method = str("method", true)!;
  if (!METHOD.test(method)) fail(`method "${method}" must be upper-case letters`);
  const target = str("target", true)!;
  if (!TARGET.test(target))
    fail(`target ${JSON.stringify(target)} has characters a client would percent-encode`);
  const headersRaw = o.headers ?? {};
  if (typeof headersRaw !== "object" || headersRaw === null || Array.isArray(headersRaw)) {
    fail("headers must be an object");
  }
  const headers = headersRaw as Record<string, unknown>;
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) fail(`header name ${JSON.stringify(name)} is not a token`);
    if (/^(content-type|connection)$/i.test(name))
      fail(`header ${name} is set by the sender (use contentType)`);
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (typeof v !== "string") fail(`header ${name} must be a string or an array of strings`);
      if (/[\r\n]/.test(v as string)) fail(`header ${name} must not contain CR or LF`);
    }
  }
  const body = str("body", false);
  const contentType = str("contentType", false);
  if (contentType !== undefined && body === undefined) fail("contentType without a body");
  const note = str("note", false);
  return {
    id,
    family: family as RuleFamily | null,
    location: location as CorpusLocation,
    method,
    target,
    headers: headers as Record<string, string | string[]>,
    ...(body !== undefined ? { body } : {}),
    ...(contentType !== undefined ? { contentType } : {}),
    ...(note !== undefined ? { note } : {}),
    source,
  };
}

/** Parses a .jsonl file; blank lines are skipped. */
export function parseCorpusFile(text: string, file: string): CorpusRequest[] {
  return text
    .split("\n")
    .map((line, i) => [line, i + 1] as const)
    .filter(([line]) => line.trim() !== "")
    .map(([line, n]) => parseCorpusLine(line, `${file}:${n}`));
}

/**
 * Loads benign.jsonl and attacks/*.jsonl from `dir`. Throws a CorpusError on a bad line, a
 * duplicate id, a benign line in attacks/ or an attack line in benign.jsonl.
 */
export function loadCorpus(dir = CORPUS_DIR): Corpus {
  const benign = parseCorpusFile(readFileSync(join(dir, "benign.jsonl"), "utf8"), "benign.jsonl");
  const attacks = readdirSync(join(dir, "attacks"))
    .filter((f) => f.endsWith(".jsonl"))
    .sort()
    .flatMap((f) => parseCorpusFile(readFileSync(join(dir, "attacks", f), "utf8"), `attacks/${f}`));
  const seen = new Map<string, string>();
  for (const r of [...benign, ...attacks]) {
    const first = seen.get(r.id);
    if (first) throw new CorpusError(`${r.source}: id "${r.id}" is already used at ${first}`);
    seen.set(r.id, r.source);
  }
  for (const r of benign)
    if (r.family !== null) throw new CorpusError(`${r.source}: benign.jsonl holds only family null`);
  for (const r of attacks) {
    if (r.family === null) throw new CorpusError(`${r.source}: attacks/ holds only attacks (family set)`);
    const file = r.source.split(":")[0];
    if (file !== `attacks/${r.family.toLowerCase()}.jsonl`) {
      throw new CorpusError(
        `${r.source}: a ${r.family} line belongs in attacks/${r.family.toLowerCase()}.jsonl`,
      );
    }
  }
  return { attacks, benign };
}

/**
 * The HTTP/1.1 request as bytes: the target byte for byte, Host (unless the line sets its own),
 * headers in the line's order, then Content-Type and Content-Length (unless the line sets Content-Length or Transfer-Encoding
 * itself, as protocol attacks do) and `Connection: close`.
 */
export function requestBytes(r: CorpusRequest, host: string): Buffer {
  const ownHost = Object.keys(r.headers).some((n) => n.toLowerCase() === "host");
  const lines = [`${r.method} ${r.target} HTTP/1.1`, ...(ownHost ? [] : [`Host: ${host}`])];
  for (const [name, value] of Object.entries(r.headers)) {
    for (const v of Array.isArray(value) ? value : [value as string]) lines.push(`${name}: ${v}`);
  }
  const body = r.body === undefined ? undefined : Buffer.from(r.body, "utf8");
  if (body) {
    if (r.contentType !== undefined) lines.push(`Content-Type: ${r.contentType}`);
    const framed = Object.keys(r.headers).some((n) => /^(content-length|transfer-encoding)$/i.test(n));
    if (!framed) lines.push(`Content-Length: ${body.length}`);
  }
  lines.push("Connection: close", "", "");
  const head = Buffer.from(lines.join("\r\n"), "utf8");
  return body ? Buffer.concat([head, body]) : head;
}
