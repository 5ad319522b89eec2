import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMicrogatewayError } from "../errors.ts";
import { createAuthority, loadAuthority } from "./authority.ts";
import { issueServerCertificate } from "./issue.ts";

function openssl(args: string[]): { code: number; out: string } {
  const proc = Bun.spawnSync(["openssl", ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: proc.exitCode ?? -1, out: proc.stdout.toString() + proc.stderr.toString() };
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

describe("createAuthority", () => {
  test("makes a self-signed P-256 CA that openssl accepts as a CA, valid for 10 years by default", async () => {
    const now = new Date("2026-11-26T00:00:00Z");
    const ca = await createAuthority({ commonName: "airlock-microgateway-ca", now });
    expect(ca.certificatePem).toStartWith("-----BEGIN CERTIFICATE-----\n");
    expect(ca.certificatePem).toEndWith("-----END CERTIFICATE-----\n");
    expect(ca.privateKeyPem).toStartWith("-----BEGIN PRIVATE KEY-----\n");
    expect(ca.notAfter.toISOString()).toBe("2036-11-23T00:00:00.000Z");
    // Backdated so a slightly slow clock elsewhere does not reject it.
    expect(ca.certificate.notBefore.getTime()).toBeLessThan(now.getTime());

    const dir = mkdtempSync(join(tmpdir(), "mgw-ca-"));
    try {
      writeFileSync(join(dir, "ca.pem"), ca.certificatePem);
      const text = openssl(["x509", "-in", join(dir, "ca.pem"), "-noout", "-text"]);
      expect(text.code).toBe(0);
      expect(text.out).toContain("CA:TRUE, pathlen:0");
      expect(text.out).toContain("Certificate Sign, CRL Sign");
      expect(text.out).toContain("ecdsa-with-SHA256");
      expect(text.out).toContain("prime256v1");
      expect(text.out).toContain("Subject: CN = airlock-microgateway-ca");
      // Self-signed: verifies against itself.
      expect(openssl(["verify", "-CAfile", join(dir, "ca.pem"), join(dir, "ca.pem")]).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("two CAs get different keys and serial numbers", async () => {
    const [a, b] = await Promise.all([
      createAuthority({ commonName: "a" }),
      createAuthority({ commonName: "a" }),
    ]);
    expect(a.certificate.serialNumber).not.toBe(b.certificate.serialNumber);
    expect(a.privateKeyPem).not.toBe(b.privateKeyPem);
  });

  test("keeps a common name with DN special characters whole", async () => {
    const ca = await createAuthority({ commonName: "a,b=c_d+e" });
    expect(ca.certificate.subjectName.getField("CN")).toEqual(["a,b=c_d+e"]);
  });

  test("refuses an empty, multi-line or overlong common name and a non-positive lifetime", async () => {
    expect(await rejection(createAuthority({ commonName: "" }))).toContain("commonName");
    expect(await rejection(createAuthority({ commonName: "a\nb" }))).toContain("commonName");
    expect(await rejection(createAuthority({ commonName: "x".repeat(65) }))).toContain("commonName");
    expect(await rejection(createAuthority({ commonName: "x", validityDays: 0 }))).toContain(
      "validityDays 0",
    );
  });
});

describe("loadAuthority", () => {
  test("round-trips the PEM pair and keeps issuing leaves that chain to the same CA", async () => {
    const ca = await createAuthority({ commonName: "ca" });
    const loaded = await loadAuthority(ca.certificatePem, ca.privateKeyPem);
    expect(loaded.certificatePem).toBe(ca.certificatePem);
    expect(loaded.notAfter.getTime()).toBe(ca.notAfter.getTime());
    const leaf = await issueServerCertificate(loaded, { commonName: "s", dnsNames: ["s.example"] });
    const dir = mkdtempSync(join(tmpdir(), "mgw-ca-"));
    try {
      writeFileSync(join(dir, "ca.pem"), ca.certificatePem);
      writeFileSync(join(dir, "leaf.pem"), leaf.certificatePem);
      expect(openssl(["verify", "-CAfile", join(dir, "ca.pem"), join(dir, "leaf.pem")]).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("accepts a CA made by openssl (PKCS#8 key)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mgw-ca-"));
    try {
      const key = join(dir, "ca.key");
      const crt = join(dir, "ca.crt");
      expect(
        openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]).code,
      ).toBe(0);
      const req = ["req", "-x509", "-new", "-key", key, "-out", crt, "-subj", "/CN=openssl-ca", "-days", "1"];
      expect(openssl(req).code).toBe(0);
      const loaded = await loadAuthority(await Bun.file(crt).text(), await Bun.file(key).text());
      const leaf = await issueServerCertificate(loaded, { commonName: "s", dnsNames: ["s.example"] });
      writeFileSync(join(dir, "leaf.pem"), leaf.certificatePem);
      expect(openssl(["verify", "-CAfile", crt, join(dir, "leaf.pem")]).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("refuses a key that belongs to another certificate", async () => {
    const a = await createAuthority({ commonName: "a" });
    const b = await createAuthority({ commonName: "b" });
    expect(await rejection(loadAuthority(a.certificatePem, b.privateKeyPem))).toBe(
      'CA private key: does not belong to the CA certificate "CN=a"',
    );
  });

  test("refuses a leaf certificate as CA", async () => {
    const ca = await createAuthority({ commonName: "ca" });
    const leaf = await issueServerCertificate(ca, { commonName: "leaf", dnsNames: ["leaf.example"] });
    expect(await rejection(loadAuthority(leaf.certificatePem, leaf.privateKeyPem))).toContain("cA=true");
  });

  test("refuses garbage and SEC1 keys with a message that says what was expected", async () => {
    const ca = await createAuthority({ commonName: "ca" });
    expect(await rejection(loadAuthority("nope", ca.privateKeyPem))).toContain("expected a PEM CERTIFICATE");
    expect(await rejection(loadAuthority(ca.certificatePem, "nope"))).toContain(
      'expected a PEM "PRIVATE KEY"',
    );
    const sec1 = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
    expect(await rejection(loadAuthority(ca.certificatePem, sec1))).toContain("openssl pkcs8 -topk8");
  });
});
