/**
 * Names the injection writes into pods. Most are public API of the sidecar mode (reference §1.7, §2)
 * and must stay exactly as they are: users' manifests, dashboards and policies refer to them.
 */

import { ENGINE_PORTS } from "../bootstrap/engine-bootstrap.ts";
import { ENGINE_PORT } from "../translate/names.ts";

const SIDECAR = "sidecar.microgateway.airlock.com";

/** Label a pod carries to ask for injection; only the exact value `"true"` counts (public API). */
export const INJECT_LABEL = `${SIDECAR}/inject`;

/** Label naming the operator instance (its namespace) that injected the pod (public API). */
export const MANAGED_BY_LABEL = "microgateway.airlock.com/managedBy";

/**
 * Annotation the webhook writes on every pod it injects; the value is the engine image. Our own name
 * (the API records nothing), so `kubectl get pods -A -o jsonpath=...` finds pods still on an old engine.
 */
export const INJECTED_ANNOTATION = `${SIDECAR}/injected`;

/** The engine sidecar (public API). */
export const ENGINE_CONTAINER = "airlock-microgateway-engine";

/** The session agent sidecar (public API). */
export const SESSION_AGENT_CONTAINER = "airlock-microgateway-session-agent";

/** Per-namespace Secret with the engine bootstrap, its mTLS key pair and the CA (public API). */
export const BOOTSTRAP_SECRET = "airlock-microgateway-bootstrap-secret";

/** Volume mounting {@link BOOTSTRAP_SECRET} into the engine (public API). */
export const BOOTSTRAP_VOLUME = "airlock-microgateway-bootstrap-secret-volume";

/**
 * The emptyDir both sidecars mount at POD_INSPECTOR_SOCKET_DIR: the session agent serves the request
 * inspector on a Unix socket there, and the engine's ext_proc filter connects to it. Our own name.
 */
export const INSPECTOR_SOCKET_VOLUME = "airlock-microgateway-inspector-socket";

/** Volume mounting the session agent's configuration Secret (public API). */
export const SESSION_AGENT_VOLUME = "airlock-microgateway-session-agent-volume";

/**
 * Prefix of the session agent's configuration Secret. The full name is per workload, see
 * `sessionAgentSecretName` in sidecar-containers.ts; the reconciler reads it back from the pod's
 * {@link SESSION_AGENT_VOLUME} rather than recomputing it.
 */
export const SESSION_AGENT_SECRET_PREFIX = "airlock-microgateway-session-agent-";

/** Ports of the sidecars (public API; the CNI never redirects them). */
export const SIDECAR_PORTS = {
  /** The engine's inbound listener; the CNI redirects application traffic here. */
  engine: ENGINE_PORT,
  /** Engine `GET /ready`, for the kubelet's probes. */
  probe: ENGINE_PORTS.probe,
  /** Engine `GET /metrics`, for Prometheus. */
  metrics: ENGINE_PORTS.metrics,
  /** Session agent probe port (`GET /healthz`; the inspector itself is on a Unix socket). */
  sessionAgent: 19004,
  /** Session agent Prometheus metrics. */
  sessionAgentMetrics: 19005,
} as const;

/**
 * Hot-restart id of the engine. Containers of a pod share the network and IPC namespaces where Envoy
 * keeps its hot-restart socket and shared memory, so an application container that runs its own Envoy
 * with the default id 0 would keep ours from starting. Any value other Envoys are unlikely to pick works.
 */
export const ENGINE_BASE_ID = 13378;
