/**
 * The xDS server over real mutual TLS (TLS 1.3) with a real gRPC client (connect-node): who may
 * read which configuration, and that garbage on the socket does not hurt it.
 */
import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as http2 from "node:http2";
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AggregatedDiscoveryService } from "../gen/envoy/service/discovery/v3/ads_pb.js";
import {
  type DeltaDiscoveryRequest,
  DeltaDiscoveryRequestSchema,
  type DeltaDiscoveryResponse,
} from "../gen/envoy/service/discovery/v3/discovery_pb.js";
import { type Authority, createAuthority } from "../src/certs/authority.ts";
import { engineSpiffeId } from "../src/certs/identity.ts";
import {
  type IssuedCertificate,
  issueClientCertificate,
  issueServerCertificate,
} from "../src/certs/issue.ts";
import { fromBytes } from "../src/xds/cached-resource.ts";
import { ConfigCache } from "../src/xds/config-cache.ts";
import { EngineStatusStore } from "../src/xds/engine-status.ts";
import { TypeUrl } from "../src/xds/resource-types.ts";
import { startXdsServer, type XdsServer } from "../src/xds/server.ts";

let ca: Authority;
let server: XdsServer;
let shopEngine: IssuedCertificate;
const cache = new ConfigCache();
const status = new EngineStatusStore();

beforeAll(async () => {
  ca = await createAuthority({ commonName: "test CA" });
  const serverCert = await issueServerCertificate(ca, {
    commonName: "xds",
    ipAddresses: ["127.0.0.1"],
    dnsNames: ["localhost"],
  });
  shopEngine = await issueClientCertificate(ca, { commonName: "engine", uris: [engineSpiffeId("shop")] });
  cache.setNode("web-1.shop", [fromBytes(TypeUrl.Cluster, "upstream_8080", new Uint8Array([1, 2, 3]))]);
  cache.setNode("web-1.bank", [fromBytes(TypeUrl.Cluster, "upstream_8080", new Uint8Array([9, 9, 9]))]);
  server = await startXdsServer({
    cache,
    status,
    host: "127.0.0.1",
    port: 0,
    tls: {
      certificatePem: serverCert.chainPem,
      privateKeyPem: serverCert.privateKeyPem,
      caPem: ca.certificatePem,
    },
  });
});
afterAll(async () => {
  await server?.close();
});

function client(cert: IssuedCertificate | undefined, trust = ca.certificatePem) {
  const transport = createGrpcTransport({
    baseUrl: `https://127.0.0.1:${server.port}`,
    nodeOptions: { ca: trust, cert: cert?.chainPem, key: cert?.privateKeyPem },
  });
  return createClient(AggregatedDiscoveryService, transport);
}

/** Opens a delta stream as `nodeId`, subscribes to clusters and returns the first response (or the error). */
async function firstDelta(
  cert: IssuedCertificate | undefined,
  nodeId: string,
): Promise<DeltaDiscoveryResponse | ConnectError> {
  async function* requests(): AsyncGenerator<DeltaDiscoveryRequest> {
    yield create(DeltaDiscoveryRequestSchema, { node: { id: nodeId }, typeUrl: TypeUrl.Cluster });
    await Bun.sleep(2000);
  }
  try {
    for await (const res of client(cert).deltaAggregatedResources(requests())) return res;
    return new ConnectError("stream ended without a response", Code.Unknown);
  } catch (e) {
    return ConnectError.from(e);
  }
}

describe("xDS server authorization (mTLS, namespace-bound engine identity)", () => {
  test("an engine gets the configuration of a pod in its own namespace", async () => {
    const r = await firstDelta(shopEngine, "web-1.shop");
    expect(r).not.toBeInstanceOf(ConnectError);
    const res = r as DeltaDiscoveryResponse;
    expect(res.resources.map((x) => x.name)).toEqual(["upstream_8080"]);
    expect([...(res.resources[0]?.resource?.value ?? [])]).toEqual([1, 2, 3]);
  });

  test("an engine of namespace shop asking as a pod of namespace bank is refused", async () => {
    const r = await firstDelta(shopEngine, "web-1.bank");
    expect(r).toBeInstanceOf(ConnectError);
    expect((r as ConnectError).code).toBe(Code.PermissionDenied);
    expect((r as ConnectError).rawMessage).toContain("namespace bank");
  });

  test("a node id that is not <pod>.<namespace> is refused", async () => {
    const r = await firstDelta(shopEngine, "nodot");
    expect((r as ConnectError).code).toBe(Code.InvalidArgument);
  });

  test("a client certificate from another CA is refused at the handshake", async () => {
    const other = await createAuthority({ commonName: "attacker CA" });
    const forged = await issueClientCertificate(other, {
      commonName: "engine",
      uris: [engineSpiffeId("shop")],
    });
    const opened = status.counters.streamsOpened;
    const r = await firstDelta(forged, "web-1.shop");
    // With TLS 1.3 the client learns of the refusal only after its handshake (as a reset stream).
    expect(r).toBeInstanceOf(ConnectError);
    expect(status.counters.streamsOpened).toBe(opened);
  });

  test("a client without a certificate is refused", async () => {
    const opened = status.counters.streamsOpened;
    const r = await firstDelta(undefined, "web-1.shop");
    expect(r).toBeInstanceOf(ConnectError);
    expect((r as ConnectError).message).toContain("CERTIFICATE_REQUIRED");
    expect(status.counters.streamsOpened).toBe(opened);
  });

  test("TLS below 1.3 is refused", async () => {
    const err = await new Promise<Error | undefined>((resolve) => {
      const s = tlsConnect({
        host: "127.0.0.1",
        port: server.port,
        ca: ca.certificatePem,
        cert: shopEngine.chainPem,
        key: shopEngine.privateKeyPem,
        maxVersion: "TLSv1.2",
        ALPNProtocols: ["h2"],
      });
      s.on("secureConnect", () => {
        s.destroy();
        resolve(undefined);
      });
      s.on("error", (e: Error) => resolve(e));
    });
    expect(err).toBeInstanceOf(Error);
  });

  test("garbage on the socket does not hurt the server", async () => {
    await new Promise<void>((resolve) => {
      const s = netConnect(server.port, "127.0.0.1", () => {
        s.write(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\x01\x02garbage".repeat(100)));
      });
      s.on("error", () => resolve());
      s.on("close", () => resolve());
      setTimeout(() => {
        s.destroy();
        resolve();
      }, 1000);
    });
    const r = await firstDelta(shopEngine, "web-1.shop");
    expect(r).not.toBeInstanceOf(ConnectError);
  });

  test("another gRPC method is UNIMPLEMENTED, and a request that is not gRPC is 415", async () => {
    const session = http2.connect(`https://127.0.0.1:${server.port}`, {
      ca: ca.certificatePem,
      cert: shopEngine.chainPem,
      key: shopEngine.privateKeyPem,
      minVersion: "TLSv1.3",
    });
    const call = (headers: http2.OutgoingHttpHeaders) =>
      new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const req = session.request(headers);
        req.on("response", resolve);
        req.on("error", reject);
        req.end();
      });
    try {
      const other = await call({
        ":method": "POST",
        ":path": "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResourcez",
        "content-type": "application/grpc",
      });
      expect(other["grpc-status"]).toBe("12");
      const plain = await call({ ":method": "GET", ":path": "/" });
      expect(Number(plain[":status"])).toBe(415);
    } finally {
      session.close();
    }
    expect(await firstDelta(shopEngine, "web-1.shop")).not.toBeInstanceOf(ConnectError);
  });

  test("a rotated server certificate is used for new connections", async () => {
    const rotated = await issueServerCertificate(ca, {
      commonName: "xds-rotated",
      ipAddresses: ["127.0.0.1"],
    });
    server.updateTls({
      certificatePem: rotated.chainPem,
      privateKeyPem: rotated.privateKeyPem,
      caPem: ca.certificatePem,
    });
    const seen = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({
        host: "127.0.0.1",
        port: server.port,
        ca: ca.certificatePem,
        cert: shopEngine.chainPem,
        key: shopEngine.privateKeyPem,
        ALPNProtocols: ["h2"],
      });
      s.on("secureConnect", () => {
        const cn = s.getPeerCertificate().subject?.CN;
        s.destroy();
        resolve(String(cn));
      });
      s.on("error", reject);
    });
    expect(seen).toBe("xds-rotated");
    const r = await firstDelta(shopEngine, "web-1.shop");
    expect(r).not.toBeInstanceOf(ConnectError);
  });
});
