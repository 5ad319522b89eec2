import { describe, expect, test } from "bun:test";
import { isMicrogatewayError } from "../errors.ts";
import { type JsonPatchOp, patchFor, pointerToken } from "./json-patch.ts";
import { mutate } from "./mutate.ts";
import { INJECT_LABEL } from "./names.ts";
import { DEFAULT_OPERATOR_CONFIG, operatorConfigFrom } from "./operator-config.ts";
import type { Pod } from "./pod.ts";
import { applyJsonPatch } from "./testing/apply-json-patch.ts";
import { appPod, largePod } from "./testing/pods.ts";

const WITH_AGENT = operatorConfigFrom(
  {
    apiVersion: "microgateway.airlock.com/v1alpha1",
    kind: "OperatorConfig",
    sidecar: { sessionAgent: { image: "registry.example/session-agent:1.0" } },
  },
  "test",
);

/** The pods of the corpus: every shape of the paths the injection touches. */
function corpus(): [string, Pod][] {
  const bare: Pod = {
    metadata: { name: "bare", labels: { [INJECT_LABEL]: "true" } },
    spec: { containers: [{ name: "a" }] },
  };
  const withInit = appPod();
  withInit.spec!.initContainers = [{ name: "init-1" }, { name: "init-2" }];
  const emptyLists = appPod();
  emptyLists.spec!.initContainers = [];
  emptyLists.spec!.volumes = [];
  emptyLists.metadata!.annotations = {};
  const oddKeys = appPod();
  oddKeys.metadata!.labels!["example.com/a~b"] = "x";
  oddKeys.metadata!.annotations!["a/b/~1"] = "y";
  return [
    ["a Deployment's pod", appPod()],
    ["a pod without annotations, volumes or init containers", bare],
    ["a pod with init containers", withInit],
    ["a pod with empty lists and maps", emptyLists],
    ["a pod with / and ~ in label and annotation keys", oddKeys],
  ];
}

function expectOnlyAdds(ops: readonly JsonPatchOp[]): void {
  for (const op of ops) {
    expect(op.op).toBe("add");
    expect(op.path).toMatch(
      /^\/(metadata\/(labels|annotations)|spec\/(containers|initContainers|volumes))(\/|$)/,
    );
  }
}

describe("patchFor", () => {
  for (const [name, pod] of corpus()) {
    for (const nativeSidecars of [false, true]) {
      test(`${name}, ${nativeSidecars ? "native" : "regular"} sidecars: the patch applied to the original is the mutated pod`, () => {
        const mutated = mutate(pod, WITH_AGENT, { nativeSidecars });
        const ops = patchFor(pod, mutated);
        expectOnlyAdds(ops);
        expect(applyJsonPatch(pod, ops)).toStrictEqual(JSON.parse(JSON.stringify(mutated)));
        // The API server's copy has no shared references with ours: same patch effect.
        const decoded = JSON.parse(JSON.stringify(pod)) as Pod;
        expect(applyJsonPatch(pod, patchFor(decoded, mutated))).toStrictEqual(applyJsonPatch(pod, ops));
      });
    }
  }

  test("absent maps and lists are added whole; present ones get one operation per new entry", () => {
    const bare = corpus()[1]![1];
    expect(
      patchFor(bare, mutate(bare, DEFAULT_OPERATOR_CONFIG, { nativeSidecars: true })).map((op) => op.path),
    ).toEqual([
      "/metadata/labels/microgateway.airlock.com~1managedBy",
      "/metadata/annotations",
      "/spec/initContainers",
      "/spec/volumes",
    ]);
    const withInit = corpus()[2]![1];
    expect(
      patchFor(withInit, mutate(withInit, WITH_AGENT, { nativeSidecars: true })).map((op) => op.path),
    ).toEqual([
      "/metadata/labels/microgateway.airlock.com~1managedBy",
      "/metadata/annotations/sidecar.microgateway.airlock.com~1injected",
      // In the pod's key order: this pod's initContainers come after its volumes.
      "/spec/volumes/-",
      "/spec/volumes/-",
      "/spec/volumes/-",
      "/spec/initContainers/0",
      "/spec/initContainers/1",
    ]);
    const pod = appPod();
    expect(patchFor(pod, mutate(pod, WITH_AGENT, { nativeSidecars: false })).map((op) => op.path)).toEqual([
      "/metadata/labels/microgateway.airlock.com~1managedBy",
      "/metadata/annotations/sidecar.microgateway.airlock.com~1injected",
      "/spec/containers/-",
      "/spec/containers/-",
      "/spec/volumes/-",
      "/spec/volumes/-",
      "/spec/volumes/-",
    ]);
  });

  test("pointer tokens escape ~ before /", () => {
    expect(pointerToken("microgateway.airlock.com/managedBy")).toBe("microgateway.airlock.com~1managedBy");
    expect(pointerToken("a~b")).toBe("a~0b");
    expect(pointerToken("~1")).toBe("~01");
    expect(pointerToken("/~/")).toBe("~1~0~1");
  });

  test("an unchanged pod gives no operations, even after a JSON round trip", () => {
    const pod = appPod();
    expect(patchFor(pod, pod)).toEqual([]);
    expect(patchFor(pod, JSON.parse(JSON.stringify(pod)) as Pod)).toEqual([]);
  });

  test("null maps and lists count as absent: the patch adds them whole", () => {
    const pod: Pod = {
      metadata: {
        name: "n",
        labels: { [INJECT_LABEL]: "true" },
        annotations: null as unknown as Record<string, string>,
      },
      spec: {
        containers: [{ name: "a" }],
        initContainers: null as unknown as [],
        volumes: null as unknown as [],
      },
    };
    const mutated = mutate(pod, DEFAULT_OPERATOR_CONFIG, { nativeSidecars: true });
    const ops = patchFor(pod, mutated);
    expect(ops.map((op) => op.path)).toEqual([
      "/metadata/labels/microgateway.airlock.com~1managedBy",
      "/metadata/annotations",
      "/spec/initContainers",
      "/spec/volumes",
    ]);
    expect(applyJsonPatch(pod, ops)).toStrictEqual(JSON.parse(JSON.stringify(mutated)));
  });

  test("inserting between elements uses the final index", () => {
    const before: Pod = { spec: { containers: [{ name: "a" }, { name: "c" }] } };
    const after: Pod = {
      spec: { containers: [{ name: "x" }, { name: "a" }, { name: "b" }, { name: "c" }, { name: "d" }] },
    };
    const ops = patchFor(before, after);
    expect(ops.map((op) => op.path)).toEqual([
      "/spec/containers/0",
      "/spec/containers/2",
      "/spec/containers/-",
    ]);
    expect(applyJsonPatch(before, ops)).toStrictEqual(after);
  });

  test.each([
    ["a removed label", { metadata: { labels: {} } }, "/metadata/labels/a was removed"],
    ["a changed label", { metadata: { labels: { a: "2" } } }, "/metadata/labels/a was changed"],
    [
      "a changed scalar",
      { spec: { containers: [{ name: "x" }, { name: "y" }], hostNetwork: true } },
      "/spec/hostNetwork was changed",
    ],
    [
      "a removed container",
      { spec: { containers: [{ name: "x" }], hostNetwork: false } },
      "/spec/containers/1 was removed, changed or moved",
    ],
    [
      "reordered containers",
      { spec: { containers: [{ name: "y" }, { name: "x" }], hostNetwork: false } },
      "/spec/containers/1 was removed, changed or moved",
    ],
    [
      "a changed container",
      { spec: { containers: [{ name: "x", image: "i" }, { name: "y" }], hostNetwork: false } },
      "/spec/containers/0 was removed, changed or moved",
    ],
    ["a replaced root", [], "/ was changed"],
  ])("%s is a programming error, not a patch", (_, mutated, expected) => {
    const original: Pod = {
      metadata: { labels: { a: "1" } },
      spec: { containers: [{ name: "x" }, { name: "y" }], hostNetwork: false },
    };
    const full = { ...original, ...(mutated as Pod) };
    try {
      patchFor(original, Array.isArray(mutated) ? (mutated as unknown as Pod) : full);
      throw new Error("expected an error");
    } catch (e) {
      if (!isMicrogatewayError(e)) throw e;
      expect(e.code).toBe("Internal");
      expect(e.message).toContain(expected);
    }
  });

  test("a pod with 100 containers and 1 MB of managedFields: a handful of operations, none into managedFields", () => {
    const pod = largePod(100, 1 << 20);
    expect(JSON.stringify(pod.metadata?.managedFields).length).toBeGreaterThanOrEqual(1 << 20);
    for (const nativeSidecars of [false, true]) {
      const mutated = mutate(pod, WITH_AGENT, { nativeSidecars });
      const ops = patchFor(pod, mutated);
      // Label, annotation, three volumes; two containers, or one initContainers list (the pod has none).
      expect(ops).toHaveLength(nativeSidecars ? 6 : 7);
      expectOnlyAdds(ops);
      expect(applyJsonPatch(pod, ops)).toStrictEqual(JSON.parse(JSON.stringify(mutated)));
    }
  });
});
