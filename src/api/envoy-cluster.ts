/**
 * EnvoyCluster (reference §3.10): a raw Envoy cluster added to the engines of the SidecarGateways that
 * reference it, for raw EnvoyHTTPFilters to call (an authorization service, a rate limiter).
 */
import type { KindDefinition } from "./crd.ts";
import { freeForm, object, required, string } from "./schema.ts";

/**
 * `envoycluster/<namespace>/<name>`: the cluster's name must say whose it is, so that clusters of
 * different objects never collide in an engine. That namespace and name are the object's own is
 * semantic validation (CRD rules cannot see metadata.namespace).
 */
export const ENVOY_CLUSTER_NAME_PATTERN =
  "^envoycluster/[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$";

/** EnvoyCluster `spec`. */
export const envoyClusterSpecSchema = object("A raw Envoy cluster.", {
  value: required(
    freeForm(
      "The cluster as Envoy's config.cluster.v3.Cluster in JSON/YAML form; stored as written and validated by Envoy.",
      {
        name: required(
          string("Cluster name: envoycluster/<namespace>/<name> of this object.", {
            maxLength: 512,
            pattern: ENVOY_CLUSTER_NAME_PATTERN,
          }),
        ),
      },
    ),
  ),
});

export const envoyClusterKind: KindDefinition = {
  kind: "EnvoyCluster",
  plural: "envoyclusters",
  description:
    "A raw Envoy cluster for the engines of the SidecarGateways that reference it (spec.envoyClusterRefs).",
  spec: required(envoyClusterSpecSchema),
};
