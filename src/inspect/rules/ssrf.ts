/**
 * The SSRF family: server-side request forgery. An application that fetches a URL from a request
 * (webhooks, link previews, image imports, PDF renderers) can be pointed at what only it can
 * reach: the cloud metadata service, its own loopback, the cluster's services. The rules look at
 * the host of URLs in values, including the spellings that get past naive filters: decimal, hex
 * and octal IPv4 (`http://2130706433/`, `0x7f.1`), IPv6 forms of loopback, user info in front of
 * the host (`http://example.com@127.0.0.1/`), wildcard-DNS names that resolve to any IP
 * (`127.0.0.1.nip.io`), and schemes that speak other protocols (`gopher://`, `dict://`, `file://`).
 * Out-of-band callback hosts (`*.oastify.com`) are SCANNING_OAST_DOMAIN's.
 */
import type { InspectTarget, ValueRule } from "../types.ts";
import { SCHEME_START } from "./injection-fragments.ts";

/**
 * The start of a URL up to its host: a scheme (or nothing, at the start of the value), `//` (or
 * `\\`), optional user info. A `//` inside a URL's path is not a host.
 */
const URL_START = `(?:${SCHEME_START}[a-z][a-z0-9+\\-\\.]*:|^[ \\t]*)[/\\\\]{2}(?:[^/\\\\?#@ \\t]*@)?`;
/** Where a host ends: a port, path, query or fragment, or the value's end (after an optional root dot). */
const HOST_END = "\\.?(?:[:/\\\\?#]|$)";
/** One IPv4 part in any base inet_aton accepts. */
const PART = "(?:0x[0-9a-f]{1,8}|[0-9]{1,10})";
/** A part written in hex or octal (a leading 0), which only an evasion does. */
const ODD_PART = "(?:0x[0-9a-f]{1,8}|0[0-7]{1,11})";
/** Loopback in its many spellings, as a URL host. */
const LOOPBACK_HOST =
  "(?:localhost|localhost\\.localdomain|[a-z0-9\\-\\.]*\\.localhost|127(?:\\.[0-9]{1,3}){3}|0\\.0\\.0\\.0|0" +
  "|\\[(?:0{0,4}:){2,7}0{0,3}1?\\]|\\[(?:0{0,4}:){2,6}ffff:(?:127\\.|7f)[0-9a-f:\\.]*\\])";
/** Parameters and JSON carry the URLs an application fetches; headers and cookies rarely do. */
const URL_VALUES: readonly InspectTarget[] = ["Parameter", "JSON"];
const NOT_PATH: readonly InspectTarget[] = ["PathSegment", "Parameter", "JSON", "Header", "Cookie"];

/** Server-side request forgery rules. */
export const SSRF_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "SSRF_CLOUD_METADATA",
    family: "SSRF",
    level: "Basic",
    regex:
      "(?:^|[^0-9\\.])(?:169\\.254\\.169\\.254|169\\.254\\.170\\.2|100\\.100\\.100\\.200|192\\.0\\.0\\.192)(?:[^0-9]|$)|fd00:ec2::254" +
      "|metadata\\.google\\.internal|metadata\\.tencentyun\\.com|/latest/(?:meta-data|user-data|api/token|dynamic/instance-identity)" +
      `|/computemetadata/v1|/metadata/(?:instance|identity/oauth2/token)\\?api-version=|::ffff:a9fe:a9fe` +
      `|${URL_START}(?:2852039166|0xa9fea9fe|0251\\.0*376\\.0*251\\.0*376|0xa9\\.0xfe\\.0xa9\\.0xfe|metadata)${HOST_END}`,
    description:
      "The cloud metadata services (169.254.169.254 and its decimal, hex and octal forms, metadata.google.internal, /latest/meta-data)",
    examples: [
      "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
      "http://metadata.google.internal/computeMetadata/v1/instance",
      "http://2852039166/",
      "http://0xa9fea9fe/latest",
      "http://0251.0376.0251.0376/",
      "http://[::ffff:a9fe:a9fe]/",
      "http://169.254.170.2/v2/credentials",
      "http://metadata/computeMetadata/v1/",
      "/latest/meta-data/",
    ],
    benign: ["169.254.1.1", "v169.254.169.2545", "https://example.com/metadata", "call 2852039166"],
  },
  {
    key: "SSRF_DANGEROUS_SCHEME",
    family: "SSRF",
    level: "Basic",
    targets: NOT_PATH,
    // file: needs a path after it: docs that mention "`file://` URLs" name the scheme, not a file
    regex: `${SCHEME_START}(?:(?:gopher|dict|tftp|netdoc)://|jar:(?:file|https?|ftp):|file:[/\\\\]{1,3}(?:[a-z]:|[a-z0-9_\\-\\.~%$]+[/\\\\:]))`,
    description:
      "URL schemes that read local files or speak other protocols (file:, gopher://, dict://, tftp://, jar:, netdoc:)",
    examples: [
      "file:///etc/passwd",
      "gopher://127.0.0.1:6379/_SET%20x",
      "dict://127.0.0.1:11211/stats",
      "jar:http://x.example/a.jar!/",
      "file://localhost/c:/windows/win.ini",
      "url=netdoc:///etc/passwd",
      "tftp://x.example/a",
    ],
    benign: [
      "URLs of the file system start with `file://`.",
      "profile:/settings",
      "pdf file: /home",
      "see the dictionary://",
      "https://example.com/file:x",
      "my file:name",
    ],
  },
  {
    key: "SSRF_OBFUSCATED_IP",
    family: "SSRF",
    level: "Basic",
    regex: `${URL_START}(?:(?:${PART}\\.){0,3}${ODD_PART}(?:\\.${PART}){0,3}|[0-9]{8,10}|[0-9]{1,3}(?:\\.[0-9]{1,3}){1,2})${HOST_END}`,
    description:
      "A URL whose host is an IPv4 address in decimal, hex, octal or shortened form (http://2130706433/, http://0x7f.1/, http://127.1/)",
    examples: [
      "http://2130706433/",
      "http://0x7f000001/",
      "http://0177.0.0.1/",
      "http://0x7f.0.0.1/",
      "http://127.1/",
      "//017700000001",
      "http://10.1/admin",
    ],
    benign: [
      "http://127.0.0.1.example.com/",
      "https://example.com/2130706433",
      "https://cdn.example.com//1.2.3/lib.js",
      "http://v1.2.example.com",
      "http://10.0.0.1/",
      "https://1.1.1.1/",
    ],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "SSRF_LOOPBACK_URL",
    family: "SSRF",
    level: "Standard",
    targets: URL_VALUES,
    regex: `${URL_START}${LOOPBACK_HOST}${HOST_END}`,
    description:
      "A URL to the loopback interface (localhost, 127.0.0.0/8, 0.0.0.0, [::1], [::ffff:127.0.0.1])",
    examples: [
      "http://localhost/admin",
      "http://127.0.0.1:6379/",
      "https://example.com@127.0.0.1/",
      "http://[::1]:8080/",
      "http://0.0.0.0:9901/",
      "http://[0:0:0:0:0:0:0:1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://[0:0:0:0:0:ffff:127.0.0.1]/",
      "http://app.localhost/",
      "http://0/",
      "//localhost/x",
      "http://localhost./",
    ],
    benign: [
      "https://localhost.example.com/",
      "http://127.0.0.1.example.com/",
      "localhost",
      "https://example.com/localhost",
    ],
  },
  {
    key: "SSRF_INTERNAL_SERVICE",
    family: "SSRF",
    level: "Standard",
    targets: URL_VALUES,
    regex: `${URL_START}(?:[a-z0-9\\-\\.]*\\.(?:svc|svc\\.cluster\\.local|cluster\\.local|internal)|kubernetes(?:\\.default)?|169\\.254\\.[0-9]{1,3}\\.[0-9]{1,3}|\\[fe80:[^\\]]*\\])${HOST_END}`,
    description:
      "A URL to a cluster-internal or link-local host (*.svc.cluster.local, kubernetes.default, *.internal, 169.254.0.0/16, fe80::)",
    examples: [
      "http://redis.default.svc.cluster.local:6379/",
      "https://kubernetes.default.svc/api/v1/secrets",
      "http://kubernetes/api",
      "http://host.docker.internal:2375/containers/json",
      "http://169.254.1.1/",
      "http://[fe80::1%25eth0]/",
    ],
    benign: [
      "https://kubernetes.io/docs/",
      "https://svc.example.com/",
      "https://example.com/internal/",
      "https://internal.example.com",
    ],
  },
  {
    key: "SSRF_REBINDING_HOST",
    family: "SSRF",
    level: "Standard",
    targets: NOT_PATH,
    regex: `(?:^|[^a-z0-9\\-])(?:[a-z0-9\\-]+\\.)*(?:nip\\.io|xip\\.io|sslip\\.io|localtest\\.me|lvh\\.me|vcap\\.me|lacolhost\\.com|rbndr\\.us|1u\\.ms)${HOST_END}`,
    description:
      "Wildcard-DNS and rebinding names that resolve to any IP, loopback included (127.0.0.1.nip.io, lvh.me, rbndr.us)",
    examples: [
      "http://127.0.0.1.nip.io/",
      "http://10.0.0.1.sslip.io:8080/",
      "http://lvh.me/",
      "7f000001.c0a80001.rbndr.us",
      "http://app.localtest.me",
    ],
    benign: ["https://example.io/", "snip.io", "https://nip.io.example.com/"],
  },
  {
    key: "SSRF_URL_CONFUSION",
    family: "SSRF",
    level: "Standard",
    targets: URL_VALUES,
    regex: `[a-z]://[^/?#@ ]*(?:#|\\\\)[^/ ]*@|[a-z]://[^/?#@ ]*@[^/?#@ ]*@`,
    description:
      "A URL whose host different parsers read differently: http://a.example#@b.example, http://a.example\\@b.example, two @",
    examples: ["http://example.com#@127.0.0.1/", "http://127.0.0.1\\@example.com/", "http://a@b@127.0.0.1/"],
    benign: [
      "https://x.example.com/?email=a@b.com",
      "https://example.com/#contact",
      "mailto:jane@example.com",
    ],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "SSRF_PRIVATE_NETWORK",
    family: "SSRF",
    level: "Strict",
    targets: URL_VALUES,
    regex: `${URL_START}(?:10(?:\\.[0-9]{1,3}){3}|172\\.(?:1[6-9]|2[0-9]|3[01])(?:\\.[0-9]{1,3}){2}|192\\.168(?:\\.[0-9]{1,3}){2}|100\\.(?:6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])(?:\\.[0-9]{1,3}){2}|\\[f[cd][0-9a-f]{2}:[^\\]]*\\]|[a-z0-9\\-\\.]*\\.(?:local|localdomain|lan|intranet|corp|home\\.arpa))${HOST_END}`,
    description:
      "A URL to a private network (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, *.local, *.corp)",
    examples: [
      "http://10.0.0.5/admin",
      "http://192.168.1.1/",
      "http://172.16.0.1:8080/",
      "http://printer.local/",
      "http://[fd00::1]/",
    ],
    benign: ["http://172.32.0.1/", "https://example.com/10.0.0.1"],
  },
  {
    key: "SSRF_IP_LITERAL_URL",
    family: "SSRF",
    level: "Strict",
    targets: URL_VALUES,
    regex: `${URL_START}(?:[0-9]{1,3}(?:\\.[0-9]{1,3}){3}|\\[[0-9a-f:\\.]+\\])${HOST_END}`,
    description: "Any URL whose host is an IP address rather than a name",
    examples: ["https://1.1.1.1/", "http://[2001:db8::1]/", "http://203.0.113.7:8080/x"],
    benign: ["https://example.com/", "https://v1.example.com/1.2.3.4"],
  },
  {
    key: "SSRF_BARE_INTERNAL_HOST",
    family: "SSRF",
    level: "Strict",
    targets: URL_VALUES,
    regex: `^[ \\t]*(?:${LOOPBACK_HOST}|169\\.254\\.[0-9]{1,3}\\.[0-9]{1,3})(?::[0-9]{1,5})?[ \\t]*$`,
    description:
      "A value that is just a loopback or link-local host, for applications that build the URL themselves",
    examples: ["localhost", "127.0.0.1:8080", "[::1]", "169.254.169.254"],
    benign: ["localhost is home", "example.com", "10"],
  },
];
