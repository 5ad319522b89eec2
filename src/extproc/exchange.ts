/**
 * One ext_proc stream, as a pure state machine: Envoy opens a stream per HTTP request, sends the
 * request headers and, if we ask for it, the buffered body; we answer each message with exactly
 * one ProcessingResponse. No I/O here: the server (server.ts) feeds messages in and writes the
 * answers out.
 */

import type { JsonObject } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { HeaderValueOption_HeaderAppendAction } from "../../gen/envoy/config/core/v3/base_pb.js";
import {
  ProcessingMode_BodySendMode,
  ProcessingMode_HeaderSendMode,
} from "../../gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb.js";
import {
  type HeaderMutation as EnvoyHeaderMutation,
  HeaderMutationSchema,
  type HttpHeaders,
  type ProcessingRequest,
  type ProcessingResponse,
  ProcessingResponseSchema,
} from "../../gen/envoy/service/ext_proc/v3/external_processor_pb.js";
import { MicrogatewayError } from "../errors.ts";
import {
  type HeaderMutation,
  type HeaderRewritePlan,
  needsRequestPhase,
  needsResponsePhase,
  type RequestView,
  requestHeaderMutation,
  responseHeaderMutation,
} from "../inspect/header-rewrites.ts";
import { INSPECTOR_METADATA_NAMESPACE, type Verdict } from "../inspect/types.ts";
import { blockStatus, type InspectionEngine, type RequestHead } from "./engine.ts";

/** The body of every blocked request (the same text the listener's local replies use). */
export const BLOCKED_BODY = "Request blocked by Microgateway\n";

/** `response_code_details` of a blocked request, visible in the access log. */
export const BLOCKED_DETAILS = "microgateway_blocked";

/**
 * Answers the messages of one stream for one route's policy and, when the route has one, its
 * header rewrite plan: the request headers are rewritten in the answer to the headers phase, the
 * response headers in the answer to the response headers phase (which the route then asks for).
 *
 * @example
 * const exchange = new RequestExchange(engine, engine.policyFor(wire), headerRewritePlanFor(plan));
 * const answer = exchange.answer(request); // ProcessingResponse for Envoy
 */
export class RequestExchange<P> {
  private headersSeen = false;
  private awaitingBody: ((body: Uint8Array) => Verdict) | undefined;
  /** The request as the header rewrites' conditions see it; kept for the response phase. */
  private request: RequestView | undefined;

  constructor(
    private readonly engine: InspectionEngine<P>,
    private readonly policy: P,
    private readonly rewrites?: HeaderRewritePlan,
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
      case "responseHeaders":
        return this.onResponseHeaders(r.value);
      // The filter skips these; answer anyway so a different configuration cannot hang a request.
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
    let mutation: HeaderMutation | undefined;
    if (this.rewrites !== undefined) {
      this.request = {
        method: head.method,
        path: head.rawTarget,
        headers: head.headers,
        ...(remoteIp === undefined ? {} : { remoteAddress: remoteIp }),
      };
      if (needsRequestPhase(this.rewrites)) mutation = requestHeaderMutation(this.rewrites, this.request);
    }
    if (decision.kind === "final") return verdictResponse(decision.verdict, "requestHeaders", mutation);
    this.awaitingBody = decision.withBody;
    // Ask for the whole body before deciding (allow_mode_override is on in the filter). The
    // override replaces the whole processing mode, so the rest of it is spelled out again.
    const responsePhase = this.rewrites !== undefined && needsResponsePhase(this.rewrites);
    return create(ProcessingResponseSchema, {
      response: {
        case: "requestHeaders",
        value: mutation === undefined ? {} : { response: { headerMutation: envoyMutation(mutation) } },
      },
      modeOverride: {
        requestHeaderMode: ProcessingMode_HeaderSendMode.SEND,
        responseHeaderMode: responsePhase
          ? ProcessingMode_HeaderSendMode.SEND
          : ProcessingMode_HeaderSendMode.SKIP,
        requestBodyMode: ProcessingMode_BodySendMode.BUFFERED,
        responseBodyMode: ProcessingMode_BodySendMode.NONE,
        requestTrailerMode: ProcessingMode_HeaderSendMode.SKIP,
        responseTrailerMode: ProcessingMode_HeaderSendMode.SKIP,
      },
    });
  }

  private onResponseHeaders(headers: HttpHeaders): ProcessingResponse {
    const plan = this.rewrites;
    if (plan === undefined || this.request === undefined || !needsResponsePhase(plan)) {
      return create(ProcessingResponseSchema, { response: { case: "responseHeaders", value: {} } });
    }
    const mutation = responseHeaderMutation(plan, this.request, headerList(headers));
    return create(ProcessingResponseSchema, {
      response: { case: "responseHeaders", value: { response: { headerMutation: envoyMutation(mutation) } } },
    });
  }
}

/**
 * Envoy's form of a mutation: a name's first value overwrites (or adds) it, later values append;
 * removals are applied by Envoy before the sets.
 *
 * @example envoyMutation({ remove: ["x-debug"], set: [["x-a", "1"], ["x-a", "2"]] })
 */
export function envoyMutation(mutation: HeaderMutation): EnvoyHeaderMutation {
  const encoder = new TextEncoder();
  const seen = new Set<string>();
  return create(HeaderMutationSchema, {
    removeHeaders: [...mutation.remove],
    setHeaders: mutation.set.map(([key, value]) => {
      const first = !seen.has(key);
      seen.add(key);
      return {
        header: { key, rawValue: encoder.encode(value) },
        appendAction: first
          ? HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD
          : HeaderValueOption_HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD,
        keepEmptyValue: true,
      };
    }),
  });
}

/** Every header of Envoy's map as `[lower-case name, value]`, pseudo-headers included. */
function headerList(headers: HttpHeaders): [string, string][] {
  const decoder = new TextDecoder();
  return (headers.headers?.headers ?? []).map((h) => [
    h.key.toLowerCase(),
    h.rawValue.length > 0 ? decoder.decode(h.rawValue) : h.value,
  ]);
}

/** Splits Envoy's header map into pseudo-headers and regular headers. */
export function requestHead(headers: HttpHeaders): RequestHead {
  let method = "";
  let rawTarget = "";
  let authority: string | undefined;
  const regular: [string, string][] = [];
  const decoder = new TextDecoder();
  for (const h of headers.headers?.headers ?? []) {
    // Envoy sends values in raw_value (runtime guard send_header_raw_value, on by default).
    const value = h.rawValue.length > 0 ? decoder.decode(h.rawValue) : h.value;
    const key = h.key.toLowerCase();
    if (key === ":method") method = value;
    else if (key === ":path") rawTarget = value;
    else if (key === ":authority") authority = value;
    else if (!key.startsWith(":")) regular.push([key, value]);
  }
  if (method === "" || rawTarget === "") throw protocolError("request headers without :method or :path");
  // Envoy turns HTTP/1's Host into :authority; the rules that judge the host (PROTOCOL's
  // conflicting or malformed host, among others) read it as the `host` header it was sent as.
  if (authority !== undefined && !regular.some(([k]) => k === "host")) regular.push(["host", authority]);
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

/**
 * The answer for a verdict: continue (with `mutation` of the request headers, if any), or an
 * immediate 400/413; always the dynamic metadata.
 */
export function verdictResponse(
  verdict: Verdict,
  phase: "requestHeaders" | "requestBody",
  mutation?: HeaderMutation,
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
    response: {
      case: phase,
      value: mutation === undefined ? {} : { response: { headerMutation: envoyMutation(mutation) } },
    },
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
