/**
 * A pod's configuration as static resources, for an Envoy that has no xDS server (tests that run a
 * translation in a static bootstrap). The translator puts routes in RouteConfigurations served over
 * RDS (listener.ts applicationRoutes); a static listener must carry them inline instead.
 */
import { clone } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import type { FilterChain } from "../../gen/envoy/config/listener/v3/listener_components_pb.js";
import { type Listener, ListenerSchema } from "../../gen/envoy/config/listener/v3/listener_pb.js";
import { HttpConnectionManagerSchema } from "../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js";
import type { PodConfig } from "./translate-pod.ts";

/**
 * The listeners of `config` with every RDS reference replaced by the named RouteConfiguration.
 * Throws if a listener names a route configuration the config does not have.
 */
export function listenersWithInlineRoutes(config: PodConfig): Listener[] {
  const routes = new Map(config.routes.map((r) => [r.name, r]));
  const inline = (chain: FilterChain | undefined) => {
    for (const filter of chain?.filters ?? []) {
      if (filter.configType.case !== "typedConfig") continue;
      const hcm = anyUnpack(filter.configType.value, HttpConnectionManagerSchema);
      if (!hcm || hcm.routeSpecifier.case !== "rds") continue;
      const name = hcm.routeSpecifier.value.routeConfigName;
      const route = routes.get(name);
      if (!route) throw new Error(`listener chain ${chain?.name}: no RouteConfiguration named ${name}`);
      hcm.routeSpecifier = { case: "routeConfig", value: route };
      filter.configType = { case: "typedConfig", value: anyPack(HttpConnectionManagerSchema, hcm) };
    }
  };
  return config.listeners.map((l) => {
    const copy = clone(ListenerSchema, l);
    for (const chain of copy.filterChains) inline(chain);
    inline(copy.defaultFilterChain);
    return copy;
  });
}
