/**
 * A stand-in inspection engine for protocol tests: the policy is JSON naming one forbidden word
 * and whether the body must be read. Lets the ext_proc server be tested without the rule
 * catalogue (the real engine is tested in src/inspect/ and end to end through local mode).
 */
import { MicrogatewayError } from "../../errors.ts";
import type { Finding, Verdict } from "../../inspect/types.ts";
import type { InspectionEngine, RequestHead } from "../engine.ts";

export interface FakePolicy {
  /** A request whose target, a header value or the body contains this word is blocked. */
  readonly word: string;
  /** Read the body before deciding. */
  readonly body?: boolean;
  /** Block bodies larger than this many bytes (413), announced by Content-Length or read. */
  readonly maxBody?: number;
  /** LogOnly instead of Block. */
  readonly logOnly?: boolean;
}

/** Encodes a fake policy as the translation would put it into gRPC metadata. */
export function fakePolicyWire(policy: FakePolicy): string {
  return Buffer.from(JSON.stringify(policy)).toString("base64url");
}

export const fakeEngine: InspectionEngine<FakePolicy> = {
  policyFor(wire) {
    try {
      const p = JSON.parse(Buffer.from(wire, "base64url").toString()) as FakePolicy;
      if (typeof p.word !== "string") throw new Error("no word");
      return p;
    } catch (e) {
      throw new MicrogatewayError("InvalidArgument", `fake policy: ${(e as Error).message}`);
    }
  },
  onHeaders(policy, head, hasBody) {
    const length = Number(head.headers.find(([k]) => k === "content-length")?.[1] ?? "0");
    if (policy.maxBody !== undefined && length > policy.maxBody) return final(sizeFinding(policy));
    if (policy.body && hasBody) {
      return {
        kind: "needsBody",
        withBody: (body) =>
          policy.maxBody !== undefined && body.length > policy.maxBody
            ? sizeFinding(policy)
            : check(policy, head, new TextDecoder().decode(body)),
      };
    }
    return final(check(policy, head, ""));
  },
};

function final(verdict: Verdict) {
  return { kind: "final" as const, verdict };
}

function check(policy: FakePolicy, head: RequestHead, body: string): Verdict {
  const texts = [head.rawTarget, ...head.headers.map(([, v]) => v), body];
  if (!texts.some((t) => t.includes(policy.word))) return { logged: [] };
  const finding: Finding = {
    blockType: "deny_rules",
    blockSubtype: "FAKE",
    ruleKey: "FAKE_WORD",
    mode: policy.logOnly ? "LogOnly" : "Block",
  };
  return policy.logOnly ? { logged: [finding] } : { block: finding, logged: [] };
}

function sizeFinding(policy: FakePolicy): Verdict {
  const finding: Finding = {
    blockType: "limits",
    blockSubtype: "parameter_body_size",
    ruleKey: "parameter_body_size",
    mode: policy.logOnly ? "LogOnly" : "Block",
  };
  return policy.logOnly ? { logged: [finding] } : { block: finding, logged: [] };
}
