import { beforeAll, describe, expect, test } from "bun:test";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { HttpConnectionManager_CodecType } from "../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js";
import { CustomHeaderConfigSchema } from "../../gen/envoy/extensions/http/original_ip_detection/custom_header/v3/custom_header_pb.js";
import { DownstreamTlsContextSchema } from "../../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js";
import { HttpProtocolOptionsSchema } from "../../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js";
import { isMicrogatewayError } from "../errors.ts";
import { INSPECTOR_CLUSTER, INSPECTOR_FILTER } from "./names.ts";
import {
  GROUP,
  hcmOf,
  POD,
  settingsModel,
  testCertificates,
  tlsSecret,
} from "./testing/settings-fixtures.ts";
import { translatePod } from "./translate-pod.ts";

let certs: Awaited<ReturnType<typeof testCertificates>>;
beforeAll(async () => {
  certs = await testCertificates();
});

const seconds = (d: { seconds: bigint; nanos: number } | undefined) =>
  d === undefined ? undefined : Number(d.seconds) + d.nanos / 1e9;

describe("downstream settings", () => {
  test("without settings the HCM has the API defaults", () => {
    const config = translatePod(settingsModel([{ containerPort: 8080 }]), POD);
    const hcm = hcmOf(config.listeners[0]!, 8080);
    expect(hcm.codecType).toBe(HttpConnectionManager_CodecType.AUTO);
    expect([hcm.useRemoteAddress, hcm.xffNumTrustedHops]).toEqual([true, 1]);
    expect(hcm.maxRequestHeadersKb).toBe(60);
    expect([hcm.normalizePath, hcm.mergeSlashes]).toEqual([true, true]);
    expect(seconds(hcm.commonHttpProtocolOptions?.idleTimeout)).toBe(300);
    expect(seconds(hcm.commonHttpProtocolOptions?.maxStreamDuration)).toBe(300);
    expect(seconds(hcm.requestHeadersTimeout)).toBe(10);
    expect(config.listeners[0]!.filterChains[0]!.transportSocket).toBeUndefined();
    expect(config.secrets).toEqual([]);
  });

  test("explicit settings reach the HCM; headersLength rounds up to whole KiB", () => {
    const config = translatePod(
      settingsModel([
        {
          containerPort: 8080,
          downstream: {
            protocol: { http2: { allowConnect: true } },
            remoteIP: { connectionIP: {} },
            requestNormalizations: { mergeSlashes: false },
            restrictions: { http: { headersLength: 1025 } },
            timeouts: { http: { idle: "30s", maxDuration: "0", requestHeaders: "1.5s" } },
          },
        },
      ]),
      POD,
    );
    const hcm = hcmOf(config.listeners[0]!, 8080);
    expect(hcm.codecType).toBe(HttpConnectionManager_CodecType.HTTP2);
    expect(hcm.http2ProtocolOptions?.allowConnect).toBe(true);
    expect([hcm.useRemoteAddress, hcm.xffNumTrustedHops]).toEqual([true, 0]);
    expect([hcm.normalizePath, hcm.mergeSlashes]).toEqual([true, false]);
    expect(hcm.maxRequestHeadersKb).toBe(2);
    expect(seconds(hcm.commonHttpProtocolOptions?.idleTimeout)).toBe(30);
    expect(hcm.commonHttpProtocolOptions?.maxStreamDuration).toBeUndefined();
    expect(seconds(hcm.requestHeadersTimeout)).toBe(1.5);
  });

  test("customHeader uses the original IP detection extension, rejecting requests without it", () => {
    const config = translatePod(
      settingsModel([{ downstream: { remoteIP: { customHeader: { headerName: "X-Real-IP" } } } }]),
      POD,
    );
    const hcm = hcmOf(config.listeners[0]!, 8080);
    expect(hcm.useRemoteAddress).toBe(false);
    const ext = hcm.originalIpDetectionExtensions[0]!;
    expect(ext.name).toBe("envoy.http.original_ip_detection.custom_header");
    const custom = anyUnpack(ext.typedConfig!, CustomHeaderConfigSchema);
    expect([custom?.headerName, custom?.rejectWithStatus?.code]).toEqual(["x-real-ip", 403]);
  });

  test("TLS: an SDS secret per certificate, named in the chain's transport socket; mTLS and xfcc", () => {
    const config = translatePod(
      settingsModel(
        [
          {
            containerPort: 8443,
            downstream: {
              protocol: { http1: {} },
              tls: {
                enable: true,
                secretRef: { name: "cert" },
                protocol: { minimum: "TLSv1_2" },
                clientCertificate: {
                  required: {
                    trustedCA: { certificates: [{ secretRef: { name: "ca" } }] },
                    allowedSANs: [{ sanType: "URI", matcher: { prefix: "spiffe://shop/" } }],
                  },
                },
                xfcc: "AppendAndForward",
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
            stringData: { "ca.crt": certs.caPem },
          },
        ],
      ),
      POD,
    );
    expect(config.secrets?.map((s) => s.name)).toEqual(["tls/shop/cert", "client-ca/shop/gw/8443"]);
    const socket = config.listeners[0]!.filterChains[0]!.transportSocket!;
    const any = socket.configType.value;
    const tls = any && "typeUrl" in any ? anyUnpack(any, DownstreamTlsContextSchema) : undefined;
    const common = tls?.commonTlsContext;
    expect(common?.tlsCertificateSdsSecretConfigs.map((c) => c.name)).toEqual(["tls/shop/cert"]);
    expect(common?.alpnProtocols).toEqual(["http/1.1"]);
    expect(tls?.requireClientCertificate).toBe(true);
    const combined = common?.validationContextType;
    expect(combined?.case).toBe("combinedValidationContext");
    if (combined?.case === "combinedValidationContext") {
      expect(combined.value.validationContextSdsSecretConfig?.name).toBe("client-ca/shop/gw/8443");
      expect(combined.value.defaultValidationContext?.matchTypedSubjectAltNames).toHaveLength(1);
    }
    const hcm = hcmOf(config.listeners[0]!, 8443);
    expect(hcm.forwardClientCertDetails).toBe(2); // APPEND_FORWARD
    expect(hcm.setCurrentClientCertDetails?.uri).toBe(true);
  });

  test("a missing Secret fails the translation naming the field (the engine keeps its last good config)", () => {
    const model = settingsModel([{ downstream: { tls: { enable: true, secretRef: { name: "nope" } } } }]);
    let message = "";
    try {
      translatePod(model, POD);
    } catch (e) {
      if (isMicrogatewayError(e)) message = e.message;
    }
    expect(message).toBe(
      'SidecarGateway shop/gw: spec.applications[0].downstream.tls.secretRef "nope": Secret shop/nope does not exist',
    );
  });
});

describe("upstream settings", () => {
  test("protocol, idle timeout (inheriting downstream idle) and TLS go on the application's cluster", () => {
    const config = translatePod(
      settingsModel([
        {
          containerPort: 8080,
          downstream: { timeouts: { http: { idle: "42s" } } },
          upstream: {
            protocol: { http2: {} },
            timeouts: { http: { maxDuration: "0" } },
            tls: { enable: true },
          },
        },
      ]),
      POD,
    );
    const cluster = config.clusters[0]!;
    const options = anyUnpack(
      cluster.typedExtensionProtocolOptions["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]!,
      HttpProtocolOptionsSchema,
    );
    expect(seconds(options?.commonHttpProtocolOptions?.idleTimeout)).toBe(42);
    expect(options?.upstreamProtocolOptions.case).toBe("explicitHttpConfig");
    expect(cluster.transportSocket?.name).toBe("envoy.transport_sockets.tls");
    const rds = hcmOf(config.listeners[0]!, 8080).routeSpecifier;
    const route = config.routes.find((r) => rds.case === "rds" && r.name === rds.value.routeConfigName);
    const action = route?.virtualHosts[0]?.routes[0]?.action;
    const timeout = action?.case === "route" ? action.value.timeout : undefined;
    expect(seconds(timeout)).toBe(0);
  });

  test("auto without TLS speaks what the client spoke; the default route timeout is 15s", () => {
    const config = translatePod(settingsModel([{}]), POD);
    const options = anyUnpack(
      config.clusters[0]!.typedExtensionProtocolOptions[
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
      ]!,
      HttpProtocolOptionsSchema,
    );
    expect(options?.upstreamProtocolOptions.case).toBe("useDownstreamProtocolConfig");
    expect(config.clusters[0]!.transportSocket).toBeUndefined();
  });
});

describe("EnvoyHTTPFilter and EnvoyCluster", () => {
  const filter = (name: string) => ({
    apiVersion: GROUP,
    kind: "EnvoyHTTPFilter",
    metadata: { name, namespace: "shop" },
    spec: {
      value: {
        name: `lua-${name}`,
        typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua" },
      },
    },
  });

  test("prepended filters come first, appended ones just before the router; clusters join CDS", () => {
    const config = translatePod(
      settingsModel(
        [{ envoyHTTPFilterRefs: { prepend: [{ name: "a" }, { name: "b" }], append: [{ name: "c" }] } }],
        [
          filter("a"),
          filter("b"),
          filter("c"),
          {
            apiVersion: GROUP,
            kind: "EnvoyCluster",
            metadata: { name: "opa", namespace: "shop" },
            spec: { value: { name: "envoycluster/shop/opa", type: "STRICT_DNS", connect_timeout: "1s" } },
          },
        ],
        { envoyClusterRefs: [{ name: "opa" }] },
      ),
      POD,
    );
    const names = hcmOf(config.listeners[0]!, 8080).httpFilters.map((f) => f.name);
    // The inspector (ext_proc) sits between the prepended and the appended filters.
    expect(names).toEqual(["lua-a", "lua-b", INSPECTOR_FILTER, "lua-c", "envoy.filters.http.router"]);
    expect(config.clusters.map((c) => c.name)).toEqual([
      "upstream_8080",
      INSPECTOR_CLUSTER,
      "envoycluster/shop/opa",
    ]);
  });
});
