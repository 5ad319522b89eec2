import { describe, expect, test } from "bun:test";
import { isMicrogatewayError } from "../errors.ts";
import { buildModel, gatewayDependencies, validateModel } from "./model.ts";
import { parseResource } from "./parse.ts";
import type { EnvoyCluster, ModelObject, SecretObject, SidecarGateway } from "./types.ts";

const GROUP = "microgateway.airlock.com/v1alpha1";

function gateway(app: Record<string, unknown>, extra: Record<string, unknown> = {}): SidecarGateway {
  return parseResource({
    apiVersion: GROUP,
    kind: "SidecarGateway",
    metadata: { name: "gw", namespace: "shop" },
    spec: { podSelector: { matchLabels: { app: "shop" } }, applications: [app], ...extra },
  }) as SidecarGateway;
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

function raw(kind: "EnvoyCluster" | "EnvoyHTTPFilter", name: string, value: unknown): ModelObject {
  return parseResource({ apiVersion: GROUP, kind, metadata: { name, namespace: "shop" }, spec: { value } })!;
}

describe("downstream and upstream settings", () => {
  test("absent settings stay absent (the translator applies the API defaults)", () => {
    const app = gateway({}).spec.applications[0]!;
    expect(app.downstream).toBeUndefined();
    expect(app.upstream).toBeUndefined();
  });

  test("an empty downstream gets every API default", () => {
    expect(gateway({ downstream: {} }).spec.applications[0]!.downstream).toEqual({
      protocol: { kind: "auto", allowConnect: false },
      remoteIP: { kind: "xff", numTrustedHops: 1, trustedCIDRRanges: [] },
      requestNormalizations: { mergeSlashes: true, normalizePath: true },
      headersLengthBytes: 61440,
      timeouts: { idleMs: 300_000, maxDurationMs: 300_000, requestHeadersMs: 10_000 },
    });
  });

  test("values are converted: quantities to bytes, durations to milliseconds, one-ofs to tags", () => {
    const app = gateway({
      downstream: {
        protocol: { auto: { http2: { allowConnect: true } } },
        remoteIP: { customHeader: { headerName: "X-Client-IP" } },
        restrictions: { http: { headersLength: "96Ki" } },
        timeouts: { http: { idle: "1h30m", maxDuration: "0", requestHeaders: "250ms" } },
      },
      upstream: { protocol: { http2: {} }, timeouts: { http: { idle: "1.5s" } }, tls: { enable: true } },
    }).spec.applications[0]!;
    expect(app.downstream).toMatchObject({
      protocol: { kind: "auto", allowConnect: true },
      remoteIP: { kind: "customHeader", headerName: "x-client-ip", required: true },
      headersLengthBytes: 96 * 1024,
      timeouts: { idleMs: 5_400_000, maxDurationMs: 0, requestHeadersMs: 250 },
    });
    expect(app.upstream).toEqual({
      protocol: { kind: "http2", allowConnect: false },
      timeouts: { idleMs: 1500, maxDurationMs: 15_000 },
      tls: {},
    });
  });

  test("TLS: secretRef, versions, ciphers, client certificates and xfcc", () => {
    const tls = gateway({
      downstream: {
        tls: {
          enable: true,
          secretRef: { name: "cert" },
          protocol: { minimum: "TLSv1_2", maximum: "TLSv1_3" },
          ciphers: ["ECDHE-RSA-AES128-GCM-SHA256"],
          clientCertificate: {
            required: {
              trustedCA: { certificates: [{ secretRef: { name: "ca" } }] },
              allowedSANs: [{ sanType: "DNS", matcher: { suffix: ".shop.svc" } }],
            },
          },
          xfcc: "SanitizeAndSet",
        },
      },
    }).spec.applications[0]!.downstream!.tls;
    expect(tls).toEqual({
      minimum: "TLSv1_2",
      maximum: "TLSv1_3",
      ciphers: ["ECDHE-RSA-AES128-GCM-SHA256"],
      secretRef: { name: "cert" },
      clientCertificate: {
        kind: "required",
        trustedCA: { secretRefs: [{ name: "ca" }], verificationDepth: 1 },
        allowedSANs: [{ sanType: "DNS", matcher: { kind: "suffix", value: ".shop.svc", ignoreCase: false } }],
      },
      xfcc: "SanitizeAndSet",
    });
  });

  test("TLS with enable: false is dropped, even without a secretRef", () => {
    expect(
      gateway({ downstream: { tls: { enable: false } } }).spec.applications[0]!.downstream!.tls,
    ).toBeUndefined();
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    [
      "a headers limit above Envoy's maximum",
      { downstream: { restrictions: { http: { headersLength: "9Mi" } } } },
      'spec.applications[0].downstream.restrictions.http.headersLength "9Mi" must be from 1 byte to 8192Ki',
    ],
    [
      "a malformed duration",
      { downstream: { timeouts: { http: { idle: "5 minutes" } } } },
      'spec.applications[0].downstream.timeouts.http.idle "5 minutes" must be a duration',
    ],
    [
      "two protocols",
      { upstream: { protocol: { http1: {}, http2: {} } } },
      "spec.applications[0].upstream.protocol must have at most one of http1, http2, auto (http1, http2 are set)",
    ],
    [
      "TLS without a secretRef",
      { downstream: { tls: { enable: true } } },
      "spec.applications[0].downstream.tls enable: true requires secretRef",
    ],
    [
      "a bad CIDR range",
      { downstream: { remoteIP: { xff: { trustedCIDRRanges: ["10.0.0.0/33"] } } } },
      'spec.applications[0].downstream.remoteIP.xff.trustedCIDRRanges[0] "10.0.0.0/33" must be a CIDR range',
    ],
    [
      "minimum above maximum",
      { upstream: { tls: { enable: true, protocol: { minimum: "TLSv1_3", maximum: "TLSv1_2" } } } },
      "spec.applications[0].upstream.tls.protocol minimum TLSv1_3 must not be above maximum TLSv1_2",
    ],
  ];
  for (const [what, app, message] of invalid) {
    test(`rejects ${what}, naming the field`, () => {
      expect(errorOf(() => gateway(app))).toStartWith(`SidecarGateway shop/gw: ${message}`);
    });
  }
});

describe("EnvoyCluster and EnvoyHTTPFilter", () => {
  const cluster = { name: "envoycluster/shop/opa", type: "STRICT_DNS", connect_timeout: "1s" };

  test("a valid value is kept as written", () => {
    const obj = raw("EnvoyCluster", "opa", cluster) as EnvoyCluster;
    expect(obj.spec.value).toEqual(cluster);
  });

  test("the cluster name must be envoycluster/<namespace>/<name> of the object", () => {
    expect(errorOf(() => raw("EnvoyCluster", "opa", { ...cluster, name: "opa" }))).toBe(
      'EnvoyCluster shop/opa: spec.value.name "opa" must be "envoycluster/shop/opa" (envoycluster/<namespace>/<name> of this object)',
    );
  });

  test("a value that is not an object is rejected", () => {
    expect(errorOf(() => raw("EnvoyHTTPFilter", "f", "name: x"))).toBe(
      'EnvoyHTTPFilter shop/f: spec.value "name: x" must be an object (Envoy\'s JSON form)',
    );
  });

  test("a field Envoy's API does not have is rejected with the conversion error", () => {
    expect(errorOf(() => raw("EnvoyCluster", "opa", { ...cluster, conect_timeout: "1s" }))).toStartWith(
      "EnvoyCluster shop/opa: spec.value is not a valid envoy.config.cluster.v3.Cluster: ",
    );
  });

  test("an @type Microgateway does not generate is named with its path", () => {
    const filter = {
      name: "envoy.filters.http.grpc_json_transcoder",
      typed_config: {
        "@type":
          "type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder",
      },
    };
    expect(errorOf(() => raw("EnvoyHTTPFilter", "t", filter))).toBe(
      'EnvoyHTTPFilter shop/t: spec.value.typed_config: @type "type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder" is not a type Microgateway can convert (only the Envoy API files listed in proto/targets.txt are known)',
    );
  });

  test("common filter types convert (ext_authz, lua, cors, local_ratelimit, header_mutation, buffer)", () => {
    const types = [
      "ext_authz.v3.ExtAuthz",
      "lua.v3.Lua",
      "cors.v3.Cors",
      "local_ratelimit.v3.LocalRateLimit",
      "header_mutation.v3.HeaderMutation",
      "buffer.v3.Buffer",
      "jwt_authn.v3.JwtAuthentication",
      "compressor.v3.Compressor",
      "wasm.v3.Wasm",
    ];
    for (const t of types) {
      const value = {
        name: t,
        typed_config: { "@type": `type.googleapis.com/envoy.extensions.filters.http.${t}` },
      };
      expect(() => raw("EnvoyHTTPFilter", "f", value)).not.toThrow();
    }
  });
});

describe("Secrets", () => {
  test("data is base64-decoded and stringData wins", () => {
    const s = parseResource({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s", namespace: "shop" },
      type: "kubernetes.io/tls",
      data: {
        "tls.crt": Buffer.from("crt").toString("base64"),
        "tls.key": Buffer.from("old").toString("base64"),
      },
      stringData: { "tls.key": "new" },
    }) as SecretObject;
    expect([s.kind, s.type, s.data]).toEqual([
      "Secret",
      "kubernetes.io/tls",
      { "tls.crt": "crt", "tls.key": "new" },
    ]);
  });

  test("a Secret without a type is Opaque; data that is not base64 is rejected", () => {
    expect(
      (parseResource({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" } }) as SecretObject).type,
    ).toBe("Opaque");
    expect(
      errorOf(() =>
        parseResource({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { k: "%%" } }),
      ),
    ).toBe("Secret default/s: data.k must be base64");
  });
});

describe("references of the settings", () => {
  const tlsGateway = gateway(
    {
      downstream: { tls: { enable: true, secretRef: { name: "cert" } } },
      envoyHTTPFilterRefs: { prepend: [{ name: "lua" }] },
    },
    { envoyClusterRefs: [{ name: "opa" }] },
  );

  test("are dependencies of the gateway, missing ones without a version", () => {
    const model = buildModel([tlsGateway, raw("EnvoyCluster", "opa", { name: "envoycluster/shop/opa" })]);
    const deps = gatewayDependencies(model, tlsGateway);
    expect(deps.map((d) => [d.id, d.version === undefined])).toEqual([
      ["EnvoyCluster shop/opa", false],
      ["EnvoyHTTPFilter shop/lua", true],
      ["Secret shop/cert", true],
    ]);
  });

  test("missing and unfit objects are reported at the referencing field", () => {
    const notTls = parseResource({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "cert", namespace: "shop" },
      type: "kubernetes.io/tls",
      stringData: { "tls.crt": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" },
    })!;
    const messages = validateModel(buildModel([tlsGateway, notTls])).map((e) => e.message);
    expect(messages).toEqual([
      'SidecarGateway shop/gw: spec.envoyClusterRefs[0] "opa": EnvoyCluster shop/opa does not exist',
      'SidecarGateway shop/gw: spec.applications[0].envoyHTTPFilterRefs.prepend[0] "lua": EnvoyHTTPFilter shop/lua does not exist',
      "SidecarGateway shop/gw: spec.applications[0].downstream.tls.secretRef: Secret shop/cert has no key tls.key",
    ]);
  });
});
