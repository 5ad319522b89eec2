/**
 * How the engine asks the inspector about each request: Envoy's ext_proc HTTP filter, the cluster
 * that reaches the inspector (HTTP/2 over a Unix socket or loopback TCP), and the per-route
 * configuration that hands the inspector the route's policy or turns the filter off.
 *
 * Decision (docs/decisions.md, "Where attacks are looked for: the inspector"): the headers always
 * go to the inspector; it asks for the body (mode override to BUFFERED) only when a parser of the
 * route's policy needs it. The inspector failing or timing out fails the request closed (500).
 */
import { create } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import { anyPack } from "@bufbuild/protobuf/wkt";
import {
  type Cluster,
  Cluster_DiscoveryType,
  ClusterSchema,
} from "../../gen/envoy/config/cluster/v3/cluster_pb.js";
import {
  type Address,
  AddressSchema,
  SocketAddress_Protocol,
} from "../../gen/envoy/config/core/v3/address_pb.js";
import {
  ExternalProcessorSchema,
  type ExtProcPerRoute,
  ExtProcPerRouteSchema,
} from "../../gen/envoy/extensions/filters/http/ext_proc/v3/ext_proc_pb.js";
import {
  ProcessingMode_BodySendMode,
  ProcessingMode_HeaderSendMode,
} from "../../gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb.js";
import {
  type HttpFilter,
  HttpFilterSchema,
} from "../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js";
import { HttpProtocolOptionsSchema } from "../../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js";
import {
  HEADER_REWRITES_METADATA_KEY,
  INSPECTOR_STREAMS_PER_CONNECTION,
  type InspectorAddress,
  POLICY_METADATA_KEY,
} from "../extproc/contract.ts";
import { INSPECTOR_METADATA_NAMESPACE } from "../inspect/types.ts";
import { INSPECTOR_CLUSTER, INSPECTOR_FILTER } from "./names.ts";

/**
 * How long Envoy waits for each answer of the inspector before failing the request closed (504).
 * Inspecting a request takes well under a millisecond, but the first request with a new policy
 * waits for its compilation (hundreds of ms, more on a loaded node), which also holds up every
 * request behind it; Envoy's default of 200 ms would fail those. Three seconds still fails a stuck
 * inspector long before clients give up.
 */
export const INSPECTOR_MESSAGE_TIMEOUT_MS = 3000;

/**
 * The ext_proc filter of every application's HTTP connection manager. It sends request headers
 * only (the inspector asks for the body per request), skips the response (routes whose header
 * rewrites change responses ask for its headers, `inspectorPerRoute`), and accepts the
 * inspector's dynamic metadata (namespace `microgateway`) for the access log and counters.
 * Routes configure it further (`inspectorPerRoute`).
 */
export function inspectorHttpFilter(): HttpFilter {
  const config = create(ExternalProcessorSchema, {
    grpcService: {
      targetSpecifier: { case: "envoyGrpc", value: { clusterName: INSPECTOR_CLUSTER } },
    },
    // Fail closed: a WAF that lets traffic through when it is down is no WAF (docs/decisions.md).
    failureModeAllow: false,
    messageTimeout: msDuration(INSPECTOR_MESSAGE_TIMEOUT_MS),
    processingMode: processingMode(false),
    // The inspector switches the body to BUFFERED for requests whose parser needs it.
    allowModeOverride: true,
    // The client address, for custom rules' remoteIP conditions.
    requestAttributes: ["source.address"],
    metadataOptions: { receivingNamespaces: { untyped: [INSPECTOR_METADATA_NAMESPACE] } },
  });
  return create(HttpFilterSchema, {
    name: INSPECTOR_FILTER,
    configType: { case: "typedConfig", value: anyPack(ExternalProcessorSchema, config) },
  });
}

/** A route's header rewrites as the inspector gets them (src/inspect/header-rewrite-wire.ts). */
export interface InspectorRewrites {
  /** `encodeHeaderRewritePlan`'s string. */
  readonly wire: string;
  /** Whether the inspector must see the route's response headers (`needsResponsePhase`). */
  readonly responsePhase: boolean;
}

/**
 * The per-route configuration of the filter: a secured route sends its policy (the wire form of
 * `encodePolicy`) as gRPC initial metadata, and its header rewrite plan when the plan has anything
 * to do (then, if the plan rewrites responses, the filter also sends the response headers); an
 * unsecured route (`policy` undefined) is not inspected at all.
 *
 * @example inspectorPerRoute(encodePolicy(routePolicy(resolved)))
 */
export function inspectorPerRoute(policy: string | undefined, rewrites?: InspectorRewrites): ExtProcPerRoute {
  if (policy === undefined)
    return create(ExtProcPerRouteSchema, { override: { case: "disabled", value: true } });
  return create(ExtProcPerRouteSchema, {
    override: {
      case: "overrides",
      value: {
        grpcInitialMetadata: [
          { key: POLICY_METADATA_KEY, value: policy },
          ...(rewrites === undefined ? [] : [{ key: HEADER_REWRITES_METADATA_KEY, value: rewrites.wire }]),
        ],
        ...(rewrites?.responsePhase ? { processingMode: processingMode(true) } : {}),
      },
    },
  });
}

/** The per-route configuration packed for `typed_per_filter_config`. */
export function inspectorPerRouteAny(
  policy: string | undefined,
  rewrites?: InspectorRewrites,
): Record<string, Any> {
  return { [INSPECTOR_FILTER]: anyPack(ExtProcPerRouteSchema, inspectorPerRoute(policy, rewrites)) };
}

/**
 * What the filter sends: request headers always, response headers only when `responseHeaders`
 * (a route whose header rewrites change responses), no body unless the inspector asks, no trailers.
 */
function processingMode(responseHeaders: boolean) {
  return {
    requestHeaderMode: ProcessingMode_HeaderSendMode.SEND,
    responseHeaderMode: responseHeaders
      ? ProcessingMode_HeaderSendMode.SEND
      : ProcessingMode_HeaderSendMode.SKIP,
    requestBodyMode: ProcessingMode_BodySendMode.NONE,
    responseBodyMode: ProcessingMode_BodySendMode.NONE,
    requestTrailerMode: ProcessingMode_HeaderSendMode.SKIP,
    responseTrailerMode: ProcessingMode_HeaderSendMode.SKIP,
  };
}

/** The static HTTP/2 (h2c) cluster that reaches the inspector. */
export function inspectorCluster(at: InspectorAddress): Cluster {
  return create(ClusterSchema, {
    name: INSPECTOR_CLUSTER,
    clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.STATIC },
    connectTimeout: { seconds: 1n },
    typedExtensionProtocolOptions: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": anyPack(
        HttpProtocolOptionsSchema,
        create(HttpProtocolOptionsSchema, {
          upstreamProtocolOptions: {
            case: "explicitHttpConfig",
            value: { protocolConfig: { case: "http2ProtocolOptions", value: {} } },
          },
          // Bun's HTTP/2 server refuses streams after about 1000 on one session (contract.ts).
          commonHttpProtocolOptions: { maxRequestsPerConnection: INSPECTOR_STREAMS_PER_CONNECTION },
        }),
      ),
    },
    loadAssignment: {
      clusterName: INSPECTOR_CLUSTER,
      endpoints: [
        {
          lbEndpoints: [{ hostIdentifier: { case: "endpoint", value: { address: envoyAddress(at) } } }],
        },
      ],
    },
  });
}

function envoyAddress(at: InspectorAddress): Address {
  if ("socketPath" in at) {
    return create(AddressSchema, { address: { case: "pipe", value: { path: at.socketPath } } });
  }
  return create(AddressSchema, {
    address: {
      case: "socketAddress",
      value: {
        protocol: SocketAddress_Protocol.TCP,
        address: at.host,
        portSpecifier: { case: "portValue", value: at.port },
      },
    },
  });
}

function msDuration(ms: number) {
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}
