/**
 * Telemetry (reference §3.9): the access log format and how requests are correlated.
 */
import type { KindDefinition } from "./crd.ts";
import { boolean, freeForm, object, required, string, withDefault } from "./schema.ts";

/** Telemetry `spec`. */
export const telemetrySpecSchema = object("Logging and correlation settings.", {
  correlation: object("How requests are correlated across systems.", {
    idSource: object(
      "Where an external correlation ID comes from. Absent: the X-Correlation-Id header. Without one in the request, the request ID is the correlation ID.",
      {
        header: required(
          object("Take it from a request header (if the request has it).", {
            name: withDefault(
              string("Name of the header (case-insensitive). Default: X-Correlation-Id.", {
                minLength: 1,
                maxLength: 256,
              }),
              "X-Correlation-Id",
            ),
          }),
        ),
      },
    ),
    request: object("The request ID (x-request-id) used for tracing.", {
      allowDownstreamRequestID: withDefault(
        boolean("Keep an x-request-id sent by the client for trace sampling. Default: false."),
        false,
      ),
      alterRequestID: withDefault(
        boolean("Mark the trace sampling decision in the request ID. Default: true."),
        true,
      ),
    }),
  }),
  logging: object("Logging settings.", {
    accessLog: object("The access log.", {
      format: object("The access log format.", {
        json: freeForm(
          "Log each request as this JSON object: string values are Envoy command operators (%START_TIME%, %REQ(:PATH)%, ...), nested objects are kept.",
        ),
      }),
    }),
  }),
});

export const telemetryKind: KindDefinition = {
  kind: "Telemetry",
  plural: "telemetries",
  description: "Access log format and request correlation of the applications that reference it.",
  spec: withDefault(telemetrySpecSchema, {}),
};
