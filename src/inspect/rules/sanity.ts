/**
 * The SANITY family: values that no legitimate client sends, whatever the application. They are
 * not an attack technique of their own but the by-products of one (a NUL that truncates a string in
 * C, bytes that are not UTF-8, a path that climbs above the root), so they are worth refusing before
 * any other rule has to reason about them.
 *
 * Deliberately left out: a limit on value length (that is the Limits resource's job) and Unicode
 * confusables (ordinary in international text).
 */
import type { ParsedRequest, RequestRule, ValueRule } from "../types.ts";

/** C0 controls except tab, LF and CR, and DEL: never typed, never produced by a form or a JSON encoder. */
const CONTROL = String.raw`[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]`;
/** U+FFFD, which the decoder puts where the bytes were not UTF-8. */
const REPLACEMENT = "\uFFFD";

export const SANITY_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "SANITY_NUL_CHARACTER",
    family: "SANITY",
    level: "Basic",
    regex: String.raw`\x00`,
    description: "A NUL character in a decoded value (truncates strings in C and file APIs)",
    examples: ["file.php\u0000.jpg", "\u0000", "admin\u0000"],
    benign: ["file.php.jpg", "0", "0x00", "\\0"],
  },
  {
    key: "SANITY_CONTROL_IN_PATH",
    family: "SANITY",
    level: "Basic",
    targets: ["Path", "PathSegment"],
    regex: String.raw`[\x01-\x1f\x7f]`,
    description: "A control character (tab, CR and LF included) in the decoded path",
    examples: ["/a\r\nSet-Cookie: x=1", "/files/a\tb", "/x\u001b[31m"],
    benign: ["/a b/c", "/caf\u00e9/men\u00fc", "/a/\\r\\n"],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "SANITY_CONTROL_CHARACTER",
    family: "SANITY",
    level: "Standard",
    targets: ["Parameter", "Header", "Cookie"],
    regex: CONTROL,
    description: "A control character other than tab, CR and LF in a parameter, header or cookie",
    examples: ["abc\u0007", "\u001b[2J", "name\u007f", "x\u000bSet-Cookie"],
    benign: ["line one\r\nline two", "a\tb", "plain text", "\u00e9t\u00e9"],
  },
  {
    key: "SANITY_INVALID_UTF8_IN_PATH",
    family: "SANITY",
    level: "Standard",
    targets: ["Path", "PathSegment"],
    regex: REPLACEMENT,
    description: "Bytes in the path that are not UTF-8 (the decoder replaced them by U+FFFD)",
    examples: [`/caf${REPLACEMENT}`, `/${REPLACEMENT}${REPLACEMENT}/etc`, `${REPLACEMENT}`],
    benign: ["/caf\u00e9", "/\u65e5\u672c", "/%ff"],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "SANITY_CONTROL_CHARACTER_JSON",
    family: "SANITY",
    level: "Strict",
    targets: ["JSON"],
    regex: CONTROL,
    description:
      "A control character other than tab, CR and LF in a JSON string (logs with ANSI colours have them)",
    examples: ["\u001b[31merror\u001b[0m", "bell\u0007", "\u0001"],
    benign: ["line one\nline two", "tab\there"],
  },
  {
    key: "SANITY_C1_CONTROL",
    family: "SANITY",
    level: "Strict",
    regex: String.raw`[\x80-\x9f]`,
    description: "A C1 control character (U+0080-U+009F), typical of mis-decoded or crafted input",
    examples: ["a\u0085b", "\u009b31m", "x\u0080"],
    benign: ["\u00a0non-breaking", "\u00e9\u00e8", "\u20ac"],
  },
  {
    key: "SANITY_INVALID_UTF8",
    family: "SANITY",
    level: "Strict",
    regex: REPLACEMENT,
    description: "Bytes that are not UTF-8 in any value (also legacy Latin-1 forms, hence Strict)",
    examples: [`caf${REPLACEMENT}`, `${REPLACEMENT}`, `name=${REPLACEMENT}${REPLACEMENT}`],
    benign: ["caf\u00e9", "\u00fc\u00f6\u00e4", "?"],
  },
  {
    key: "SANITY_BIDI_CONTROL",
    family: "SANITY",
    level: "Strict",
    regex: "[\u202a-\u202e\u2066-\u2069]",
    description: "Bidirectional embedding, override or isolate characters that reorder displayed text",
    examples: ["invoice\u202egpj.exe", "\u2066admin\u2069", "a\u202db"],
    benign: ["\u05e9\u05dc\u05d5\u05dd", "\u0645\u0631\u062d\u0628\u0627", "a\u200fb"],
  },
];

/** Longest run of one character that SANITY_REPEATED_CHARACTER lets through. */
export const MAX_CHARACTER_RUN = 512;

export const SANITY_REQUEST_RULES: readonly RequestRule[] = [
  {
    key: "SANITY_PATH_ESCAPES_ROOT",
    family: "SANITY",
    level: "Basic",
    description: "The path, once decoded and normalised, climbs above the root (/a/..%2f..%2fetc)",
    check: (request) => {
      const path = pathOf(request);
      return climbsAboveRoot(path) ? `path ${excerpt(path)} leaves the root` : undefined;
    },
  },
  {
    key: "SANITY_REPEATED_CHARACTER",
    family: "SANITY",
    level: "Strict",
    description: `A value with more than ${MAX_CHARACTER_RUN} times the same character in a row (overflow probes)`,
    check: (request) => {
      for (const value of request.values) {
        const run = longestRun(value.decoded);
        if (run.length > MAX_CHARACTER_RUN)
          return `${value.target}${value.name === undefined ? "" : ` "${value.name}"`} repeats ${JSON.stringify(run.char)} ${run.length} times`;
      }
      return undefined;
    },
  },
];

/** The path of the request target, without query and fragment. */
function pathOf(request: ParsedRequest): string {
  let end = request.rawTarget.length;
  for (const c of ["?", "#"]) {
    const at = request.rawTarget.indexOf(c);
    if (at >= 0 && at < end) end = at;
  }
  return request.rawTarget.slice(0, end);
}

/**
 * Whether `path` resolves above `/` once percent-escapes (three rounds, like the value decoder,
 * plus IIS `%uXXXX`) are decoded, backslashes read as slashes (Windows and IIS do) and `;params`
 * dropped from segments (Tomcat reads `..;` as `..`).
 *
 * @example climbsAboveRoot("/a/..%2f..%2fetc/passwd") // true
 */
export function climbsAboveRoot(path: string): boolean {
  let decoded = path;
  for (let round = 0; round < 3; round++) {
    const next = decodeAsciiEscapes(decoded);
    if (next === decoded) break;
    decoded = next;
  }
  let depth = 0;
  for (const raw of decoded.replaceAll("\\", "/").split("/")) {
    const semicolon = raw.indexOf(";");
    const segment = (semicolon < 0 ? raw : raw.slice(0, semicolon)).trim();
    if (segment === "..") {
      depth--;
      if (depth < 0) return true;
    } else if (segment !== "." && segment !== "") depth++;
  }
  return false;
}

/** Decodes `%XX` and `%uXXXX` escapes of ASCII characters; leaves everything else as it is. */
function decodeAsciiEscapes(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "%") {
      const iis = text[i + 1] === "u" || text[i + 1] === "U";
      const hex = iis ? text.slice(i + 2, i + 6) : text.slice(i + 1, i + 3);
      const code = isHex(hex, iis ? 4 : 2) ? Number.parseInt(hex, 16) : -1;
      if (code >= 0 && code < 0x80) {
        out += String.fromCharCode(code);
        i += iis ? 5 : 2;
        continue;
      }
    }
    out += c;
  }
  return out;
}

function isHex(text: string, length: number): boolean {
  if (text.length !== length) return false;
  for (const c of text) if (!"0123456789abcdefABCDEF".includes(c)) return false;
  return true;
}

/** The longest run of one repeated character in `text` (code units; enough for a probe of `A`s). */
function longestRun(text: string): { char: string; length: number } {
  let best = { char: "", length: 0 };
  let start = 0;
  for (let i = 1; i <= text.length; i++) {
    if (i === text.length || text[i] !== text[start]) {
      if (i - start > best.length) best = { char: text[start] ?? "", length: i - start };
      start = i;
    }
  }
  return best;
}

function excerpt(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 61)}...` : text);
}
