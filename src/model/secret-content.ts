/**
 * What a referenced Secret must contain, checked before the engine gets it: a TLS Secret's
 * certificate chain and key, a CA bundle, a CRL. Envoy would reject bad PEM too, but only after the
 * push, as a NACK on the whole listener; checking here names the Secret and the gateway field.
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import type { X509Certificate } from "@peculiar/x509";
import { MicrogatewayError } from "../errors.ts";
import { type SecretObject, TLS_SECRET_TYPE } from "./types.ts";

type X509 = typeof import("@peculiar/x509");
let x509: X509 | undefined;

/**
 * @peculiar/x509, loaded on first use: it (with reflect-metadata) is a quarter of the start-up of
 * every process that builds a model, and only gateways that reference TLS Secrets need it. Bun's
 * `require` loads it synchronously.
 */
function peculiar(): X509 {
  if (x509 === undefined) {
    require("reflect-metadata");
    x509 = require("@peculiar/x509") as X509;
  }
  return x509;
}

/** A server certificate chain and its private key, in PEM. */
export interface TlsKeyPair {
  readonly certificateChain: string;
  readonly privateKey: string;
}

/**
 * The certificate chain (tls.crt) and key (tls.key) of a `kubernetes.io/tls` Secret. `usedBy`
 * names the referencing field, e.g. `SidecarGateway shop/gw: spec.applications[0].downstream.tls.secretRef`.
 * Throws InvalidResource when the type is wrong, a key is missing, the PEM does not parse or the
 * key does not belong to the first certificate.
 *
 * @example tlsKeyPair(model.secrets.get("shop/tls")!, "SidecarGateway shop/gw: spec.applications[0].downstream.tls.secretRef")
 */
export function tlsKeyPair(secret: SecretObject, usedBy: string): TlsKeyPair {
  const name = describe(secret);
  if (secret.type !== TLS_SECRET_TYPE) {
    invalid(usedBy, `${name} has type ${JSON.stringify(secret.type)}, must be ${TLS_SECRET_TYPE}`);
  }
  const chain = value(secret, "tls.crt", usedBy);
  const key = value(secret, "tls.key", usedBy);
  const certificates = certificatesIn(chain, `${name} key tls.crt`, usedBy);
  let publicKeyDer: Buffer;
  try {
    publicKeyDer = createPublicKey(createPrivateKey(key)).export({ type: "spki", format: "der" });
  } catch (e) {
    return invalid(usedBy, `${name} key tls.key is not a PEM private key (${reason(e)})`);
  }
  if (!Buffer.from(certificates[0]!.publicKey.rawData).equals(publicKeyDer)) {
    invalid(usedBy, `${name}: tls.key is not the key of the first certificate in tls.crt`);
  }
  return { certificateChain: chain, privateKey: key };
}

/** The CA certificates (PEM) under key ca.crt of a Secret of any type. */
export function caBundle(secret: SecretObject, usedBy: string): string {
  const pem = value(secret, "ca.crt", usedBy);
  certificatesIn(pem, `${describe(secret)} key ca.crt`, usedBy);
  return pem;
}

/** The CRLs (PEM) under key ca.crl of a Secret of any type. */
export function crlBundle(secret: SecretObject, usedBy: string): string {
  const pem = value(secret, "ca.crl", usedBy);
  const what = `${describe(secret)} key ca.crl`;
  const blocks = pemBlocks(pem, what, usedBy);
  for (const block of blocks) {
    try {
      new (peculiar().X509Crl)(block.rawData);
    } catch (e) {
      invalid(usedBy, `${what} holds an unparsable CRL (${reason(e)})`);
    }
  }
  return pem;
}

function certificatesIn(pem: string, what: string, usedBy: string): X509Certificate[] {
  const blocks = pemBlocks(pem, what, usedBy).filter((b) => b.type === "CERTIFICATE");
  if (blocks.length === 0) invalid(usedBy, `${what} holds no PEM CERTIFICATE`);
  return blocks.map((b) => {
    try {
      return new (peculiar().X509Certificate)(b.rawData);
    } catch (e) {
      return invalid(usedBy, `${what} holds an unparsable certificate (${reason(e)})`);
    }
  });
}

function pemBlocks(pem: string, what: string, usedBy: string): { type: string; rawData: ArrayBuffer }[] {
  try {
    const blocks = peculiar().PemConverter.decodeWithHeaders(pem);
    if (blocks.length === 0) throw new Error("no PEM block");
    return blocks;
  } catch (e) {
    return invalid(usedBy, `${what} is not PEM (${reason(e)})`);
  }
}

function value(secret: SecretObject, key: string, usedBy: string): string {
  const v = secret.data[key];
  if (v === undefined || v.trim() === "") invalid(usedBy, `${describe(secret)} has no key ${key}`);
  return v;
}

function describe(secret: SecretObject): string {
  return `Secret ${secret.metadata.namespace}/${secret.metadata.name}`;
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function invalid(usedBy: string, detail: string): never {
  throw new MicrogatewayError("InvalidResource", `${usedBy}: ${detail}`);
}
