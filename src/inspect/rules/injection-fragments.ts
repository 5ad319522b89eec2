/**
 * RE2 fragments shared by the injection rule families (IDOR, UNIXCMD, WINCMD, TEMPLATE, SSRF...).
 * Rules see decoded values, so each fragment is the plain spelling; `\s` is not used because RE2
 * reads it as ASCII whitespace and JavaScript as Unicode whitespace.
 *
 * @example `;${WS0}id${WS1}-u` // "; id -u", ";id\t-u"
 */

/** One whitespace character. */
export const WS = "[ \\t\\n\\r\\f\\v]";
/** Optional whitespace. */
export const WS0 = `${WS}*`;
/** At least one whitespace character. */
export const WS1 = `${WS}+`;
/** Optional spaces and tabs (no line break). */
export const SP0 = "[ \\t]*";
/** At least one space or tab. */
export const SP1 = "[ \\t]+";
/**
 * U+FFFD, what the decoder puts in place of invalid UTF-8, such as the overlong `%c0%ae` (`.`)
 * and `%c0%af` (`/`) that old servers accept.
 */
export const REPLACEMENT = "\uFFFD";
/** A character that cannot continue a name: the left edge of a word (RE2 has no lookbehind). */
export const NAME_START = "(?:^|[^a-z0-9_])";
/**
 * The left edge of a URL scheme: not after a letter, digit, `+`, `-` or `.` (which would make it
 * part of a longer scheme such as `view-source:` or `web+file:`).
 */
export const SCHEME_START = "(?:^|[^a-z0-9+\\-\\.])";
