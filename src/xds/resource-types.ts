/**
 * The xDS resource types we serve, in make-before-break order.
 *
 * The order of TYPE_ORDER is load-bearing: a push sends clusters before the endpoints that
 * complete their warming, both before the listeners that reference them, and listeners before
 * their routes (xDS protocol, "Eventual consistency considerations"; go-control-plane #800 is the
 * bug this prevents). Removals of clusters and endpoints go last, after the listeners and routes
 * that used them are gone (see delta-session.ts).
 */
export const TypeUrl = {
  Cluster: "type.googleapis.com/envoy.config.cluster.v3.Cluster",
  ClusterLoadAssignment: "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
  Listener: "type.googleapis.com/envoy.config.listener.v3.Listener",
  RouteConfiguration: "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
  VirtualHost: "type.googleapis.com/envoy.config.route.v3.VirtualHost",
  Secret: "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
  Runtime: "type.googleapis.com/envoy.service.runtime.v3.Runtime",
  ExtensionConfig: "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
} as const;

export type KnownTypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

/** Make-before-break order of the types we know; unknown types sort after them, by name. */
export const TYPE_ORDER: readonly string[] = [
  TypeUrl.Cluster,
  TypeUrl.ClusterLoadAssignment,
  TypeUrl.Listener,
  TypeUrl.RouteConfiguration,
  TypeUrl.VirtualHost,
  TypeUrl.Secret,
  TypeUrl.Runtime,
  TypeUrl.ExtensionConfig,
];

/** Sort key of a type URL in push order. */
export function typeRank(typeUrl: string): number {
  const i = TYPE_ORDER.indexOf(typeUrl);
  return i === -1 ? TYPE_ORDER.length : i;
}

/** Compares two type URLs by push order (for Array.prototype.sort). */
export function compareTypes(a: string, b: string): number {
  return typeRank(a) - typeRank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Types whose removal must wait until the types that reference them are updated:
 * a cluster may only go once no listener or route points at it.
 */
export function isRemovedLast(typeUrl: string): boolean {
  return typeUrl === TypeUrl.Cluster || typeUrl === TypeUrl.ClusterLoadAssignment;
}

/** A short name for logs and status (`Cluster`, `Listener`, ...). */
export function shortTypeName(typeUrl: string): string {
  const dot = typeUrl.lastIndexOf(".");
  return dot === -1 ? typeUrl : typeUrl.slice(dot + 1);
}
