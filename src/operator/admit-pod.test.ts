import { describe, expect, test } from "bun:test";
import { DEFAULT_OPERATOR_CONFIG } from "../inject/operator-config.ts";
import type { AdmissionRequest } from "../webhook/admission-review.ts";
import { podAdmitter } from "./admit-pod.ts";

function request(pod: Record<string, unknown>, dryRun = false): AdmissionRequest {
  return {
    uid: "u",
    kind: { group: "", version: "v1", kind: "Pod" },
    operation: "CREATE",
    namespace: "shop",
    dryRun,
    object: pod,
  };
}

const labelled = (annotations: Record<string, string> = {}) => ({
  metadata: {
    generateName: "web-",
    labels: { app: "web", "sidecar.microgateway.airlock.com/inject": "true" },
    annotations,
  },
  spec: { containers: [{ name: "app", image: "x" }] },
});

function setup(secretFails = false) {
  const ensured: string[] = [];
  const admit = podAdmitter({
    config: DEFAULT_OPERATOR_CONFIG,
    nativeSidecars: () => true,
    ensureBootstrapSecret: async (ns) => {
      ensured.push(ns);
      if (secretFails) throw new Error("forbidden");
    },
  });
  return { admit, ensured };
}

describe("podAdmitter", () => {
  test("a labelled pod gets a patch and its namespace a bootstrap secret", async () => {
    const { admit, ensured } = setup();
    const r = (await admit(request(labelled()))).response;
    expect(r.allowed).toBe(true);
    const patch = JSON.parse(Buffer.from(r.patch ?? "", "base64").toString()) as {
      op: string;
      path: string;
    }[];
    expect(patch.every((p) => p.op === "add")).toBe(true);
    expect(patch.some((p) => p.path.startsWith("/spec/initContainers"))).toBe(true);
    expect(ensured).toEqual(["shop"]);
  });

  test("a dry run is injected without the side effect", async () => {
    const { admit, ensured } = setup();
    expect((await admit(request(labelled(), true))).response.patch).toBeString();
    expect(ensured).toEqual([]);
  });

  test("an unlabelled pod is admitted unchanged", async () => {
    const { admit, ensured } = setup();
    const r = (await admit(request({ metadata: { name: "p" }, spec: { containers: [] } }))).response;
    expect(r.allowed).toBe(true);
    expect(r.patch).toBeUndefined();
    expect(ensured).toEqual([]);
  });

  test("an invalid annotation is denied, naming it", async () => {
    const { admit } = setup();
    const r = (await admit(request(labelled({ "sidecar.microgateway.airlock.com/serviceMesh": "linkerd" }))))
      .response;
    expect(r.allowed).toBe(false);
    expect(r.status?.message).toContain("sidecar.microgateway.airlock.com/serviceMesh");
    expect(r.status?.message).toContain("istio");
  });

  test("outside the watch scope a labelled pod is admitted unchanged, even one it would deny", async () => {
    const ensured: string[] = [];
    const asked: string[] = [];
    const admit = podAdmitter({
      config: DEFAULT_OPERATOR_CONFIG,
      nativeSidecars: () => true,
      ensureBootstrapSecret: async (ns) => {
        ensured.push(ns);
      },
      inScope: async (ns) => {
        asked.push(ns);
        return ns !== "shop";
      },
    });
    const bad = labelled({ "sidecar.microgateway.airlock.com/serviceMesh": "linkerd" });
    for (const pod of [labelled(), bad]) {
      const r = (await admit(request(pod))).response;
      expect(r.allowed).toBe(true);
      expect(r.patch).toBeUndefined();
    }
    expect(ensured).toEqual([]);
    // Unlabelled pods never cost a scope check (in selector mode, a read of the namespace).
    await admit(request({ metadata: { name: "p" }, spec: { containers: [] } }));
    expect(asked).toEqual(["shop", "shop"]);
  });

  test("a failing secret write does not block the pod (the operator retries it)", async () => {
    const { admit, ensured } = setup(true);
    const r = (await admit(request(labelled()))).response;
    expect(r.allowed).toBe(true);
    expect(r.patch).toBeString();
    expect(ensured).toEqual(["shop"]);
  });
});
