/** Names of the Envoy resources we generate. Stable: they appear in engine stats and dashboards. */

/** The engine's inbound listener (all applications of the pod). */
export const INGRESS_LISTENER = "ingress";

/** Port the engine listens on for the pod's inbound traffic (the CNI redirects to it). */
export const ENGINE_PORT = 13378;

/** The cluster forwarding to an application container: `upstream_<containerPort>` (as in the API's stats). */
export function upstreamClusterName(containerPort: number): string {
  return `upstream_${containerPort}`;
}

/** Per-application HCM stat prefix and route configuration name. */
export function applicationName(containerPort: number): string {
  return `app_${containerPort}`;
}

/** The HTTP filter name our deny rules use (Envoy's RBAC filter). */
export const DENY_RULES_FILTER = "envoy.filters.http.rbac";
