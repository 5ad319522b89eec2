import { create } from "@bufbuild/protobuf";
import type { Cluster } from "../../gen/envoy/config/cluster/v3/cluster_pb.js";
import type { Listener } from "../../gen/envoy/config/listener/v3/listener_pb.js";
import { type Route, RouteSchema } from "../../gen/envoy/config/route/v3/route_components_pb.js";
import type { RouteConfiguration } from "../../gen/envoy/config/route/v3/route_pb.js";
import type { Secret } from "../../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js";
import { MicrogatewayError } from "../errors.ts";
import { type InspectorAddress, POD_INSPECTOR_SOCKET } from "../extproc/contract.ts";
import { encodeHeaderRewritePlan } from "../inspect/header-rewrite-wire.ts";
import { needsRequestPhase, needsResponsePhase } from "../inspect/header-rewrites.ts";
import { encodePolicy, routePolicy } from "../inspect/policy-wire.ts";
import {
  gatewaysForPod,
  type Model,
  objectKey,
  resolveContentSecurity,
  resolveHeaderRewrites,
  resolveTelemetry,
  routeLocation,
} from "../model/model.ts";
import type { Application, PodInfo, SidecarGateway } from "../model/types.ts";
import { correlationHeaderToAdd } from "./access-log.ts";
import { type UpstreamAddress, upstreamCluster } from "./cluster.ts";
import { gatewaySettings } from "./gateway-settings.ts";
import { type TranslatedHeaderRewrites, translateHeaderRewrites } from "./header-rewrites.ts";
import { inspectorCluster, inspectorPerRouteAny } from "./inspector.ts";
import { type ApplicationChain, applicationRoutes, ingressListener, type ListenAddress } from "./listener.ts";
import { ENGINE_PORT, upstreamClusterName } from "./names.ts";
import { routeTimeout, withUpstreamSettings } from "./upstream.ts";

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
  /** The listeners' route configurations (RDS), one per application: where the policies are. */
  readonly routes: readonly RouteConfiguration[];
  /** SDS secrets the listeners name (TLS certificates, client CAs); absent: none. */
  readonly secrets?: readonly Secret[];
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
  if (gateways.length === 0) return { clusters: [], listeners: [], routes: [] };
  if (gateways.length > 1) {
    throw new MicrogatewayError(
      "InvalidResource",
      `Pod ${objectKey(pod.metadata)} is selected by more than one SidecarGateway: ${gateways.map((g) => g.metadata.name).join(", ")}`,
    );
  }
  const gateway = gateways[0]!;
  const upstreamFor = options.upstreamFor ?? ((port: number) => ({ host: "127.0.0.1", port }));
  const settings = gatewaySettings(model, gateway);
  const apps: ApplicationChain[] = gateway.spec.applications.map((app, a) => ({
    containerPort: app.containerPort,
    routes: app.routes.map((_, r) => translateRoute(model, gateway, app, a, r)),
    ...settings.applications[a],
    telemetry: applicationTelemetry(model, gateway, app, a),
  }));
  return {
    gateway: objectKey(gateway.metadata),
    clusters: [
      ...gateway.spec.applications.map((app) =>
        withUpstreamSettings(upstreamCluster(app.containerPort, upstreamFor(app.containerPort)), app),
      ),
      inspectorCluster(options.inspector ?? { socketPath: POD_INSPECTOR_SOCKET }),
      ...settings.clusters,
    ],
    listeners: [ingressListener(apps, options.listen ?? { host: "0.0.0.0", port: ENGINE_PORT })],
    routes: applicationRoutes(apps),
    secrets: settings.secrets,
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
  const translated = routeHeaderRewrites(model, gateway, app, a, r);
  const rewrites = translated?.route;
  // The inspector's share of the rewrites travels with the policy, when there is any.
  const plan = translated?.plan;
  const inspectorRewrites =
    plan !== undefined && (needsRequestPhase(plan) || needsResponsePhase(plan))
      ? { wire: encodeHeaderRewritePlan(plan), responsePhase: needsResponsePhase(plan) }
      : undefined;
  return create(RouteSchema, {
    name: `${route.secured ? "secured" : "unsecured"}:${route.pathPrefix}`,
    // The correlation id goes to the application on every route, secured or not; then the
    // HeaderRewrites of a secured route (unsecured routes get none, as they get no WAF).
    requestHeadersToAdd: [
      correlationHeaderToAdd(applicationTelemetry(model, gateway, app, a)),
      ...(rewrites?.requestHeadersToAdd ?? []),
    ],
    requestHeadersToRemove: rewrites?.requestHeadersToRemove ?? [],
    responseHeadersToAdd: rewrites?.responseHeadersToAdd ?? [],
    responseHeadersToRemove: rewrites?.responseHeadersToRemove ?? [],
    match: { pathSpecifier: { case: "prefix", value: route.pathPrefix } },
    action: {
      case: "route",
      value: {
        clusterSpecifier: { case: "cluster", value: upstreamClusterName(app.containerPort) },
        // upstream.timeouts.http.maxDuration (default 15s).
        timeout: routeTimeout(app),
      },
    },
    typedPerFilterConfig: inspectorPerRouteAny(policy, inspectorRewrites),
  });
}

function applicationTelemetry(model: Model, gateway: SidecarGateway, app: Application, a: number) {
  return resolveTelemetry(
    model,
    gateway.metadata.namespace,
    app,
    `SidecarGateway ${objectKey(gateway.metadata)}: spec.applications[${a}]`,
  );
}

/**
 * The header rewrites of route `r` of application `a`: Envoy's route headers and the inspector's
 * plan (which the ext_proc per-route configuration carries), or undefined for an unsecured route.
 */
export function routeHeaderRewrites(
  model: Model,
  gateway: SidecarGateway,
  app: Application,
  a: number,
  r: number,
): TranslatedHeaderRewrites | undefined {
  const route = app.routes[r]!;
  if (!route.secured) return undefined;
  const spec = resolveHeaderRewrites(model, gateway.metadata.namespace, route, routeLocation(gateway, a, r));
  const correlationHeader = applicationTelemetry(model, gateway, app, a).correlation.idHeader;
  return translateHeaderRewrites(spec, { correlationHeader });
}
