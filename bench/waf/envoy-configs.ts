/**
 * The Envoy bootstraps the mechanism benchmark compares, each a listener in front of the same
 * upstream: bare (router only), the RBAC deny rules as they were translated before the inspector
 * replaced them (rbac-deny-rules.json, frozen output of the removed translator), and the ext_proc
 * filter, cluster and per-route configuration exactly as src/translate/inspector.ts writes them.
 */
import { readFileSync } from "node:fs";
import { createRegistry, toJson } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { ClusterSchema } from "../../gen/envoy/config/cluster/v3/cluster_pb.js";
import {
  ExternalProcessorSchema,
  ExtProcPerRouteSchema,
} from "../../gen/envoy/extensions/filters/http/ext_proc/v3/ext_proc_pb.js";
import { HttpFilterSchema } from "../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js";
import { HttpProtocolOptionsSchema } from "../../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js";
import {
  inspectorCluster,
  inspectorHttpFilter,
  inspectorPerRouteAny,
} from "../../src/translate/inspector.ts";
import { INSPECTOR_FILTER } from "../../src/translate/names.ts";

/** Which filters sit between the client and the upstream. */
export type Mechanism = "bare" | "rbac" | "extproc";

const registry = createRegistry(ExternalProcessorSchema, ExtProcPerRouteSchema, HttpProtocolOptionsSchema);

const RBAC = JSON.parse(readFileSync(new URL("./rbac-deny-rules.json", import.meta.url), "utf8")) as {
  re2MaxProgramSize: number;
  perRoute: unknown;
};

/** A static bootstrap: admin and listener on port 0 (read back from the admin API). */
export function mechanismBootstrap(
  mechanism: Mechanism,
  upstreamPort: number,
  inspector?: { readonly socketPath: string; readonly policy: string },
): unknown {
  const filters: unknown[] = [];
  let perRoute: Record<string, unknown> = {};
  const clusters: unknown[] = [
    {
      name: "app",
      type: "STATIC",
      connect_timeout: "1s",
      load_assignment: {
        cluster_name: "app",
        endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(upstreamPort) } }] }],
      },
    },
  ];
  if (mechanism === "rbac") {
    filters.push({
      name: "envoy.filters.http.rbac",
      typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC" },
    });
    perRoute = {
      "envoy.filters.http.rbac": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute",
        ...(RBAC.perRoute as Record<string, unknown>),
      },
    };
  } else if (mechanism === "extproc") {
    if (!inspector) throw new Error("the extproc mechanism needs the inspector's socket and a policy");
    filters.push(toJson(HttpFilterSchema, inspectorHttpFilter(), { registry }));
    clusters.push(
      toJson(ClusterSchema, inspectorCluster({ socketPath: inspector.socketPath }), { registry }),
    );
    perRoute = {
      [INSPECTOR_FILTER]: toJson(AnySchema, inspectorPerRouteAny(inspector.policy)[INSPECTOR_FILTER]!, {
        registry,
      }),
    };
  }
  filters.push({
    name: "envoy.filters.http.router",
    typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" },
  });
  return {
    admin: { address: socketAddress(0) },
    ...(mechanism === "rbac"
      ? {
          layered_runtime: {
            layers: [
              {
                name: "static",
                static_layer: { "re2.max_program_size.error_level": RBAC.re2MaxProgramSize },
              },
            ],
          },
        }
      : {}),
    static_resources: {
      listeners: [
        {
          name: "ingress",
          address: socketAddress(0),
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: {
                    "@type":
                      "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    stat_prefix: "bench",
                    normalize_path: true,
                    merge_slashes: true,
                    http_filters: filters,
                    route_config: {
                      name: "app",
                      virtual_hosts: [
                        {
                          name: "app",
                          domains: ["*"],
                          routes: [
                            {
                              match: { prefix: "/" },
                              route: { cluster: "app", timeout: "15s" },
                              typed_per_filter_config: perRoute,
                            },
                          ],
                        },
                      ],
                    },
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters,
    },
  };
}

function socketAddress(port: number) {
  return { socket_address: { address: "127.0.0.1", port_value: port } };
}
