import { describe, expect, test } from "bun:test";
import { MicrogatewayError } from "../errors.ts";
import { type AdmissionRequest, denied, patched } from "./admission-review.ts";
import { MAX_ADMISSION_REVIEW_BYTES, newCounters, webhookApp } from "./app.ts";

function review(request: Record<string, unknown>) {
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request };
}

const POD_CREATE = {
  uid: "u-1",
  kind: { group: "", version: "v1", kind: "Pod" },
  operation: "CREATE",
  namespace: "shop",
  object: { metadata: { name: "p" }, spec: { containers: [] } },
};

function setup(admitPod?: (r: AdmissionRequest) => Promise<ReturnType<typeof patched>>) {
  const seen: AdmissionRequest[] = [];
  const counters = newCounters();
  const app = webhookApp(
    {
      admitPod: async (r) => {
        seen.push(r);
        return admitPod
          ? admitPod(r)
          : patched(r.uid, [{ op: "add", path: "/metadata/labels", value: { a: "b" } }]);
      },
      ready: () => true,
    },
    counters,
  );
  const post = (body: string, type = "application/json") =>
    app.request("/mutate-v1-pod", { method: "POST", body, headers: { "content-type": type } });
  return { app, seen, counters, post };
}

describe("webhook HTTP surface", () => {
  test("a pod CREATE reaches the handler and its patch comes back base64-encoded", async () => {
    const { post, seen } = setup();
    const res = await post(JSON.stringify(review(POD_CREATE)));
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      response: { uid: string; allowed: boolean; patchType: string; patch: string };
    };
    expect(body.response.uid).toBe("u-1");
    expect(body.response.allowed).toBe(true);
    expect(body.response.patchType).toBe("JSONPatch");
    expect(JSON.parse(Buffer.from(body.response.patch, "base64").toString())).toEqual([
      { op: "add", path: "/metadata/labels", value: { a: "b" } },
    ]);
    expect(seen[0]?.namespace).toBe("shop");
    expect(seen[0]?.dryRun).toBe(false);
  });

  test("a denial carries the handler's message for kubectl", async () => {
    const { post } = setup(async (r) => denied(r.uid, 'annotation x: "y" is not one of a, b'));
    const body = (await (await post(JSON.stringify(review(POD_CREATE)))).json()) as {
      response: { allowed: boolean; status: { code: number; message: string } };
    };
    expect(body.response.allowed).toBe(false);
    expect(body.response.status.code).toBe(400);
    expect(body.response.status.message).toContain("annotation x");
  });

  test("anything but a core/v1 Pod CREATE is allowed untouched", async () => {
    const { post, seen } = setup();
    for (const request of [
      { ...POD_CREATE, operation: "UPDATE" },
      { ...POD_CREATE, kind: { group: "apps", version: "v1", kind: "Deployment" } },
    ]) {
      const body = (await (await post(JSON.stringify(review(request)))).json()) as {
        response: { allowed: boolean; patch?: string };
      };
      expect(body.response.allowed).toBe(true);
      expect(body.response.patch).toBeUndefined();
    }
    expect(seen).toHaveLength(0);
  });

  test("malformed reviews get a 400 naming the problem, and are counted", async () => {
    const { post, counters, seen } = setup();
    const cases: [string, string][] = [
      ["{not json", "not valid JSON"],
      [JSON.stringify({ apiVersion: "admission.k8s.io/v1beta1", kind: "AdmissionReview" }), "apiVersion"],
      [JSON.stringify(review({ ...POD_CREATE, uid: "" })), "request.uid"],
      [JSON.stringify(review({ ...POD_CREATE, object: "x" })), "request.object must be an object"],
      [JSON.stringify(review({ ...POD_CREATE, operation: "PATCH" })), "request.operation"],
      [JSON.stringify([1, 2]), "body must be an object"],
    ];
    for (const [body, expected] of cases) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(expected);
    }
    expect(counters.malformed).toBe(cases.length);
    expect(seen).toHaveLength(0);
  });

  test("a wrong content type is 415 and an oversized body is 413", async () => {
    const { post } = setup();
    expect((await post(JSON.stringify(review(POD_CREATE)), "text/plain")).status).toBe(415);
    const huge = JSON.stringify(
      review({ ...POD_CREATE, object: { pad: "x".repeat(MAX_ADMISSION_REVIEW_BYTES) } }),
    );
    expect((await post(huge)).status).toBe(413);
  });

  test("an unexpected handler error is a 500 without internals, and the app keeps serving", async () => {
    let fail = true;
    const { post, counters } = setup(async (r) => {
      if (fail) throw new MicrogatewayError("Internal", "secret detail");
      return patched(r.uid, []);
    });
    const res = await post(JSON.stringify(review(POD_CREATE)));
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain("secret detail");
    expect(counters.errors).toBe(1);
    fail = false;
    expect((await post(JSON.stringify(review(POD_CREATE)))).status).toBe(200);
  });

  test("health and readiness", async () => {
    let ready = false;
    const app = webhookApp({ admitPod: async (r) => patched(r.uid, []), ready: () => ready });
    expect((await app.request("/healthz")).status).toBe(200);
    expect((await app.request("/readyz")).status).toBe(503);
    ready = true;
    expect((await app.request("/readyz")).status).toBe(200);
  });
});
