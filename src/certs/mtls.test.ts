/**
 * A real TLS 1.3 mutual-TLS handshake with the certificates we issue, as the xDS server will run it:
 * server certificate + client certificate from one CA, `requestCert`, `rejectUnauthorized`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AddressInfo } from "node:net";
import { connect, createServer, type PeerCertificate, type Server, type TLSSocket } from "node:tls";
import { type Authority, createAuthority } from "./authority.ts";
import { engineSpiffeId, namespaceOfSpiffeId, peerIdentity } from "./identity.ts";
import { type IssuedCertificate, issueClientCertificate, issueServerCertificate } from "./issue.ts";

let ca: Authority;
let server: Server;
let port: number;
/** Peer certificates of the connections the server accepted, in order. */
const accepted: PeerCertificate[] = [];
/** Handshake errors the server saw. */
const refused: string[] = [];

beforeAll(async () => {
  ca = await createAuthority({ commonName: "airlock-microgateway-ca" });
  const serverCert = await issueServerCertificate(ca, {
    commonName: "xds",
    dnsNames: ["airlock-microgateway-operator-xds-headless.ops.svc.cluster.local"],
    ipAddresses: ["127.0.0.1"],
  });
  server = createServer(
    {
      cert: serverCert.chainPem,
      key: serverCert.privateKeyPem,
      ca: ca.certificatePem,
      minVersion: "TLSv1.3",
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket) => {
      accepted.push(socket.getPeerCertificate());
      socket.end("hello\n");
    },
  );
  server.on("tlsClientError", (e) => refused.push(e.message));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

interface Outcome {
  /** What the client read from the server ("" if the connection was refused). */
  data: string;
  /** The client-side error, if any. */
  error?: string;
  protocol?: string | null;
}

/** Connects with an optional client certificate, trusting `trust`, and reads until the server closes. */
function handshake(
  client: IssuedCertificate | undefined,
  trust: string,
  servername: string,
): Promise<Outcome> {
  return new Promise((resolve) => {
    let data = "";
    let protocol: string | null | undefined;
    const socket: TLSSocket = connect({
      host: "127.0.0.1",
      port,
      servername,
      ca: trust,
      ...(client ? { cert: client.chainPem, key: client.privateKeyPem } : {}),
      minVersion: "TLSv1.3",
      rejectUnauthorized: true,
    });
    socket.on("secureConnect", () => {
      protocol = socket.getProtocol();
    });
    socket.on("data", (chunk) => {
      data += chunk.toString();
    });
    socket.on("error", (e) => resolve({ data, error: e.message, protocol }));
    socket.on("close", () => resolve({ data, protocol }));
    socket.setTimeout(5000, () => socket.destroy(new Error("timeout")));
  });
}

describe("mutual TLS with issued certificates", () => {
  test("an engine client certificate from the same CA is accepted over TLS 1.3 and its identity read", async () => {
    const client = await issueClientCertificate(ca, {
      commonName: "engine.shop",
      uris: [engineSpiffeId("shop")],
    });
    const before = accepted.length;
    const outcome = await handshake(
      client,
      ca.certificatePem,
      "airlock-microgateway-operator-xds-headless.ops.svc.cluster.local",
    );
    expect(outcome.error).toBeUndefined();
    expect(outcome.protocol).toBe("TLSv1.3");
    expect(outcome.data).toBe("hello\n");
    expect(accepted.length).toBe(before + 1);
    const peer = accepted[before];
    const { uris } = peerIdentity(peer);
    expect(uris).toEqual(["spiffe://microgateway.airlock.com/ns/shop/engine"]);
    expect(namespaceOfSpiffeId(uris[0]!)).toBe("shop");
  });

  test("the server certificate is verified by IP SAN as well", async () => {
    const client = await issueClientCertificate(ca, {
      commonName: "engine.shop",
      uris: [engineSpiffeId("shop")],
    });
    // No servername: Node checks the host (127.0.0.1) against the IP SANs.
    const outcome = await new Promise<Outcome>((resolve) => {
      const socket = connect({
        host: "127.0.0.1",
        port,
        ca: ca.certificatePem,
        cert: client.chainPem,
        key: client.privateKeyPem,
      });
      let data = "";
      socket.on("data", (c: Buffer) => {
        data += c.toString();
      });
      socket.on("error", (e: Error) => resolve({ data, error: e.message }));
      socket.on("close", () => resolve({ data }));
    });
    expect(outcome).toEqual({ data: "hello\n" });
  });

  test("a client certificate from another CA is refused", async () => {
    const other = await createAuthority({ commonName: "airlock-microgateway-ca" });
    const foreign = await issueClientCertificate(other, {
      commonName: "engine.shop",
      uris: [engineSpiffeId("shop")],
    });
    const before = { accepted: accepted.length, refused: refused.length };
    const outcome = await handshake(
      foreign,
      ca.certificatePem,
      "airlock-microgateway-operator-xds-headless.ops.svc.cluster.local",
    );
    expect(outcome.data).toBe("");
    expect(accepted.length).toBe(before.accepted);
    await Bun.sleep(50);
    expect(refused.length).toBeGreaterThan(before.refused);
  });

  test("a connection without a client certificate is refused", async () => {
    const before = accepted.length;
    const outcome = await handshake(
      undefined,
      ca.certificatePem,
      "airlock-microgateway-operator-xds-headless.ops.svc.cluster.local",
    );
    expect(outcome.data).toBe("");
    expect(accepted.length).toBe(before);
  });

  test("a server certificate used as client certificate is refused (EKU serverAuth only)", async () => {
    const wrongUsage = await issueServerCertificate(ca, { commonName: "s", dnsNames: ["s.example"] });
    const before = accepted.length;
    const outcome = await handshake(
      wrongUsage,
      ca.certificatePem,
      "airlock-microgateway-operator-xds-headless.ops.svc.cluster.local",
    );
    expect(outcome.data).toBe("");
    expect(accepted.length).toBe(before);
  });

  test("the client refuses a server whose certificate does not name the host", async () => {
    const client = await issueClientCertificate(ca, {
      commonName: "engine.shop",
      uris: [engineSpiffeId("shop")],
    });
    const outcome = await handshake(client, ca.certificatePem, "wrong.example");
    expect(outcome.error).toContain("wrong.example");
  });
});
