/**
 * Benchmark server (b): the same admission app on `Bun.serve` with TLS, the server the stack notes
 * measured. We do not ship it because it cannot rotate its certificate without dropping connections
 * (src/webhook/server.ts); it is here to show what the production path costs against it.
 *
 * Usage: server-bun-serve.ts --chain <pem file> --key <pem file>
 */
import { benchAdmissionApp } from "./admission-app.ts";
import { serveControl, serverTlsFromArgs } from "./server-control.ts";

const tls = serverTlsFromArgs(process.argv.slice(2));
const bench = benchAdmissionApp((line) => process.stderr.write(`${line}\n`));
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  tls: { cert: tls.chainPem, key: tls.privateKeyPem },
  fetch: bench.app.fetch,
});
serveControl(server.port ?? 0, bench, async () => {
  await server.stop(true);
});
