/**
 * The containers and volumes the injection adds to a pod (reference §1.5, §1.7): the engine, the
 * optional session agent, and the Secret volumes they read their configuration from.
 */
import { createHash } from "node:crypto";
import { DEFAULT_CONFIG_DIR, engineArgs } from "../bootstrap/engine-bootstrap.ts";
import { MicrogatewayError } from "../errors.ts";
import { POD_INSPECTOR_SOCKET, POD_INSPECTOR_SOCKET_DIR } from "../extproc/contract.ts";
import { ANNOTATIONS, envoyLogLevel, type QuantityOverride, type SidecarAnnotations } from "./annotations.ts";
import { applyContainerTemplate } from "./container-template.ts";
import {
  BOOTSTRAP_SECRET,
  BOOTSTRAP_VOLUME,
  ENGINE_BASE_ID,
  ENGINE_CONTAINER,
  INSPECTOR_SOCKET_VOLUME,
  SESSION_AGENT_CONTAINER,
  SESSION_AGENT_SECRET_PREFIX,
  SESSION_AGENT_VOLUME,
  SIDECAR_PORTS,
} from "./names.ts";
import type { SidecarConfig } from "./operator-config.ts";
import type { Container, EnvVar, Pod, ResourceRequirements, Volume } from "./pod.ts";
import { compareQuantities, parseQuantity } from "./quantity.ts";

/** Where both sidecars find their Secret (public API; the trailing slash is the API's spelling). */
const CONFIG_MOUNT = `${DEFAULT_CONFIG_DIR}/`;

/** The API's probe timings (§1.7); the session agent uses the same. A template may change them. */
const PROBE_TIMINGS = {
  startupProbe: { periodSeconds: 1, failureThreshold: 30 },
  readinessProbe: { periodSeconds: 5, failureThreshold: 3 },
  livenessProbe: { periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 },
} as const;

/** Labels that name an application, most specific first (the Kubernetes recommended label, then the classic one). */
const APP_LABELS = ["app.kubernetes.io/name", "app"] as const;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** What the sidecars depend on besides the pod. */
export interface SidecarInputs {
  readonly config: SidecarConfig;
  readonly annotations: SidecarAnnotations;
  /** Native sidecars carry `restartPolicy: Always` and live in `initContainers`. */
  readonly native: boolean;
  /** The pod as named in messages. */
  readonly subject: string;
}

/** The engine container, with the configuration's template applied. */
export function engineContainer(pod: Pod, inputs: SidecarInputs): Container {
  const { config, annotations } = inputs;
  const args = engineArgs({
    appName: appNameOf(pod),
    logLevel: envoyLogLevel(annotations.engineLogLevel ?? config.engine.logLevel),
    baseId: ENGINE_BASE_ID,
  });
  // Envoy's default is one worker per hardware thread of the node, whatever the CPU limit: dozens of
  // idle threads and their buffers in a sidecar that was given a tenth of a core.
  if (config.engine.concurrency > 0) args.push("--concurrency", String(config.engine.concurrency));
  const resources = engineResources(config, annotations, inputs.subject);
  const probe = { httpGet: { path: "/ready", port: SIDECAR_PORTS.probe } };
  const generated: Container = {
    name: ENGINE_CONTAINER,
    image: config.engine.image,
    args,
    env: [
      fieldEnv("POD_NAME", "metadata.name"),
      fieldEnv("POD_NAMESPACE", "metadata.namespace"),
      fieldEnv("POD_IP", "status.podIP"),
    ],
    ports: [
      tcpPort("mgw-engine", SIDECAR_PORTS.engine),
      tcpPort("mgw-probe", SIDECAR_PORTS.probe),
      tcpPort("mgw-metrics", SIDECAR_PORTS.metrics),
    ],
    ...(isEmpty(resources) ? {} : { resources }),
    volumeMounts: [
      { name: BOOTSTRAP_VOLUME, mountPath: CONFIG_MOUNT, readOnly: true },
      { name: INSPECTOR_SOCKET_VOLUME, mountPath: POD_INSPECTOR_SOCKET_DIR },
    ],
    startupProbe: { ...probe, ...PROBE_TIMINGS.startupProbe },
    readinessProbe: { ...probe, ...PROBE_TIMINGS.readinessProbe },
    livenessProbe: { ...probe, ...PROBE_TIMINGS.livenessProbe },
    securityContext: restrictedSecurityContext(config.securityContextUid),
    ...(inputs.native ? { restartPolicy: "Always" } : {}),
  };
  return applyContainerTemplate(generated, config.engineContainerTemplate);
}

/**
 * The session agent container: `microgateway agent`, the request inspector the engine asks about
 * every request of a secured route, over a Unix socket in the shared {@link INSPECTOR_SOCKET_VOLUME}.
 */
export function sessionAgentContainer(inputs: SidecarInputs): Container {
  const { config } = inputs;
  const probe = { httpGet: { path: "/healthz", port: SIDECAR_PORTS.sessionAgent } };
  const resources = config.sessionAgent.resources;
  const generated: Container = {
    name: SESSION_AGENT_CONTAINER,
    image: config.sessionAgent.image,
    args: ["agent", "--socket", POD_INSPECTOR_SOCKET, "--health-port", String(SIDECAR_PORTS.sessionAgent)],
    env: [fieldEnv("POD_NAME", "metadata.name"), fieldEnv("POD_NAMESPACE", "metadata.namespace")],
    ports: [tcpPort("mgw-sa-health", SIDECAR_PORTS.sessionAgent)],
    ...(isEmpty(resources) ? {} : { resources: structuredClone(resources) }),
    volumeMounts: [
      { name: SESSION_AGENT_VOLUME, mountPath: CONFIG_MOUNT, readOnly: true },
      { name: INSPECTOR_SOCKET_VOLUME, mountPath: POD_INSPECTOR_SOCKET_DIR },
    ],
    startupProbe: { ...probe, ...PROBE_TIMINGS.startupProbe },
    readinessProbe: { ...probe, ...PROBE_TIMINGS.readinessProbe },
    livenessProbe: { ...probe, ...PROBE_TIMINGS.livenessProbe },
    securityContext: restrictedSecurityContext(config.securityContextUid),
    ...(inputs.native ? { restartPolicy: "Always" } : {}),
  };
  return applyContainerTemplate(generated, config.sessionAgentContainerTemplate);
}

/** The emptyDir that holds the inspector's socket, shared by the engine and the session agent. */
export function inspectorSocketVolume(): Volume {
  return { name: INSPECTOR_SOCKET_VOLUME, emptyDir: {} };
}

/** The engine's bootstrap Secret volume. Not optional: the engine cannot start without it. */
export function bootstrapVolume(): Volume {
  return { name: BOOTSTRAP_VOLUME, secret: { secretName: BOOTSTRAP_SECRET } };
}

/**
 * The session agent's Secret volume. `optional` because the reconciler writes the Secret only once a
 * SidecarGateway with session handling selects the pod, which may be after the pod starts; the
 * kubelet fills the volume in when the Secret appears.
 */
export function sessionAgentVolume(pod: Pod): Volume {
  return { name: SESSION_AGENT_VOLUME, secret: { secretName: sessionAgentSecretName(pod), optional: true } };
}

/**
 * Name of the session agent's configuration Secret. The API keeps one per pod, but a pod created by a
 * controller has no name at admission, only its `generateName` (`web-7d9f8b6c4-`), and a Secret
 * volume cannot refer to the pod name. So the Secret is per pod when the pod is named (bare pods,
 * StatefulSets) and otherwise per `generateName`, i.e. per ReplicaSet or Job: pods that share a
 * template share labels, hence gateway and session configuration.
 */
export function sessionAgentSecretName(pod: Pod): string {
  const meta = pod.metadata ?? {};
  const base = (meta.name || meta.generateName || "pod").replace(/[-.]+$/, "") || "pod";
  const name = `${SESSION_AGENT_SECRET_PREFIX}${base}`;
  if (name.length <= 253) return name;
  // Too long for a Secret name: keep a readable prefix and make it unique with a hash of the whole.
  const hash = createHash("sha256").update(base).digest("hex").slice(0, 8);
  const room = 253 - SESSION_AGENT_SECRET_PREFIX.length - hash.length - 1;
  return `${SESSION_AGENT_SECRET_PREFIX}${base.slice(0, room).replace(/[-.]+$/, "")}-${hash}`;
}

/**
 * The application name in the engine's `--service-cluster` (`<app>.<namespace>`, a stats and log
 * dimension). From the app labels, else the Deployment name (the generateName without the
 * ReplicaSet's pod-template-hash), else the generateName or name.
 */
export function appNameOf(pod: Pod): string {
  const meta = pod.metadata ?? {};
  const labels = meta.labels ?? {};
  const candidates: (string | undefined)[] = APP_LABELS.map((l) => labels[l]);
  const generated = meta.generateName?.replace(/[-.]+$/, "");
  const hash = labels["pod-template-hash"];
  if (generated && hash && generated.endsWith(`-${hash}`))
    candidates.push(generated.slice(0, -hash.length - 1));
  candidates.push(generated, meta.name);
  return candidates.find((c): c is string => c !== undefined && LABEL_VALUE.test(c)) ?? "unknown";
}

/** The annotations that override the engine's resources, by resource name. */
const RESOURCE_ANNOTATIONS = {
  cpu: { requests: ANNOTATIONS.engineCpuRequests, limits: ANNOTATIONS.engineCpuLimits },
  memory: { requests: ANNOTATIONS.engineMemoryRequests, limits: ANNOTATIONS.engineMemoryLimits },
} as const;

/**
 * The engine's resources: the configuration's, with each annotation replacing its value. A request
 * above its limit would be refused by the API server with a message that does not say where either
 * came from; this one names both (the configuration's own pairs were checked when it was read).
 */
export function engineResources(
  config: SidecarConfig,
  annotations: SidecarAnnotations,
  subject: string,
): ResourceRequirements {
  const requests: Record<string, string> = { ...config.engine.resources.requests };
  const limits: Record<string, string> = { ...config.engine.resources.limits };
  const overrides: Record<
    keyof typeof RESOURCE_ANNOTATIONS,
    { requests?: QuantityOverride; limits?: QuantityOverride }
  > = {
    cpu: { requests: annotations.engineCpuRequests, limits: annotations.engineCpuLimits },
    memory: { requests: annotations.engineMemoryRequests, limits: annotations.engineMemoryLimits },
  };
  for (const [name, { requests: request, limits: limit }] of Object.entries(overrides)) {
    if (request) requests[name] = request.text;
    if (limit) limits[name] = limit.text;
  }
  for (const name of ["cpu", "memory"] as const) {
    const request = requests[name];
    const limit = limits[name];
    if (request === undefined || limit === undefined) continue;
    if (compareQuantities(parseQuantity(request)!, parseQuantity(limit)!) <= 0) continue;
    const names = RESOURCE_ANNOTATIONS[name];
    const configured = (kind: string) => `operator configuration sidecar.engine.resources.${kind}.${name}`;
    const message = overrides[name].requests
      ? `annotation ${names.requests} ${JSON.stringify(request)} must not be above the engine's ${name} limit ${JSON.stringify(limit)} (${overrides[name].limits ? `annotation ${names.limits}` : configured("limits")})`
      : `annotation ${names.limits} ${JSON.stringify(limit)} must not be below the engine's ${name} request ${JSON.stringify(request)} (${configured("requests")}); set annotation ${names.requests} as well`;
    throw new MicrogatewayError("InvalidArgument", `${subject}: ${message}`);
  }
  return {
    ...(isEmpty(requests) ? {} : { requests }),
    ...(isEmpty(limits) ? {} : { limits }),
  };
}

/** Restricted Pod Security Standard, plus a fixed non-root group so the sidecar does not run as group 0. */
function restrictedSecurityContext(uid: number | null): Record<string, unknown> {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    runAsNonRoot: true,
    ...(uid === null ? {} : { runAsUser: uid, runAsGroup: uid }),
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

function fieldEnv(name: string, fieldPath: string): EnvVar {
  return { name, valueFrom: { fieldRef: { apiVersion: "v1", fieldPath } } };
}

function tcpPort(name: string, containerPort: number) {
  return { name, containerPort, protocol: "TCP" };
}

function isEmpty(value: object): boolean {
  return Object.keys(value).length === 0;
}
