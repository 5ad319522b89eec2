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

/** The HTTP filter that asks the inspector about each request (Envoy's ext_proc filter). */
export const INSPECTOR_FILTER = "envoy.filters.http.ext_proc";

/** The cluster that reaches the inspector (in a pod: the session agent's Unix socket). */
export const INSPECTOR_CLUSTER = "inspector";
