import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { SocketAddress_Protocol } from "../../gen/envoy/config/core/v3/address_pb.js";
import { ApiVersion } from "../../gen/envoy/config/core/v3/config_source_pb.js";
import {
  type FilterChain,
  FilterChainSchema,
} from "../../gen/envoy/config/listener/v3/listener_components_pb.js";
import { type Listener, ListenerSchema } from "../../gen/envoy/config/listener/v3/listener_pb.js";
import type { Route } from "../../gen/envoy/config/route/v3/route_components_pb.js";
import {
  type RouteConfiguration,
  RouteConfigurationSchema,
} from "../../gen/envoy/config/route/v3/route_pb.js";
import { RouterSchema } from "../../gen/envoy/extensions/filters/http/router/v3/router_pb.js";
import { OriginalDstSchema } from "../../gen/envoy/extensions/filters/listener/original_dst/v3/original_dst_pb.js";
import {
  HttpConnectionManager_CodecType,
  HttpConnectionManager_ServerHeaderTransformation,
  HttpConnectionManagerSchema,
  type HttpFilter,
} from "../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js";
import { DEFAULT_TELEMETRY_SPEC, type TelemetrySpec } from "../model/telemetry.ts";
import { accessLogs, requestIdSettings } from "./access-log.ts";
import type { DownstreamChain } from "./downstream.ts";
import { inspectorHttpFilter } from "./inspector.ts";
import { applicationName, INGRESS_LISTENER } from "./names.ts";

/** One protected application of the pod: its port and its translated routes. */
export interface ApplicationChain {
  readonly containerPort: number;
  readonly routes: readonly Route[];
  /** HCM settings and TLS from the application's downstream settings (src/translate/downstream.ts). */
  readonly downstream?: DownstreamChain;
  /** Raw EnvoyHTTPFilters before our filters, and after them (before the router). */
  readonly prependFilters?: readonly HttpFilter[];
  readonly appendFilters?: readonly HttpFilter[];
  /** Access log format and correlation; absent: the defaults. */
  readonly telemetry?: TelemetrySpec;
}

/** Where the engine listens. In a pod: 0.0.0.0:13378. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * The engine's inbound listener: one filter chain per application, chosen by the original
 * destination port of CNI-redirected connections, and the first application as the default chain
 * (for connections made to the engine port directly, as in local mode).
 */
export function ingressListener(apps: readonly ApplicationChain[], at: ListenAddress): Listener {
  const chains = apps.map(applicationChain);
  return create(ListenerSchema, {
    name: INGRESS_LISTENER,
    address: {
      address: {
        case: "socketAddress",
        value: {
          protocol: SocketAddress_Protocol.TCP,
          address: at.host,
          portSpecifier: { case: "portValue", value: at.port },
        },
      },
    },
    listenerFilters: [
      {
        name: "envoy.filters.listener.original_dst",
        configType: { case: "typedConfig", value: anyPack(OriginalDstSchema, create(OriginalDstSchema)) },
      },
    ],
    filterChains: chains,
    defaultFilterChain: chains[0]
      ? create(FilterChainSchema, { ...chains[0], filterChainMatch: undefined })
      : undefined,
  });
}

/**
 * The route configuration of each application (named like its filter chain, `app_<port>`), served
 * over RDS on the ADS stream. The routes carry the policies (ExtProcPerRoute metadata), so a policy
 * edit changes a RouteConfiguration and not the listener: Envoy swaps routes in place, whereas a
 * changed listener is drained and rebuilt (its open connections closed after the drain time), and
 * the push is the routes' ~2 KB rather than the listener's ~9 KB (docs/decisions.md, "Routes over RDS").
 */
export function applicationRoutes(apps: readonly ApplicationChain[]): RouteConfiguration[] {
  return apps.map((app) => {
    const name = applicationName(app.containerPort);
    return create(RouteConfigurationSchema, {
      name,
      virtualHosts: [{ name, domains: ["*"], routes: [...app.routes] }],
    });
  });
}

function applicationChain(app: ApplicationChain): FilterChain {
  const name = applicationName(app.containerPort);
  const telemetry = app.telemetry ?? DEFAULT_TELEMETRY_SPEC;
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix: name,
    codecType: HttpConnectionManager_CodecType.AUTO,
    routeSpecifier: {
      case: "rds",
      value: {
        routeConfigName: name,
        configSource: {
          configSourceSpecifier: { case: "ads", value: {} },
          resourceApiVersion: ApiVersion.V3,
        },
      },
    },
    httpFilters: [
      ...(app.prependFilters ?? []),
      // No policy at the listener: each secured route hands the inspector its own
      // (ExtProcPerRoute), and an unsecured route turns the filter off.
      inspectorHttpFilter(),
      ...(app.appendFilters ?? []),
      {
        name: "envoy.filters.http.router",
        configType: { case: "typedConfig", value: anyPack(RouterSchema, create(RouterSchema)) },
      },
    ],
    // The API's defaults for requestNormalizations: the inspector sees the normalised path.
    normalizePath: true,
    mergeSlashes: true,
    useRemoteAddress: true,
    requestHeadersTimeout: { seconds: 10n },
    streamIdleTimeout: { seconds: 300n },
    commonHttpProtocolOptions: { idleTimeout: { seconds: 300n } },
    maxRequestHeadersKb: 60,
    // The access log, the block counters and the correlation id (src/translate/access-log.ts).
    accessLog: accessLogs(telemetry),
    ...requestIdSettings(telemetry),
    // The engine does not announce itself: the application's Server header passes (HeaderRewrites
    // may remove it), and none is added when it has none.
    serverHeaderTransformation: HttpConnectionManager_ServerHeaderTransformation.PASS_THROUGH,
    // The application's downstream settings override the defaults above.
    ...app.downstream?.hcm,
  });
  return create(FilterChainSchema, {
    name,
    filterChainMatch: { destinationPort: app.containerPort },
    ...(app.downstream?.transportSocket ? { transportSocket: app.downstream.transportSocket } : {}),
    filters: [
      {
        name: "envoy.filters.network.http_connection_manager",
        configType: { case: "typedConfig", value: anyPack(HttpConnectionManagerSchema, hcm) },
      },
    ],
  });
}
