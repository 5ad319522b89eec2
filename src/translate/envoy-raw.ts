/**
 * Raw EnvoyCluster and EnvoyHTTPFilter objects (reference §3.10) -> Envoy messages. The parser
 * already converted each value once (src/model/parse-envoy-raw.ts), so these do not fail on
 * objects from a source; they still name the object if one does.
 */
import { type Cluster, ClusterSchema } from "../../gen/envoy/config/cluster/v3/cluster_pb.js";
import {
  type HttpFilter,
  HttpFilterSchema,
} from "../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js";
import { envoyFromJson } from "../model/envoy-json.ts";
import type { EnvoyCluster, EnvoyHTTPFilter } from "../model/types.ts";

/** The cluster of an EnvoyCluster (named `envoycluster/<namespace>/<name>`). */
export function rawCluster(obj: EnvoyCluster): Cluster {
  return envoyFromJson(ClusterSchema, obj.spec.value, `${subject(obj)}: spec.value`);
}

/** The HTTP filter of an EnvoyHTTPFilter. */
export function rawHttpFilter(obj: EnvoyHTTPFilter): HttpFilter {
  return envoyFromJson(HttpFilterSchema, obj.spec.value, `${subject(obj)}: spec.value`);
}

function subject(obj: EnvoyCluster | EnvoyHTTPFilter): string {
  return `${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}`;
}
