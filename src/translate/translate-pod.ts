import { create } from "@bufbuild/protobuf";
import type { Cluster } from "../../gen/envoy/config/cluster/v3/cluster_pb.js";
import type { Listener } from "../../gen/envoy/config/listener/v3/listener_pb.js";
import { type Route, RouteSchema } from "../../gen/envoy/config/route/v3/route_components_pb.js";
import { MicrogatewayError } from "../errors.ts";
import { type InspectorAddress, POD_INSPECTOR_SOCKET } from "../extproc/contract.ts";
import { encodePolicy, routePolicy } from "../inspect/policy.ts";
import {
  gatewaysForPod,
  type Model,
  objectKey,
  resolveContentSecurity,
  routeLocation,
} from "../model/model.ts";
import type { Application, PodInfo, SidecarGateway } from "../model/types.ts";
import { type UpstreamAddress, upstreamCluster } from "./cluster.ts";
import { inspectorCluster, inspectorPerRouteAny } from "./inspector.ts";
import { type ApplicationChain, ingressListener, type ListenAddress } from "./listener.ts";
import { ENGINE_PORT, upstreamClusterName } from "./names.ts";

/** Settings that depend on where the engine runs, not on the custom resources. */
export interface TranslateOptions {
  /** Default 0.0.0.0:13378 (in a pod). Local mode listens on 127.0.0.1. */
  readonly listen?: ListenAddress;
  /** Where an application's container port is reached; default 127.0.0.1:<containerPort>. */
  readonly upstreamFor?: (containerPort: number) => UpstreamAddress;
  /** Where the inspector listens; default the pod's shared socket (POD_INSPECTOR_SOCKET). */
  readonly inspector?: InspectorAddress;
}

/** The Envoy resources of one engine, before encoding. */
export interface PodConfig {
  /** The SidecarGateway that configured the pod, or undefined when none selects it. */
  readonly gateway?: string;
  readonly clusters: readonly Cluster[];
  readonly listeners: readonly Listener[];
}

/**
 * Translates the custom resources that apply to one pod into its engine's Envoy resources.
 * Pure: same model and pod, same result. Without a SidecarGateway selecting the pod the engine
 * forwards nothing (no listener), as the API specifies. Throws MicrogatewayError naming the object
 * and field when the pod's configuration is invalid (two gateways, a broken reference); the caller
 * then keeps the engine's last good configuration.
 */
export function translatePod(model: Model, pod: PodInfo, options: TranslateOptions = {}): PodConfig {
  const gateways = gatewaysForPod(model, pod);
  if (gateways.length === 0) return { clusters: [], listeners: [] };
  if (gateways.length > 1) {
    throw new MicrogatewayError(
      "InvalidResource",
      `Pod ${objectKey(pod.metadata)} is selected by more than one SidecarGateway: ${gateways.map((g) => g.metadata.name).join(", ")}`,
    );
  }
  const gateway = gateways[0]!;
  const upstreamFor = options.upstreamFor ?? ((port: number) => ({ host: "127.0.0.1", port }));
  const apps: ApplicationChain[] = gateway.spec.applications.map((app, a) => ({
    containerPort: app.containerPort,
    routes: app.routes.map((_, r) => translateRoute(model, gateway, app, a, r)),
  }));
  return {
    gateway: objectKey(gateway.metadata),
    clusters: [
      ...gateway.spec.applications.map((app) =>
        upstreamCluster(app.containerPort, upstreamFor(app.containerPort)),
      ),
      inspectorCluster(options.inspector ?? { socketPath: POD_INSPECTOR_SOCKET }),
    ],
    listeners: [ingressListener(apps, options.listen ?? { host: "0.0.0.0", port: ENGINE_PORT })],
  };
}

function translateRoute(
  model: Model,
  gateway: SidecarGateway,
  app: Application,
  a: number,
  r: number,
): Route {
  const route = app.routes[r]!;
  // A secured route carries its policy to the inspector; an unsecured one is not inspected.
  let policy: string | undefined;
  if (route.secured) {
    const at = routeLocation(gateway, a, r);
    policy = encodePolicy(routePolicy(resolveContentSecurity(model, gateway.metadata.namespace, route, at)));
  }
  return create(RouteSchema, {
    name: `${route.secured ? "secured" : "unsecured"}:${route.pathPrefix}`,
    match: { pathSpecifier: { case: "prefix", value: route.pathPrefix } },
    action: {
      case: "route",
      value: {
        clusterSpecifier: { case: "cluster", value: upstreamClusterName(app.containerPort) },
        // The API's default upstream timeouts.http.maxDuration.
        timeout: { seconds: 15n },
      },
    },
    typedPerFilterConfig: inspectorPerRouteAny(policy),
  });
}
