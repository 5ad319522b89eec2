/**
 * How users authenticate to a test cluster: client certificates and kubeconfigs. The API server takes
 * the user name from the subject CN and the groups from its O attributes, which src/certs' engine
 * certificates (identity in a URI SAN) do not carry, so test clusters issue their own.
 */
import { writeFile } from "node:fs/promises";
import "reflect-metadata";
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  PemConverter,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
} from "@peculiar/x509";
import type { Authority } from "../../src/certs/authority.ts";
import {
  CLOCK_SKEW_MS,
  generateKeyPair,
  privateKeyToPem,
  randomSerialNumber,
  SIGNING_ALGORITHM,
} from "../../src/certs/keys.ts";

/** A client certificate and its key, PEM. */
export interface UserCertificate {
  certificatePem: string;
  privateKeyPem: string;
}

/** Issues a one-day client certificate for `user` (CN) in `groups` (one O attribute each). */
export async function issueUserCertificate(
  ca: Authority,
  user: string,
  groups: readonly string[],
): Promise<UserCertificate> {
  const keys = await generateKeyPair();
  const now = Date.now();
  const certificate = await X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: new Name([
      { CN: [{ utf8String: user }] },
      ...groups.map((group) => ({ O: [{ utf8String: group }] })),
    ]),
    issuer: ca.certificate.subjectName,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(Math.min(now + 24 * 3600 * 1000, ca.notAfter.getTime())),
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new BasicConstraintsExtension(false, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
      new ExtendedKeyUsageExtension([ExtendedKeyUsage.clientAuth]),
      await authorityKeyIdentifier(ca),
    ],
  });
  return {
    certificatePem: `${certificate.toString("pem")}\n`,
    privateKeyPem: await privateKeyToPem(keys.privateKey),
  };
}

/** The CA's own SKI when it has one (Go chains by it), else one derived from its key. */
async function authorityKeyIdentifier(ca: Authority): Promise<AuthorityKeyIdentifierExtension> {
  const ski = ca.certificate.getExtension(SubjectKeyIdentifierExtension);
  if (ski) return new AuthorityKeyIdentifierExtension(ski.keyId);
  return AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey);
}

/** Encodes a public key as SPKI PEM (`BEGIN PUBLIC KEY`), the form `--service-account-key-file` reads. */
export async function publicKeyToPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("spki", key);
  return `${PemConverter.encode(der, "PUBLIC KEY")}\n`;
}

const CONTEXT = "microgateway-test";

/** Writes a kubeconfig (context `microgateway-test`, namespace `default`) that authenticates with `cert`. */
export async function writeKubeconfig(
  path: string,
  server: string,
  caPem: string,
  user: string,
  cert: UserCertificate,
): Promise<void> {
  const b64 = (pem: string) => Buffer.from(pem).toString("base64");
  // JSON is YAML, and every kubeconfig reader (kubectl, client-go, @kubernetes/client-node) accepts it.
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: CONTEXT, cluster: { server, "certificate-authority-data": b64(caPem) } }],
    users: [
      {
        name: user,
        user: {
          "client-certificate-data": b64(cert.certificatePem),
          "client-key-data": b64(cert.privateKeyPem),
        },
      },
    ],
    contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user, namespace: "default" } }],
    "current-context": CONTEXT,
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
