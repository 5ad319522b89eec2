/**
 * Telemetry (reference §3.9, §5) -> the HTTP connection manager's access logs and request id
 * settings: the JSON access log (the Telemetry's format with Airlock operators mapped, or our
 * ECS-style default), the block counters (Envoy's stats access logger, driven by the inspector's
 * dynamic metadata), and how the correlation id is chosen and sent to the application.
 * docs/telemetry.md is the user-facing description; keep it in step.
 */

import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { type AccessLog, AccessLogSchema } from "../../gen/envoy/config/accesslog/v3/accesslog_pb.js";
import {
  type HeaderValueOption,
  HeaderValueOption_HeaderAppendAction,
  HeaderValueOptionSchema,
} from "../../gen/envoy/config/core/v3/base_pb.js";
import { ConfigSchema as StatsLoggerSchema } from "../../gen/envoy/extensions/access_loggers/stats/v3/stats_pb.js";
import { StdoutAccessLogSchema } from "../../gen/envoy/extensions/access_loggers/stream/v3/stream_pb.js";
import {
  type HttpConnectionManager,
  RequestIDExtensionSchema,
} from "../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js";
import { UuidRequestIdConfigSchema } from "../../gen/envoy/extensions/request_id/uuid/v3/uuid_pb.js";
import { INSPECTOR_METADATA_NAMESPACE } from "../inspect/types.ts";
import { toEnvoyOperators } from "../model/access-log-operators.ts";
import type { LogFormat, TelemetrySpec } from "../model/telemetry.ts";

/** Stats scope of our own metrics: published on /metrics as `microgateway_<name>` (see engine-bootstrap.ts). */
export const MICROGATEWAY_STATS_PREFIX = "microgateway";

/** The block counters (Prometheus names, without the stats prefix), public API (reference §5). */
export const BLOCK_COUNTERS = {
  blocked: "http_downstream_rq_threats_blocked_total",
  logged: "http_downstream_rq_threats_logged_total",
} as const;

const meta = (key: string) => `%DYNAMIC_METADATA(${INSPECTOR_METADATA_NAMESPACE}:${key})%`;

/** The correlation id of a request: the configured header if the client sent it, else the request id. */
export function correlationIdOperator(correlationHeader: string): string {
  return `%REQ(${correlationHeader}?X-REQUEST-ID)%`;
}

/**
 * The access log without a Telemetry format: ECS-style JSON with what was blocked or only logged,
 * by which rule, and the correlation id.
 */
export function defaultAccessLogFormat(correlationHeader: string): LogFormat {
  return {
    "@timestamp": "%START_TIME(%Y-%m-%dT%T.%3f%z)%",
    event: { dataset: "envoy.access", module: "envoy" },
    http: {
      request: { method: "%REQ(:METHOD)%", id: "%REQ(X-REQUEST-ID)%", bytes: "%BYTES_RECEIVED%" },
      response: { status_code: "%RESPONSE_CODE%", bytes: "%BYTES_SENT%", details: "%RESPONSE_CODE_DETAILS%" },
    },
    url: { path: "%REQ(:PATH)%" },
    source: { address: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" },
    upstream: { cluster: "%UPSTREAM_CLUSTER%" },
    duration_ms: "%DURATION%",
    microgateway: {
      correlation_id: correlationIdOperator(correlationHeader),
      action: meta("action"),
      block_type: meta("block_type"),
      block_subtype: meta("block_subtype"),
      rule_key: meta("rule_key"),
      log_only: meta("log_only"),
    },
  };
}

/**
 * The JSON format Envoy gets: the Telemetry's (Airlock operators mapped) or the default.
 *
 * @example accessLogFormat(DEFAULT_TELEMETRY_SPEC).microgateway
 */
export function accessLogFormat(telemetry: TelemetrySpec): LogFormat {
  const header = telemetry.correlation.idHeader;
  if (telemetry.accessLogFormat === undefined) return defaultAccessLogFormat(header);
  const map = (format: LogFormat): LogFormat =>
    Object.fromEntries(
      Object.entries(format).map(([key, value]) => [
        key,
        typeof value === "string"
          ? toEnvoyOperators(value, header)
          : typeof value === "object"
            ? map(value)
            : value,
      ]),
    );
  return map(telemetry.accessLogFormat);
}

/** The access logs of an application's HCM: the JSON log on stdout, then the two block counters. */
export function accessLogs(telemetry: TelemetrySpec): AccessLog[] {
  return [
    create(AccessLogSchema, {
      name: "envoy.access_loggers.stdout",
      configType: {
        case: "typedConfig",
        value: anyPack(
          StdoutAccessLogSchema,
          create(StdoutAccessLogSchema, {
            accessLogFormat: {
              case: "logFormat",
              value: { format: { case: "jsonFormat", value: accessLogFormat(telemetry) } },
            },
          }),
        ),
      },
    }),
    blockCounter(BLOCK_COUNTERS.blocked, "block"),
    blockCounter(BLOCK_COUNTERS.logged, "log_only"),
  ];
}

/**
 * A stats access logger that adds 1 to `microgateway.<name>{block_type, block_subtype}` for every
 * request whose inspector metadata says `action: <action>`. The tag values come from the same
 * metadata, so the labels are the inspector's (`deny_rules`/`SQL`, `limits`/`parameter_body_size`).
 */
function blockCounter(name: string, action: "block" | "log_only"): AccessLog {
  return create(AccessLogSchema, {
    name: "envoy.access_loggers.stats",
    filter: {
      filterSpecifier: {
        case: "metadataFilter",
        value: {
          matcher: {
            filter: INSPECTOR_METADATA_NAMESPACE,
            path: [{ segment: { case: "key", value: "action" } }],
            value: {
              matchPattern: {
                case: "stringMatch",
                value: { matchPattern: { case: "exact", value: action } },
              },
            },
          },
          matchIfKeyNotFound: false,
        },
      },
    },
    configType: {
      case: "typedConfig",
      value: anyPack(
        StatsLoggerSchema,
        create(StatsLoggerSchema, {
          statsScope: { prefix: MICROGATEWAY_STATS_PREFIX },
          counters: [
            {
              stat: {
                name,
                tags: [
                  { name: "block_type", valueFormat: meta("block_type") },
                  { name: "block_subtype", valueFormat: meta("block_subtype") },
                ],
              },
              valueFixed: 1n,
            },
          ],
        }),
      ),
    },
  });
}

/**
 * The HCM's request id settings: always generate one (it is the correlation id when the client
 * sends none), keep the client's x-request-id only if allowed, and let the UUID extension mark the
 * trace decision in it if alterRequestID.
 */
export function requestIdSettings(
  telemetry: TelemetrySpec,
): Pick<HttpConnectionManager, "generateRequestId" | "preserveExternalRequestId" | "requestIdExtension"> {
  return {
    generateRequestId: true,
    preserveExternalRequestId: telemetry.correlation.allowDownstreamRequestID,
    requestIdExtension: create(RequestIDExtensionSchema, {
      typedConfig: anyPack(
        UuidRequestIdConfigSchema,
        create(UuidRequestIdConfigSchema, { packTraceReason: telemetry.correlation.alterRequestID }),
      ),
    }),
  };
}

/**
 * The route header that sends the correlation id to the application under the configured name:
 * the client's value if it sent one, else the request id.
 */
export function correlationHeaderToAdd(telemetry: TelemetrySpec): HeaderValueOption {
  return create(HeaderValueOptionSchema, {
    header: { key: telemetry.correlation.idHeader, value: "%REQ(X-REQUEST-ID)%" },
    appendAction: HeaderValueOption_HeaderAppendAction.ADD_IF_ABSENT,
  });
}
