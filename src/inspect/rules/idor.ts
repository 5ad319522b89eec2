/**
 * The IDOR family: path traversal, the way a request reaches an object it names only indirectly
 * (`../../etc/passwd`, `..\..\windows\win.ini`, `/app/..;/manager`), and direct references to the
 * files an attacker reads first. Which user may read which record (the other half of "insecure
 * direct object reference") is the application's business; no pattern can know it.
 */
import type { InspectTarget, ValueRule } from "../types.ts";
import { REPLACEMENT, WS0 } from "./injection-fragments.ts";

/** A directory separator, or U+FFFD for an overlong `/` (`%c0%af`). */
const SEP = String.raw`[/\\${REPLACEMENT}]`;
/** Two or more dots (`....//` is `../` after a filter that strips `../` once), or overlong dots. */
const DOTS = `[\\.${REPLACEMENT}]{2,}`;
/** One step up: dots, an optional Tomcat path parameter (`..;x=1/`), one or more separators. */
const STEP = `${DOTS}(?:;[^/\\\\]*)?${SEP}+`;
/** The files an attacker reads to prove a traversal or to take over (without the leading `/`). */
const SECRET_FILE =
  `(?:etc${SEP}+(?:passwd|shadow|gshadow|master\\.passwd|sudoers)` +
  `|proc${SEP}+(?:self|thread-self|[0-9]+)${SEP}+(?:environ|cmdline|maps|mem|fd|exe|cwd|root)` +
  `|var${SEP}+run${SEP}+secrets${SEP}+kubernetes\\.io` +
  `|(?:windows|winnt)${SEP}+(?:win\\.ini|system\\.ini|repair${SEP}+sam|system32${SEP}+config${SEP}+sam))`;
/** SECRET_FILE and other system files whose only use in a request is being read. */
const SYSTEM_FILE =
  `(?:${SECRET_FILE}` +
  `|etc${SEP}+(?:group|hosts|hostname|issue|crontab|fstab|mtab|os-release|ssh${SEP})` +
  `|(?:root|home${SEP}+[^/\\\\]+)${SEP}+\\.(?:ssh|aws|kube|bash_history|docker)` +
  `|(?:windows|winnt)${SEP}+(?:system32|panther|debug${SEP}+netsetup\\.log)(?:${SEP}|$)` +
  `|boot\\.ini|web-inf${SEP}+web\\.xml)`;

const ANY_VALUE: readonly InspectTarget[] = ["Path", "PathSegment", "Parameter", "JSON", "Cookie"];
const VALUE_ONLY: readonly InspectTarget[] = ["PathSegment", "Parameter", "JSON", "Cookie", "Header"];

/** Path traversal rules. */
export const IDOR_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "IDOR_TRAVERSAL_SYSTEM_FILE",
    family: "IDOR",
    level: "Basic",
    regex: `${STEP}(?:${STEP}|${SEP})*${SYSTEM_FILE}`,
    description: "Traversal steps (../, ..\\, ..;/, overlong dots) that lead to a system file",
    examples: [
      "../../../../etc/passwd",
      "....//....//etc/shadow",
      "..\\..\\..\\windows\\win.ini",
      "/static/../../../proc/self/environ",
      `${REPLACEMENT}${REPLACEMENT}/${REPLACEMENT}${REPLACEMENT}/etc/passwd`,
      "..;/..;/etc/hosts",
      "../../var/run/secrets/kubernetes.io/serviceaccount/token",
      "../../../root/.ssh/id_rsa",
      "..\\..\\boot.ini",
      "../../../etc/passwd\u0000.png",
    ],
    benign: ["../images/etc.png", "etc/passwd is the user database", "/etc/passwd", "report..final.pdf"],
  },
  {
    key: "IDOR_SYSTEM_FILE_PATH",
    family: "IDOR",
    level: "Basic",
    targets: VALUE_ONLY,
    regex: `^${WS0}(?:file:${SEP}*)?(?:[a-z]:)?${SEP}+${SYSTEM_FILE}`,
    description: "A value that is the absolute path of a system file (/etc/passwd, C:\\windows\\win.ini)",
    examples: [
      "/etc/passwd",
      "/etc/shadow\u0000",
      "/proc/self/environ",
      "C:\\Windows\\win.ini",
      "c:/windows/system32/config/sam",
      "file:///etc/passwd",
      "//etc//passwd",
      "/var/run/secrets/kubernetes.io/serviceaccount/token",
      "/home/alice/.ssh/authorized_keys",
    ],
    benign: [
      "etc/passwd",
      "how do I edit /etc/hosts?",
      "/etcetera/passwd",
      "/etc/passwords-guide",
      "/windows/system32-explained",
      "/var/log/app.log",
    ],
  },
  {
    key: "IDOR_PATH_PARAMETER_TRAVERSAL",
    family: "IDOR",
    level: "Basic",
    targets: ANY_VALUE,
    regex: String.raw`(?:^|[/\\])\.\.;[^/\\]*(?:[/\\]|$)`,
    description:
      "A ..;/ step: front ends see a path parameter, Java servers a step up (/app/..;/manager/html)",
    examples: ["/app/..;/manager/html", "/api/..;jsessionid=x/admin", "..;/..;/WEB-INF/web.xml", "/x/..;"],
    benign: ["/a/b;v=1/c", "wait..; see below", "/files/report..final.pdf", "/a/..b;c/"],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "IDOR_PATH_TRAVERSAL",
    family: "IDOR",
    level: "Standard",
    targets: ["Path", "PathSegment"],
    // Envoy resolves literal `..` segments before the inspector sees the path, so a `..` segment
    // that is left came encoded (%2e%2e, %252e, ..%2f) and is meant for the application.
    regex: `(?:^|${SEP})${DOTS}(?:;[^/\\\\]*)?(?:${SEP}|$)`,
    description: "A .. segment in the path that was encoded to get past the front end's normalization",
    examples: ["/files/../../secret", "..", "/a/..\\b", "/a/..", "/a/..;x=1/b"],
    benign: ["/files/report..final.pdf", "/v1.2/x", "/a/.b/c", "/search/a..b", "/a/..hidden/x"],
  },
  {
    key: "IDOR_TRAVERSAL_START",
    family: "IDOR",
    level: "Standard",
    targets: ["Parameter", "JSON", "Cookie", "Header"],
    regex: String.raw`^${WS0}(?:file:)?[/\\]*(?:\.[/\\]+)*${STEP}${STEP}`,
    description: "A value that starts by climbing two or more directories (file=../../config.php)",
    examples: [
      "../../config.php",
      "..\\..\\web.config",
      "./../../app/.env",
      "/../../x",
      "..;/..;/admin",
      "....//....//flag.txt",
    ],
    benign: [
      "../images/logo.png",
      "../ is a relative path",
      "see ../../README.md for details",
      "report..final.pdf",
      "...and then..",
      "Well... / not sure",
    ],
  },
  {
    key: "IDOR_TRAVERSAL_DEEP",
    family: "IDOR",
    level: "Standard",
    targets: ANY_VALUE,
    regex: `${STEP}${STEP}${STEP}`,
    description: "Three or more traversal steps in a row anywhere in a value",
    examples: [
      "images/../../../config/database.yml",
      "x=..\\..\\..\\secret",
      "..\\..\\..\\boot.ini",
      `${REPLACEMENT}${REPLACEMENT}/`.repeat(3),
    ],
    benign: [
      `import { x } from "../../lib/x";`,
      "[docs](../../README.md)",
      "Wait... / hmm... / ok",
      "a..b..c..d",
    ],
  },
  {
    key: "IDOR_SECRET_FILE",
    family: "IDOR",
    level: "Standard",
    targets: ANY_VALUE,
    regex: `(?:^|[^a-z0-9_\\.\\-~])(?:[a-z]:)?${SEP}+${SECRET_FILE}`,
    description:
      "The path of a file that holds secrets (/etc/shadow, /proc/self/environ, a service account token) anywhere in a value",
    examples: [
      "x;cat</etc/passwd",
      "include=file:///etc/shadow",
      `{"path": "/proc/self/environ"}`,
      "see C:\\Windows\\win.ini",
      "a /var/run/secrets/kubernetes.io/serviceaccount/token",
    ],
    benign: [
      "https://example.com/docs/etc/passwd",
      "/etc/passwords",
      "etc/passwd",
      "/etc/hosts",
      "my-etc/passwd",
    ],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "IDOR_TRAVERSAL_ANY",
    family: "IDOR",
    level: "Strict",
    targets: ANY_VALUE,
    regex: `${STEP}|${SEP}${DOTS}$`,
    description: "Any traversal step (../ or ..\\), or a value that ends in /..",
    examples: ["../x", "a/../b", "..\\x", "x/..", "[docs](../../README.md)"],
    benign: ["report..final.pdf", "Wait...", "a..b"],
  },
  {
    key: "IDOR_SYSTEM_DIRECTORY",
    family: "IDOR",
    level: "Strict",
    targets: ANY_VALUE,
    regex:
      `(?:^|[^a-z0-9_\\.\\-~])(?:${SEP}(?:etc|proc|sys|dev|root|boot|bin|sbin|var${SEP}+(?:log|run|lib|www)|usr${SEP}+(?:bin|sbin|local))${SEP}` +
      `|[a-z]:${SEP}+(?:windows|winnt|program files|users|inetpub)(?:${SEP}|$))`,
    description:
      "The absolute path of a system directory anywhere in a value (/etc/, /var/log/, C:\\Windows)",
    examples: [
      "/etc/hosts",
      "edit /etc/nginx/nginx.conf",
      "C:\\Windows\\Temp",
      "/usr/bin/id",
      "/var/log/auth.log",
    ],
    benign: ["https://example.com/etc/x", "etc/x", "/etcetera/", "/api/users/1"],
  },
];
