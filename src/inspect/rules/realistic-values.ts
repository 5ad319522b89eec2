// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are payloads and benign values, not placeholders
/**
 * Values real users and browsers send, by where they arrive, that the Basic and Standard rules of
 * the injection families must let through. Only for tests: `spareRealisticValues(rules)` checks
 * every rule below Strict against every value of a target the rule looks at.
 */
import { expect, test } from "bun:test";
import { ALL_TARGETS, type InspectTarget, type ValueRule } from "../types.ts";
import { ruleRegExp } from "./rule-checks.ts";

const JWT =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

/** Text people type: names, prose, search terms, addresses, prices, markdown. */
const TEXT = [
  "O'Brien",
  "Tom & Jerry; a film",
  "cat food",
  "Rock & Roll | Jazz | Blues",
  "ls -la in the docs",
  "Q&A; R&D; AT&T",
  "$ne is MongoDB's operator",
  "Price: $5 (was $7); 20% off",
  "Hello %{name}, welcome!",
  "I'd like 2 apples & 3 pears; more later",
  "Use `npm install` then run it",
  "## Notes\n- step 1; step 2\n- see [docs](https://example.com/docs)",
  "C'est la vie! (really)",
  "Müller-Lüdenscheidt, Straße 5, 8000 Zürich",
  "report..final.pdf",
  "Wait... what?!",
  "email me at jane.doe+shop@example.co.uk",
  "call +41 (0)44 123 45 67",
  "2024-03-01T12:00:00Z",
  "Sort by: price | rating; show 20",
  "id, name; email",
  "fields=name;id",
  "The {{ placeholder }} gets replaced",
  "Set ${HOME} in your profile",
  "x = (a)(b) + c",
  "Ping me when you're back; thanks",
  "Find a file, then sleep well",
  "I'm at 127 Main St., Apt. 10",
  "../ is a relative path",
  "Use the [docs](../../README.md)",
  "function(x) { return x * 2; }",
  `import { useState } from "react";\nconst [x, setX] = useState(0);`,
  "def __init__(self):\n    self.items = []",
  "const fs = require('fs');\nawait sleep(1000);\nif (this.name.match(/x/)) assert(ok);",
  "**Tip:** run `npm test` first",
  "Welcome %username%! You have %count% new messages.",
  "{% block content %}{% endblock %}",
  "SELECT name FROM users WHERE id = 1",
  "Runtime: 2h 15min; Genre: Action | Thriller",
  "The cat & the hat | echo chamber",
  "Loving the new #set (limited edition) & #context posts!",
  "Rated 5/5 *****; would buy again (really!)",
  "A*B*C (see note*)",
  "Use Cmd+C / Cmd+V to copy & paste",
  "Save 20%-50% | Free shipping; today only!",
  "My kids (4 & 7) love it; 10/10",
  "Meeting @ 10:00 (room 3); bring laptop",
  "password: ********",
  "C:\\Users\\Jane\\Documents\\report.docx",
  "/home/jane/projects/app",
  "ping me @ 5; curl up with a book",
  'Our payment system ("PayX") & billing | FAQ',
  "T(n) = 2T(n/2) + O(n)",
  "x^2 + y^2 = z^2",
  "(a)(b)(c) & (d|e)",
  "Ünïcödé ✓ 😀 — “quotes” ‘single’",
];

/** URLs to public sites, as parameters carry them (redirects, links, callbacks). */
const URLS = [
  "https://www.example.com/search?q=cats&page=2",
  "https://example.com/a/b/c.html#section-2",
  "http://shop.example.org:8080/cart",
  "https://user@example.com/",
  "https://cdn.example.net/img/logo@2x.png",
  "mailto:jane@example.com",
  "https://example.com/api?filter=$filter&$top=10",
  "https://ftp.example.com/pub/file.tar.gz",
];

/** Opaque tokens: JWTs, base64, hex, UUIDs. */
const TOKENS = [
  JWT,
  "dGhpcyBpcyBhIHRlc3Qgc3RyaW5nIHdpdGggc29tZSBwYWRkaW5nPT0=",
  "YWRtaW46cGFzc3dvcmQ=",
  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  "3fa85f64-5717-4562-b3fc-2c963f66afa6",
  "s%3AabcDEF123.xyz%2Fabc",
];

/** Header values browsers and clients send. */
const HEADERS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
  "curl/8.4.0",
  "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
  "gzip, deflate, br",
  "en-US,en;q=0.9,de-CH;q=0.8",
  `Bearer ${JWT}`,
  'W/"5e15153d-120f"',
  "max-age=0, no-cache",
  "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
  "https://www.example.com/products/42?ref=home",
  '"Chromium";v="120", "Google Chrome";v="120", "Not?A_Brand";v="99"',
  "for=192.0.2.60;proto=http;by=203.0.113.43",
];

/** Cookie values. */
const COOKIES = [
  "GA1.2.1234567890.1700000000",
  "en-US",
  "j%3A%7B%22theme%22%3A%22dark%22%7D",
  '{"theme":"dark","lang":"de"}',
  JWT,
  "s:abc123.Ze1Yx/0k+fw",
];

/** String values of JSON bodies. */
const JSON_VALUES = [
  "Great product; would buy again!",
  "<p>Hello <b>world</b></p>",
  "```bash\nnpm run build\n```",
  "The quick brown fox (jumps) over the lazy dog.",
  "$100 & up | free shipping",
  "New York, NY",
  "user_id",
  "{{ user.name }}",
  "https://hooks.example.com/services/T000/B000/XXXX",
];

/** Path and path segment values of ordinary requests. */
const PATHS = [
  "/",
  "/api/v1/users/42",
  "/static/js/app.3f9a1c.js",
  "/products/shoes-&-boots",
  "/files/report..final.pdf",
  "/blog/2024/03/what's-new",
  "/search/cats;dogs",
  "/@scope/pkg/-/pkg-1.0.0.tgz",
  "/wiki/C++_(programming_language)",
];

const SHARED = [...TEXT, ...TOKENS];

/** The realistic values of each target. */
export const REALISTIC_VALUES: Readonly<Record<InspectTarget, readonly string[]>> = {
  Path: PATHS,
  PathSegment: [...PATHS.flatMap((p) => p.split("/")).filter((s) => s !== ""), "report..final.pdf"],
  Parameter: [...SHARED, ...URLS],
  JSON: [...SHARED, ...URLS, ...JSON_VALUES],
  Cookie: [...COOKIES, ...TOKENS],
  Header: [...HEADERS, ...TOKENS],
};

/** Registers a test that no Basic or Standard rule of `rules` catches a realistic value. */
export function spareRealisticValues(rules: readonly ValueRule[]): void {
  test("Basic and Standard rules let realistic values through", () => {
    const caught: string[] = [];
    for (const rule of rules.filter((r) => r.level !== "Strict")) {
      const re = ruleRegExp(rule);
      for (const target of rule.targets ?? ALL_TARGETS) {
        for (const value of REALISTIC_VALUES[target]) {
          if (re.test(value)) caught.push(`${rule.key} caught ${target} ${JSON.stringify(value)}`);
        }
      }
    }
    expect(caught).toEqual([]);
  });
}
