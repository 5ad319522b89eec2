/**
 * Checks one response by hand before anything is measured: a throughput figure for a server that
 * answers wrongly is worthless. The TLS connection verifies the server's certificate against the
 * run's CA, and the patch must apply to the pod and give it the sidecars.
 */
import type { JsonPatchOp } from "../../src/inject/json-patch.ts";
import {
  BOOTSTRAP_VOLUME,
  ENGINE_CONTAINER,
  MANAGED_BY_LABEL,
  SESSION_AGENT_CONTAINER,
} from "../../src/inject/names.ts";
import type { Pod } from "../../src/inject/pod.ts";
import { applyJsonPatch } from "../../src/inject/testing/apply-json-patch.ts";
import type { BenchReview } from "./pod.ts";

/** What the check saw, for the report. */
export interface VerifiedResponse {
  readonly status: number;
  readonly responseBytes: number;
  readonly patchOps: number;
}

/** POSTs the review once to `url`; throws naming the first thing that is wrong with the answer. */
export async function verifyOneResponse(
  url: string,
  caPem: string,
  review: BenchReview,
): Promise<VerifiedResponse> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: review.body,
    tls: { ca: caPem },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  const fail = (what: string): never => {
    throw new Error(`${url}: ${what}; body: ${text.slice(0, 300)}`);
  };
  if (res.status !== 200) fail(`status ${res.status}, expected 200`);
  if (!(res.headers.get("content-type") ?? "").startsWith("application/json")) {
    fail(`content-type ${res.headers.get("content-type")}, expected application/json`);
  }
  const body = JSON.parse(text) as {
    apiVersion?: unknown;
    kind?: unknown;
    response?: { uid?: unknown; allowed?: unknown; patchType?: unknown; patch?: unknown };
  };
  const r = body.response;
  if (body.apiVersion !== "admission.k8s.io/v1" || body.kind !== "AdmissionReview")
    fail("not an AdmissionReview v1");
  if (r?.uid !== review.uid) fail(`response.uid ${JSON.stringify(r?.uid)}, expected ${review.uid}`);
  if (r?.allowed !== true) fail("response.allowed is not true");
  if (r?.patchType !== "JSONPatch" || typeof r.patch !== "string") fail("response has no JSONPatch");
  const ops = JSON.parse(Buffer.from(String(r?.patch), "base64").toString("utf8")) as JsonPatchOp[];
  if (!Array.isArray(ops) || ops.length === 0 || ops.some((op) => op.op !== "add")) {
    fail("the patch must be a non-empty list of add operations");
  }
  const pod = applyJsonPatch(review.pod, ops) as Pod;
  // Native sidecars: the session agent (the inspector the engine asks) starts first, then the engine.
  const first = pod.spec?.initContainers?.slice(0, 2).map((c) => c.name);
  if (first?.[0] !== SESSION_AGENT_CONTAINER || first?.[1] !== ENGINE_CONTAINER) {
    fail(
      `the patched pod's first init containers are ${JSON.stringify(first)}, expected ${SESSION_AGENT_CONTAINER} then ${ENGINE_CONTAINER} (native sidecars)`,
    );
  }
  if (pod.spec?.containers?.length !== review.pod.spec?.containers?.length) {
    fail("the patch changed the number of app containers");
  }
  if (!pod.spec?.volumes?.some((v) => v.name === BOOTSTRAP_VOLUME))
    fail(`the patched pod has no ${BOOTSTRAP_VOLUME}`);
  if (pod.metadata?.labels?.[MANAGED_BY_LABEL] === undefined)
    fail(`the patched pod has no ${MANAGED_BY_LABEL} label`);
  if (!Bun.deepEquals(pod.metadata?.managedFields, review.pod.metadata?.managedFields)) {
    fail("the patch touched managedFields");
  }
  return { status: res.status, responseBytes: text.length, patchOps: ops.length };
}
