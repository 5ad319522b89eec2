/**
 * `envoy --mode validate` on what the gateway settings translate to: every protocol, remote IP,
 * timeout, TLS and upstream variant must be a configuration Envoy 1.40 accepts (the running-Envoy
 * behaviour is in test/gateway-settings.test.ts). Envoy missing is a failure.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, toJson } from "@bufbuild/protobuf";
import { ClusterSchema } from "../../gen/envoy/config/cluster/v3/cluster_pb.js";
import { ListenerSchema } from "../../gen/envoy/config/listener/v3/listener_pb.js";
import { SecretSchema } from "../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js";
import { findEnvoy } from "../local/envoy-process.ts";
import { envoyRegistry } from "../model/envoy-json.ts";
import { listenersWithInlineRoutes } from "./static-config.ts";
import { POD, settingsModel, testCertificates, tlsSecret } from "./testing/settings-fixtures.ts";
import { type PodConfig, translatePod } from "./translate-pod.ts";

/** A bootstrap holding the pod's resources statically (the secrets too); ADS is configured but never reached. */
function bootstrapOf(config: PodConfig): JsonValue {
  const registry = envoyRegistry();
  return {
    node: { id: "web-1.shop", cluster: "shop" },
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    // As the engine bootstrap sets it (src/bootstrap): the deny rules' regexes need it.
    layered_runtime: {
      layers: [{ name: "static", static_layer: { "re2.max_program_size.error_level": 1000 } }],
    },
    dynamic_resources: {
      ads_config: {
        api_type: "DELTA_GRPC",
        transport_api_version: "V3",
        grpc_services: [{ envoy_grpc: { cluster_name: "xds" } }],
      },
    },
    static_resources: {
      listeners: listenersWithInlineRoutes(config).map((l) => toJson(ListenerSchema, l, { registry })),
      clusters: [
        ...config.clusters.map((c) => toJson(ClusterSchema, c, { registry })),
        {
          name: "xds",
          type: "STATIC",
          typed_extension_protocol_options: {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
              "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
          load_assignment: {
            cluster_name: "xds",
            endpoints: [
              {
                lb_endpoints: [
                  { endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: 1 } } } },
                ],
              },
            ],
          },
        },
      ],
      secrets: (config.secrets ?? []).map((s) => toJson(SecretSchema, s, { registry })),
    },
  };
}

let workDir = "";
let certs: Awaited<ReturnType<typeof testCertificates>>;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "settings-validate-"));
  certs = await testCertificates();
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

async function validate(name: string, config: PodConfig): Promise<{ exitCode: number; output: string }> {
  const path = join(workDir, `${name}.json`);
  await Bun.write(path, JSON.stringify(bootstrapOf(config)));
  const proc = Bun.spawn([findEnvoy(), "--mode", "validate", "-c", path, "-l", "error"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { exitCode, output: stdout + stderr };
}

const VARIANTS: Record<string, unknown[]> = {
  "default settings": [{ containerPort: 8080 }],
  "timeouts, limits and protocols": [
    {
      containerPort: 8080,
      downstream: {
        protocol: { http2: { allowConnect: true } },
        remoteIP: { customHeader: { headerName: "x-real-ip", required: false } },
        requestNormalizations: { mergeSlashes: false, normalizePath: false },
        restrictions: { http: { headersLength: "8Mi" } },
        timeouts: { http: { idle: "0", maxDuration: "1h30m", requestHeaders: "250ms" } },
      },
      upstream: { protocol: { http1: {} }, timeouts: { http: { idle: "90s", maxDuration: "0" } } },
    },
    {
      containerPort: 9090,
      downstream: { protocol: { http1: {} }, remoteIP: { connectionIP: {} } },
      upstream: { protocol: { auto: {} }, tls: { enable: true, protocol: { minimum: "TLSv1_2" } } },
    },
  ],
};

describe("envoy --mode validate accepts the translated settings", () => {
  for (const [name, applications] of Object.entries(VARIANTS)) {
    test(name, async () => {
      const result = await validate(
        name.replaceAll(" ", "-"),
        translatePod(settingsModel(applications), POD),
      );
      expect(result.output).not.toContain("error initializing configuration");
      expect(result.exitCode).toBe(0);
    }, 30_000);
  }

  test("TLS with mutual TLS, CRL, SANs, pinning and xfcc", async () => {
    const model = settingsModel(
      [
        {
          containerPort: 8443,
          downstream: {
            protocol: { auto: {} },
            tls: {
              enable: true,
              secretRef: { name: "cert" },
              protocol: { minimum: "TLSv1_2", maximum: "TLSv1_3" },
              ciphers: ["ECDHE-ECDSA-AES128-GCM-SHA256"],
              clientCertificate: {
                required: {
                  trustedCA: { certificates: [{ secretRef: { name: "ca" } }], verificationDepth: 2 },
                  crl: { lists: [{ secretRef: { name: "ca" } }], validationMode: "VerifyLeafCertOnly" },
                  allowedSANs: [{ sanType: "DNS", matcher: { regex: ".*\\.shop\\.svc", ignoreCase: true } }],
                  certificatePinning: { allowedSPKIs: [`${"A".repeat(43)}=`] },
                },
              },
              xfcc: "SanitizeAndSet",
            },
          },
        },
      ],
      [
        tlsSecret("cert", certs.certPem, certs.keyPem),
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "ca", namespace: "shop" },
          stringData: { "ca.crt": certs.caPem, "ca.crl": certs.crlPem },
        },
      ],
    );
    const result = await validate("mtls", translatePod(model, POD));
    expect(result.output).not.toContain("error initializing configuration");
    expect(result.exitCode).toBe(0);
  }, 30_000);

  test("validation can fail: a header limit above Envoy's maximum is refused", async () => {
    const config = translatePod(settingsModel([{}]), POD);
    const listener = config.listeners[0]!;
    const json = toJson(ListenerSchema, listener, { registry: envoyRegistry() }) as Record<string, unknown>;
    const broken = JSON.parse(
      JSON.stringify(json).replaceAll('"maxRequestHeadersKb":60', '"maxRequestHeadersKb":9000'),
    );
    const path = join(workDir, "broken.json");
    const bootstrap = bootstrapOf(config) as { static_resources: { listeners: unknown[] } };
    bootstrap.static_resources.listeners = [broken];
    await Bun.write(path, JSON.stringify(bootstrap));
    const proc = Bun.spawn([findEnvoy(), "--mode", "validate", "-c", path, "-l", "error"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).not.toBe(0);
  }, 30_000);
});
