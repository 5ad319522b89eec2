/**
 * The BOT family: automated clients that are not vulnerability scanners (those are SCANNING),
 * recognised by their User-Agent: headless browsers, scraping frameworks and site copiers, and at
 * Strict the generic HTTP libraries and command-line tools that APIs are legitimately called with.
 * Only the `user-agent` header is looked at, so prose that mentions curl passes at every level.
 *
 * Search-engine crawlers are left alone: a regex cannot tell Googlebot from a forgery (that takes
 * a reverse DNS lookup), and blocking the genuine one costs a site its search ranking.
 */
import type { RequestRule, ValueRule } from "../types.ts";

const USER_AGENT = { targets: ["Header"], names: ["user-agent"] } as const;

/** Real browsers' User-Agents: every BOT rule must let them through. */
const BROWSERS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
];

/** Libraries and tools whose User-Agent starts with their name (`curl/8.4.0`, `Go-http-client/1.1`). */
const LIBRARIES_FIRST = [
  "curl",
  "wget",
  "python-requests",
  "python-urllib",
  "python-httpx",
  "go-http-client",
  "libwww-perl",
  "lwp-request",
  "java",
  "apache-httpclient",
  "jakarta commons-httpclient",
  "okhttp",
  "axios",
  "node-fetch",
  "undici",
  "node",
  "got",
  "bun",
  "deno",
  "postmanruntime",
  "insomnia",
  "httpie",
  "ruby",
  "faraday",
  "guzzlehttp",
  "restsharp",
  "dart",
  "reqwest",
  "rest-client",
  "pycurl",
  "unirest-java",
];
/** Libraries that appear after something else (`Python/3.12 aiohttp/3.9`, `... WindowsPowerShell/5.1`). */
const LIBRARIES_ANYWHERE = ["aiohttp", "windowspowershell", "libcurl", "guzzlehttp", "python-requests"];

export const BOT_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "BOT_ABANDONED_HEADLESS",
    family: "BOT",
    level: "Basic",
    ...USER_AGENT,
    regex: "\\b(?:phantomjs|slimerjs)\\b",
    description: "PhantomJS or SlimerJS, headless engines abandoned years ago and used only by scripts",
    examples: [
      "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
      "Mozilla/5.0 (X11; Linux x86_64; rv:60.0) Gecko/20100101 SlimerJS/1.0.0",
      "phantomjs",
    ],
    benign: BROWSERS,
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "BOT_HEADLESS_BROWSER",
    family: "BOT",
    level: "Standard",
    ...USER_AGENT,
    regex: "headlesschrome|\\bheadless\\b|\\bhtmlunit\\b|\\bjsdom/|\\bsplash\\b",
    description:
      "A headless browser (HeadlessChrome from Puppeteer, HtmlUnit, jsdom); synthetic monitoring uses them too",
    examples: [
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:102.0) Gecko/20100101 Firefox/102.0 HtmlUnit/2.70",
      "Mozilla/5.0 (linux) AppleWebKit/537.36 (KHTML, like Gecko) jsdom/24.0.0",
    ],
    benign: BROWSERS,
  },
  {
    key: "BOT_SCRAPER",
    family: "BOT",
    level: "Standard",
    ...USER_AGENT,
    regex:
      "\\b(?:scrapy|colly|httrack|heritrix|nutch|crawler4j|mechanicalsoup|mechanize|webcopier|sitesucker|offline explorer|teleport ?pro|webzip)\\b",
    description: "A scraping framework or site copier (Scrapy, Colly, HTTrack, Heritrix, Mechanize)",
    examples: [
      "Scrapy/2.11.2 (+https://scrapy.org)",
      "colly - https://github.com/gocolly/colly",
      "Mozilla/4.5 (compatible; HTTrack 3.0x; Windows 98)",
      "WWW-Mechanize/2.18",
    ],
    benign: BROWSERS,
  },
  {
    key: "BOT_PLACEHOLDER_USER_AGENT",
    family: "BOT",
    level: "Standard",
    ...USER_AGENT,
    regex: "^[ \\t]*(?:mozilla/[0-9]+(?:\\.[0-9]+)*|-|null|undefined|none|test|user-agent|agent)[ \\t]*$",
    description: 'A User-Agent that is only a placeholder ("Mozilla/5.0" alone, "-", "null", "test")',
    examples: ["Mozilla/5.0", "-", "null", "User-Agent", "Mozilla/4.0"],
    benign: [
      ...BROWSERS,
      "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1)",
      "MyShop/3.2 (iPhone; iOS 18.1)",
    ],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "BOT_HTTP_LIBRARY",
    family: "BOT",
    level: "Strict",
    ...USER_AGENT,
    regex: `^[ \\t]*(?:${LIBRARIES_FIRST.join("|")})(?:[/ ]|$)|\\b(?:${LIBRARIES_ANYWHERE.join("|")})/`,
    description:
      "A generic HTTP library or command-line tool (curl, python-requests, Go-http-client, okhttp)",
    examples: [
      "curl/8.4.0",
      "python-requests/2.32.3",
      "Go-http-client/1.1",
      "libwww-perl/6.77",
      "Java/17.0.9",
      "okhttp/4.12.0",
      "Python/3.12 aiohttp/3.10.5",
      "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.22621.4391",
      "node",
      "Wget/1.21.4",
    ],
    benign: [...BROWSERS, "MyShop/3.2 (iPhone; iOS 18.1; Scale/3.00)", "Nodeflux Monitor", "JavaFX-Browser"],
  },
];

export const BOT_REQUEST_RULES: readonly RequestRule[] = [
  {
    key: "BOT_MISSING_USER_AGENT",
    family: "BOT",
    level: "Strict",
    description: "No User-Agent header, or an empty one (browsers always send one; scripts often do not)",
    check: (request) => {
      const agents = request.headers.filter(([name]) => name === "user-agent");
      if (agents.length === 0) return "no user-agent";
      return agents.every(([, value]) => value.trim() === "") ? "empty user-agent" : undefined;
    },
  },
];
