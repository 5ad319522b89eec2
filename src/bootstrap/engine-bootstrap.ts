/**
 * The Envoy bootstrap of an engine: everything Envoy needs before it can reach the operator (admin,
 * probe and metrics listeners, the mTLS ADS connection). The rest of its configuration arrives over xDS.
 * The webhook writes it into the bootstrap secret; local mode writes it to a file.
 *
 * Field names are snake_case because Envoy reads the bootstrap as JSON/YAML through the proto JSON
 * mapping, and these plain objects are written out as-is.
 */
import { isIP } from "node:net";
import { join } from "node:path";
import { stringify } from "yaml";
import { MicrogatewayError } from "../errors.ts";

/** Where the bootstrap secret is mounted in the engine container (public API). */
export const DEFAULT_CONFIG_DIR = "/app/config";

/** File names inside the bootstrap secret / config directory. */
export const BOOTSTRAP_FILES = {
  bootstrap: "bootstrap_config.yaml",
  tlsCertificateSds: "tls_certificate_sds_secret.yaml",
  validationContextSds: "validation_context_sds_secret.yaml",
  certificate: "tls.crt",
  privateKey: "tls.key",
  ca: "ca.crt",
} as const;

/** Names of the two SDS secrets, shared by the bootstrap and the SDS files. */
export const SDS_SECRET_NAMES = {
  tlsCertificate: "tls_sds",
  validationContext: "validation_context_sds",
} as const;

/** Namespace the operator is installed in unless told otherwise (the chart's documented namespace). */
export const DEFAULT_OPERATOR_NAMESPACE = "airlock-microgateway-system";

/** Public API ports of the engine and the operator. */
export const ENGINE_PORTS = { admin: 19000, probe: 19001, metrics: 19002, xds: 13377 } as const;

/** Options of {@link engineBootstrap}; every default is the public sidecar API. */
export interface EngineBootstrapOptions {
  /** Namespace of the operator; names the xDS Service. Default {@link DEFAULT_OPERATOR_NAMESPACE}. */
  operatorNamespace?: string;
  /** xDS server host (DNS name or IP). Default `airlock-microgateway-operator-xds-headless.<operatorNamespace>.svc.cluster.local`. */
  xdsHost?: string;
  /** xDS server port. Default 13377. */
  xdsPort?: number;
  /**
   * The name the operator's server certificate must carry: a DNS SAN (also sent as SNI) or, for an IP,
   * an IP SAN (no SNI, which may not be an IP). Default: `xdsHost`.
   */
  xdsServerName?: string;
  /** Directory holding the SDS files and PEMs; watched for rotation. Default `/app/config`. */
  configDir?: string;
  /** Admin port on 127.0.0.1. Default 19000. */
  adminPort?: number;
  /** Port of the `probe` listener (`GET /ready`). Default 19001. */
  probePort?: number;
  /** Port of the `metrics` listener (`GET /metrics`). Default 19002. */
  metricsPort?: number;
  /** Address the probe and metrics listeners bind to. Default `0.0.0.0` (kubelet and Prometheus reach them via the pod IP). */
  listenAddress?: string;
  /** ADS flavour. Default `DELTA_GRPC`; `GRPC` (state of the world) for tests of the SotW server. */
  apiType?: "DELTA_GRPC" | "GRPC";
  /** How long Envoy waits for the first CDS/LDS answer before it starts anyway. Default 10 s. */
  initialFetchTimeoutSeconds?: number;
  /** Node identity; in Kubernetes it comes from `--service-node`/`--service-cluster` instead (see {@link engineArgs}). */
  node?: { id: string; cluster: string };
  /** Overload manager limit of downstream connections across all listeners. Default 50000. */
  maxDownstreamConnections?: number;
}

type Json = Record<string, unknown>;

/** Builds the bootstrap as a plain JSON object with Envoy's snake_case field names. */
export function engineBootstrap(opts: EngineBootstrapOptions = {}): Record<string, unknown> {
  const operatorNamespace = opts.operatorNamespace ?? DEFAULT_OPERATOR_NAMESPACE;
  const xdsHost =
    opts.xdsHost ?? `airlock-microgateway-operator-xds-headless.${operatorNamespace}.svc.cluster.local`;
  const xdsPort = port(opts.xdsPort ?? ENGINE_PORTS.xds, "xdsPort");
  const adminPort = port(opts.adminPort ?? ENGINE_PORTS.admin, "adminPort");
  const probePort = port(opts.probePort ?? ENGINE_PORTS.probe, "probePort");
  const metricsPort = port(opts.metricsPort ?? ENGINE_PORTS.metrics, "metricsPort");
  const listenAddress = opts.listenAddress ?? "0.0.0.0";
  const configDir = opts.configDir ?? DEFAULT_CONFIG_DIR;
  const fetchTimeout = opts.initialFetchTimeoutSeconds ?? 10;
  if (!(fetchTimeout > 0)) invalid(`initialFetchTimeoutSeconds ${fetchTimeout} must be positive`);
  if (isIP(listenAddress) === 0)
    invalid(`listenAddress ${JSON.stringify(listenAddress)} must be an IP address`);
  if (new Set([adminPort, probePort, metricsPort]).size !== 3) {
    invalid(`adminPort ${adminPort}, probePort ${probePort} and metricsPort ${metricsPort} must differ`);
  }

  const adsSource = { ads: {}, resource_api_version: "V3", initial_fetch_timeout: `${fetchTimeout}s` };
  const bootstrap: Json = {
    ...(opts.node ? { node: { id: opts.node.id, cluster: opts.node.cluster } } : {}),
    admin: { address: socketAddress("127.0.0.1", adminPort) },
    static_resources: {
      listeners: [
        adminProxyListener("probe", listenAddress, probePort, { path: "/ready" }),
        adminProxyListener(
          "metrics",
          listenAddress,
          metricsPort,
          { path: "/metrics", rewrite: "/stats/prometheus" },
          [ownMetricNamesFilter()],
        ),
      ],
      clusters: [
        adminCluster(adminPort),
        xdsCluster(xdsHost, xdsPort, opts.xdsServerName ?? xdsHost, configDir),
      ],
    },
    dynamic_resources: {
      ads_config: {
        api_type: opts.apiType ?? "DELTA_GRPC",
        transport_api_version: "V3",
        // The node (id, cluster, build version, extensions) is a few KB; sending it on every
        // request of a long-lived stream is waste, the server keys the stream by the first one.
        set_node_on_first_message_only: true,
        grpc_services: [{ envoy_grpc: { cluster_name: "xds_cluster" } }],
      },
      cds_config: adsSource,
      lds_config: adsSource,
    },
    layered_runtime: {
      // No static runtime keys: request data is matched by the inspector (RE2 in our process),
      // not by Envoy regexes, so Envoy's RE2 program size limit needs no raising.
      layers: [
        // Lets an operator flip runtime keys through the admin endpoint while debugging a pod.
        { name: "admin_layer", admin_layer: {} },
      ],
    },
    overload_manager: {
      resource_monitors: [
        {
          name: "envoy.resource_monitors.global_downstream_max_connections",
          typed_config: {
            "@type":
              "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
            max_active_downstream_connections: opts.maxDownstreamConnections ?? 50000,
          },
        },
      ],
    },
    // TODO(stats): stats_config.stats_tags (block_type, block_subtype, policy, result, upstream
    // cluster.upstream_<port>, ...) once the WAF filters that emit those stats exist; the tag names are
    // public API (dashboards), see airlock-sidecar-api.md §5.
  };
  return bootstrap;
}

/** The bootstrap as YAML, the form stored as `bootstrap_config.yaml`. */
export function engineBootstrapYaml(opts: EngineBootstrapOptions = {}): string {
  return toYaml(engineBootstrap(opts));
}

/** PEM files the SDS files point at. */
export interface SdsSecretPaths {
  /** Client certificate chain of the engine (PEM). */
  certPath: string;
  /** Its private key (PEM). */
  keyPath: string;
  /** The operator's CA certificate (PEM), the only trust anchor of the xDS connection. */
  caPath: string;
}

/**
 * The two SDS files the bootstrap reads, keyed by file name. They hold paths rather than PEM text so
 * that rotating the PEMs in the mounted Secret is picked up (the bootstrap watches their directory).
 */
export function sdsSecretFiles(paths: SdsSecretPaths): Record<string, string> {
  const secretType = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
  return {
    [BOOTSTRAP_FILES.tlsCertificateSds]: toYaml({
      resources: [
        {
          "@type": secretType,
          name: SDS_SECRET_NAMES.tlsCertificate,
          tls_certificate: {
            certificate_chain: { filename: paths.certPath },
            private_key: { filename: paths.keyPath },
          },
        },
      ],
    }),
    [BOOTSTRAP_FILES.validationContextSds]: toYaml({
      resources: [
        {
          "@type": secretType,
          name: SDS_SECRET_NAMES.validationContext,
          validation_context: { trusted_ca: { filename: paths.caPath } },
        },
      ],
    }),
  };
}

/** Envoy log levels accepted by `--log-level`. */
export type EngineLogLevel = "trace" | "debug" | "info" | "warning" | "error" | "critical" | "off";

/** Options of {@link engineArgs}. */
export interface EngineArgsOptions {
  /** Application name; the service cluster is `<appName>.<namespace>`. */
  appName: string;
  /** Default `info`. */
  logLevel?: EngineLogLevel;
  /** Default `/app/config/bootstrap_config.yaml`. */
  configPath?: string;
  /**
   * Hot-restart shared-memory id. Containers of a pod share an IPC namespace, so this must differ from
   * any other Envoy in the pod; omitted, Envoy uses 0.
   */
  baseId?: number;
}

/**
 * Command line of the injected engine container. `$(POD_NAME)`/`$(POD_NAMESPACE)` are expanded by the
 * kubelet from the container's env, so the node id is `<pod>.<namespace>`: the xDS key of the pod.
 */
export function engineArgs(opts: EngineArgsOptions): string[] {
  if (!/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(opts.appName)) {
    invalid(`appName ${JSON.stringify(opts.appName)} must be a label value (alphanumerics, '-', '_', '.')`);
  }
  const args = [
    "--config-path",
    opts.configPath ?? join(DEFAULT_CONFIG_DIR, BOOTSTRAP_FILES.bootstrap),
    ...(opts.baseId === undefined ? [] : ["--base-id", String(opts.baseId)]),
    "--file-flush-interval-msec",
    "1000",
    // Connections on a listener that an xDS update replaces or removes get this long to finish.
    "--drain-time-s",
    "60",
    "--service-node",
    "$(POD_NAME).$(POD_NAMESPACE)",
    "--service-cluster",
    `${opts.appName}.$(POD_NAMESPACE)`,
    "--log-path",
    "/dev/stdout",
    "--log-level",
    opts.logLevel ?? "info",
  ];
  return args;
}

/**
 * A listener that forwards exactly one GET path to the admin interface. Only that path is exposed
 * on the pod IP: the admin port itself stays on 127.0.0.1 because it can change runtime and quit Envoy.
 */
function adminProxyListener(
  name: string,
  address: string,
  listenPort: number,
  route: { path: string; rewrite?: string },
  filters: Json[] = [],
): Json {
  return {
    name,
    address: socketAddress(address, listenPort),
    // A filter that reads the whole response (the metrics rename) may buffer up to this much.
    ...(filters.length > 0 ? { per_connection_buffer_limit_bytes: METRICS_BUFFER_LIMIT } : {}),
    // Probes and scrapes must keep working when the app's connections hit the overload limit, or
    // the kubelet would restart an engine that is merely busy.
    ignore_global_conn_limit: true,
    filter_chains: [
      {
        filters: [
          {
            name: "envoy.filters.network.http_connection_manager",
            typed_config: {
              "@type":
                "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
              stat_prefix: name,
              // Route on the RFC 3986-normalized path, which is also the one forwarded to admin.
              normalize_path: true,
              merge_slashes: true,
              route_config: {
                name,
                virtual_hosts: [
                  {
                    name,
                    domains: ["*"],
                    routes: [
                      {
                        // Exact path (query strings allowed, e.g. /metrics?usedonly); anything else is 404.
                        match: {
                          path: route.path,
                          headers: [{ name: ":method", string_match: { exact: "GET" } }],
                        },
                        route: {
                          cluster: "admin",
                          timeout: "5s",
                          ...(route.rewrite ? { prefix_rewrite: route.rewrite } : {}),
                        },
                      },
                    ],
                  },
                ],
              },
              http_filters: [
                ...filters,
                {
                  name: "envoy.filters.http.router",
                  typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                  },
                },
              ],
            },
          },
        ],
      },
    ],
  };
}

/** Prefix of the stats our own components create (src/translate/access-log.ts MICROGATEWAY_STATS_PREFIX). */
const OWN_STATS_PREFIX = "microgateway";
/** The largest /metrics answer the rename can handle; Envoy answers 500 above it (a pod's is ~100 KB). */
const METRICS_BUFFER_LIMIT = 16 * 1024 * 1024;

/**
 * Publishes our own stats under their public names: Envoy's Prometheus output puts `envoy_` before
 * every stat (only Wasm and dynamic modules can register a namespace without it), so the stat
 * `microgateway.http_downstream_rq_threats_blocked_total` comes out as
 * `envoy_microgateway_http_downstream_rq_threats_blocked_total`. The dashboards (reference §5)
 * expect `microgateway_...`, so this Lua filter strips the `envoy_` of those metric names (sample
 * lines and their # TYPE lines) in the /metrics response. docs/decisions.md, "Block metrics".
 */
function ownMetricNamesFilter(): Json {
  const from = `envoy_${OWN_STATS_PREFIX}_`;
  const to = `${OWN_STATS_PREFIX}_`;
  const source = [
    "function envoy_on_response(handle)",
    "  local body = handle:body()",
    "  if body == nil or body:length() == 0 then return end",
    '  local text = "\\n" .. body:getBytes(0, body:length())',
    `  text = text:gsub("\\n${from}", "\\n${to}")`,
    `  text = text:gsub("\\n# TYPE ${from}", "\\n# TYPE ${to}")`,
    "  body:setBytes(text:sub(2))",
    "end",
  ].join("\n");
  return {
    name: "envoy.filters.http.lua",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
      default_source_code: { inline_string: source },
    },
  };
}

function adminCluster(adminPort: number): Json {
  return {
    name: "admin",
    type: "STATIC",
    connect_timeout: "1s",
    load_assignment: loadAssignment("admin", "127.0.0.1", adminPort),
  };
}

/** The mTLS HTTP/2 cluster of the ADS stream; certificates come from watched SDS files. */
function xdsCluster(host: string, xdsPort: number, serverName: string, configDir: string): Json {
  const sdsFile = (file: string) => ({
    path_config_source: {
      path: join(configDir, file),
      // Kubernetes updates a mounted Secret by swapping a `..data` symlink in this directory;
      // watching the directory (not the file) sees that move and reloads without a restart.
      watched_directory: { path: configDir },
    },
  });
  const serverIsIp = isIP(serverName) !== 0;
  return {
    name: "xds_cluster",
    // A headless Service resolves to every operator pod; STRICT_DNS keeps them all as endpoints.
    type: isIP(host) === 0 ? "STRICT_DNS" : "STATIC",
    connect_timeout: "5s",
    load_assignment: loadAssignment("xds_cluster", host, xdsPort),
    typed_extension_protocol_options: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        explicit_http_config: {
          http2_protocol_options: {
            // Finds a dead operator (node gone, conntrack lost) within minutes instead of never.
            connection_keepalive: { interval: "360s", timeout: "5s" },
          },
        },
      },
    },
    transport_socket: {
      name: "envoy.transport_sockets.tls",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        // SNI must be a host name (RFC 6066); an IP is checked against the IP SAN instead.
        ...(serverIsIp ? {} : { sni: serverName }),
        common_tls_context: {
          tls_params: { tls_minimum_protocol_version: "TLSv1_3", tls_maximum_protocol_version: "TLSv1_3" },
          // node:http2 servers drop TLS connections that do not negotiate h2 by ALPN.
          alpn_protocols: ["h2"],
          tls_certificate_sds_secret_configs: [
            { name: SDS_SECRET_NAMES.tlsCertificate, sds_config: sdsFile(BOOTSTRAP_FILES.tlsCertificateSds) },
          ],
          combined_validation_context: {
            // The pinned name is policy and lives here; only the CA (which rotates) comes from SDS.
            default_validation_context: {
              match_typed_subject_alt_names: [
                { san_type: serverIsIp ? "IP_ADDRESS" : "DNS", matcher: { exact: serverName } },
              ],
            },
            validation_context_sds_secret_config: {
              name: SDS_SECRET_NAMES.validationContext,
              sds_config: sdsFile(BOOTSTRAP_FILES.validationContextSds),
            },
          },
        },
      },
    },
  };
}

function loadAssignment(clusterName: string, host: string, portValue: number): Json {
  return {
    cluster_name: clusterName,
    endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(host, portValue) } }] }],
  };
}

function socketAddress(address: string, portValue: number): Json {
  return { socket_address: { address, port_value: portValue } };
}

function port(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    invalid(`${field} ${value} must be a port (1-65535)`);
  return value;
}

function invalid(message: string): never {
  throw new MicrogatewayError("InvalidArgument", `engine bootstrap: ${message}`);
}

function toYaml(value: unknown): string {
  // Shared sub-objects (the ADS config source) must be written out twice, not as YAML anchors.
  return stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 });
}
