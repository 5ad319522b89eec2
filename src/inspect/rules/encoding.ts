/**
 * The ENCODING family: spellings whose only purpose is to slip past a filter that decodes less (or
 * differently) than the application does. Every rule reads the value as sent (`input: "raw"`),
 * because the decoder has already removed what these rules look for.
 *
 * Case does not matter anywhere (rules are case-insensitive, and so is hex), so "mixed-case"
 * tricks such as `%C0%aF` or `%U0027` are the same spelling as their lower-case forms. Mixed-case
 * keywords (`SeLeCt`) are the injection families' business; a letter percent-encoded inside a
 * keyword (`s%65lect`) is caught here by ENCODING_ESCAPED_LETTER.
 *
 * `(?:25)*` after a `%` accepts the same escape encoded again (`%c0` as `%25c0`, `%2525c0`).
 */
import type { InspectTarget, ValueRule } from "../types.ts";

/** Values that arrive percent-encoded. Header and JSON values are not URL-encoded on the wire. */
const URL_ENCODED: readonly InspectTarget[] = ["Path", "PathSegment", "Parameter", "Cookie"];
/** A `%`, possibly itself encoded any number of times. */
const PCT = "%(?:25)*";
/** `%` not followed by two hex digits. */
const INVALID_ESCAPE = "%(?:[^0-9a-f]|[0-9a-f](?:[^0-9a-f]|$)|$)";

export const ENCODING_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "ENCODING_OVERLONG_UTF8",
    family: "ENCODING",
    level: "Basic",
    input: "raw",
    regex: `${PCT}(?:c[01]${PCT}[89ab]|e0${PCT}[89]|f0${PCT}8)`,
    description:
      "Overlong UTF-8 (%c0%af for /, %e0%80%af): a character spelled with more bytes than it needs",
    examples: [
      "..%c0%af..%c0%afetc/passwd",
      "%e0%80%af",
      "%C0%AE%C0%AE/",
      "%f0%80%80%af",
      "%25c0%25af",
      "%c1%9c",
    ],
    benign: ["%c3%a9t%c3%a9", "%e0%a4%85", "%f0%9f%98%80", "%C2%A0", "c0af"],
  },
  {
    key: "ENCODING_IIS_ASCII",
    family: "ENCODING",
    level: "Basic",
    input: "raw",
    regex: `${PCT}u00[0-7][0-9a-f]`,
    description: "IIS %u escape of an ASCII character (%u0027), which no browser or encoder produces",
    examples: ["%u0027%20or%201=1", "%u002e%u002e/", "%U003Cscript%U003E", "%25u0027"],
    benign: ["%u4e2d%u6587", "menu0027", "%75", "%u00e9"],
  },
  {
    key: "ENCODING_NULL_BYTE",
    family: "ENCODING",
    level: "Basic",
    input: "raw",
    regex: `${PCT}00`,
    description: "A percent-encoded NUL (%00), used to cut off a suffix the application appends",
    examples: ["../../etc/passwd%00.jpg", "%00", "shell.php%2500.png"],
    benign: ["%200", "100%20off", "a%3D00", "%2000"],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "ENCODING_MULTIPLE",
    family: "ENCODING",
    level: "Standard",
    input: "raw",
    regex: "%25(?:25)+[0-9a-f]{2}",
    description: "Triple (or deeper) percent-encoding (%25252e), which only evades decoding layers",
    examples: ["%25252e%25252e%25252f", "%252527", "%2525253C"],
    benign: ["%2527", "%25", "100%25 sure", "%2525"],
  },
  {
    key: "ENCODING_ESCAPED_LETTER",
    family: "ENCODING",
    level: "Standard",
    targets: URL_ENCODED,
    input: "raw",
    regex: `${PCT}(?:3[0-9]|4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a])`,
    description: "A percent-encoded letter or digit (s%65lect, %3C%73cript): encoders never escape them",
    examples: ["s%65lect", "%3C%73cript%3E", "%55NION", "%2561dmin", "id=%31"],
    benign: ["caf%C3%A9", "a%20b%2Cc", "%3Cb%3E", "%2F%3F%26%3D", "%7B%22a%22%7D"],
  },
  {
    key: "ENCODING_INVALID_ESCAPE",
    family: "ENCODING",
    level: "Standard",
    targets: ["Path", "PathSegment"],
    input: "raw",
    regex: INVALID_ESCAPE,
    description: "A % in the path not followed by two hex digits, which decoders disagree about",
    examples: ["/a%%32%65", "/%zz", "/file%", "/%u002e", "/a%2"],
    benign: ["/a%20b", "/%E2%82%AC", "/100%25"],
  },
  {
    key: "ENCODING_IIS_FULLWIDTH",
    family: "ENCODING",
    level: "Standard",
    input: "raw",
    regex: `${PCT}uff[0-5][0-9a-f]`,
    description: "IIS %u escape of a fullwidth form (%uff1c), which best-fit mapping turns into ASCII",
    examples: ["%uff1cscript%uff1e", "%uFF07 or 1=1", "%uff0e%uff0e%uff0f"],
    benign: ["%u3042", "%uffe5", "buffer"],
  },
  {
    key: "ENCODING_UTF8_SURROGATE",
    family: "ENCODING",
    level: "Standard",
    input: "raw",
    regex: `${PCT}ed${PCT}[ab][0-9a-f]`,
    description: "A UTF-16 surrogate encoded as UTF-8 (%ed%a0%80, CESU-8), which strict decoders reject",
    examples: ["%ed%a0%80%ed%b0%80", "%ED%BF%BF", "%25ed%25a0%2580"],
    benign: ["%ed%95%9c", "%e2%82%ac", "%ED%9F%BF"],
  },
  {
    key: "ENCODING_UTF7_MARKUP",
    family: "ENCODING",
    level: "Standard",
    input: "raw",
    regex: String.raw`\+AD[w4](?:-|A[a-z0-9+/]{2})|\+AC[ic]-`,
    description: "UTF-7 spellings of < > \" ' (+ADw-, +AD4-, +ACI-), for pages a browser sniffs as UTF-7",
    examples: ["+ADw-script+AD4-alert(1)+ADw-/script+AD4-", "+ADwAcwBj", "x+ACI-onmouseover"],
    benign: ["google+adwords+tips", "teatro+accademia", "c+acid", "a+b"],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "ENCODING_DOUBLE",
    family: "ENCODING",
    level: "Strict",
    targets: URL_ENCODED,
    input: "raw",
    regex: "%25[0-9a-f]{2}",
    description: "Double percent-encoding (%252e); also nested URLs in redirect parameters, hence Strict",
    examples: ["%252e%252e%252f", "%2527", "next=https%3A%2F%2Fx%2F%3Fq%3Da%2520b"],
    benign: ["%2e%2e", "100%25", "%25 sign"],
  },
  {
    key: "ENCODING_IIS_ANY",
    family: "ENCODING",
    level: "Strict",
    input: "raw",
    regex: `${PCT}u[0-9a-f]{4}`,
    description: "Any IIS %uXXXX escape (JavaScript's deprecated escape() still produces them)",
    examples: ["%u4e2d", "%u2215", "%U00e9"],
    benign: ["%75", "menu", "%E4%B8%AD"],
  },
  {
    key: "ENCODING_ESCAPED_UNRESERVED",
    family: "ENCODING",
    level: "Strict",
    targets: URL_ENCODED,
    input: "raw",
    regex: `${PCT}(?:2d|2e|5f|7e)`,
    description:
      "A percent-encoded - . _ or ~, which need no escaping (%2e%2e/; Java's URLEncoder escapes ~)",
    examples: ["%2e%2e/%2e%2e/", "a%2Eb", "%7Euser", "x%5Fy"],
    benign: ["a.b", "%2F", "%20", "%3D"],
  },
  {
    key: "ENCODING_INVALID_ESCAPE_PARAMETER",
    family: "ENCODING",
    level: "Strict",
    targets: ["Parameter", "Cookie"],
    input: "raw",
    regex: INVALID_ESCAPE,
    description: "A % not followed by two hex digits in a parameter or cookie (also '50%' typed in a URL)",
    examples: ["%%32%37", "50%", "%u0027", "a%g1"],
    benign: ["50%25", "%20", "%C3%A9"],
  },
];
