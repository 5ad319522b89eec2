import "reflect-metadata";
import { beforeAll, describe, expect, test } from "bun:test";
import { createAuthority } from "../certs/authority.ts";
import { issueServerCertificate } from "../certs/issue.ts";
import { isMicrogatewayError } from "../errors.ts";
import { testCertificates } from "../translate/testing/settings-fixtures.ts";
import { caBundle, crlBundle, tlsKeyPair } from "./secret-content.ts";
import type { SecretObject } from "./types.ts";

const AT = "SidecarGateway shop/gw: spec.applications[0].downstream.tls.secretRef";

function secret(data: Record<string, string>, type = "kubernetes.io/tls"): SecretObject {
  return { kind: "Secret", metadata: { name: "cert", namespace: "shop" }, type, data };
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isMicrogatewayError(e)) return e.message;
    throw e;
  }
  throw new Error("expected a MicrogatewayError");
}

let certPem = "";
let keyPem = "";
let otherKeyPem = "";
let caPem = "";

beforeAll(async () => {
  const ca = await createAuthority({ commonName: "test CA" });
  caPem = ca.certificatePem;
  const a = await issueServerCertificate(ca, { commonName: "a", dnsNames: ["a.test"] });
  const b = await issueServerCertificate(ca, { commonName: "b", dnsNames: ["b.test"] });
  certPem = a.chainPem;
  keyPem = a.privateKeyPem;
  otherKeyPem = b.privateKeyPem;
});

describe("tlsKeyPair", () => {
  test("returns the chain and key of a valid kubernetes.io/tls Secret", () => {
    expect(tlsKeyPair(secret({ "tls.crt": certPem, "tls.key": keyPem }), AT)).toEqual({
      certificateChain: certPem,
      privateKey: keyPem,
    });
  });

  test("names the Secret and the field for each way it can be unfit", () => {
    expect(errorOf(() => tlsKeyPair(secret({ "tls.crt": certPem, "tls.key": keyPem }, "Opaque"), AT))).toBe(
      `${AT}: Secret shop/cert has type "Opaque", must be kubernetes.io/tls`,
    );
    expect(errorOf(() => tlsKeyPair(secret({ "tls.crt": certPem }), AT))).toBe(
      `${AT}: Secret shop/cert has no key tls.key`,
    );
    expect(errorOf(() => tlsKeyPair(secret({ "tls.crt": "hello", "tls.key": keyPem }), AT))).toStartWith(
      `${AT}: Secret shop/cert key tls.crt is not PEM`,
    );
    expect(errorOf(() => tlsKeyPair(secret({ "tls.crt": certPem, "tls.key": "hello" }), AT))).toStartWith(
      `${AT}: Secret shop/cert key tls.key is not a PEM private key`,
    );
    expect(errorOf(() => tlsKeyPair(secret({ "tls.crt": certPem, "tls.key": otherKeyPem }), AT))).toBe(
      `${AT}: Secret shop/cert: tls.key is not the key of the first certificate in tls.crt`,
    );
  });
});

describe("crlBundle", () => {
  test("accepts a PEM CRL under ca.crl and rejects a broken one", async () => {
    const { crlPem } = await testCertificates();
    expect(crlBundle(secret({ "ca.crl": crlPem }, "Opaque"), AT)).toBe(crlPem);
    const broken = "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n";
    expect(errorOf(() => crlBundle(secret({ "ca.crl": broken }, "Opaque"), AT))).toStartWith(
      `${AT}: Secret shop/cert key ca.crl holds an unparsable CRL`,
    );
  });
});

describe("caBundle", () => {
  test("accepts PEM certificates under ca.crt and rejects a broken one", () => {
    expect(caBundle(secret({ "ca.crt": caPem }, "Opaque"), AT)).toBe(caPem);
    const broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    expect(errorOf(() => caBundle(secret({ "ca.crt": broken }, "Opaque"), AT))).toStartWith(
      `${AT}: Secret shop/cert key ca.crt holds an unparsable certificate`,
    );
  });
});
