import { describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { HeaderValueOption_HeaderAppendAction } from "../../gen/envoy/config/core/v3/base_pb.js";
import {
  ProcessingMode_BodySendMode,
  ProcessingMode_HeaderSendMode,
} from "../../gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb.js";
import {
  type HeaderMutation,
  type ProcessingRequest,
  ProcessingRequestSchema,
} from "../../gen/envoy/service/ext_proc/v3/external_processor_pb.js";
import { decodeHeaderRewritePlan, encodeHeaderRewritePlan } from "../inspect/header-rewrite-wire.ts";
import { EMPTY_HEADER_REWRITE_PLAN, type HeaderRewritePlan } from "../inspect/header-rewrites.ts";
import { encodePolicy, routePolicy } from "../inspect/policy.ts";
import { DEFAULT_DENY_RULES_SPEC } from "../model/types.ts";
import { envoyMutation, RequestExchange, requestHead } from "./exchange.ts";
import { inspectorEngine } from "./inspector-engine.ts";
import { fakeEngine, fakePolicyWire } from "./testing/fake-engine.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function headers(
  pairs: [string, string][],
  endOfStream = true,
  phase: "requestHeaders" | "responseHeaders" = "requestHeaders",
): ProcessingRequest {
  return create(ProcessingRequestSchema, {
    request: {
      case: phase,
      value: {
        headers: { headers: pairs.map(([key, value]) => ({ key, rawValue: encoder.encode(value) })) },
        endOfStream,
      },
    },
  });
}

/** A mutation as `[name, value, append action]` rows and the removed names. */
function rows(mutation: HeaderMutation | undefined) {
  return {
    remove: mutation?.removeHeaders ?? [],
    set: (mutation?.setHeaders ?? []).map((h) => [
      h.header?.key,
      decoder.decode(h.header?.rawValue),
      HeaderValueOption_HeaderAppendAction[h.appendAction],
    ]),
  };
}

const ALLOW_ACCEPT: HeaderRewritePlan = {
  ...EMPTY_HEADER_REWRITE_PLAN,
  request: { allow: { names: ["accept", "user-agent"], rules: [] }, remove: [], add: [] },
  response: { ...EMPTY_HEADER_REWRITE_PLAN.response, removeAuthSchemes: ["negotiate"] },
};

describe("header rewrites in the exchange", () => {
  const policy = fakeEngine.policyFor(fakePolicyWire({ word: "attack", body: true }));

  test("the request headers answer removes what the allow list does not allow", () => {
    const exchange = new RequestExchange(fakeEngine, policy, ALLOW_ACCEPT);
    const answer = exchange.answer(
      headers([
        [":method", "GET"],
        [":path", "/"],
        [":authority", "shop"],
        ["accept", "*/*"],
        ["x-debug", "1"],
      ]),
    );
    expect(answer.response.case).toBe("requestHeaders");
    const mutation = answer.response.case === "requestHeaders" ? answer.response.value.response : undefined;
    expect(rows(mutation?.headerMutation)).toEqual({ remove: ["x-debug"], set: [] });
  });

  test("asking for the body keeps the mutation and asks for the response headers the plan needs", () => {
    const exchange = new RequestExchange(fakeEngine, policy, ALLOW_ACCEPT);
    const answer = exchange.answer(
      headers(
        [
          [":method", "POST"],
          [":path", "/"],
          ["x-debug", "1"],
        ],
        false,
      ),
    );
    expect(answer.modeOverride?.requestBodyMode).toBe(ProcessingMode_BodySendMode.BUFFERED);
    expect(answer.modeOverride?.responseHeaderMode).toBe(ProcessingMode_HeaderSendMode.SEND);
    const mutation = answer.response.case === "requestHeaders" ? answer.response.value.response : undefined;
    expect(rows(mutation?.headerMutation).remove).toEqual(["x-debug"]);
    // Without a plan, the body override does not ask for the response headers.
    const bare = new RequestExchange(fakeEngine, policy).answer(
      headers(
        [
          [":method", "POST"],
          [":path", "/"],
        ],
        false,
      ),
    );
    expect(bare.modeOverride?.responseHeaderMode).toBe(ProcessingMode_HeaderSendMode.SKIP);
  });

  test("the response headers answer removes the challenges of removed schemes", () => {
    const exchange = new RequestExchange(fakeEngine, policy, ALLOW_ACCEPT);
    exchange.answer(
      headers([
        [":method", "GET"],
        [":path", "/"],
      ]),
    );
    const answer = exchange.answer(
      headers(
        [
          [":status", "401"],
          ["www-authenticate", "Negotiate abc"],
          ["www-authenticate", 'Basic realm="x"'],
        ],
        true,
        "responseHeaders",
      ),
    );
    expect(answer.response.case).toBe("responseHeaders");
    const mutation = answer.response.case === "responseHeaders" ? answer.response.value.response : undefined;
    expect(rows(mutation?.headerMutation)).toEqual({
      remove: ["www-authenticate"],
      set: [["www-authenticate", 'Basic realm="x"', "OVERWRITE_IF_EXISTS_OR_ADD"]],
    });
  });

  test("a name's first value overwrites, the others append", () => {
    expect(
      rows(
        envoyMutation({
          remove: [],
          set: [
            ["x-a", "1"],
            ["x-a", "2"],
            ["x-b", "3"],
          ],
        }),
      ).set,
    ).toEqual([
      ["x-a", "1", "OVERWRITE_IF_EXISTS_OR_ADD"],
      ["x-a", "2", "APPEND_IF_EXISTS_OR_ADD"],
      ["x-b", "3", "OVERWRITE_IF_EXISTS_OR_ADD"],
    ]);
  });

  test("the plan's wire form round-trips, and a malformed one is refused naming the field", () => {
    expect(decodeHeaderRewritePlan(encodeHeaderRewritePlan(ALLOW_ACCEPT))).toEqual(ALLOW_ACCEPT);
    const broken = {
      ...ALLOW_ACCEPT,
      response: { ...ALLOW_ACCEPT.response, removeAuthSchemes: ["kerberos"] },
    };
    expect(() => decodeHeaderRewritePlan(encodeHeaderRewritePlan(broken as never))).toThrow(
      "response.removeAuthSchemes[0]",
    );
    expect(() => decodeHeaderRewritePlan("j.bm90IGpzb24")).toThrow("not JSON");
  });
});

describe("the host the rules see", () => {
  test(":authority becomes the host header when the request has none", () => {
    const head = requestHead(
      headers([
        [":method", "GET"],
        [":path", "/"],
        [":authority", "shop.example"],
      ]).request.value as never,
    );
    expect(head.headers).toEqual([["host", "shop.example"]]);
    const both = requestHead(
      headers([
        [":method", "GET"],
        [":path", "/"],
        [":authority", "shop.example"],
        ["host", "other.example"],
      ]).request.value as never,
    );
    expect(both.headers).toEqual([["host", "other.example"]]);
  });

  test("PROTOCOL rules judge the host from :authority", () => {
    const engine = inspectorEngine();
    const policy = engine.policyFor(encodePolicy(routePolicy({ denyRules: DEFAULT_DENY_RULES_SPEC })));
    const answer = (authority: string) =>
      new RequestExchange(engine, policy).answer(
        headers([
          [":method", "GET"],
          [":path", "/"],
          [":authority", authority],
        ]),
      );
    const conflicting = answer("a.example,b.example");
    expect(conflicting.response.case).toBe("immediateResponse");
    expect(conflicting.dynamicMetadata?.microgateway).toMatchObject({
      action: "block",
      rule_key: "PROTOCOL_CONFLICTING_HOST",
    });
    expect(answer("a.example").response.case).toBe("requestHeaders");
    // Compiling the default policy (and loading RE2) takes seconds on a loaded machine.
  }, 30_000);
});
