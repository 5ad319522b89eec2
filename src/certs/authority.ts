/**
 * The operator's certificate authority (public API: Secret `airlock-microgateway-ca-cert`). It signs the
 * xDS server certificate, the webhook certificate and the engines' client certificates, and the engines
 * trust nothing else on the xDS connection.
 */
import "reflect-metadata";
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
} from "@peculiar/x509";
import { MicrogatewayError } from "../errors.ts";
import {
  CLOCK_SKEW_MS,
  generateKeyPair,
  privateKeyFromPem,
  privateKeyToPem,
  randomSerialNumber,
  SIGNING_ALGORITHM,
} from "./keys.ts";

/** Default lifetime of a new CA: long, because replacing it means re-issuing every engine's bootstrap. */
export const DEFAULT_CA_VALIDITY_DAYS = 3650;

/** A CA that can sign leaves: its PEM form (to store in a Secret) and its parsed form (to sign with). */
export interface Authority {
  /** The CA certificate, PEM, ending in a newline. */
  readonly certificatePem: string;
  /** The CA private key, PKCS#8 PEM, ending in a newline. */
  readonly privateKeyPem: string;
  /** The parsed CA certificate (issuer name and key identifier of the leaves come from it). */
  readonly certificate: X509Certificate;
  /** The key that signs leaves. */
  readonly signingKey: CryptoKey;
  /** End of the CA's validity; leaves are never valid beyond it. */
  readonly notAfter: Date;
}

/** Options of {@link createAuthority}. */
export interface CreateAuthorityOptions {
  /** Subject common name, e.g. `airlock-microgateway-ca`. */
  commonName: string;
  /** Lifetime in days; default {@link DEFAULT_CA_VALIDITY_DAYS}. */
  validityDays?: number;
  /** The issuing time (tests); default the current time. */
  now?: Date;
}

/** Creates a new self-signed ECDSA P-256 CA that may sign leaves but no intermediate CAs. */
export async function createAuthority(opts: CreateAuthorityOptions): Promise<Authority> {
  const validityDays = opts.validityDays ?? DEFAULT_CA_VALIDITY_DAYS;
  if (!(validityDays > 0)) {
    throw new MicrogatewayError("InvalidArgument", `CA: validityDays ${validityDays} must be positive`);
  }
  requireCommonName(opts.commonName, "CA");
  const now = opts.now ?? new Date();
  const keys = await generateKeyPair();
  const ski = await SubjectKeyIdentifierExtension.create(keys.publicKey);
  const certificate = await X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: utf8CommonName(opts.commonName),
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + validityDays * 24 * 3600 * 1000),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      // pathLength 0: a leaked leaf key can never be used to mint further certificates.
      new BasicConstraintsExtension(true, 0, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
      ski,
      new AuthorityKeyIdentifierExtension(ski.keyId),
    ],
  });
  return {
    certificatePem: `${certificate.toString("pem")}\n`,
    privateKeyPem: await privateKeyToPem(keys.privateKey),
    certificate,
    signingKey: keys.privateKey,
    notAfter: certificate.notAfter,
  };
}

/**
 * Loads a CA from the PEM pair stored in its Secret, checking that the certificate is a CA allowed to
 * sign certificates and that the key belongs to it (a mismatched pair would issue leaves nobody trusts).
 */
export async function loadAuthority(certificatePem: string, privateKeyPem: string): Promise<Authority> {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch (e) {
    throw new MicrogatewayError("InvalidArgument", "CA certificate: expected a PEM CERTIFICATE block", {
      cause: e,
    });
  }
  const subject = certificate.subject;
  const constraints = certificate.getExtension(BasicConstraintsExtension);
  if (!constraints?.ca) {
    throw new MicrogatewayError(
      "InvalidArgument",
      `CA certificate "${subject}": basicConstraints must have cA=true`,
    );
  }
  const usage = certificate.getExtension(KeyUsagesExtension);
  if (usage && (usage.usages & KeyUsageFlags.keyCertSign) === 0) {
    throw new MicrogatewayError(
      "InvalidArgument",
      `CA certificate "${subject}": keyUsage must include keyCertSign`,
    );
  }
  const signingKey = await privateKeyFromPem(privateKeyPem, `CA private key for "${subject}"`);
  if (!(await keyMatchesCertificate(signingKey, certificate))) {
    throw new MicrogatewayError(
      "InvalidArgument",
      `CA private key: does not belong to the CA certificate "${subject}"`,
    );
  }
  return {
    certificatePem: ensureTrailingNewline(certificatePem.trim()),
    privateKeyPem: ensureTrailingNewline(privateKeyPem.trim()),
    certificate,
    signingKey,
    notAfter: certificate.notAfter,
  };
}

/** Throws unless a common name is a non-empty single line (it ends up in logs and DNs). */
export function requireCommonName(commonName: string, what: string): void {
  if (commonName.length === 0 || commonName.length > 64 || /\p{Cc}/u.test(commonName)) {
    throw new MicrogatewayError(
      "InvalidArgument",
      `${what}: commonName ${JSON.stringify(commonName)} must be 1-64 printable characters`,
    );
  }
}

/** A subject DN of one common name as UTF8String (RFC 5280's choice; PrintableString cannot hold `_`). */
export function utf8CommonName(commonName: string): Name {
  return new Name([{ CN: [{ utf8String: commonName }] }]);
}

async function keyMatchesCertificate(privateKey: CryptoKey, certificate: X509Certificate): Promise<boolean> {
  let publicKey: CryptoKey;
  try {
    publicKey = await certificate.publicKey.export(SIGNING_ALGORITHM, ["verify"]);
  } catch {
    return false; // not a P-256 key
  }
  const priv = await crypto.subtle.exportKey("jwk", privateKey);
  const pub = await crypto.subtle.exportKey("jwk", publicKey);
  return priv.x === pub.x && priv.y === pub.y;
}

function ensureTrailingNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
