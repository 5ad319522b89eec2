/** Pods for the injection tests. */
import { INJECT_LABEL } from "../names.ts";
import type { Pod } from "../pod.ts";

/** A pod as a Deployment creates it: generateName, inject label, one app container. */
export function appPod(): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: "shop-7d9f8b6c4-",
      namespace: "shop",
      labels: { app: "shop", "pod-template-hash": "7d9f8b6c4", [INJECT_LABEL]: "true" },
      annotations: { "kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "shop-7d9f8b6c4", uid: "u-1" }],
    },
    spec: {
      containers: [
        {
          name: "shop",
          image: "registry.example/shop:1.0",
          ports: [{ containerPort: 8080, name: "http", protocol: "TCP" }],
          volumeMounts: [{ name: "data", mountPath: "/data" }],
        },
      ],
      volumes: [{ name: "data", emptyDir: {} }],
      restartPolicy: "Always",
      serviceAccountName: "shop",
    },
  };
}

/** A pod with `containers` app containers and about `managedFieldsBytes` of managedFields. */
export function largePod(containers: number, managedFieldsBytes: number): Pod {
  const pod = appPod();
  pod.spec!.containers = Array.from({ length: containers }, (_, i) => ({
    name: `app-${i}`,
    image: `registry.example/app-${i}:1.0`,
    env: Array.from({ length: 20 }, (_, j) => ({ name: `VAR_${j}`, value: `value-${i}-${j}` })),
    ports: [{ containerPort: 10000 + i, protocol: "TCP" }],
  }));
  const entry = (i: number) => ({
    manager: `controller-${i}`,
    operation: "Update",
    apiVersion: "v1",
    time: "2025-01-01T00:00:00Z",
    fieldsType: "FieldsV1",
    fieldsV1: {
      "f:metadata": { "f:labels": { [`f:label-${i}`]: {} } },
      "f:spec": { [`f:containers-${i}`]: { ".": {} } },
    },
  });
  const managedFields: unknown[] = [];
  let size = 0;
  while (size < managedFieldsBytes) {
    const e = entry(managedFields.length);
    size += JSON.stringify(e).length + 1;
    managedFields.push(e);
  }
  pod.metadata!.managedFields = managedFields;
  return pod;
}

/** Freezes a value and everything in it, so a test fails if code under test writes into it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
