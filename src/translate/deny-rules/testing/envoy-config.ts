import { createRegistry, type JsonValue, toJson } from "@bufbuild/protobuf";
import { AnySchema, anyPack } from "@bufbuild/protobuf/wkt";
import { RBACPerRouteSchema } from "../../../../gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js";
import type { DenyRulesSpec } from "../../../model/types.ts";
import { denyRulesPerRoute } from "../per-route.ts";

/** One virtual host of the test Envoy: requests with `Host: <host>` get the deny rules of `spec`. */
export interface DenyRulesHost {
  host: string;
  spec: DenyRulesSpec;
}

/** The HCM stat prefix of the test listener: RBAC counts under `http.<prefix>.rbac.*`. */
export const STAT_PREFIX = "deny_rules_test";

const registry = createRegistry(RBACPerRouteSchema);

/**
 * A static Envoy bootstrap (JSON) with one listener whose HCM runs the RBAC filter (no rules of its
 * own, as the translator configures it) and a virtual host per `hosts` entry whose only route
 * carries `denyRulesPerRoute(spec)` and answers 200 directly. Local replies carry
 * `%RESPONSE_CODE_DETAILS%` as their body so a test can see which policy denied a request.
 * Ports 0 let the kernel choose; read them back from the admin API.
 */
export function denyRulesTestBootstrap(
  hosts: readonly DenyRulesHost[],
  re2MaxProgramSize: number,
): JsonValue {
  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    layered_runtime: {
      layers: [{ name: "static", static_layer: { "re2.max_program_size.error_level": re2MaxProgramSize } }],
    },
    static_resources: {
      listeners: [
        {
          name: "ingress",
          address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: {
                    "@type":
                      "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    stat_prefix: STAT_PREFIX,
                    // What the translator sets: rules see the normalised path.
                    normalize_path: true,
                    merge_slashes: true,
                    local_reply_config: { body_format: { text_format: "%RESPONSE_CODE_DETAILS%" } },
                    http_filters: [
                      {
                        name: "envoy.filters.http.rbac",
                        typed_config: {
                          "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
                        },
                      },
                      {
                        name: "envoy.filters.http.router",
                        typed_config: {
                          "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                        },
                      },
                    ],
                    route_config: {
                      name: "local",
                      virtual_hosts: hosts.map(({ host, spec }) => ({
                        name: host,
                        domains: [host],
                        routes: [
                          {
                            match: { prefix: "/" },
                            direct_response: { status: 200 },
                            typed_per_filter_config: {
                              "envoy.filters.http.rbac": toJson(
                                AnySchema,
                                anyPack(RBACPerRouteSchema, denyRulesPerRoute(spec)),
                                { registry },
                              ),
                            },
                          },
                        ],
                      })),
                    },
                  },
                },
              ],
            },
          ],
        },
      ],
    },
  };
}
