/**
 * The command operators a Telemetry access log format may use (reference §3.9): Envoy's own, and
 * the Airlock names (`%BLOCK_ACTION%`, `%LOG_CORRELATION%`, ...) which we map onto Envoy operators
 * reading the inspector's dynamic metadata (namespace `microgateway`, src/inspect/types.ts). The
 * table is documented in docs/telemetry.md; keep the two in step.
 */

import { INSPECTOR_METADATA_NAMESPACE } from "../inspect/types.ts";

const meta = (key: string) => `%DYNAMIC_METADATA(${INSPECTOR_METADATA_NAMESPACE}:${key})%`;

/**
 * Airlock operator -> what it becomes, given the correlation header of the application. Operators
 * without their own data yet (header rewrites, access control) read metadata keys nothing sets
 * today, so they log as null until the component that owns them does.
 */
export const AIRLOCK_LOG_OPERATORS: Readonly<Record<string, (correlationHeader: string) => string>> = {
  BLOCK_ACTION: () => meta("action"),
  SUMMARY_ACTION: () => meta("action"),
  BLOCK_TYPE: () => meta("block_type"),
  BLOCK_SUBTYPE: () => meta("block_subtype"),
  BLOCK_RULE_KEY: () => meta("rule_key"),
  LOG_ONLY_ACTIONS: () => meta("log_only"),
  HEADER_REWRITES: () => meta("header_rewrites"),
  ACCESS_CONTROL: () => meta("access_control"),
  EVENT_TYPE: () => meta("event_type"),
  // The correlation id: the configured header if the client sent it, else Envoy's request id.
  LOG_CORRELATION: (header) => `%REQ(${header}?X-REQUEST-ID)%`,
};

/**
 * Envoy 1.40 command operators accepted in a format (the access-log test validates every one of
 * them with `envoy --mode validate`). Left out on purpose: operators that need a formatter
 * extension (CEL, METADATA) and ones that only make sense for TCP proxies.
 */
export const ENVOY_LOG_OPERATORS: readonly string[] = [
  "START_TIME",
  "START_TIME_LOCAL",
  "EMIT_TIME",
  "REQUEST_HEADERS_BYTES",
  "BYTES_RECEIVED",
  "UPSTREAM_WIRE_BYTES_RECEIVED",
  "UPSTREAM_HEADER_BYTES_RECEIVED",
  "DOWNSTREAM_WIRE_BYTES_RECEIVED",
  "DOWNSTREAM_HEADER_BYTES_RECEIVED",
  "PROTOCOL",
  "UPSTREAM_PROTOCOL",
  "RESPONSE_CODE",
  "RESPONSE_CODE_DETAILS",
  "CONNECTION_TERMINATION_DETAILS",
  "RESPONSE_HEADERS_BYTES",
  "RESPONSE_TRAILERS_BYTES",
  "BYTES_SENT",
  "UPSTREAM_WIRE_BYTES_SENT",
  "UPSTREAM_HEADER_BYTES_SENT",
  "DOWNSTREAM_WIRE_BYTES_SENT",
  "DOWNSTREAM_HEADER_BYTES_SENT",
  "DURATION",
  "REQUEST_DURATION",
  "REQUEST_TX_DURATION",
  "RESPONSE_DURATION",
  "RESPONSE_TX_DURATION",
  "DOWNSTREAM_HANDSHAKE_DURATION",
  "ROUNDTRIP_DURATION",
  "COMMON_DURATION",
  "RESPONSE_FLAGS",
  "RESPONSE_FLAGS_LONG",
  "UPSTREAM_HOST",
  "UPSTREAM_CLUSTER",
  "UPSTREAM_LOCAL_ADDRESS",
  "UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
  "UPSTREAM_LOCAL_PORT",
  "UPSTREAM_REMOTE_ADDRESS",
  "UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
  "UPSTREAM_REMOTE_PORT",
  "UPSTREAM_REQUEST_ATTEMPT_COUNT",
  "UPSTREAM_TLS_CIPHER",
  "UPSTREAM_TLS_VERSION",
  "UPSTREAM_TRANSPORT_FAILURE_REASON",
  "DOWNSTREAM_REMOTE_ADDRESS",
  "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
  "DOWNSTREAM_REMOTE_PORT",
  "DOWNSTREAM_DIRECT_REMOTE_ADDRESS",
  "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT",
  "DOWNSTREAM_LOCAL_ADDRESS",
  "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
  "DOWNSTREAM_LOCAL_PORT",
  "DOWNSTREAM_PEER_URI_SAN",
  "DOWNSTREAM_PEER_DNS_SAN",
  "DOWNSTREAM_LOCAL_URI_SAN",
  "DOWNSTREAM_PEER_SUBJECT",
  "DOWNSTREAM_LOCAL_SUBJECT",
  "DOWNSTREAM_PEER_ISSUER",
  "DOWNSTREAM_TLS_SESSION_ID",
  "DOWNSTREAM_TLS_CIPHER",
  "DOWNSTREAM_TLS_VERSION",
  "DOWNSTREAM_PEER_FINGERPRINT_256",
  "DOWNSTREAM_PEER_FINGERPRINT_1",
  "DOWNSTREAM_PEER_SERIAL",
  "DOWNSTREAM_PEER_CERT",
  "DOWNSTREAM_PEER_CERT_V_START",
  "DOWNSTREAM_PEER_CERT_V_END",
  "DOWNSTREAM_TRANSPORT_FAILURE_REASON",
  "CONNECTION_ID",
  "REQUESTED_SERVER_NAME",
  "ROUTE_NAME",
  "VIRTUAL_CLUSTER_NAME",
  "REQ",
  "RESP",
  "TRAILER",
  "DYNAMIC_METADATA",
  "CLUSTER_METADATA",
  "UPSTREAM_METADATA",
  "FILTER_STATE",
  "HOSTNAME",
  "LOCAL_REPLY_BODY",
  "ACCESS_LOG_TYPE",
  "STREAM_ID",
  "UNIQUE_ID",
  "ENVIRONMENT",
  "GRPC_STATUS",
  "GRPC_STATUS_NUMBER",
  "TRACE_ID",
];

/** Operators Envoy refuses without an argument in parentheses. */
const NEEDS_ARGUMENT = new Set([
  "REQ",
  "RESP",
  "TRAILER",
  "DYNAMIC_METADATA",
  "CLUSTER_METADATA",
  "UPSTREAM_METADATA",
  "FILTER_STATE",
  "ENVIRONMENT",
  "COMMON_DURATION",
]);

const OPERATOR = /%([A-Z][A-Z0-9_]*)(\([^)]*\))?(:[0-9]+)?%/g;

/**
 * What is wrong with the operators of one string of a format, or undefined: every `%` must start
 * `%%` or a known operator (Envoy's or an Airlock one).
 *
 * @example logOperatorProblem("%REQ(:PATH)% %BLOCK_ACTION%") // undefined
 */
export function logOperatorProblem(text: string): string | undefined {
  const stripped = text.replaceAll("%%", "");
  let rest = stripped;
  for (const match of stripped.matchAll(OPERATOR)) {
    const name = match[1] as string;
    if (!(name in AIRLOCK_LOG_OPERATORS) && !ENVOY_LOG_OPERATORS.includes(name)) {
      return `uses %${name}%, which is neither an Envoy command operator we support nor an Airlock operator (${Object.keys(AIRLOCK_LOG_OPERATORS).join(", ")})`;
    }
    if (NEEDS_ARGUMENT.has(name) && match[2] === undefined) {
      return `uses %${name}% without its argument, e.g. %${name}(...)%`;
    }
    if (name in AIRLOCK_LOG_OPERATORS && (match[2] !== undefined || match[3] !== undefined)) {
      return `uses ${match[0]}, but %${name}% takes no arguments`;
    }
    rest = rest.replace(match[0], "");
  }
  if (rest.includes("%")) return `has a "%" that starts no operator (write "%%" for a literal percent sign)`;
  return undefined;
}

/**
 * `text` with every Airlock operator replaced by its Envoy form.
 *
 * @example toEnvoyOperators("%LOG_CORRELATION%", "x-correlation-id") // "%REQ(x-correlation-id?X-REQUEST-ID)%"
 */
export function toEnvoyOperators(text: string, correlationHeader: string): string {
  // Split at "%%" so an escaped percent sign never becomes half of an operator.
  return text
    .split("%%")
    .map((part) =>
      part.replace(OPERATOR, (whole, name: string) => {
        const mapped = AIRLOCK_LOG_OPERATORS[name];
        return mapped === undefined ? whole : mapped(correlationHeader);
      }),
    )
    .join("%%");
}
