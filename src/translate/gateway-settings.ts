/**
 * Everything a gateway's settings add to its engine's resources (reference §3.3, §3.10): per
 * application the downstream HCM fields, TLS transport socket and raw HTTP filters; for the engine
 * the raw EnvoyClusters and the SDS secrets the TLS contexts name.
 */
import type { Cluster } from "../../gen/envoy/config/cluster/v3/cluster_pb.js";
import type { Secret } from "../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js";
import type { Model } from "../model/model.ts";
import { resolveEnvoyClusters, resolveEnvoyHTTPFilters } from "../model/settings-references.ts";
import type { SidecarGateway } from "../model/types.ts";
import { downstreamChain } from "./downstream.ts";
import { rawCluster, rawHttpFilter } from "./envoy-raw.ts";
import type { ApplicationChain } from "./listener.ts";

/** What the settings of one gateway translate to. */
export interface GatewaySettings {
  /** Per application, in spec order: the ApplicationChain fields the settings provide. */
  readonly applications: readonly Pick<ApplicationChain, "downstream" | "prependFilters" | "appendFilters">[];
  readonly clusters: readonly Cluster[];
  /** Each SDS secret once (two applications may share a certificate). */
  readonly secrets: readonly Secret[];
}

/** Translates the gateway's settings; throws MicrogatewayError naming the field of a bad reference. */
export function gatewaySettings(model: Model, gateway: SidecarGateway): GatewaySettings {
  const secrets = new Map<string, Secret>();
  const applications = gateway.spec.applications.map((_, a) => {
    const downstream = downstreamChain(model, gateway, a);
    for (const s of downstream.secrets) secrets.set(s.name, s);
    const filters = resolveEnvoyHTTPFilters(model, gateway, a);
    return {
      downstream,
      prependFilters: filters.prepend.map(rawHttpFilter),
      appendFilters: filters.append.map(rawHttpFilter),
    };
  });
  return {
    applications,
    clusters: resolveEnvoyClusters(model, gateway).map(rawCluster),
    secrets: [...secrets.values()],
  };
}
