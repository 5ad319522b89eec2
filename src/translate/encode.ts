import { ClusterSchema } from "../../gen/envoy/config/cluster/v3/cluster_pb.js";
import { ListenerSchema } from "../../gen/envoy/config/listener/v3/listener_pb.js";
import { RouteConfigurationSchema } from "../../gen/envoy/config/route/v3/route_pb.js";
import { SecretSchema } from "../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js";
import { type CachedResource, encodeResource } from "../xds/cached-resource.ts";
import type { PodConfig } from "./translate-pod.ts";

/** Encodes a pod's Envoy resources once, for the xDS cache. */
export function encodePodConfig(config: PodConfig): CachedResource[] {
  return [
    ...config.clusters.map((c) => encodeResource(ClusterSchema, c.name, c)),
    ...config.listeners.map((l) => encodeResource(ListenerSchema, l.name, l)),
    ...config.routes.map((r) => encodeResource(RouteConfigurationSchema, r.name, r)),
    ...(config.secrets ?? []).map((s) => encodeResource(SecretSchema, s.name, s)),
  ];
}
