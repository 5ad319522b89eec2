import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMicrogatewayError } from "../errors.ts";
import { type Authority, createAuthority } from "./authority.ts";
import { engineSpiffeId } from "./identity.ts";
import {
  DEFAULT_LEAF_VALIDITY_HOURS,
  issueClientCertificate,
  issueServerCertificate,
  LEAF_RENEWAL_HOURS,
} from "./issue.ts";

let ca: Authority;
let dir: string;

beforeAll(async () => {
  ca = await createAuthority({ commonName: "airlock-microgateway-ca" });
  dir = mkdtempSync(join(tmpdir(), "mgw-issue-"));
  writeFileSync(join(dir, "ca.pem"), ca.certificatePem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `openssl verify` of a PEM against the CA, optionally for one purpose (which checks the EKU). */
function verify(pem: string, purpose?: "sslserver" | "sslclient"): { code: number; out: string } {
  const file = join(dir, `${crypto.randomUUID()}.pem`);
  writeFileSync(file, pem);
  const args = [
    "openssl",
    "verify",
    "-CAfile",
    join(dir, "ca.pem"),
    ...(purpose ? ["-purpose", purpose] : []),
    file,
  ];
  const proc = Bun.spawnSync(args, { stdout: "pipe", stderr: "pipe" });
  return { code: proc.exitCode ?? -1, out: proc.stdout.toString() + proc.stderr.toString() };
}

function x509Text(pem: string): string {
  const proc = Bun.spawnSync(["openssl", "x509", "-noout", "-text"], {
    stdin: Buffer.from(pem),
    stdout: "pipe",
  });
  expect(proc.exitCode).toBe(0);
  return proc.stdout.toString();
}

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(isMicrogatewayError(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error("expected a rejection");
}

describe("issueServerCertificate", () => {
  test("openssl accepts it as a TLS server certificate, and refuses it as a client certificate", async () => {
    const leaf = await issueServerCertificate(ca, {
      commonName: "airlock-microgateway-operator-xds",
      dnsNames: ["airlock-microgateway-operator-xds-headless.ops.svc.cluster.local", "localhost"],
      ipAddresses: ["127.0.0.1", "::1"],
    });
    expect(verify(leaf.certificatePem, "sslserver").code).toBe(0);
    const asClient = verify(leaf.certificatePem, "sslclient");
    expect(asClient.code).not.toBe(0);
    expect(asClient.out).toContain("unsuitable certificate purpose");

    const text = x509Text(leaf.certificatePem);
    expect(text).toContain(
      "DNS:airlock-microgateway-operator-xds-headless.ops.svc.cluster.local, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
    );
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/);
    expect(text).toMatch(/Extended Key Usage: \s+TLS Web Server Authentication\n/);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toContain("Subject: CN = airlock-microgateway-operator-xds");
    expect(text).toContain("Issuer: CN = airlock-microgateway-ca");
    // AKI of the leaf is the SKI of the CA, so chain building by key id works.
    const caSki = /Subject Key Identifier: \s+([0-9A-F:]+)/.exec(x509Text(ca.certificatePem))?.[1];
    expect(caSki).toBeDefined();
    expect(text).toMatch(new RegExp(`Authority Key Identifier: \\s+(keyid:)?${caSki}`));
  });

  test("the chain is the leaf followed by the CA", async () => {
    const leaf = await issueServerCertificate(ca, { commonName: "s", dnsNames: ["s.example"] });
    expect(leaf.chainPem).toBe(leaf.certificatePem + ca.certificatePem);
    expect(leaf.privateKeyPem).toStartWith("-----BEGIN PRIVATE KEY-----\n");
  });

  test("is valid for 7 days by default, longer than the 48 h renewal period", async () => {
    const now = new Date("2026-11-26T10:00:00Z");
    const leaf = await issueServerCertificate(ca, { commonName: "s", dnsNames: ["s.example"], now });
    expect(DEFAULT_LEAF_VALIDITY_HOURS).toBeGreaterThan(2 * LEAF_RENEWAL_HOURS);
    expect(leaf.notAfter.toISOString()).toBe("2026-12-03T10:00:00.000Z");
    const short = await issueServerCertificate(ca, {
      commonName: "s",
      dnsNames: ["s.example"],
      now,
      validityHours: 1,
    });
    expect(short.notAfter.toISOString()).toBe("2026-11-26T11:00:00.000Z");
  });

  test("never outlives its CA", async () => {
    const now = new Date();
    const shortCa = await createAuthority({ commonName: "short", validityDays: 1, now });
    const leaf = await issueServerCertificate(shortCa, { commonName: "s", dnsNames: ["s.example"], now });
    expect(leaf.notAfter.getTime()).toBe(shortCa.notAfter.getTime());
  });

  test("refuses to issue from an expired CA", async () => {
    const old = await createAuthority({
      commonName: "old",
      validityDays: 1,
      now: new Date("2020-01-01T00:00:00Z"),
    });
    expect(await rejection(issueServerCertificate(old, { commonName: "s", dnsNames: ["s.example"] }))).toBe(
      'server certificate "s": the CA expired at 2020-01-02T00:00:00.000Z',
    );
  });

  test("gives every certificate its own key and a random serial", async () => {
    const a = await issueServerCertificate(ca, { commonName: "s", dnsNames: ["s.example"] });
    const b = await issueServerCertificate(ca, { commonName: "s", dnsNames: ["s.example"] });
    expect(a.privateKeyPem).not.toBe(b.privateKeyPem);
    const serial = (pem: string) => /Serial Number:\s+([0-9a-f:]+)/.exec(x509Text(pem))?.[1];
    expect(serial(a.certificatePem)).not.toBe(serial(b.certificatePem));
  });

  test("refuses bad SANs and a certificate without any", async () => {
    expect(await rejection(issueServerCertificate(ca, { commonName: "s" }))).toBe(
      'server certificate "s": needs at least one of dnsNames, ipAddresses',
    );
    expect(await rejection(issueServerCertificate(ca, { commonName: "s", dnsNames: ["a b"] }))).toBe(
      'server certificate "s": dnsNames entry "a b" is not a DNS name',
    );
    expect(
      await rejection(issueServerCertificate(ca, { commonName: "s", dnsNames: ["x.*.example"] })),
    ).toContain("is not a DNS name");
    expect(await rejection(issueServerCertificate(ca, { commonName: "s", ipAddresses: ["300.1.1.1"] }))).toBe(
      'server certificate "s": ipAddresses entry "300.1.1.1" is not an IP address',
    );
  });

  test("accepts a wildcard DNS name", async () => {
    const leaf = await issueServerCertificate(ca, { commonName: "w", dnsNames: ["*.ops.svc"] });
    expect(x509Text(leaf.certificatePem)).toContain("DNS:*.ops.svc");
  });
});

describe("issueClientCertificate", () => {
  test("openssl accepts it as a TLS client certificate, and refuses it as a server certificate", async () => {
    const leaf = await issueClientCertificate(ca, {
      commonName: "engine.shop",
      uris: [engineSpiffeId("shop")],
    });
    expect(verify(leaf.certificatePem, "sslclient").code).toBe(0);
    expect(verify(leaf.certificatePem, "sslserver").code).not.toBe(0);
    const text = x509Text(leaf.certificatePem);
    expect(text).toContain("URI:spiffe://microgateway.airlock.com/ns/shop/engine");
    expect(text).toMatch(/Extended Key Usage: \s+TLS Web Client Authentication\n/);
  });

  test("a leaf from another CA does not verify", async () => {
    const other = await createAuthority({ commonName: "airlock-microgateway-ca" });
    const leaf = await issueClientCertificate(other, {
      commonName: "engine.shop",
      uris: [engineSpiffeId("shop")],
    });
    expect(verify(leaf.certificatePem, "sslclient").code).not.toBe(0);
  });

  test("refuses no URIs and a non-URI", async () => {
    expect(await rejection(issueClientCertificate(ca, { commonName: "c", uris: [] }))).toBe(
      'client certificate "c": uris must name at least one identity',
    );
    expect(await rejection(issueClientCertificate(ca, { commonName: "c", uris: ["not a uri"] }))).toContain(
      "is not a URI",
    );
  });
});
