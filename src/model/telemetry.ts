/**
 * Telemetry (reference §3.9) in the model: the correlation settings with defaults applied and the
 * access log format with its operators checked, so the engine never gets a format it rejects.
 */

import { logOperatorProblem } from "./access-log-operators.ts";
import {
  type At,
  asRecord,
  asString,
  child,
  fail,
  isRecord,
  optionalRecord,
  present,
  show,
} from "./fields.ts";
import { parseFlag } from "./request-conditions.ts";

/** A JSON access log template: string leaves are formats, numbers and booleans are constants. */
export interface LogFormat {
  readonly [key: string]: string | number | boolean | LogFormat;
}

/** Telemetry `spec` with every default applied. */
export interface TelemetrySpec {
  readonly correlation: {
    /**
     * The header carrying the correlation id, lower case. The id is its value when the client sent
     * it, else the request id Envoy generates; the application receives it under this name.
     * Default x-correlation-id (also when idSource is absent: docs/decisions.md).
     */
    readonly idHeader: string;
    /** Keep a client's x-request-id (HCM preserve_external_request_id). */
    readonly allowDownstreamRequestID: boolean;
    /** Mark the trace decision in the request id (UUID request id pack_trace_reason). */
    readonly alterRequestID: boolean;
  };
  /** `logging.accessLog.format.json`; absent: the default format (src/translate/access-log.ts). */
  readonly accessLogFormat?: LogFormat;
}

/** The correlation header when nothing else is configured. */
export const DEFAULT_CORRELATION_HEADER = "x-correlation-id";

/** What applies to an application without telemetryRef. */
export const DEFAULT_TELEMETRY_SPEC: TelemetrySpec = {
  correlation: {
    idHeader: DEFAULT_CORRELATION_HEADER,
    allowDownstreamRequestID: false,
    alterRequestID: true,
  },
};

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MAX_FORMAT_DEPTH = 8;

/**
 * Parses Telemetry `spec` (`raw` may be undefined: every default).
 *
 * @example parseTelemetrySpec(at, {correlation: {idSource: {header: {name: "X-Trace"}}}}).correlation.idHeader // "x-trace"
 */
export function parseTelemetrySpec(at: At, raw: unknown): TelemetrySpec {
  const spec = optionalRecord(at, raw);
  const corrAt = child(at, "correlation");
  const corr = optionalRecord(corrAt, spec.correlation);
  const sourceAt = child(corrAt, "idSource");
  const source = optionalRecord(sourceAt, corr.idSource);
  const headerAt = child(sourceAt, "header");
  const header = present(source.header) === undefined ? {} : asRecord(headerAt, source.header);
  if (present(corr.idSource) !== undefined && present(source.header) === undefined) {
    fail(headerAt, "is required");
  }
  const nameAt = child(headerAt, "name");
  const name =
    present(header.name) === undefined ? DEFAULT_CORRELATION_HEADER : asString(nameAt, header.name);
  if (name.length < 1 || name.length > 256 || !HEADER_NAME.test(name)) {
    fail(nameAt, `${show(name)} must be an HTTP header name`);
  }
  const reqAt = child(corrAt, "request");
  const req = optionalRecord(reqAt, corr.request);

  const loggingAt = child(at, "logging");
  const logging = optionalRecord(loggingAt, spec.logging);
  const accessLogAt = child(loggingAt, "accessLog");
  const accessLog = optionalRecord(accessLogAt, logging.accessLog);
  const formatAt = child(accessLogAt, "format");
  const format = optionalRecord(formatAt, accessLog.format);
  const json = present(format.json);
  return {
    correlation: {
      idHeader: name.toLowerCase(),
      allowDownstreamRequestID: parseFlag(
        child(reqAt, "allowDownstreamRequestID"),
        req.allowDownstreamRequestID,
        false,
      ),
      alterRequestID: parseFlag(child(reqAt, "alterRequestID"), req.alterRequestID, true),
    },
    ...(json === undefined ? {} : { accessLogFormat: parseFormat(child(formatAt, "json"), json, 1) }),
  };
}

function parseFormat(at: At, raw: unknown, depth: number): LogFormat {
  if (!isRecord(raw)) fail(at, `${show(raw)} must be an object`);
  if (depth > MAX_FORMAT_DEPTH) fail(at, `nests deeper than ${MAX_FORMAT_DEPTH} objects`);
  if (Object.keys(raw).length === 0) fail(at, "must have at least one field");
  const out: Record<string, string | number | boolean | LogFormat> = {};
  for (const [key, value] of Object.entries(raw)) {
    const keyAt = child(at, key);
    if (typeof value === "string") {
      const problem = logOperatorProblem(value);
      if (problem !== undefined) fail(keyAt, `${show(value)} ${problem}`);
      out[key] = value;
    } else if (typeof value === "number" || typeof value === "boolean") {
      out[key] = value;
    } else if (isRecord(value)) {
      out[key] = parseFormat(keyAt, value, depth + 1);
    } else {
      // Envoy's json_format holds strings, numbers, booleans and objects only.
      fail(
        keyAt,
        `${show(value)} must be a string, number, boolean or object (Envoy logs no lists or nulls)`,
      );
    }
  }
  return out;
}
