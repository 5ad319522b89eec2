/**
 * How the characters that matter to an injection can be spelled in a request target, as RE2
 * fragments for the built-in rules.
 *
 * Envoy matches the raw request target: it never decodes the query string, and with
 * `normalize_path` it decodes only unreserved characters in the path while it *escapes* `<`, `>`,
 * `"` and friends. So every fragment accepts the plain character, its percent-encoding and its
 * double percent-encoding (`'`, `%27`, `%2527`); hex digits are written lower-case and the rules are
 * always compiled case-insensitively, so `%3C` and `%3c` both match.
 *
 * Every fragment uses only syntax that means the same in RE2 and in JavaScript (no `\s`, no
 * lookaround, no backreferences), so the tests can evaluate the rules with a JS RegExp.
 */

/** `plain` (a regex atom) or its single or double percent-encoding with the two hex digits `hex`. */
export function spelled(plain: string, hex: string): string {
  return `(?:${plain}|%(?:25)?${hex})`;
}

/** A percent-encoded (once or twice) ASCII letter: only ever sent to disguise a keyword or tag name. */
export const ENCODED_LETTER = `%(?:25)?(?:[46][1-9a-f]|[57][0-9a])`;

/** `'` or `"`: the quotes that end an SQL string literal or an HTML attribute value. */
export const QUOTE = `(?:['"]|%(?:25)?2[27])`;
/** `'`, `"` or a backtick. */
export const ANY_QUOTE = String.raw`(?:['"\x60]|%(?:25)?(?:2[27]|60))`;
/** `(`. */
export const OPEN_PAREN = spelled(String.raw`\(`, "28");
/** `)`. */
export const CLOSE_PAREN = spelled(String.raw`\)`, "29");
/** `=`. */
export const EQUALS = spelled("=", "3d");
/** `<`: opens an HTML tag. */
export const LESS_THAN = spelled("<", "3c");
/** `>`. */
export const GREATER_THAN = spelled(">", "3e");
/** `;`: ends an SQL statement. */
export const SEMICOLON = spelled(";", "3b");
/** `:`: ends a URI scheme. */
export const COLON = spelled(":", "3a");
/** `/`. */
export const SLASH = spelled("/", "2f");
/** `*`. */
export const STAR = spelled(String.raw`\*`, "2a");
/** `@`: SQL variables. */
export const AT = spelled("@", "40");
/** `,`. */
export const COMMA = spelled(",", "2c");
/** `.`. */
export const DOT = spelled(String.raw`\.`, "2e");
/** `-`. */
export const DASH = spelled("-", "2d");
/** `|`. */
export const PIPE = spelled(String.raw`\|`, "7c");
/** `&`. */
export const AMPERSAND = spelled("&", "26");
/** `!`. */
export const EXCLAMATION = spelled("!", "21");
/** `#` only encoded: a raw `#` starts the fragment, which clients do not send. */
export const HASH = "%(?:25)?23";
/** A comparison operator as SQL writes it: `=`, `<`, `>`, `<>`, `!=`, `>=`, `==`... */
export const COMPARISON = `(?:${EQUALS}|${LESS_THAN}|${GREATER_THAN}|${EXCLAMATION})+`;

/**
 * One whitespace character as SQL and HTML parsers accept it: space, tab, LF, VT, FF, CR, NBSP
 * (MySQL treats `%a0` as a space in some character sets), and `+`, which is a space in a query
 * string and which we accept in the path too rather than guess how the application decodes it;
 * `%2b` is such a `+` encoded once more (a double-encoded space).
 */
export const SPACE = String.raw`(?:[ \t\n\v\f\r+]|%(?:25)?(?:0[9a-d]|20|a0)|%2b)`;

/**
 * An SQL block comment (slash-star to star-slash, MySQL's versioned `/*!50000` included), which every
 * dialect accepts wherever a space may stand.
 */
export const BLOCK_COMMENT = `${SLASH}${STAR}.*${STAR}${SLASH}`;

/** One or more spaces: token separation where a separate rule looks for comments. */
export const SPACES = `${SPACE}+`;
/** Optional spaces. */
export const OPTIONAL_SPACES = `${SPACE}*`;

/**
 * An SQL line comment (`--` or `#`) up to the newline that ends it, which also stands in for a
 * space (`union%23%0aselect`).
 */
export const LINE_COMMENT = `(?:${DASH}{2}|${HASH}).*(?:\\n|%(?:25)?0a)`;

/**
 * SQL token separation: one or more spaces or block comments. About three times the RE2 program
 * of `SPACES`, so only the Basic rules use it; from Standard on, SQL_COMMENTED_KEYWORD catches
 * comments next to keywords and the other rules separate tokens with `SPACES`.
 */
export const GAP = `(?:${SPACE}|${BLOCK_COMMENT})+`;
/** Optional SQL token separation. */
export const OPTIONAL_GAP = `(?:${SPACE}|${BLOCK_COMMENT})*`;

/**
 * What may stand before a word for it to start a token: the start, a non-word character, or any
 * percent-escape (`%27select` has no `\b` before `select`, but the application sees `'select`).
 */
export const WORD_START = `(?:^|[^0-9a-z_]|%[0-9a-f]{2})`;
