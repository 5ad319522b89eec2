/**
 * A Pod as the admission webhook receives it: plain JSON, typed only as far as the injection reads
 * or writes it. Every other field (status, managedFields, the rest of the spec) is kept as it came,
 * which is why each shape has an index signature instead of a closed list of fields.
 */
import { MicrogatewayError } from "../errors.ts";

/** A Pod; unknown fields are preserved untouched. */
export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: PodMetadata;
  spec?: PodSpec;
  [field: string]: unknown;
}

export interface PodMetadata {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  hostNetwork?: boolean;
  [field: string]: unknown;
}

export interface Container {
  name: string;
  image?: string;
  ports?: ContainerPort[];
  env?: EnvVar[];
  [field: string]: unknown;
}

export interface ContainerPort {
  containerPort: number;
  name?: string;
  protocol?: string;
  [field: string]: unknown;
}

export interface EnvVar {
  name: string;
  [field: string]: unknown;
}

export interface Volume {
  name: string;
  [field: string]: unknown;
}

/** `requests`/`limits` by resource name (`cpu`, `memory`, ...), values as Kubernetes quantity strings. */
export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

/**
 * How a pod is named in messages. At admission a pod made by a controller has no name yet, only a
 * `generateName` prefix, and often no namespace in its metadata (the request carries it).
 *
 * @example describePod({ metadata: { generateName: "web-7d9f-" } }, "shop") // "Pod shop/web-7d9f-*"
 */
export function describePod(pod: Pod, namespace?: string): string {
  const meta = pod.metadata ?? {};
  const ns = meta.namespace || namespace;
  const name = meta.name || (meta.generateName ? `${meta.generateName}*` : "<unnamed>");
  return `Pod ${ns ? `${ns}/` : ""}${name}`;
}

/**
 * Checks the parts of the pod the injection reads. The API server decodes the pod into typed structs
 * before admission, so a real request always passes; this guards the pure core against other callers.
 */
export function checkPodShape(pod: Pod, subject: string): void {
  const fail = (field: string, expected: string) => {
    throw new MicrogatewayError("InvalidArgument", `${subject}: ${field} must be ${expected}`);
  };
  if (!isObject(pod)) fail("the object", "a JSON object");
  if (pod.metadata !== undefined) {
    if (!isObject(pod.metadata)) fail("metadata", "an object");
    for (const field of ["labels", "annotations"] as const) {
      const map = pod.metadata[field];
      if (map === undefined || map === null) continue;
      if (!isObject(map)) fail(`metadata.${field}`, "a map of strings");
      for (const [key, value] of Object.entries(map)) {
        if (typeof value !== "string") fail(`metadata.${field}[${JSON.stringify(key)}]`, "a string");
      }
    }
  }
  if (pod.spec !== undefined) {
    if (!isObject(pod.spec)) fail("spec", "an object");
    for (const field of ["containers", "initContainers", "volumes"] as const) {
      const list = pod.spec[field];
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) fail(`spec.${field}`, "a list");
      list.forEach((item, i) => {
        if (!isObject(item) || typeof item.name !== "string")
          fail(`spec.${field}[${i}]`, "an object with a name");
      });
    }
  }
}

/** A plain (non-array, non-null) object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
