/**
 * Benchmark server (a) and (c): the production webhook path, `startWebhookServer` (node:http2
 * secure server with HTTP/1.1 fallback) in front of the real admission app. Uses no Bun API, so the
 * driver runs it as-is under Bun and as a `bun build --target=node` bundle under Node.
 *
 * Usage: server-production.ts --chain <pem file> --key <pem file>
 */
import { startWebhookServer } from "../../src/webhook/server.ts";
import { benchAdmissionApp } from "./admission-app.ts";
import { serveControl, serverTlsFromArgs } from "./server-control.ts";

const tls = serverTlsFromArgs(process.argv.slice(2));
const bench = benchAdmissionApp((line) => process.stderr.write(`${line}\n`));
const server = await startWebhookServer({
  fetch: bench.app.fetch,
  tls: { certificatePem: tls.chainPem, privateKeyPem: tls.privateKeyPem },
  host: "127.0.0.1",
  port: 0,
});
serveControl(server.port, bench, () => server.stop());
