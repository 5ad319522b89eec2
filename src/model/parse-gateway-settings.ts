/**
 * SidecarGateway application settings (reference §3.3): `downstream`, `upstream` and
 * `envoyHTTPFilterRefs` of an application, and the gateway's `envoyClusterRefs`. Defaults are the
 * API's; values Envoy cannot take (a header limit above its maximum) are rejected here, naming the field.
 */
import { MAX_MATCHER_LENGTH, MAX_NAME_LENGTH as MAX_NAME, TLS_VERSIONS } from "../api/common.ts";
import {
  type At,
  asEnum,
  asInt,
  asList,
  asRecord,
  asString,
  child,
  fail,
  optionalRecord,
  present,
  required,
  show,
} from "./fields.ts";
import { re2SyntaxError } from "./re2.ts";
import {
  type ApplicationSettings,
  type ClientCertificateSettings,
  type CrlSettings,
  DEFAULT_DOWNSTREAM,
  DEFAULT_UPSTREAM,
  type DownstreamSettings,
  type DownstreamTls,
  type EnvoyHTTPFilterRefs,
  type HttpProtocolChoice,
  type LocalRef,
  type RemoteIPSource,
  type SanMatch,
  type StringMatch,
  type TlsParameters,
  type TrustedCASettings,
  type UpstreamSettings,
  XFCC_MODES,
} from "./types.ts";

/** Envoy's largest max_request_headers_kb (HttpConnectionManager validation: lte 8192). */
export const MAX_HEADERS_KIB = 8192;

/** The optional settings of one application; each is present only when the manifest sets it. */
export function parseApplicationSettings(at: At, app: Record<string, unknown>): ApplicationSettings {
  const downstream = present(app.downstream);
  const upstream = present(app.upstream);
  const filters = present(app.envoyHTTPFilterRefs);
  return {
    ...(downstream === undefined ? {} : { downstream: parseDownstream(child(at, "downstream"), downstream) }),
    ...(upstream === undefined ? {} : { upstream: parseUpstream(child(at, "upstream"), upstream) }),
    ...(filters === undefined
      ? {}
      : { envoyHTTPFilterRefs: parseFilterRefs(child(at, "envoyHTTPFilterRefs"), filters) }),
  };
}

/** `spec.envoyClusterRefs`; absent when the gateway has none. */
export function parseEnvoyClusterRefs(
  at: At,
  spec: Record<string, unknown>,
): { envoyClusterRefs?: LocalRef[] } {
  const raw = present(spec.envoyClusterRefs);
  if (raw === undefined) return {};
  const refsAt = child(at, "envoyClusterRefs");
  const refs = refList(refsAt, raw, 128);
  const seen = new Set<string>();
  refs.forEach((ref, i) => {
    if (seen.has(ref.name)) fail(child(child(refsAt, i), "name"), `${show(ref.name)} is listed twice`);
    seen.add(ref.name);
  });
  return { envoyClusterRefs: refs };
}

function parseDownstream(at: At, raw: unknown): DownstreamSettings {
  const d = asRecord(at, raw);
  const defaults = DEFAULT_DOWNSTREAM;
  const normAt = child(at, "requestNormalizations");
  const norm = optionalRecord(normAt, d.requestNormalizations);
  const restrictionsAt = child(at, "restrictions");
  const httpLimitsAt = child(restrictionsAt, "http");
  const httpLimits = optionalRecord(httpLimitsAt, optionalRecord(restrictionsAt, d.restrictions).http);
  const headersAt = child(httpLimitsAt, "headersLength");
  const headersLengthBytes =
    present(httpLimits.headersLength) === undefined
      ? defaults.headersLengthBytes
      : quantityBytes(headersAt, httpLimits.headersLength);
  if (headersLengthBytes < 1 || Math.ceil(headersLengthBytes / 1024) > MAX_HEADERS_KIB) {
    fail(
      headersAt,
      `${show(httpLimits.headersLength)} must be from 1 byte to ${MAX_HEADERS_KIB}Ki (Envoy's maximum request headers size)`,
    );
  }
  const timeoutsAt = child(child(at, "timeouts"), "http");
  const timeouts = optionalRecord(timeoutsAt, optionalRecord(child(at, "timeouts"), d.timeouts).http);
  const tls = parseDownstreamTls(child(at, "tls"), d.tls);
  return {
    protocol: parseProtocol(child(at, "protocol"), d.protocol),
    remoteIP: parseRemoteIP(child(at, "remoteIP"), d.remoteIP),
    requestNormalizations: {
      mergeSlashes: bool(child(normAt, "mergeSlashes"), norm.mergeSlashes, true),
      normalizePath: bool(child(normAt, "normalizePath"), norm.normalizePath, true),
    },
    headersLengthBytes,
    timeouts: {
      idleMs: durationMs(child(timeoutsAt, "idle"), timeouts.idle, defaults.timeouts.idleMs),
      maxDurationMs: durationMs(
        child(timeoutsAt, "maxDuration"),
        timeouts.maxDuration,
        defaults.timeouts.maxDurationMs,
      ),
      requestHeadersMs: durationMs(
        child(timeoutsAt, "requestHeaders"),
        timeouts.requestHeaders,
        defaults.timeouts.requestHeadersMs,
      ),
    },
    ...(tls === undefined ? {} : { tls }),
  };
}

function parseUpstream(at: At, raw: unknown): UpstreamSettings {
  const u = asRecord(at, raw);
  const timeoutsAt = child(child(at, "timeouts"), "http");
  const timeouts = optionalRecord(timeoutsAt, optionalRecord(child(at, "timeouts"), u.timeouts).http);
  const idle = present(timeouts.idle);
  const tlsAt = child(at, "tls");
  const tls = optionalRecord(tlsAt, u.tls);
  const enabled = bool(child(tlsAt, "enable"), tls.enable, false);
  return {
    protocol: parseProtocol(child(at, "protocol"), u.protocol),
    timeouts: {
      ...(idle === undefined ? {} : { idleMs: durationMs(child(timeoutsAt, "idle"), idle, 0) }),
      maxDurationMs: durationMs(
        child(timeoutsAt, "maxDuration"),
        timeouts.maxDuration,
        DEFAULT_UPSTREAM.timeouts.maxDurationMs,
      ),
    },
    ...(enabled ? { tls: parseTlsParameters(tlsAt, tls) } : {}),
  };
}

function parseFilterRefs(at: At, raw: unknown): EnvoyHTTPFilterRefs {
  const refs = asRecord(at, raw);
  const list = (key: "prepend" | "append") =>
    present(refs[key]) === undefined ? [] : refList(child(at, key), refs[key], 32);
  return { prepend: list("prepend"), append: list("append") };
}

// ---------------------------------------------------------------------------------------------
// One-ofs

function oneOf<K extends string>(at: At, record: Record<string, unknown>, keys: readonly K[]): K | undefined {
  const set = keys.filter((k) => present(record[k]) !== undefined);
  if (set.length > 1) fail(at, `must have at most one of ${keys.join(", ")} (${set.join(", ")} are set)`);
  return set[0];
}

function parseProtocol(at: At, raw: unknown): HttpProtocolChoice {
  const p = optionalRecord(at, raw);
  const kind = oneOf(at, p, ["http1", "http2", "auto"] as const) ?? "auto";
  if (kind === "http1") {
    asRecord(child(at, "http1"), p.http1);
    return { kind };
  }
  const kindAt = child(at, kind);
  const settings = optionalRecord(kindAt, p[kind]);
  // auto nests the HTTP/2 settings one level deeper: auto.http2.allowConnect.
  const h2At = kind === "auto" ? child(kindAt, "http2") : kindAt;
  const h2 = kind === "auto" ? optionalRecord(h2At, settings.http2) : settings;
  return { kind, allowConnect: bool(child(h2At, "allowConnect"), h2.allowConnect, false) };
}

function parseRemoteIP(at: At, raw: unknown): RemoteIPSource {
  const r = optionalRecord(at, raw);
  const kind = oneOf(at, r, ["xff", "customHeader", "connectionIP"] as const) ?? "xff";
  const kindAt = child(at, kind);
  const settings = optionalRecord(kindAt, r[kind]);
  switch (kind) {
    case "connectionIP":
      return { kind };
    case "customHeader": {
      const nameAt = child(kindAt, "headerName");
      const headerName = asString(nameAt, required(nameAt, settings.headerName));
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$/.test(headerName)) {
        fail(nameAt, `${show(headerName)} must be an HTTP header name (1 to 256 token characters)`);
      }
      return {
        kind,
        headerName: headerName.toLowerCase(),
        required: bool(child(kindAt, "required"), settings.required, true),
      };
    }
    case "xff": {
      const hopsAt = child(kindAt, "numTrustedHops");
      const numTrustedHops =
        present(settings.numTrustedHops) === undefined ? 1 : asInt(hopsAt, settings.numTrustedHops, 1, 64);
      const rangesAt = child(kindAt, "trustedCIDRRanges");
      const trustedCIDRRanges =
        present(settings.trustedCIDRRanges) === undefined
          ? []
          : asList(rangesAt, settings.trustedCIDRRanges, 0, 64).map((c, i) => cidr(child(rangesAt, i), c));
      return { kind, numTrustedHops, trustedCIDRRanges };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// TLS

function parseTlsParameters(at: At, tls: Record<string, unknown>): TlsParameters {
  const protocolAt = child(at, "protocol");
  const protocol = optionalRecord(protocolAt, tls.protocol);
  const version = (key: "minimum" | "maximum") =>
    present(protocol[key]) === undefined
      ? {}
      : { [key]: asEnum(child(protocolAt, key), protocol[key], TLS_VERSIONS) };
  const params: TlsParameters = { ...version("minimum"), ...version("maximum") };
  if (params.minimum !== undefined && params.maximum !== undefined && params.minimum > params.maximum) {
    fail(protocolAt, `minimum ${params.minimum} must not be above maximum ${params.maximum}`);
  }
  const ciphersAt = child(at, "ciphers");
  if (present(tls.ciphers) === undefined) return params;
  const ciphers = asList(ciphersAt, tls.ciphers, 1, 32).map((c, i) => {
    const cipher = asString(child(ciphersAt, i), c);
    if (!/^[A-Za-z0-9_\-[\]|]{1,128}$/.test(cipher))
      fail(child(ciphersAt, i), `${show(cipher)} is not a cipher suite name`);
    return cipher;
  });
  return { ...params, ciphers };
}

function parseDownstreamTls(at: At, raw: unknown): DownstreamTls | undefined {
  const tls = optionalRecord(at, raw);
  if (!bool(child(at, "enable"), tls.enable, false)) return undefined;
  const secretRef = ref(child(at, "secretRef"), tls.secretRef);
  if (secretRef === undefined) fail(at, "enable: true requires secretRef");
  const xfccAt = child(at, "xfcc");
  return {
    ...parseTlsParameters(at, tls),
    secretRef,
    clientCertificate: parseClientCertificate(child(at, "clientCertificate"), tls.clientCertificate),
    xfcc: present(tls.xfcc) === undefined ? "Sanitize" : asEnum(xfccAt, tls.xfcc, XFCC_MODES),
  };
}

function parseClientCertificate(at: At, raw: unknown): ClientCertificateSettings {
  const c = optionalRecord(at, raw);
  const kind = oneOf(at, c, ["ignored", "optional", "required"] as const) ?? "ignored";
  if (kind === "ignored") return { kind };
  const kindAt = child(at, kind);
  const s = asRecord(kindAt, c[kind]);
  const trustedCA = parseTrustedCA(child(kindAt, "trustedCA"), s.trustedCA);
  const crl = parseCrl(child(kindAt, "crl"), s.crl);
  if (kind === "optional") {
    if (trustedCA === undefined) fail(child(kindAt, "trustedCA"), "is required");
    return { kind, trustedCA, ...(crl ? { crl } : {}) };
  }
  const sansAt = child(kindAt, "allowedSANs");
  const allowedSANs =
    present(s.allowedSANs) === undefined
      ? undefined
      : asList(sansAt, s.allowedSANs, 1, 64).map((san, i) => parseSan(child(sansAt, i), san));
  if (allowedSANs !== undefined && trustedCA === undefined) fail(sansAt, "requires trustedCA");
  const pinAt = child(kindAt, "certificatePinning");
  const pin = present(s.certificatePinning);
  let certificatePinning: { allowedHashes?: string[]; allowedSPKIs?: string[] } | undefined;
  if (pin !== undefined) {
    const p = asRecord(pinAt, pin);
    const hashes = (key: "allowedHashes" | "allowedSPKIs", pattern: RegExp, what: string) => {
      if (present(p[key]) === undefined) return {};
      const listAt = child(pinAt, key);
      return {
        [key]: asList(listAt, p[key], 1, 64).map((h, i) => {
          const hash = asString(child(listAt, i), h);
          if (!pattern.test(hash)) fail(child(listAt, i), `${show(hash)} must be ${what}`);
          return hash;
        }),
      };
    };
    certificatePinning = {
      ...hashes(
        "allowedHashes",
        /^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/,
        "a hex SHA-256 hash (64 digits, colons allowed)",
      ),
      ...hashes("allowedSPKIs", /^[A-Za-z0-9+/]{43}=$/, "a base64 SHA-256 hash (44 characters)"),
    };
    if (certificatePinning.allowedHashes === undefined && certificatePinning.allowedSPKIs === undefined) {
      fail(pinAt, "must have at least one of allowedHashes, allowedSPKIs");
    }
  }
  if (trustedCA === undefined && certificatePinning === undefined) {
    fail(kindAt, "must have at least one of trustedCA, certificatePinning");
  }
  return {
    kind,
    ...(trustedCA ? { trustedCA } : {}),
    ...(crl ? { crl } : {}),
    ...(allowedSANs ? { allowedSANs } : {}),
    ...(certificatePinning ? { certificatePinning } : {}),
  };
}

function parseTrustedCA(at: At, raw: unknown): TrustedCASettings | undefined {
  if (present(raw) === undefined) return undefined;
  const t = asRecord(at, raw);
  const depthAt = child(at, "verificationDepth");
  return {
    secretRefs: secretList(child(at, "certificates"), t.certificates),
    verificationDepth:
      present(t.verificationDepth) === undefined ? 1 : asInt(depthAt, t.verificationDepth, 0, 100),
  };
}

function parseCrl(at: At, raw: unknown): CrlSettings | undefined {
  if (present(raw) === undefined) return undefined;
  const c = asRecord(at, raw);
  const modeAt = child(at, "validationMode");
  return {
    secretRefs: secretList(child(at, "lists"), c.lists),
    validationMode:
      present(c.validationMode) === undefined
        ? "VerifyChain"
        : asEnum(modeAt, c.validationMode, ["VerifyChain", "VerifyLeafCertOnly"] as const),
  };
}

function secretList(at: At, raw: unknown): LocalRef[] {
  return asList(at, required(at, raw), 1, 64).map((item, i) => {
    const itemAt = child(at, i);
    const secretRef = ref(child(itemAt, "secretRef"), asRecord(itemAt, item).secretRef);
    if (secretRef === undefined) fail(child(itemAt, "secretRef"), "is required");
    return secretRef;
  });
}

function parseSan(at: At, raw: unknown): SanMatch {
  const san = asRecord(at, raw);
  const typeAt = child(at, "sanType");
  const sanType = asEnum(typeAt, required(typeAt, san.sanType), [
    "DNS",
    "Email",
    "URI",
    "IPAddress",
  ] as const);
  return { sanType, matcher: stringMatcher(child(at, "matcher"), san.matcher) };
}

const MATCHER_KINDS = ["exact", "prefix", "suffix", "contains", "regex"] as const;

function stringMatcher(at: At, raw: unknown): StringMatch {
  const m = asRecord(at, required(at, raw));
  const kind = oneOf(at, m, MATCHER_KINDS);
  if (kind === undefined) fail(at, `must have exactly one of ${MATCHER_KINDS.join(", ")} (none set)`);
  const valueAt = child(at, kind);
  const value = asString(valueAt, m[kind]);
  if (value.length < 1 || value.length > MAX_MATCHER_LENGTH) {
    fail(valueAt, `has ${value.length} characters, must have 1 to ${MAX_MATCHER_LENGTH}`);
  }
  if (kind === "regex") {
    const error = re2SyntaxError(value);
    if (error !== undefined) fail(valueAt, `${show(value)} is not a valid RE2 regex: ${error}`);
  }
  return { kind, value, ignoreCase: bool(child(at, "ignoreCase"), m.ignoreCase, false) };
}

// ---------------------------------------------------------------------------------------------
// Scalars

function bool(at: At, raw: unknown, fallback: boolean): boolean {
  const v = present(raw);
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") fail(at, `${show(v)} must be a boolean`);
  return v;
}

function ref(at: At, raw: unknown): LocalRef | undefined {
  if (present(raw) === undefined) return undefined;
  const r = asRecord(at, raw);
  const nameAt = child(at, "name");
  const name = asString(nameAt, required(nameAt, r.name));
  if (name === "" || name.length > MAX_NAME)
    fail(nameAt, `${show(name)} must have 1 to ${MAX_NAME} characters`);
  return { name };
}

function refList(at: At, raw: unknown, max: number): LocalRef[] {
  return asList(at, raw, 0, max).map((item, i) => {
    const r = ref(child(at, i), item);
    if (r === undefined) fail(child(at, i), "is required");
    return r;
  });
}

const CIDR = /^(?:(\d{1,3}(?:\.\d{1,3}){3})|([0-9a-fA-F:.]*:[0-9a-fA-F:.]*))\/(\d{1,3})$/;

function cidr(at: At, raw: unknown): string {
  const value = asString(at, raw);
  const m = CIDR.exec(value);
  const ipv4 = m?.[1];
  const bits = Number(m?.[3]);
  const ok =
    m !== null &&
    (ipv4 !== undefined ? ipv4.split(".").every((o) => Number(o) <= 255) && bits <= 32 : bits <= 128);
  if (!ok) fail(at, `${show(value)} must be a CIDR range such as 10.0.0.0/8 or 2001:db8::/32`);
  return value;
}

const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go duration (`250ms`, `1h30m`, `0`) in milliseconds. */
export function durationMs(at: At, raw: unknown, fallback: number): number {
  if (present(raw) === undefined) return fallback;
  const text = asString(at, raw);
  if (text === "0") return 0;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(DURATION_PART)) {
    if (m.index !== consumed) break;
    consumed += m[0].length;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  if (text === "" || consumed !== text.length) {
    fail(at, `${show(text)} must be a duration such as 250ms, 10s, 5m or 1h30m`);
  }
  return total;
}

const QUANTITY = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;
const QUANTITY_FACTOR: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** A Kubernetes quantity (`60Ki`, `1M`, `4096`) in bytes, rounded up to a whole byte. */
export function quantityBytes(at: At, raw: unknown): number {
  if (typeof raw === "number" && Number.isFinite(raw) && raw >= 0) return Math.ceil(raw);
  const text = typeof raw === "string" ? raw : undefined;
  const m = text === undefined ? null : QUANTITY.exec(text);
  if (m === null) fail(at, `${show(raw)} must be a number of bytes or a quantity such as 60Ki or 1Mi`);
  const suffix = m[2] ?? "";
  const factor = /^[eE][+-]?[0-9]+$/.test(suffix)
    ? 10 ** Number(suffix.slice(1))
    : (QUANTITY_FACTOR[suffix] ?? 1);
  return Math.ceil(Number(m[1]) * factor);
}
