/**
 * The AdmissionReview the benchmark posts: a Pod as the API server hands it to a mutating webhook
 * when a Deployment's ReplicaSet creates it. That is after defaulting and after the built-in
 * admission plugins (ServiceAccount adds the `kube-api-access-*` volume, DefaultTolerationSeconds
 * the two tolerations), and with the creating manager's managedFields entry. The pod is fixed, so
 * every run of the benchmark posts the same bytes.
 */
import { INJECT_LABEL } from "../../src/inject/names.ts";
import type { Container, EnvVar, Pod, Volume } from "../../src/inject/pod.ts";

/** What the driver needs to post the review and check the answer. */
export interface BenchReview {
  /** The AdmissionReview v1 JSON, as sent on the wire. */
  readonly body: string;
  readonly uid: string;
  readonly namespace: string;
  readonly pod: Pod;
  /** Size of the pod's `metadata.managedFields` as JSON. */
  readonly managedFieldsBytes: number;
}

/** How many env variables each app container gets: enough for ~20 KB of managedFields, as the bench asks. */
const ENV_PER_CONTAINER = 104;

const NAMESPACE = "shop";
const TEMPLATE_HASH = "7d9f8b6c4";
const REPLICA_SET_UID = "3f1c2a9e-5b7d-4e21-9a0c-6d8e2f41b7a3";

/** The full AdmissionReview v1 request for one Deployment-made Pod CREATE. */
export function benchReview(): BenchReview {
  const pod = deploymentPod();
  const uid = "7c0e2b1d-94f3-4a8e-b6a2-1f5d3c9e8a70";
  const review = {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      requestKind: { group: "", version: "v1", kind: "Pod" },
      requestResource: { group: "", version: "v1", resource: "pods" },
      namespace: NAMESPACE,
      operation: "CREATE",
      userInfo: {
        username: "system:serviceaccount:kube-system:replicaset-controller",
        uid: "0b6f4f2e-2f51-4f0e-8f57-3c1f0c7d5e11",
        groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
      },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { kind: "CreateOptions", apiVersion: "meta.k8s.io/v1" },
    },
  };
  return {
    body: JSON.stringify(review),
    uid,
    namespace: NAMESPACE,
    pod,
    managedFieldsBytes: JSON.stringify(pod.metadata?.managedFields).length,
  };
}

/** A checkout service pod: the API container and an audit shipper, both with env, probes and resources. */
export function deploymentPod(): Pod {
  const containers = [
    appContainer("checkout", "registry.example/shop/checkout:4.12.3", 8080, "CHECKOUT"),
    appContainer("audit-shipper", "registry.example/shop/audit-shipper:1.7.0", 8081, "AUDIT"),
  ];
  const volumes: Volume[] = [
    { name: "config", configMap: { name: "checkout-config", defaultMode: 420 } },
    { name: "tls", secret: { secretName: "checkout-tls", defaultMode: 256 } },
    { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
  ];
  const spec = {
    containers,
    volumes,
    restartPolicy: "Always",
    terminationGracePeriodSeconds: 45,
    dnsPolicy: "ClusterFirst",
    serviceAccountName: "checkout",
    securityContext: { runAsNonRoot: true, fsGroup: 2000, seccompProfile: { type: "RuntimeDefault" } },
    imagePullSecrets: [{ name: "registry-example" }],
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              labelSelector: { matchLabels: { "app.kubernetes.io/name": "checkout" } },
              topologyKey: "kubernetes.io/hostname",
            },
          },
        ],
      },
    },
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: { "app.kubernetes.io/name": "checkout" } },
      },
    ],
    schedulerName: "default-scheduler",
    priorityClassName: "shop-critical",
    enableServiceLinks: false,
  };
  const metadata = {
    generateName: `checkout-${TEMPLATE_HASH}-`,
    namespace: NAMESPACE,
    labels: {
      "app.kubernetes.io/name": "checkout",
      "app.kubernetes.io/instance": "checkout-prod",
      "app.kubernetes.io/version": "4.12.3",
      "app.kubernetes.io/part-of": "shop",
      "pod-template-hash": TEMPLATE_HASH,
      [INJECT_LABEL]: "true",
    },
    annotations: {
      "checksum/config": "9a3f6c1e0b2d4f5a8c7e6d5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817",
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "9090",
      "kubectl.kubernetes.io/restartedAt": "2026-11-20T09:14:03Z",
    },
    ownerReferences: [
      {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        name: `checkout-${TEMPLATE_HASH}`,
        uid: REPLICA_SET_UID,
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  };
  // The managed fields describe what the ReplicaSet controller set: everything above, before the
  // admission plugins below added their parts.
  const managedFields = [
    {
      manager: "kube-controller-manager",
      operation: "Update",
      apiVersion: "v1",
      time: "2026-11-26T04:12:31Z",
      fieldsType: "FieldsV1",
      fieldsV1: { "f:metadata": fieldsOf(metadata), "f:spec": fieldsOf(spec) },
    },
  ];
  // ServiceAccount admission: the projected token volume and its mount in every container.
  const tokenVolume = "kube-api-access-x7k2p";
  for (const c of containers) {
    (c.volumeMounts as unknown[]).push({
      name: tokenVolume,
      readOnly: true,
      mountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
    });
  }
  spec.volumes.push({
    name: tokenVolume,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        {
          downwardAPI: {
            items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
          },
        },
      ],
    },
  });
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { ...metadata, managedFields },
    spec: {
      ...spec,
      serviceAccount: "checkout",
      priority: 1000000,
      preemptionPolicy: "PreemptLowerPriority",
      tolerations: [
        {
          key: "node.kubernetes.io/not-ready",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
        {
          key: "node.kubernetes.io/unreachable",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
      ],
    },
    status: { phase: "Pending", qosClass: "Burstable" },
  };
}

function appContainer(name: string, image: string, port: number, prefix: string): Container {
  const env: EnvVar[] = [
    { name: "POD_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
    { name: "POD_IP", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "status.podIP" } } },
    {
      name: `${prefix}_DB_PASSWORD`,
      valueFrom: { secretKeyRef: { name: `${name}-db`, key: "password" } },
    },
    {
      name: "MEMORY_LIMIT",
      valueFrom: { resourceFieldRef: { containerName: name, resource: "limits.memory", divisor: "1Mi" } },
    },
  ];
  for (let i = env.length; i < ENV_PER_CONTAINER; i++) {
    env.push({ name: `${prefix}_SETTING_${String(i).padStart(2, "0")}`, value: `value-${name}-${i}` });
  }
  const httpGet = (path: string) => ({ path, port: "http", scheme: "HTTP" });
  return {
    name,
    image,
    imagePullPolicy: "IfNotPresent",
    args: ["--config=/etc/app/config.yaml", `--listen=:${port}`],
    ports: [
      { name: "http", containerPort: port, protocol: "TCP" },
      { name: "metrics", containerPort: port + 1010, protocol: "TCP" },
    ],
    envFrom: [{ configMapRef: { name: `${name}-env` } }],
    env,
    resources: {
      requests: { cpu: "250m", memory: "512Mi", "ephemeral-storage": "1Gi" },
      limits: { memory: "1Gi", "ephemeral-storage": "2Gi" },
    },
    volumeMounts: [
      { name: "config", mountPath: "/etc/app", readOnly: true },
      { name: "tls", mountPath: "/etc/tls", readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
    ],
    livenessProbe: {
      httpGet: httpGet("/livez"),
      initialDelaySeconds: 10,
      timeoutSeconds: 2,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    },
    readinessProbe: {
      httpGet: httpGet("/readyz"),
      timeoutSeconds: 2,
      periodSeconds: 5,
      successThreshold: 1,
      failureThreshold: 3,
    },
    startupProbe: {
      httpGet: httpGet("/livez"),
      timeoutSeconds: 1,
      periodSeconds: 2,
      successThreshold: 1,
      failureThreshold: 60,
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
  };
}

/**
 * The FieldsV1 set of `value` as server-side apply records it: `f:<field>` per map key, `k:<key>`
 * per item of the lists Kubernetes merges by key, `.` for a map or item that is itself owned, and
 * lists of scalars (args, tolerations) as one atomic field.
 */
function fieldsOf(value: unknown, listKey?: readonly string[]): Record<string, unknown> {
  if (Array.isArray(value)) {
    if (!listKey) return {};
    const out: Record<string, unknown> = { ".": {} };
    for (const item of value as Record<string, unknown>[]) {
      const key = Object.fromEntries(listKey.map((k) => [k, item[k]]));
      out[`k:${JSON.stringify(key)}`] = { ".": {}, ...fieldsOf(item) };
    }
    return out;
  }
  if (typeof value !== "object" || value === null) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const nested = fieldsOf(v, LIST_KEYS[k]);
    const isMap = typeof v === "object" && v !== null && !Array.isArray(v);
    out[`f:${k}`] = isMap && Object.keys(nested).length > 0 ? { ".": {}, ...nested } : nested;
  }
  return out;
}

/** The merge keys of the pod's associative lists (the `patchMergeKey`s of the Kubernetes API). */
const LIST_KEYS: Readonly<Record<string, readonly string[]>> = {
  containers: ["name"],
  env: ["name"],
  ports: ["containerPort", "protocol"],
  volumeMounts: ["mountPath"],
  volumes: ["name"],
  ownerReferences: ["uid"],
  imagePullSecrets: ["name"],
  topologySpreadConstraints: ["topologyKey", "whenUnsatisfiable"],
};
