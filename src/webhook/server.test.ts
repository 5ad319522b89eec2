import "reflect-metadata";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "node:tls";
import { type Authority, createAuthority } from "../certs/authority.ts";
import { issueServerCertificate } from "../certs/issue.ts";
import { startWebhookServer, type WebhookServer, type WebhookTls } from "./server.ts";

let ca: Authority;
let server: WebhookServer;

async function leaf(cn: string): Promise<WebhookTls> {
  const c = await issueServerCertificate(ca, { commonName: cn, ipAddresses: ["127.0.0.1"] });
  return { certificatePem: c.chainPem, privateKeyPem: c.privateKeyPem };
}

function servedCommonName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, ca: ca.certificatePem }, () => {
      resolve(String(s.getPeerCertificate().subject?.CN));
      s.destroy();
    });
    s.on("error", reject);
  });
}

beforeAll(async () => {
  ca = await createAuthority({ commonName: "webhook test CA" });
  server = await startWebhookServer({
    host: "127.0.0.1",
    port: 0,
    tls: await leaf("first"),
    fetch: async () => {
      await Bun.sleep(2);
      return new Response("ok");
    },
  });
});
afterAll(async () => {
  await server?.stop();
});

test("a rotated certificate is served to new connections and no request fails during the swap", async () => {
  expect(await servedCommonName(server.port)).toBe("first");
  const next = await leaf("second");
  let ok = 0;
  let failed = 0;
  let running = true;
  const client = async () => {
    while (running) {
      try {
        // A fresh connection each time, so requests land on both servers around the swap.
        const res = await fetch(`https://127.0.0.1:${server.port}/`, {
          tls: { ca: ca.certificatePem },
          keepalive: false,
        });
        if ((await res.text()) === "ok") ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  const clients = Array.from({ length: 8 }, client);
  await Bun.sleep(200);
  server.updateTls(next);
  await Bun.sleep(300);
  running = false;
  await Promise.all(clients);
  expect(failed).toBe(0);
  expect(ok).toBeGreaterThan(50);
  expect(await servedCommonName(server.port)).toBe("second");
});
