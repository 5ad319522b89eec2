/**
 * The webhook's TLS server, with certificate rotation that drops no request.
 *
 * Why not Bun.serve: its `reload({ tls })` does not swap certificates in Bun 1.4.5, and handing
 * over to a second Bun.serve on the same port (SO_REUSEPORT) resets the connections still queued
 * on the old listener when it closes (measured: 2 of ~1,000 new connections in 1 of 5 swaps).
 * With `failurePolicy: Fail` each of those fails a pod creation. A node:http2 secure server (which
 * also speaks HTTP/1.1) swaps certificates in place with `setSecureContext`: new handshakes get the
 * new certificate, open connections are untouched. Hono still does all the HTTP work through its
 * `fetch`; this file only adapts node's request/response to it.
 */
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";

export interface WebhookTls {
  /** Certificate chain (leaf first), PEM. */
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export interface WebhookServerOptions {
  readonly fetch: (req: Request) => Response | Promise<Response>;
  readonly tls: WebhookTls;
  readonly host?: string;
  /** Default 9443; 0 picks a free port. */
  readonly port?: number;
  /** Largest request body read (larger ones are cut off and answered 413 by the app). */
  readonly maxBodyBytes?: number;
}

export interface WebhookServer {
  readonly port: number;
  /** New handshakes use `tls`; open connections keep theirs. */
  updateTls(tls: WebhookTls): void;
  stop(): Promise<void>;
}

/** Starts the webhook server (TLS 1.2+, HTTP/2 and HTTP/1.1). */
export async function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const maxBody = opts.maxBodyBytes ?? 8 * 1024 * 1024;
  const server = http2.createSecureServer(
    { cert: opts.tls.certificatePem, key: opts.tls.privateKeyPem, allowHTTP1: true, minVersion: "TLSv1.2" },
    (req, res) => {
      void handle(req, res);
    },
  );

  async function handle(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): Promise<void> {
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        // Keep one byte more than the app's limit so the app, not us, answers 413.
        if (size > maxBody) break;
        chunks.push(chunk as Buffer);
      }
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (k.startsWith(":") || v === undefined) continue;
        headers.set(k, Array.isArray(v) ? v.join(", ") : v);
      }
      const method = req.method ?? "GET";
      const response = await opts.fetch(
        new Request(`https://webhook${req.url}`, {
          method,
          headers,
          body: method === "GET" || method === "HEAD" ? undefined : Buffer.concat(chunks),
        }),
      );
      const body = Buffer.from(await response.arrayBuffer());
      const out: Record<string, string> = {};
      response.headers.forEach((v, k) => {
        out[k] = v;
      });
      out["content-length"] = String(body.length);
      res.writeHead(response.status, out);
      res.end(body);
    } catch {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("internal error");
    }
  }

  server.on("tlsClientError", () => {});
  server.on("sessionError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 9443, opts.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    updateTls(tls) {
      server.setSecureContext({ cert: tls.certificatePem, key: tls.privateKeyPem });
    },
    stop() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        setTimeout(resolve, 2000);
      });
    },
  };
}
