/**
 * Leaf certificates signed by the operator's CA: server certificates (xDS server, webhook) and engine
 * client certificates (mTLS on the xDS connection).
 */
import "reflect-metadata";
import { isIP } from "node:net";
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  type Extension,
  type JsonGeneralName,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
} from "@peculiar/x509";
import { MicrogatewayError } from "../errors.ts";
import { type Authority, requireCommonName, utf8CommonName } from "./authority.ts";
import {
  CLOCK_SKEW_MS,
  generateKeyPair,
  privateKeyToPem,
  randomSerialNumber,
  SIGNING_ALGORITHM,
} from "./keys.ts";

/** How often the operator renews leaf certificates (the public API renews the bootstrap secret every 48 h). */
export const LEAF_RENEWAL_HOURS = 48;

/**
 * Default leaf lifetime: 7 days, i.e. 3.5 renewal periods. A leaf valid for exactly the renewal period
 * would expire at the moment the next one is due, so an operator that is down, not leader, or slow to
 * write the Secret, plus the kubelet's delay in refreshing mounted Secrets (up to about a minute plus
 * its cache TTL), would cut engines off from xDS. The slack survives a lost weekend of renewals.
 */
export const DEFAULT_LEAF_VALIDITY_HOURS = 7 * 24;

/** A freshly issued leaf. */
export interface IssuedCertificate {
  /** The leaf certificate, PEM, ending in a newline. */
  certificatePem: string;
  /** Its private key, PKCS#8 PEM, ending in a newline. */
  privateKeyPem: string;
  /** Leaf followed by the issuing CA: what a TLS endpoint presents (Envoy `certificate_chain`). */
  chainPem: string;
  /** End of validity (second precision, as encoded in the certificate). */
  notAfter: Date;
}

/** Options of {@link issueServerCertificate}. */
export interface ServerCertificateOptions {
  /** Subject common name (informational; clients verify the SANs). */
  commonName: string;
  /** DNS SANs, e.g. `airlock-microgateway-operator-xds-headless.ops.svc.cluster.local`. */
  dnsNames?: readonly string[];
  /** IP SANs (IPv4 or IPv6 text form), e.g. `127.0.0.1` for local mode. */
  ipAddresses?: readonly string[];
  /** Lifetime in hours; default {@link DEFAULT_LEAF_VALIDITY_HOURS}. Never beyond the CA's end. */
  validityHours?: number;
  /** The issuing time (tests); default the current time. */
  now?: Date;
}

/** Options of {@link issueClientCertificate}. */
export interface ClientCertificateOptions {
  /** Subject common name (informational; the server authorizes by URI SAN). */
  commonName: string;
  /** URI SANs, normally one SPIFFE ID from `engineSpiffeId`. */
  uris: readonly string[];
  /** Lifetime in hours; default {@link DEFAULT_LEAF_VALIDITY_HOURS}. Never beyond the CA's end. */
  validityHours?: number;
  /** The issuing time (tests); default the current time. */
  now?: Date;
}

/** Issues a TLS server certificate (EKU serverAuth) for the given DNS names and IP addresses. */
export async function issueServerCertificate(
  ca: Authority,
  opts: ServerCertificateOptions,
): Promise<IssuedCertificate> {
  const what = `server certificate "${opts.commonName}"`;
  const names: JsonGeneralName[] = [];
  for (const dns of opts.dnsNames ?? []) {
    if (!isDnsName(dns)) {
      throw new MicrogatewayError(
        "InvalidArgument",
        `${what}: dnsNames entry ${JSON.stringify(dns)} is not a DNS name`,
      );
    }
    names.push({ type: "dns", value: dns });
  }
  for (const ip of opts.ipAddresses ?? []) {
    if (isIP(ip) === 0) {
      throw new MicrogatewayError(
        "InvalidArgument",
        `${what}: ipAddresses entry ${JSON.stringify(ip)} is not an IP address`,
      );
    }
    names.push({ type: "ip", value: ip });
  }
  if (names.length === 0) {
    // Clients match SANs only (the CN is ignored), so a certificate without any would be useless.
    throw new MicrogatewayError("InvalidArgument", `${what}: needs at least one of dnsNames, ipAddresses`);
  }
  return issueLeaf(ca, opts, what, names, ExtendedKeyUsage.serverAuth);
}

/** Issues a TLS client certificate (EKU clientAuth) carrying the given URI SANs (SPIFFE IDs). */
export async function issueClientCertificate(
  ca: Authority,
  opts: ClientCertificateOptions,
): Promise<IssuedCertificate> {
  const what = `client certificate "${opts.commonName}"`;
  if (opts.uris.length === 0) {
    throw new MicrogatewayError("InvalidArgument", `${what}: uris must name at least one identity`);
  }
  const names: JsonGeneralName[] = opts.uris.map((uri) => {
    if (!URL.canParse(uri) || /\s/.test(uri)) {
      throw new MicrogatewayError(
        "InvalidArgument",
        `${what}: uris entry ${JSON.stringify(uri)} is not a URI`,
      );
    }
    return { type: "url", value: uri };
  });
  return issueLeaf(ca, opts, what, names, ExtendedKeyUsage.clientAuth);
}

async function issueLeaf(
  ca: Authority,
  opts: { commonName: string; validityHours?: number; now?: Date },
  what: string,
  names: JsonGeneralName[],
  usage: ExtendedKeyUsage,
): Promise<IssuedCertificate> {
  requireCommonName(opts.commonName, what);
  const validityHours = opts.validityHours ?? DEFAULT_LEAF_VALIDITY_HOURS;
  if (!(validityHours > 0)) {
    throw new MicrogatewayError(
      "InvalidArgument",
      `${what}: validityHours ${validityHours} must be positive`,
    );
  }
  const now = opts.now ?? new Date();
  if (now.getTime() >= ca.notAfter.getTime()) {
    throw new MicrogatewayError("InvalidArgument", `${what}: the CA expired at ${ca.notAfter.toISOString()}`);
  }
  // A leaf that outlives its CA fails verification anyway; clamping keeps notAfter honest for renewal.
  const notAfter = new Date(Math.min(now.getTime() + validityHours * 3600 * 1000, ca.notAfter.getTime()));
  const keys = await generateKeyPair();
  const extensions: Extension[] = [
    new BasicConstraintsExtension(false, undefined, true),
    // ECDSA keys sign the handshake; keyEncipherment is an RSA-only usage.
    new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
    new ExtendedKeyUsageExtension([usage]),
    new SubjectAlternativeNameExtension(names),
    await SubjectKeyIdentifierExtension.create(keys.publicKey),
    await authorityKeyIdentifier(ca),
  ];
  const certificate = await X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: utf8CommonName(opts.commonName),
    issuer: ca.certificate.subjectName,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
  const certificatePem = `${certificate.toString("pem")}\n`;
  return {
    certificatePem,
    privateKeyPem: await privateKeyToPem(keys.privateKey),
    chainPem: `${certificatePem}${ca.certificatePem}`,
    notAfter: certificate.notAfter,
  };
}

/** The CA's own SKI when it has one (a loaded CA may use another derivation), else derived from its key. */
async function authorityKeyIdentifier(ca: Authority): Promise<AuthorityKeyIdentifierExtension> {
  const ski = ca.certificate.getExtension(SubjectKeyIdentifierExtension);
  if (ski) return new AuthorityKeyIdentifierExtension(ski.keyId);
  return AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey);
}

/** A DNS name as used in SANs: LDH labels, optionally a leading `*.` wildcard label. */
function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split(".");
  return labels.every(
    (label, i) =>
      (i === 0 && label === "*" && labels.length > 1) || /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/i.test(label),
  );
}
