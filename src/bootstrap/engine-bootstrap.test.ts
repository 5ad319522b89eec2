import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { isMicrogatewayError } from "../errors.ts";
import {
  type EngineBootstrapOptions,
  engineArgs,
  engineBootstrap,
  engineBootstrapYaml,
  sdsSecretFiles,
} from "./engine-bootstrap.ts";

/** Walks a JSON path of object keys and array indices, failing the test if it is absent. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== "object" || current === null) throw new Error(`no ${path.join(".")}`);
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function cluster(bootstrap: Record<string, unknown>, name: string): Record<string, unknown> {
  const clusters = at(bootstrap, "static_resources", "clusters") as Record<string, unknown>[];
  const found = clusters.find((c) => c.name === name);
  if (!found) throw new Error(`no cluster ${name}`);
  return found;
}

function listener(bootstrap: Record<string, unknown>, name: string): Record<string, unknown> {
  const listeners = at(bootstrap, "static_resources", "listeners") as Record<string, unknown>[];
  const found = listeners.find((l) => l.name === name);
  if (!found) throw new Error(`no listener ${name}`);
  return found;
}

const tlsContext = (b: Record<string, unknown>) =>
  at(cluster(b, "xds_cluster"), "transport_socket", "typed_config");

function thrown(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isMicrogatewayError(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error("expected an error");
}

describe("engineBootstrap defaults (the public sidecar API)", () => {
  const b = engineBootstrap();

  test("admin on 127.0.0.1:19000, probe on 0.0.0.0:19001, metrics on 0.0.0.0:19002", () => {
    expect(at(b, "admin", "address")).toEqual({
      socket_address: { address: "127.0.0.1", port_value: 19000 },
    });
    expect(at(listener(b, "probe"), "address")).toEqual({
      socket_address: { address: "0.0.0.0", port_value: 19001 },
    });
    expect(at(listener(b, "metrics"), "address")).toEqual({
      socket_address: { address: "0.0.0.0", port_value: 19002 },
    });
    expect(
      at(cluster(b, "admin"), "load_assignment", "endpoints", 0, "lb_endpoints", 0, "endpoint", "address"),
    ).toEqual({
      socket_address: { address: "127.0.0.1", port_value: 19000 },
    });
  });

  test("the probe routes GET /ready and the metrics listener GET /metrics -> /stats/prometheus to admin", () => {
    const route = (name: string) =>
      at(
        listener(b, name),
        "filter_chains",
        0,
        "filters",
        0,
        "typed_config",
        "route_config",
        "virtual_hosts",
        0,
        "routes",
      );
    expect(route("probe")).toEqual([
      {
        match: { path: "/ready", headers: [{ name: ":method", string_match: { exact: "GET" } }] },
        route: { cluster: "admin", timeout: "5s" },
      },
    ]);
    expect(route("metrics")).toEqual([
      {
        match: { path: "/metrics", headers: [{ name: ":method", string_match: { exact: "GET" } }] },
        route: { cluster: "admin", timeout: "5s", prefix_rewrite: "/stats/prometheus" },
      },
    ]);
  });

  test("delta ADS over the xds_cluster, CDS and LDS through ADS with a 10 s initial fetch timeout", () => {
    expect(at(b, "dynamic_resources", "ads_config")).toEqual({
      api_type: "DELTA_GRPC",
      transport_api_version: "V3",
      set_node_on_first_message_only: true,
      grpc_services: [{ envoy_grpc: { cluster_name: "xds_cluster" } }],
    });
    const source = { ads: {}, resource_api_version: "V3", initial_fetch_timeout: "10s" };
    expect(at(b, "dynamic_resources", "cds_config")).toEqual(source);
    expect(at(b, "dynamic_resources", "lds_config")).toEqual(source);
  });

  test("the xDS cluster resolves the headless Service by DNS on 13377 and speaks HTTP/2 with keepalive", () => {
    const xds = cluster(b, "xds_cluster");
    expect(xds.type).toBe("STRICT_DNS");
    expect(at(xds, "load_assignment", "endpoints", 0, "lb_endpoints", 0, "endpoint", "address")).toEqual({
      socket_address: {
        address: "airlock-microgateway-operator-xds-headless.airlock-microgateway-system.svc.cluster.local",
        port_value: 13377,
      },
    });
    expect(
      at(
        xds,
        "typed_extension_protocol_options",
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        "explicit_http_config",
      ),
    ).toEqual({ http2_protocol_options: { connection_keepalive: { interval: "360s", timeout: "5s" } } });
  });

  test("TLS 1.3 only, SNI and pinned DNS SAN of the operator, certificates from watched SDS files in /app/config", () => {
    const tls = tlsContext(b);
    const host = "airlock-microgateway-operator-xds-headless.airlock-microgateway-system.svc.cluster.local";
    expect(at(tls, "sni")).toBe(host);
    expect(at(tls, "common_tls_context", "tls_params")).toEqual({
      tls_minimum_protocol_version: "TLSv1_3",
      tls_maximum_protocol_version: "TLSv1_3",
    });
    expect(at(tls, "common_tls_context", "tls_certificate_sds_secret_configs")).toEqual([
      {
        name: "tls_sds",
        sds_config: {
          path_config_source: {
            path: "/app/config/tls_certificate_sds_secret.yaml",
            watched_directory: { path: "/app/config" },
          },
        },
      },
    ]);
    expect(at(tls, "common_tls_context", "combined_validation_context")).toEqual({
      default_validation_context: {
        match_typed_subject_alt_names: [{ san_type: "DNS", matcher: { exact: host } }],
      },
      validation_context_sds_secret_config: {
        name: "validation_context_sds",
        sds_config: {
          path_config_source: {
            path: "/app/config/validation_context_sds_secret.yaml",
            watched_directory: { path: "/app/config" },
          },
        },
      },
    });
  });

  test("no node (it comes from the command line), only the admin runtime layer, 50000 downstream connections", () => {
    expect(b.node).toBeUndefined();
    expect(at(b, "layered_runtime", "layers")).toEqual([{ name: "admin_layer", admin_layer: {} }]);
    expect(at(b, "overload_manager", "resource_monitors", 0, "name")).toBe(
      "envoy.resource_monitors.global_downstream_max_connections",
    );
    expect(
      at(b, "overload_manager", "resource_monitors", 0, "typed_config", "max_active_downstream_connections"),
    ).toBe(50000);
  });
});

describe("engineBootstrap options", () => {
  test("the operator namespace names the xDS Service", () => {
    const b = engineBootstrap({ operatorNamespace: "mgw-ops" });
    expect(at(tlsContext(b), "sni")).toBe(
      "airlock-microgateway-operator-xds-headless.mgw-ops.svc.cluster.local",
    );
  });

  test("an IP xDS host makes a STATIC cluster; an IP server name pins the IP SAN and sends no SNI", () => {
    const b = engineBootstrap({ xdsHost: "127.0.0.1", xdsPort: 18000 });
    expect(cluster(b, "xds_cluster").type).toBe("STATIC");
    expect(at(tlsContext(b), "sni")).toBeUndefined();
    expect(
      at(tlsContext(b), "common_tls_context", "combined_validation_context", "default_validation_context"),
    ).toEqual({
      match_typed_subject_alt_names: [{ san_type: "IP_ADDRESS", matcher: { exact: "127.0.0.1" } }],
    });
  });

  test("an IP host with a DNS server name connects by IP but verifies the name", () => {
    const b = engineBootstrap({ xdsHost: "::1", xdsServerName: "localhost" });
    expect(cluster(b, "xds_cluster").type).toBe("STATIC");
    expect(at(tlsContext(b), "sni")).toBe("localhost");
  });

  test("state of the world, local node, ports, fetch timeout, limits and config dir", () => {
    const opts: EngineBootstrapOptions = {
      apiType: "GRPC",
      node: { id: "web-0.shop", cluster: "web.shop" },
      adminPort: 9000,
      probePort: 9001,
      metricsPort: 9002,
      listenAddress: "127.0.0.1",
      initialFetchTimeoutSeconds: 2,
      maxDownstreamConnections: 10,
      configDir: "/tmp/engine",
    };
    const b = engineBootstrap(opts);
    expect(at(b, "dynamic_resources", "ads_config", "api_type")).toBe("GRPC");
    expect(b.node).toEqual({ id: "web-0.shop", cluster: "web.shop" });
    expect(at(b, "admin", "address", "socket_address", "port_value")).toBe(9000);
    expect(at(listener(b, "probe"), "address", "socket_address")).toEqual({
      address: "127.0.0.1",
      port_value: 9001,
    });
    expect(
      at(
        cluster(b, "admin"),
        "load_assignment",
        "endpoints",
        0,
        "lb_endpoints",
        0,
        "endpoint",
        "address",
        "socket_address",
        "port_value",
      ),
    ).toBe(9000);
    expect(at(b, "dynamic_resources", "cds_config", "initial_fetch_timeout")).toBe("2s");
    expect(
      at(b, "overload_manager", "resource_monitors", 0, "typed_config", "max_active_downstream_connections"),
    ).toBe(10);
    expect(
      at(
        tlsContext(b),
        "common_tls_context",
        "tls_certificate_sds_secret_configs",
        0,
        "sds_config",
        "path_config_source",
      ),
    ).toEqual({
      path: "/tmp/engine/tls_certificate_sds_secret.yaml",
      watched_directory: { path: "/tmp/engine" },
    });
  });

  test("refuses bad ports, clashing ports, a non-IP listen address and a non-positive timeout", () => {
    expect(thrown(() => engineBootstrap({ xdsPort: 0 }))).toBe(
      "engine bootstrap: xdsPort 0 must be a port (1-65535)",
    );
    expect(thrown(() => engineBootstrap({ adminPort: 70000 }))).toContain("adminPort 70000");
    expect(thrown(() => engineBootstrap({ probePort: 19000 }))).toBe(
      "engine bootstrap: adminPort 19000, probePort 19000 and metricsPort 19002 must differ",
    );
    expect(thrown(() => engineBootstrap({ listenAddress: "localhost" }))).toContain(
      'listenAddress "localhost"',
    );
    expect(thrown(() => engineBootstrap({ initialFetchTimeoutSeconds: 0 }))).toContain(
      "initialFetchTimeoutSeconds 0",
    );
  });
});

describe("engineBootstrapYaml", () => {
  test("parses back to the same object, without YAML anchors for the shared ADS source", () => {
    const yaml = engineBootstrapYaml({ operatorNamespace: "ops" });
    expect(yaml).not.toMatch(/[&*]a\d/);
    expect(parse(yaml)).toEqual(engineBootstrap({ operatorNamespace: "ops" }));
  });
});

describe("sdsSecretFiles", () => {
  test("writes the two SDS files, naming the secrets the bootstrap asks for and pointing at the PEM files", () => {
    const files = sdsSecretFiles({
      certPath: "/app/config/tls.crt",
      keyPath: "/app/config/tls.key",
      caPath: "/app/config/ca.crt",
    });
    expect(Object.keys(files).sort()).toEqual([
      "tls_certificate_sds_secret.yaml",
      "validation_context_sds_secret.yaml",
    ]);
    const type = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
    expect(parse(files["tls_certificate_sds_secret.yaml"]!)).toEqual({
      resources: [
        {
          "@type": type,
          name: "tls_sds",
          tls_certificate: {
            certificate_chain: { filename: "/app/config/tls.crt" },
            private_key: { filename: "/app/config/tls.key" },
          },
        },
      ],
    });
    expect(parse(files["validation_context_sds_secret.yaml"]!)).toEqual({
      resources: [
        {
          "@type": type,
          name: "validation_context_sds",
          validation_context: { trusted_ca: { filename: "/app/config/ca.crt" } },
        },
      ],
    });
  });
});

describe("engineArgs", () => {
  test("the injected container's command line: node <pod>.<namespace>, cluster <app>.<namespace>", () => {
    expect(engineArgs({ appName: "web" })).toEqual([
      "--config-path",
      "/app/config/bootstrap_config.yaml",
      "--file-flush-interval-msec",
      "1000",
      "--drain-time-s",
      "60",
      "--service-node",
      "$(POD_NAME).$(POD_NAMESPACE)",
      "--service-cluster",
      "web.$(POD_NAMESPACE)",
      "--log-path",
      "/dev/stdout",
      "--log-level",
      "info",
    ]);
  });

  test("base id, log level and config path", () => {
    const args = engineArgs({
      appName: "web",
      baseId: 7,
      logLevel: "debug",
      configPath: "/etc/envoy/b.yaml",
    });
    expect(args.slice(0, 4)).toEqual(["--config-path", "/etc/envoy/b.yaml", "--base-id", "7"]);
    expect(args.slice(-2)).toEqual(["--log-level", "debug"]);
  });

  test("refuses an app name that would break the command line or the cluster name", () => {
    expect(thrown(() => engineArgs({ appName: "web $(SECRET)" }))).toContain("appName");
    expect(thrown(() => engineArgs({ appName: "" }))).toContain("appName");
  });
});
