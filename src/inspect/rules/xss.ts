/**
 * The cross-site scripting rules of the inspector (migrated from the RBAC rules of src/translate/deny-rules/,
 * same keys). Values arrive decoded (src/inspect/decode.ts: percent-encoding, `+` in query and form
 * values, HTML entities), so the patterns spell each character once; the few rules that look for
 * an encoding itself match the raw value (`input: "raw"`).
 */
import type { ValueRule } from "../types.ts";

// Fragments in the decoded form the inspector matches.
/** `'`, `"` or a backtick. */
const ANY_QUOTE = String.raw`['"\x60]`;
const OPEN_PAREN = String.raw`\(`;
const EQUALS = "=";
const LESS_THAN = "<";
const GREATER_THAN = ">";
const SEMICOLON = ";";
const COLON = ":";
const SLASH = "/";
const STAR = String.raw`\*`;
const DOT = String.raw`\.`;
const DASH = "-";
const PIPE = String.raw`\|`;
const AMPERSAND = "&";
const EXCLAMATION = "!";
/**
 * One whitespace character as SQL and HTML parsers accept it: space, tab, LF, VT, FF, CR and NBSP
 * (MySQL treats it as a space in some character sets). A `+` in a query or form value has been
 * decoded to a space already.
 */
const SPACE = "[ \\t\\n\\v\\f\\r\u00a0]";
/** What may stand before a word for it to start a token: the start or a non-word character. */
const WORD_START = "(?:^|[^0-9a-z_])";

const LT = LESS_THAN;
/** The end of a tag name: a name must not continue (`<scripture>` is no script). */
const NAME_END = "(?:[^0-9a-z_-]|$)";
/** Characters a browser ignores inside a URL scheme (tab, LF, CR; their entities are decoded already). */
const IGNORED_IN_SCHEME = String.raw`[\t\n\r]`;
/** `:` (`&colon;`, `&#58;` and `&#x3a;` are decoded to it before a rule sees the value). */
const SCHEME_COLON = COLON;

/**
 * What follows the colon of a script URL in an attack: anything but a space (or `_`, a space in
 * wiki titles). "JavaScript: The Good Parts" is a search term; `javascript:\nalert(1)` is an attack.
 */
const SCRIPT_AFTER_COLON = "[^ \\t+%&_]";

// The raw spellings (plain, percent-encoded once or twice) for the rules that look for encodings
// themselves and therefore match the value as it arrived (`input: "raw"`).
const RAW_LT = "(?:<|%(?:25)?3c)";
const RAW_SLASH = "(?:/|%(?:25)?2f)";
const RAW_AMPERSAND = "(?:&|%(?:25)?26)";
const RAW_HASH = "(?:#|%(?:25)?23)";
const RAW_SEMICOLON = "(?:;|%(?:25)?3b)";
/** A percent-encoded (once or twice) ASCII letter: only ever sent to disguise a keyword or tag name. */
const ENCODED_LETTER = "%(?:25)?(?:[46][1-9a-f]|[57][0-9a])";

/** `javascript` with scheme-ignored characters allowed between any two letters. */
const SPLIT_JAVASCRIPT = [..."javascript"].join(`${IGNORED_IN_SCHEME}*`);

/**
 * The cross-site scripting family: markup and URLs that make a browser run script when the
 * application reflects a parameter into a page.
 */
export const XSS_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "XSS_SCRIPT_TAG",
    family: "XSS",
    level: "Basic",
    regex: `${LT}${SLASH}?script${NAME_END}`,
    description: "An opening or closing <script> tag",
    examples: [
      "<script>alert(1)</script>",
      "<script>",
      "<ScRiPt src=//x.example>",
      `"><script/src=x>`,
      "</script>",
      "x<script",
    ],
    benign: ["scripture", "<scripture>", "a<b", "javascript-tutorial", "description"],
  },
  {
    key: "XSS_SCRIPT_URI",
    family: "XSS",
    level: "Basic",
    regex: `(?:java|vb|live)script${COLON}${SCRIPT_AFTER_COLON}`,
    description: "A javascript: (or vbscript:) URL that runs script when followed as a link or loaded",
    examples: [
      "javascript:alert(1)",
      "JavaScript:alert(document.domain)",
      "javascript:\nalert(1)",
      "vbscript:msgbox(1)",
      "javascript://\nalert(1)",
    ],
    benign: ["JavaScript: The Good Parts", "javascript tutorial", "javascript:"],
  },
  {
    key: "XSS_EVENT_HANDLER",
    family: "XSS",
    level: "Basic",
    // preceded by a space, quote or slash: inside a tag; `?onload=initMap` (a parameter) passes
    regex: `(?:${SPACE}|${ANY_QUOTE}|${SLASH})on(?:error|load|mouseover|mouseenter|focus|focusin|click|toggle|pageshow|animationstart|begin|pointerover)${SPACE}*${EQUALS}`,
    description: "The event-handler attributes most used to run script (onerror=, onload=, onmouseover=...)",
    examples: [
      "<img src=x onerror=alert(1)>",
      "<svg/onload=alert(1)>",
      `" onmouseover="alert(1)`,
      `x" onfocus=alert(1) autofocus`,
      "<body\nonload\n=alert(1)>",
    ],
    benign: ["onload", "online", "on error, retry", "click on load=3", "onerror"],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "XSS_EVENT_HANDLER_ANY",
    family: "XSS",
    level: "Standard",
    regex: `(?:${SPACE}|${ANY_QUOTE})on[a-z]{3,}${SPACE}*${EQUALS}|${LT}[0-9a-z]+${SLASH}on[a-z]{3,}${SPACE}*${EQUALS}`,
    description: "Any on<event>= attribute after a space or quote, or after <tag/",
    examples: [
      "<details open ontoggle=alert(1)>",
      "' onpointerenter='alert(1)",
      "<x/onclick=alert(1)>",
      "<div onanimationend=alert(1)>",
    ],
    benign: ["online", "status online", "/settings/online=true", "once=1", "on sale"],
  },
  {
    key: "XSS_DANGEROUS_TAG",
    family: "XSS",
    level: "Standard",
    regex: `${LT}${SLASH}?(?:iframe|frame|frameset|svg|object|embed|applet|meta|link|base|img|image|video|audio|source|body|style|math|form|input|button|details|marquee|isindex|template|textarea|xmp|noscript|plaintext|keygen|portal)${NAME_END}`,
    description: "Tags that load content or carry script (<iframe, <svg, <img, <object, <style...)",
    examples: ["<iframe src=//x.example>", "<svg>", "<img src=x>", "<object data=x>", "</textarea><b>"],
    benign: ["a<b", "1<2", "a < img", "<imagination>", "iframe"],
  },
  {
    key: "XSS_ENCODED_TAG_NAME",
    family: "XSS",
    level: "Standard",
    input: "raw",
    regex: `${RAW_LT}${RAW_SLASH}?${ENCODED_LETTER}`,
    description: "A tag whose name starts with a percent-encoded letter, which only disguises it",
    examples: ["%3C%73cript%3E", "<%53vg/onload=alert(1)>", "%3c%2f%73cript"],
    benign: ["a<b", "%3C3", "<%20"],
  },
  {
    key: "XSS_ATTRIBUTE_BREAKOUT",
    family: "XSS",
    level: "Standard",
    regex: `${ANY_QUOTE}${SPACE}*${SLASH}?${GREATER_THAN}${SPACE}*${LT}(?:[a-z!]|${SLASH}|${EXCLAMATION})`,
    description: "A quote that ends an attribute value, then > and a new tag",
    examples: [`"><b>`, "'><a href=x>", "'/><x>", `"><!--`],
    benign: [`{"a":"<b>"}`, `"a" > "b"`, "x'>y"],
  },
  {
    key: "XSS_JS_STRING_BREAKOUT",
    family: "XSS",
    level: "Standard",
    // for a value reflected into a script string: close it, an operator, then a script global
    regex: `${ANY_QUOTE}${SPACE}*(?:${SEMICOLON}|${DASH}|\\+|${STAR}|${PIPE}{2}|${AMPERSAND}{2})${SPACE}*(?:alert|prompt|confirm|eval|fetch|import|settimeout|setinterval|document|window|top|self|this|location|constructor)(?:[^0-9a-z_]|$)`,
    description:
      "A quote that ends a JavaScript string, an operator, and a call or global (';alert(1)//, '-alert(1)-')",
    examples: ["';alert(1)//", "'-alert(1)-'", `"+document.cookie+"`, `x"+window.name+"`],
    benign: ["Macy's-top-deals", "it's; alerting", "'a'   'b'", "rock'n'roll"],
  },
  {
    key: "XSS_SCRIPT_URI_OBFUSCATED",
    family: "XSS",
    level: "Standard",
    regex: `${SPLIT_JAVASCRIPT}${IGNORED_IN_SCHEME}*${SCHEME_COLON}${SCRIPT_AFTER_COLON}`,
    description: "A javascript: URL split by tabs or newlines, or with an HTML-encoded colon",
    examples: [
      "java\tscript:alert(1)",
      "jav\nascript:alert(1)",
      "javascript:alert(1)",
      "j\ra\rv\ra\rs\rc\rr\ri\rp\rt\r:x",
    ],
    benign: ["JavaScript: The Good Parts", "java script", "javascript-colon"],
  },
  {
    key: "XSS_DATA_URI",
    family: "XSS",
    level: "Standard",
    regex: `data${SPACE}*${COLON}${SPACE}*(?:text${SLASH}(?:html|xml|javascript)|image${SLASH}svg|application${SLASH}(?:xhtml|xml|javascript|ecmascript|x-javascript))`,
    description: "A data: URL whose content is a document or script (data:text/html, data:image/svg+xml)",
    examples: [
      "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
      "data:text/html,<script>",
      "data:image/svg xml,<svg onload=alert(1)>",
    ],
    benign: ["data:image/png;base64,iVBORw0KGgo=", "metadata: text/plain", "data: text"],
  },
  {
    key: "XSS_DOM_ACCESS",
    family: "XSS",
    level: "Standard",
    regex: `document${DOT}(?:cookie|domain|write|location)|window${DOT}(?:location|name)|fromcharcode|${DOT}(?:inner|outer)html`,
    description: "Script that reads cookies, writes the document or decodes character codes",
    examples: [
      "document.cookie",
      "new Image().src='//x/' document.cookie",
      "String.fromCharCode(88)",
      "x.innerHTML=y",
    ],
    benign: ["documentation", "cookie policy", "window cleaning"],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "XSS_ANY_TAG",
    family: "XSS",
    level: "Strict",
    regex: `${LT}(?:[a-z!]|${SLASH}|${EXCLAMATION})`,
    description: "Anything that starts an HTML tag, closing tag or comment",
    examples: ["a<b", "<x>", "<foo", "<!--", "</p>"],
    benign: ["1<2", "a < b", "<3"],
  },
  {
    key: "XSS_JS_CALL",
    family: "XSS",
    level: "Strict",
    regex: String.raw`${WORD_START}(?:alert|prompt|confirm|eval|settimeout|setinterval|atob|fetch|import|print)(?:${OPEN_PAREN}|\x60)`,
    description: "Calls of JavaScript functions that show dialogs, evaluate strings or load code",
    examples: ["alert(1)", "prompt`1`", "eval(atob('YWxlcnQoMSk='))", `"alert(1)`],
    benign: ["red alert", "alerts(1)", "blueprint(2)"],
  },
  {
    key: "XSS_HTML_ENTITY",
    family: "XSS",
    level: "Strict",
    input: "raw",
    regex: `${RAW_AMPERSAND}(?:${RAW_HASH}x?[0-9a-f]|(?:colon|tab|newline|lpar|rpar|lt|gt|quot|apos|grave)${RAW_SEMICOLON})`,
    description: "HTML character references, which can hide markup from filters that do not decode them",
    examples: ["%26%23106;avascript:", "&lt;script&gt;", "%26%23x3c%3B", "&colon;"],
    benign: ["a&b=c", "Tom & Jerry", "%26amp"],
  },
  {
    key: "XSS_ESCAPED_ANGLE",
    family: "XSS",
    level: "Strict",
    regex: String.raw`(?:\\(?:u0{2}|x)|%u00)3c`,
    description: "JavaScript or IIS escapes of < (\\u003c, \\x3c, %u003c)",
    examples: ["\\u003cscript\\u003e", "\\x3csvg", "%u003cimg"],
    benign: ["u003c", "\\n3c"],
  },
];
