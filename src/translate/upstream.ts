/**
 * An application's `upstream` settings (reference §3.3) -> its cluster (protocol, idle timeout,
 * TLS) and its routes' timeout. The sidecar API has no upstream verification options: the engine
 * speaks TLS to the application on 127.0.0.1 and verifies nothing (no CA, no SAN); SNI is not
 * sent, as there is no name to send (see docs/decisions.md).
 */
import { create } from "@bufbuild/protobuf";
import { anyPack, type Duration } from "@bufbuild/protobuf/wkt";
import { type Cluster, ClusterSchema } from "../../gen/envoy/config/cluster/v3/cluster_pb.js";
import { TransportSocketSchema } from "../../gen/envoy/config/core/v3/base_pb.js";
import { UpstreamTlsContextSchema } from "../../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js";
import { HttpProtocolOptionsSchema } from "../../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js";
import {
  type Application,
  DEFAULT_DOWNSTREAM,
  DEFAULT_UPSTREAM,
  type UpstreamSettings,
} from "../model/types.ts";
import { tlsParams } from "./downstream.ts";
import { durationOf } from "./duration.ts";

/** The key Envoy reads HttpProtocolOptions under in a cluster's typed_extension_protocol_options. */
const HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/** The route timeout of an application: upstream.timeouts.http.maxDuration (0: none). */
export function routeTimeout(app: Application): Duration {
  return durationOf((app.upstream ?? DEFAULT_UPSTREAM).timeouts.maxDurationMs);
}

/**
 * `cluster` with the application's upstream protocol, idle timeout and TLS (the API defaults when
 * `app.upstream` is absent). Returns a new cluster; `cluster` is not changed.
 */
export function withUpstreamSettings(cluster: Cluster, app: Application): Cluster {
  const u: UpstreamSettings = app.upstream ?? DEFAULT_UPSTREAM;
  const idleMs = u.timeouts.idleMs ?? (app.downstream ?? DEFAULT_DOWNSTREAM).timeouts.idleMs;
  const h2 = { allowConnect: u.protocol.kind !== "http1" && u.protocol.allowConnect };
  const protocolOptions = () => {
    if (u.protocol.kind === "http1") {
      return {
        case: "explicitHttpConfig" as const,
        value: { protocolConfig: { case: "httpProtocolOptions" as const, value: {} } },
      };
    }
    if (u.protocol.kind === "http2") {
      return {
        case: "explicitHttpConfig" as const,
        value: { protocolConfig: { case: "http2ProtocolOptions" as const, value: h2 } },
      };
    }
    // auto: ALPN decides over TLS; without TLS there is nothing to negotiate, so the engine speaks
    // what the client spoke.
    return u.tls
      ? { case: "autoConfig" as const, value: { httpProtocolOptions: {}, http2ProtocolOptions: h2 } }
      : {
          case: "useDownstreamProtocolConfig" as const,
          value: { httpProtocolOptions: {}, http2ProtocolOptions: h2 },
        };
  };
  const options = create(HttpProtocolOptionsSchema, {
    commonHttpProtocolOptions: { idleTimeout: durationOf(idleMs) },
    upstreamProtocolOptions: protocolOptions(),
  });
  return create(ClusterSchema, {
    ...cluster,
    typedExtensionProtocolOptions: {
      ...cluster.typedExtensionProtocolOptions,
      [HTTP_PROTOCOL_OPTIONS]: anyPack(HttpProtocolOptionsSchema, options),
    },
    ...(u.tls
      ? {
          transportSocket: create(TransportSocketSchema, {
            name: "envoy.transport_sockets.tls",
            configType: {
              case: "typedConfig",
              value: anyPack(
                UpstreamTlsContextSchema,
                create(UpstreamTlsContextSchema, { commonTlsContext: { tlsParams: tlsParams(u.tls) } }),
              ),
            },
          }),
        }
      : {}),
  });
}
