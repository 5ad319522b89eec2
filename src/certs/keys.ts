/**
 * Key material shared by the CA and the leaves: one algorithm (ECDSA P-256 with SHA-256) so every
 * certificate we make is accepted by Envoy (BoringSSL), Node/Bun TLS and openssl alike.
 */
import "reflect-metadata";
import { PemConverter } from "@peculiar/x509";
import { MicrogatewayError } from "../errors.ts";

/** The key and signature algorithm of every certificate we issue. */
export const SIGNING_ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/**
 * How far `notBefore` is moved into the past: engines and nodes with a clock a few minutes behind the
 * operator must not reject a certificate that was just issued.
 */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Generates a fresh P-256 key pair; extractable so the private key can be written into a Secret. */
export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(SIGNING_ALGORITHM, true, ["sign", "verify"]);
}

/** Encodes a private key as PKCS#8 PEM (`BEGIN PRIVATE KEY`), the form Envoy, Node and openssl read. */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("pkcs8", key);
  return `${PemConverter.encode(der, "PRIVATE KEY")}\n`;
}

/**
 * Imports a PKCS#8 PEM P-256 private key for signing. SEC1 keys (`BEGIN EC PRIVATE KEY`) are refused
 * with a hint, because WebCrypto cannot import them.
 */
export async function privateKeyFromPem(pem: string, what: string): Promise<CryptoKey> {
  if (pem.includes("BEGIN EC PRIVATE KEY")) {
    throw new MicrogatewayError(
      "InvalidArgument",
      `${what}: SEC1 "EC PRIVATE KEY" is not supported, expected PKCS#8 "PRIVATE KEY" (convert with \`openssl pkcs8 -topk8 -nocrypt\`)`,
    );
  }
  let der: ArrayBuffer;
  try {
    der = PemConverter.decodeFirst(pem);
  } catch (e) {
    throw new MicrogatewayError("InvalidArgument", `${what}: expected a PEM "PRIVATE KEY" block`, {
      cause: e,
    });
  }
  try {
    // Extractable so the caller can prove the key belongs to a certificate (see loadAuthority).
    return await crypto.subtle.importKey("pkcs8", der, SIGNING_ALGORITHM, true, ["sign"]);
  } catch (e) {
    throw new MicrogatewayError("InvalidArgument", `${what}: expected an ECDSA P-256 PKCS#8 private key`, {
      cause: e,
    });
  }
}

/**
 * A random positive serial number of 126 bits as hex. RFC 5280 caps serials at 20 octets and wants
 * them unpredictable; forcing the top bits to `01` keeps the DER INTEGER positive and exactly 16 octets.
 */
export function randomSerialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = 0x40 | (bytes[0]! & 0x3f);
  return Buffer.from(bytes).toString("hex");
}
