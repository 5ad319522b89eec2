/**
 * Decoding of request values into the form the rules match (InspectedValue.decoded): percent-decoding
 * repeated until nothing changes (at most 3 rounds, so double and triple encoding fall out), `+` as
 * space for query and form values, HTML entities (named and numeric) resolved, and invalid UTF-8
 * replaced by U+FFFD. Never throws: every input has a decoding.
 */

/** Most percent-decoding rounds: `%25253C` (triple-encoded `<`) still decodes to `<`. */
export const MAX_PERCENT_ROUNDS = 3;

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/**
 * One round of percent-decoding: every run of `%XX` escapes becomes its bytes, read as UTF-8
 * (invalid sequences become U+FFFD); a `%` not followed by two hex digits stays as it is.
 *
 * @example percentDecodeOnce("%3Cscript%3E") // "<script>"
 */
export function percentDecodeOnce(text: string): string {
  let at = text.indexOf("%");
  if (at < 0) return text;
  let out = text.slice(0, at);
  const bytes: number[] = [];
  while (at < text.length) {
    const c = text.charCodeAt(at);
    if (c === 37 && at + 2 < text.length) {
      const hi = hexValue(text.charCodeAt(at + 1));
      const lo = hexValue(text.charCodeAt(at + 2));
      if (hi >= 0 && lo >= 0) {
        bytes.push(hi * 16 + lo);
        at += 3;
        continue;
      }
    }
    if (bytes.length > 0) {
      out += utf8.decode(new Uint8Array(bytes));
      bytes.length = 0;
    }
    const next = text.indexOf("%", at + 1);
    const end = next < 0 ? text.length : next;
    out += text.slice(at, end);
    at = end;
  }
  if (bytes.length > 0) out += utf8.decode(new Uint8Array(bytes));
  return out;
}

/** Named entities resolved (HTML5 names of the characters attacks are written with). */
const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  lt: "<",
  gt: ">",
  amp: "&",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  tab: "\t",
  newline: "\n",
  excl: "!",
  num: "#",
  dollar: "$",
  percnt: "%",
  lpar: "(",
  rpar: ")",
  ast: "*",
  midast: "*",
  plus: "+",
  comma: ",",
  period: ".",
  sol: "/",
  colon: ":",
  semi: ";",
  equals: "=",
  quest: "?",
  commat: "@",
  lsqb: "[",
  lbrack: "[",
  bsol: "\\",
  rsqb: "]",
  rbrack: "]",
  hat: "^",
  lowbar: "_",
  grave: "`",
  lcub: "{",
  lbrace: "{",
  verbar: "|",
  vert: "|",
  rcub: "}",
  rbrace: "}",
  tilde: "~",
};

/** Names a browser also resolves without the closing `;` (the legacy ones). */
const LEGACY_NAMES = new Set(["lt", "gt", "amp", "quot"]);

// A numeric entity (`&#60`, `&#x3c`, `;` optional as browsers allow) or a named one.
const ENTITY = /&(?:#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));?|([a-zA-Z]{2,8})(;?))/g;

/**
 * Resolves HTML character references: numeric (`&#60;`, `&#x3c;`, with or without `;`) and the
 * named ones of NAMED_ENTITIES (`;` required except for lt, gt, amp, quot, which browsers also
 * resolve without it and in front of other letters: `&ltscript`). A code point that is
 * not a character (0, a surrogate, above U+10FFFF) becomes U+FFFD; unknown names stay as they are.
 *
 * @example decodeHtmlEntities("&lt;script&#x3e;") // "<script>"
 */
export function decodeHtmlEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(ENTITY, (whole, hex: string | undefined, dec: string | undefined, name, semi) => {
    if (hex !== undefined || dec !== undefined) {
      const code = hex !== undefined ? Number.parseInt(hex, 16) : Number.parseInt(dec as string, 10);
      if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return "\ufffd";
      return String.fromCodePoint(code);
    }
    const lower = (name as string).toLowerCase();
    const resolved = NAMED_ENTITIES[lower];
    if (resolved !== undefined && (semi === ";" || LEGACY_NAMES.has(lower))) return resolved;
    // `&ltscript`: a legacy name needs no `;` and may run into the following letters.
    for (const legacy of LEGACY_NAMES) {
      if (lower.startsWith(legacy)) return `${NAMED_ENTITIES[legacy]}${whole.slice(1 + legacy.length)}`;
    }
    return whole;
  });
}

const NEEDS_DECODING = /[%&+]/;

/**
 * A request value as the rules see it: `+` as space first if `plusAsSpace` (query and form
 * values; a `%2B` stays a plus), then percent-decoding until nothing changes (at most
 * MAX_PERCENT_ROUNDS), then HTML entities.
 *
 * @example decodeValue("%253Cscript%253E", { plusAsSpace: true }) // "<script>"
 */
export function decodeValue(raw: string, options: { readonly plusAsSpace: boolean }): string {
  // Most values need no decoding at all.
  if (!NEEDS_DECODING.test(raw)) return raw;
  let text = options.plusAsSpace && raw.includes("+") ? raw.replaceAll("+", " ") : raw;
  for (let round = 0; round < MAX_PERCENT_ROUNDS; round++) {
    const next = percentDecodeOnce(text);
    if (next === text) break;
    text = next;
  }
  return decodeHtmlEntities(text);
}

/** Bytes as UTF-8 text, invalid sequences replaced by U+FFFD. */
export function utf8Text(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}
