/**
 * One ext_proc stream, as a pure state machine: Envoy opens a stream per HTTP request, sends the
 * request headers and, if we ask for it, the buffered body; we answer each message with exactly
 * one ProcessingResponse. No I/O here: the server (server.ts) feeds messages in and writes the
 * answers out.
 */

import type { JsonObject } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { ProcessingMode_BodySendMode } from "../../gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb.js";
import {
  type HttpHeaders,
  type ProcessingRequest,
  type ProcessingResponse,
  ProcessingResponseSchema,
} from "../../gen/envoy/service/ext_proc/v3/external_processor_pb.js";
import { MicrogatewayError } from "../errors.ts";
import { INSPECTOR_METADATA_NAMESPACE, type Verdict } from "../inspect/types.ts";
import { blockStatus, type InspectionEngine, type RequestHead } from "./engine.ts";

/** The body of every blocked request (the same text the listener's local replies use). */
export const BLOCKED_BODY = "Request blocked by Microgateway\n";

/** `response_code_details` of a blocked request, visible in the access log. */
export const BLOCKED_DETAILS = "microgateway_blocked";

/**
 * Answers the messages of one stream for one route's policy.
 *
 * @example
 * const exchange = new RequestExchange(engine, engine.policyFor(wire));
 * const answer = exchange.answer(request); // ProcessingResponse for Envoy
 */
export class RequestExchange<P> {
  private headersSeen = false;
  private awaitingBody: ((body: Uint8Array) => Verdict) | undefined;

  constructor(
    private readonly engine: InspectionEngine<P>,
    private readonly policy: P,
  ) {}

  /** The answer to one message. Throws MicrogatewayError on a message out of protocol order. */
  answer(request: ProcessingRequest): ProcessingResponse {
    const r = request.request;
    switch (r.case) {
      case "requestHeaders":
        return this.onHeaders(r.value, remoteIpOf(request));
      case "requestBody": {
        if (!this.awaitingBody) throw protocolError("request body that was not asked for");
        if (!r.value.endOfStream) {
          // We only ever ask for BUFFERED bodies, which arrive whole.
          throw protocolError("request body in chunks (expected one buffered message)");
        }
        const verdict = this.awaitingBody(r.value.body);
        this.awaitingBody = undefined;
        return verdictResponse(verdict, "requestBody");
      }
      case "requestTrailers":
        return create(ProcessingResponseSchema, { response: { case: "requestTrailers", value: {} } });
      // The filter skips the response; answer anyway so a different configuration cannot hang a request.
      case "responseHeaders":
        return create(ProcessingResponseSchema, { response: { case: "responseHeaders", value: {} } });
      case "responseBody":
        return create(ProcessingResponseSchema, { response: { case: "responseBody", value: {} } });
      case "responseTrailers":
        return create(ProcessingResponseSchema, { response: { case: "responseTrailers", value: {} } });
      case undefined:
        throw protocolError("empty ProcessingRequest");
    }
  }

  private onHeaders(headers: HttpHeaders, remoteIp: string | undefined): ProcessingResponse {
    if (this.headersSeen) throw protocolError("request headers twice");
    this.headersSeen = true;
    const head = { ...requestHead(headers), ...(remoteIp === undefined ? {} : { remoteIp }) };
    const decision = this.engine.onHeaders(this.policy, head, !headers.endOfStream);
    if (decision.kind === "final") return verdictResponse(decision.verdict, "requestHeaders");
    this.awaitingBody = decision.withBody;
    // Ask for the whole body before deciding (allow_mode_override is on in the filter).
    return create(ProcessingResponseSchema, {
      response: { case: "requestHeaders", value: {} },
      modeOverride: { requestBodyMode: ProcessingMode_BodySendMode.BUFFERED },
    });
  }
}

/** Splits Envoy's header map into pseudo-headers and regular headers. */
export function requestHead(headers: HttpHeaders): RequestHead {
  let method = "";
  let rawTarget = "";
  const regular: [string, string][] = [];
  const decoder = new TextDecoder();
  for (const h of headers.headers?.headers ?? []) {
    // Envoy sends values in raw_value (runtime guard send_header_raw_value, on by default).
    const value = h.rawValue.length > 0 ? decoder.decode(h.rawValue) : h.value;
    const key = h.key.toLowerCase();
    if (key === ":method") method = value;
    else if (key === ":path") rawTarget = value;
    else if (!key.startsWith(":")) regular.push([key, value]);
  }
  if (method === "" || rawTarget === "") throw protocolError("request headers without :method or :path");
  return { method, rawTarget, headers: regular };
}

/** The filter's name, under which Envoy sends the attributes the filter asks for. */
const FILTER_ATTRIBUTES = "envoy.filters.http.ext_proc";

/**
 * The client IP from the `source.address` attribute (`1.2.3.4:5678`, `[::1]:5678`), if sent.
 *
 * @example remoteIpOf(request) // "10.0.0.7"
 */
export function remoteIpOf(request: ProcessingRequest): string | undefined {
  const address = request.attributes[FILTER_ATTRIBUTES]?.["source.address"];
  if (typeof address !== "string" || address === "") return undefined;
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (v6) return v6[1];
  const colon = address.lastIndexOf(":");
  return colon > 0 && address.indexOf(":") === colon ? address.slice(0, colon) : address;
}

/** The answer for a verdict: continue, or an immediate 400/413; always the dynamic metadata. */
export function verdictResponse(
  verdict: Verdict,
  phase: "requestHeaders" | "requestBody",
): ProcessingResponse {
  const dynamicMetadata: JsonObject = { [INSPECTOR_METADATA_NAMESPACE]: verdictMetadata(verdict) };
  if (verdict.block) {
    return create(ProcessingResponseSchema, {
      response: {
        case: "immediateResponse",
        value: {
          status: { code: blockStatus(verdict.block) },
          headers: {
            setHeaders: [
              {
                header: { key: "content-type", rawValue: new TextEncoder().encode("text/plain") },
              },
            ],
          },
          body: new TextEncoder().encode(BLOCKED_BODY),
          details: BLOCKED_DETAILS,
        },
      },
      dynamicMetadata,
    });
  }
  return create(ProcessingResponseSchema, {
    response: { case: phase, value: {} },
    dynamicMetadata,
  });
}

/**
 * The dynamic metadata of a verdict (namespace `microgateway`): `action` always; for a block the
 * finding's `block_type`, `block_subtype` and `rule_key`; `log_only` lists the LogOnly findings.
 *
 * @example verdictMetadata({ logged: [] }) // { action: "allow" }
 */
export function verdictMetadata(verdict: Verdict): JsonObject {
  const logOnly = verdict.logged.map((f) => f.ruleKey).join(",");
  const meta: JsonObject = {
    action: verdict.block ? "block" : logOnly !== "" ? "log_only" : "allow",
  };
  if (verdict.block) {
    meta.block_type = verdict.block.blockType;
    meta.block_subtype = verdict.block.blockSubtype;
    meta.rule_key = verdict.block.ruleKey;
  } else if (verdict.logged[0]) {
    // Counters of LogOnly findings are labelled like blocks, by the first finding.
    meta.block_type = verdict.logged[0].blockType;
    meta.block_subtype = verdict.logged[0].blockSubtype;
    meta.rule_key = verdict.logged[0].ruleKey;
  }
  if (logOnly !== "") meta.log_only = logOnly;
  return meta;
}

function protocolError(what: string): MicrogatewayError {
  return new MicrogatewayError("InvalidArgument", `ext_proc: ${what}`);
}
