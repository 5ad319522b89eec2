import { describe, expect, test } from "bun:test";
import { parseAllDocuments } from "yaml";
import { REFERENCE_EXAMPLES } from "../api/testing/reference-examples.ts";
import { isMicrogatewayError } from "../errors.ts";
import { accessLogFormat } from "../translate/access-log.ts";
import { logOperatorProblem, toEnvoyOperators } from "./access-log-operators.ts";
import { parseResource } from "./parse.ts";
import { DEFAULT_TELEMETRY_SPEC, parseTelemetrySpec } from "./telemetry.ts";

const at = { subject: "Telemetry shop/t", path: "spec" };

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isMicrogatewayError(e)) return e.message;
    throw e;
  }
  throw new Error("expected an error");
}

describe("parseTelemetrySpec", () => {
  test("an empty spec is the defaults", () => {
    expect(parseTelemetrySpec(at, {})).toEqual(DEFAULT_TELEMETRY_SPEC);
    expect(parseTelemetrySpec(at, { correlation: { idSource: { header: {} } } }).correlation.idHeader).toBe(
      "x-correlation-id",
    );
  });

  test("the reference example (§3.9) parses and keeps its format", () => {
    const spec = parseTelemetrySpec(at, {
      correlation: {
        idSource: { header: { name: "X-Request-Correlation" } },
        request: { allowDownstreamRequestID: true },
      },
      logging: {
        accessLog: {
          format: {
            json: {
              "@timestamp": "%START_TIME(%Y-%m-%dT%T.%3f%z)%",
              event: { dataset: "envoy.access", module: "envoy" },
              http: {
                request: { method: "%REQ(:METHOD)%", id: "%STREAM_ID%" },
                response: { status_code: "%RESPONSE_CODE%" },
              },
              url: { path: "%REQ(:PATH)%" },
            },
          },
        },
      },
    });
    expect(spec.correlation).toEqual({
      idHeader: "x-request-correlation",
      allowDownstreamRequestID: true,
      alterRequestID: true,
    });
    expect(spec.accessLogFormat?.url).toEqual({ path: "%REQ(:PATH)%" });
  });

  test("bad formats are refused naming the field", () => {
    const format = (json: unknown) => () =>
      parseTelemetrySpec(at, { logging: { accessLog: { format: { json } } } });
    expect(message(format({ a: { b: "%NOT_AN_OPERATOR%" } }))).toContain(
      'spec.logging.accessLog.format.json.a.b "%NOT_AN_OPERATOR%" uses %NOT_AN_OPERATOR%',
    );
    expect(message(format({ a: "%REQ%" }))).toContain("without its argument");
    expect(message(format({ a: "%BLOCK_ACTION(x)%" }))).toContain("takes no arguments");
    expect(message(format({ a: "50% off" }))).toContain('has a "%" that starts no operator');
    expect(message(format({ a: ["%REQ(:PATH)%"] }))).toContain("Envoy logs no lists or nulls");
    expect(
      message(() => parseTelemetrySpec(at, { correlation: { idSource: { header: { name: "bad name" } } } })),
    ).toBe('Telemetry shop/t: spec.correlation.idSource.header.name "bad name" must be an HTTP header name');
  });
});

describe("access log operators", () => {
  test("Airlock operators become metadata and correlation lookups; %% stays escaped", () => {
    expect(toEnvoyOperators("%BLOCK_ACTION% %LOG_ONLY_ACTIONS%", "x-c")).toBe(
      "%DYNAMIC_METADATA(microgateway:action)% %DYNAMIC_METADATA(microgateway:log_only)%",
    );
    expect(toEnvoyOperators("%LOG_CORRELATION%", "x-c")).toBe("%REQ(x-c?X-REQUEST-ID)%");
    expect(toEnvoyOperators("100%%BLOCK_ACTION%%", "x-c")).toBe("100%%BLOCK_ACTION%%");
    expect(logOperatorProblem("%REQ(:PATH)% %SUMMARY_ACTION% 100%%")).toBeUndefined();
  });

  test("the format Envoy gets: the Telemetry's, mapped, or the default with the inspector's fields", () => {
    const spec = parseTelemetrySpec(at, {
      logging: {
        accessLog: { format: { json: { airlock: { action: "%SUMMARY_ACTION%" }, n: 1, b: true } } },
      },
    });
    expect(accessLogFormat(spec)).toEqual({
      airlock: { action: "%DYNAMIC_METADATA(microgateway:action)%" },
      n: 1,
      b: true,
    });
    expect(accessLogFormat(DEFAULT_TELEMETRY_SPEC).microgateway).toMatchObject({
      correlation_id: "%REQ(x-correlation-id?X-REQUEST-ID)%",
      action: "%DYNAMIC_METADATA(microgateway:action)%",
      block_type: "%DYNAMIC_METADATA(microgateway:block_type)%",
      block_subtype: "%DYNAMIC_METADATA(microgateway:block_subtype)%",
      rule_key: "%DYNAMIC_METADATA(microgateway:rule_key)%",
      log_only: "%DYNAMIC_METADATA(microgateway:log_only)%",
    });
  });
});

test("the reference's HeaderRewrites and Telemetry examples parse into the model", () => {
  const kinds: string[] = [];
  for (const example of REFERENCE_EXAMPLES) {
    for (const doc of parseAllDocuments(example.yaml)) {
      const obj = doc.toJS() as { kind: string; metadata: object };
      if (obj.kind !== "HeaderRewrites" && obj.kind !== "Telemetry") continue;
      const parsed = parseResource({
        ...obj,
        metadata: { ...obj.metadata, namespace: "x" },
      });
      kinds.push((parsed as { kind: string }).kind);
    }
  }
  expect(kinds.sort()).toEqual(["HeaderRewrites", "Telemetry"]);
});
