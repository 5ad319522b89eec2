/**
 * The operator configuration file: everything the operator needs that must not be a constant. Read
 * once at startup (a change needs a restart, as in the API's operator). Our own format, in the
 * API group of the product:
 *
 * ```yaml
 * apiVersion: microgateway.airlock.com/v1alpha1
 * kind: OperatorConfig
 * operatorNamespace: airlock-microgateway-system  # managedBy label, xDS Service, CA secret (all parts)
 * webhook:                                        # admission webhook HTTPS (webhook server)
 *   port: 9443
 *   serviceName: airlock-microgateway-operator-webhook            # SAN <service>.<ns>.svc
 *   configurationName: airlock-microgateway-sidecar-injector      # MutatingWebhookConfiguration to keep the caBundle of
 *   extraSANs: []                                 # more DNS names / IPs for the serving certificate
 * xds:                                            # ADS over mTLS (xDS server, engine bootstrap)
 *   port: 13377
 *   host: airlock-microgateway-operator-xds-headless.<operatorNamespace>.svc.cluster.local
 *   extraSANs: []
 * health: { port: 8081 }                          # /healthz, /readyz (operator main)
 * metrics: { port: 8080 }                         # operator /metrics (operator main)
 * certificates:                                   # (certs)
 *   renewalPeriod: 48h                            # how often leaf certs and bootstrap secrets are renewed
 *   leafValidity: 168h                            # lifetime of a leaf; must exceed renewalPeriod
 * sidecar:                                        # (injection)
 *   nativeSidecars: auto                          # auto | "true" | "false"
 *   securityContextUid: 13378                     # runAsUser/runAsGroup of both sidecars; null: the platform's
 *   engine:
 *     image: docker.io/envoyproxy/envoy:distroless-v1.40.0
 *     logLevel: info                              # trace debug info warn error critical off
 *     concurrency: 2                              # Envoy worker threads; 0: one per CPU of the node
 *     resources: { requests: { cpu: 100m, memory: 256Mi } }
 *   sessionAgent:                                 # runs `microgateway agent`: the request inspector
 *     image: ghcr.io/microgateway/microgateway:0.1.0   # empty: this default
 *     resources: {}
 *   engineContainerTemplate: {}                   # partial Container, see container-template.ts
 *   sessionAgentContainerTemplate: {}
 * watch: {}                                       # install mode: { namespaces: [..] } or
 *                                                 # { namespaceSelector: {..} }; see watch-config.ts
 * leaderElection:                                 # the Lease that elects the replica renewing certificates
 *   leaseDuration: 15s                            # whole seconds; > renewDeadline > retryPeriod
 *   renewDeadline: 10s
 *   retryPeriod: 2s
 * ```
 * Every field is optional and defaults to the value shown (a `resources` block replaces its default
 * as a whole, like a container's resources stanza). Unknown fields are errors (a typo in a
 * security component's configuration must not be ignored). `examples/operator-config.yaml` is the
 * commented reference.
 */
import { parseDocument } from "yaml";
import { DEFAULT_OPERATOR_NAMESPACE } from "../bootstrap/engine-bootstrap.ts";
import { MicrogatewayError } from "../errors.ts";
import type { WatchScope } from "../source/watch-scope.ts";
import { LOG_LEVELS, type LogLevel } from "./annotations.ts";
import { type Fail, mapping, show } from "./config-fields.ts";
import { type ContainerTemplate, parseContainerTemplate } from "./container-template.ts";
import type { ResourceRequirements } from "./pod.ts";
import { compareQuantities, parseQuantity, QUANTITY_SYNTAX } from "./quantity.ts";
import { parseWatchScope } from "./watch-config.ts";

export const OPERATOR_CONFIG_API_VERSION = "microgateway.airlock.com/v1alpha1";
export const OPERATOR_CONFIG_KIND = "OperatorConfig";

/** Whether sidecars are native (init containers with `restartPolicy: Always`); see `nativeSidecarsFor`. */
export type NativeSidecarsSetting = "auto" | "true" | "false";

/** The parsed, defaulted configuration. Deeply frozen. */
export interface OperatorConfig {
  readonly operatorNamespace: string;
  readonly webhook: {
    readonly port: number;
    /** The webhook's Service (its serving certificate names `<service>.<namespace>.svc`). */
    readonly serviceName: string;
    /** The MutatingWebhookConfiguration whose caBundle the operator keeps equal to its CA. */
    readonly configurationName: string;
    /** More DNS names or IP addresses for the serving certificate (e.g. 127.0.0.1 outside a cluster). */
    readonly extraSANs: readonly string[];
  };
  readonly xds: {
    readonly port: number;
    /** The host engines dial (bootstrap) and the name the xDS server certificate carries. */
    readonly host: string;
    /** More DNS names or IP addresses for the xDS server certificate. */
    readonly extraSANs: readonly string[];
  };
  readonly health: { readonly port: number };
  readonly metrics: { readonly port: number };
  readonly certificates: {
    /** How often the operator renews leaf certificates and the bootstrap secrets, in milliseconds. */
    readonly renewalPeriodMs: number;
    /** Lifetime of a leaf certificate, in milliseconds; longer than the renewal period. */
    readonly leafValidityMs: number;
  };
  readonly sidecar: SidecarConfig;
  /** The namespaces this operator serves: its pods, custom resources and injection. */
  readonly watch: WatchScope;
  /** Timings of the Lease election among replicas, in milliseconds (client-go's meaning). */
  readonly leaderElection: {
    readonly leaseDurationMs: number;
    readonly renewDeadlineMs: number;
    readonly retryPeriodMs: number;
  };
}

export interface SidecarConfig {
  readonly nativeSidecars: NativeSidecarsSetting;
  /** runAsUser and runAsGroup of the sidecars; null leaves both to the platform (OpenShift's SCCs). */
  readonly securityContextUid: number | null;
  readonly engine: {
    readonly image: string;
    readonly logLevel: LogLevel;
    /** Envoy `--concurrency`; 0 leaves Envoy's default (one worker per hardware thread of the node). */
    readonly concurrency: number;
    readonly resources: Readonly<ResourceRequirements>;
  };
  readonly sessionAgent: {
    /**
     * The image of this project (entrypoint `microgateway`); the container runs `microgateway
     * agent`, the request inspector the engine asks about every request of a secured route.
     */
    readonly image: string;
    readonly resources: Readonly<ResourceRequirements>;
  };
  readonly engineContainerTemplate: ContainerTemplate;
  readonly sessionAgentContainerTemplate: ContainerTemplate;
}

/** Env variables the generated containers define; templates may not redefine them. */
export const ENGINE_ENV = ["POD_NAME", "POD_NAMESPACE", "POD_IP"] as const;
export const SESSION_AGENT_ENV = ["POD_NAME", "POD_NAMESPACE"] as const;

/**
 * UID of both sidecars unless configured. Not 0 (runAsNonRoot), not a UID applications commonly use
 * (1000, 1001, 65532 of distroless, 101 of nginx), so that with `shareProcessNamespace` an application
 * process cannot read the engine's memory or its mounted private key, and not Istio's 1337, whose
 * traffic Istio's iptables rules exempt from capture. Easy to recognise: the engine's port.
 */
export const DEFAULT_SECURITY_CONTEXT_UID = 13378;

/** Stock Envoy is our engine. */
export const DEFAULT_ENGINE_IMAGE = "docker.io/envoyproxy/envoy:distroless-v1.40.0";

/**
 * The image of this project (Bun and src/, entrypoint `microgateway`), which the session-agent
 * container runs as `microgateway agent`. Every injected pod gets it: the engine's secured routes
 * fail closed without the inspector it serves.
 */
export const DEFAULT_SESSION_AGENT_IMAGE = "ghcr.io/microgateway/microgateway:0.1.0";

/**
 * Parses and validates the configuration file, applying defaults. Throws MicrogatewayError
 * ("InvalidArgument") naming `origin` (the file) and the field.
 *
 * @example parseOperatorConfig(await Bun.file(path).text(), path)
 */
export function parseOperatorConfig(text: string, origin: string): OperatorConfig {
  const doc = parseDocument(text, { uniqueKeys: true });
  const problem = doc.errors[0];
  if (problem)
    throw new MicrogatewayError("InvalidArgument", `${origin}: not valid YAML: ${problem.message}`);
  return operatorConfigFrom(doc.toJS(), origin);
}

/** Validates an already decoded configuration object (e.g. from JSON); same rules as {@link parseOperatorConfig}. */
export function operatorConfigFrom(raw: unknown, origin: string): OperatorConfig {
  const fail = (path: string, detail: string): never => {
    throw new MicrogatewayError("InvalidArgument", `${origin}: ${path} ${detail}`);
  };
  const root = mapping(raw, "the file", fail, [
    "apiVersion",
    "kind",
    "operatorNamespace",
    "webhook",
    "xds",
    "health",
    "metrics",
    "certificates",
    "sidecar",
    "watch",
    "leaderElection",
  ]);
  if (root.apiVersion !== OPERATOR_CONFIG_API_VERSION) {
    fail("apiVersion", `${show(root.apiVersion)} must be ${OPERATOR_CONFIG_API_VERSION}`);
  }
  if (root.kind !== OPERATOR_CONFIG_KIND) fail("kind", `${show(root.kind)} must be ${OPERATOR_CONFIG_KIND}`);

  const operatorNamespace = root.operatorNamespace ?? DEFAULT_OPERATOR_NAMESPACE;
  if (
    typeof operatorNamespace !== "string" ||
    !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(operatorNamespace)
  ) {
    fail("operatorNamespace", `${show(operatorNamespace)} must be a namespace name (a DNS-1123 label)`);
  }
  const sectionFields: Record<string, readonly string[]> = {
    webhook: ["port", "serviceName", "configurationName", "extraSANs"],
    xds: ["port", "host", "extraSANs"],
  };
  const portOf = (section: string, fallback: number): number => {
    const m = mapping(root[section], section, fail, sectionFields[section] ?? ["port"]);
    const value = m.port ?? fallback;
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) {
      fail(`${section}.port`, `${show(value)} must be a port (1-65535)`);
    }
    return value as number;
  };
  const ports = {
    webhook: portOf("webhook", 9443),
    xds: portOf("xds", 13377),
    health: portOf("health", 8081),
    metrics: portOf("metrics", 8080),
  };
  const byPort = new Map<number, string>();
  for (const [name, port] of Object.entries(ports)) {
    const other = byPort.get(port);
    if (other) fail(`${name}.port`, `${port} is also ${other}.port; the operator's ports must differ`);
    byPort.set(port, name);
  }

  const certs = mapping(root.certificates, "certificates", fail, ["renewalPeriod", "leafValidity"]);
  const renewalPeriodMs = duration(certs.renewalPeriod ?? "48h", "certificates.renewalPeriod", fail);
  const leafValidityMs = duration(certs.leafValidity ?? "168h", "certificates.leafValidity", fail);
  if (leafValidityMs <= renewalPeriodMs) {
    fail(
      "certificates.leafValidity",
      `${show(certs.leafValidity ?? "168h")} must be longer than certificates.renewalPeriod, or engines would hold expired certificates between renewals`,
    );
  }

  const webhook = mapping(root.webhook, "webhook", fail);
  const xds = mapping(root.xds, "xds", fail);
  const name = (raw: unknown, at: string, fallback: string): string => {
    const v = raw ?? fallback;
    if (typeof v !== "string" || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(v)) {
      fail(at, `${show(v)} must be a DNS name`);
    }
    return v as string;
  };
  const sans = (raw: unknown, at: string): string[] => {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) return fail(at, `must be a list of DNS names or IP addresses, got ${show(raw)}`);
    return raw.map((v, i) => {
      if (typeof v !== "string" || !/^[A-Za-z0-9:.*-]+$/.test(v))
        fail(`${at}[${i}]`, `${show(v)} must be a DNS name or an IP address`);
      return v as string;
    });
  };

  return deepFreeze({
    operatorNamespace: operatorNamespace as string,
    webhook: {
      port: ports.webhook,
      serviceName: name(webhook.serviceName, "webhook.serviceName", "airlock-microgateway-operator-webhook"),
      configurationName: name(
        webhook.configurationName,
        "webhook.configurationName",
        "airlock-microgateway-sidecar-injector",
      ),
      extraSANs: sans(webhook.extraSANs, "webhook.extraSANs"),
    },
    xds: {
      port: ports.xds,
      host: name(
        xds.host,
        "xds.host",
        `airlock-microgateway-operator-xds-headless.${operatorNamespace as string}.svc.cluster.local`,
      ),
      extraSANs: sans(xds.extraSANs, "xds.extraSANs"),
    },
    health: { port: ports.health },
    metrics: { port: ports.metrics },
    certificates: { renewalPeriodMs, leafValidityMs },
    sidecar: sidecarConfig(root.sidecar, fail),
    watch: parseWatchScope(root.watch, fail),
    leaderElection: leaderElectionConfig(root.leaderElection, fail),
  });
}

function leaderElectionConfig(raw: unknown, fail: Fail): OperatorConfig["leaderElection"] {
  const at = "leaderElection";
  const l = mapping(raw, at, fail, ["leaseDuration", "renewDeadline", "retryPeriod"]);
  const leaseDurationMs = duration(l.leaseDuration ?? "15s", `${at}.leaseDuration`, fail);
  const renewDeadlineMs = duration(l.renewDeadline ?? "10s", `${at}.renewDeadline`, fail);
  const retryPeriodMs = duration(l.retryPeriod ?? "2s", `${at}.retryPeriod`, fail);
  if (leaseDurationMs % 1000 !== 0)
    fail(`${at}.leaseDuration`, `${show(l.leaseDuration)} must be whole seconds (the Lease stores seconds)`);
  // A leader must give up before others may take over, and get several renewal attempts first.
  if (!(leaseDurationMs > renewDeadlineMs))
    fail(`${at}.renewDeadline`, `${show(l.renewDeadline ?? "10s")} must be shorter than leaseDuration`);
  if (!(renewDeadlineMs > retryPeriodMs))
    fail(`${at}.retryPeriod`, `${show(l.retryPeriod ?? "2s")} must be shorter than renewDeadline`);
  return { leaseDurationMs, renewDeadlineMs, retryPeriodMs };
}

function sidecarConfig(raw: unknown, fail: Fail): SidecarConfig {
  const at = "sidecar";
  const s = mapping(raw, at, fail, [
    "nativeSidecars",
    "securityContextUid",
    "engine",
    "sessionAgent",
    "engineContainerTemplate",
    "sessionAgentContainerTemplate",
  ]);
  // YAML reads an unquoted true/false as a boolean; both spellings mean the same here.
  const native =
    typeof s.nativeSidecars === "boolean" ? String(s.nativeSidecars) : (s.nativeSidecars ?? "auto");
  if (native !== "auto" && native !== "true" && native !== "false") {
    fail(`${at}.nativeSidecars`, `${show(s.nativeSidecars)} must be one of auto, true, false`);
  }
  const uid = s.securityContextUid === undefined ? DEFAULT_SECURITY_CONTEXT_UID : s.securityContextUid;
  if (uid !== null && (!Number.isInteger(uid) || (uid as number) < 1 || (uid as number) > 2147483647)) {
    fail(
      `${at}.securityContextUid`,
      `${show(uid)} must be a non-root UID (1-2147483647), or null to leave it to the platform`,
    );
  }

  const e = mapping(s.engine, `${at}.engine`, fail, ["image", "logLevel", "concurrency", "resources"]);
  const image = e.image ?? DEFAULT_ENGINE_IMAGE;
  if (typeof image !== "string" || !/^\S+$/.test(image))
    fail(`${at}.engine.image`, `${show(image)} must be an image reference`);
  const logLevel = e.logLevel ?? "info";
  if (!(LOG_LEVELS as readonly unknown[]).includes(logLevel)) {
    fail(`${at}.engine.logLevel`, `${show(logLevel)} must be one of ${LOG_LEVELS.join(", ")}`);
  }
  const concurrency = e.concurrency ?? 2;
  if (!Number.isInteger(concurrency) || (concurrency as number) < 0 || (concurrency as number) > 1024) {
    fail(
      `${at}.engine.concurrency`,
      `${show(concurrency)} must be an integer 0-1024 (0: one worker per CPU of the node)`,
    );
  }
  const engineResources = resources(
    e.resources ?? { requests: { cpu: "100m", memory: "256Mi" } },
    `${at}.engine.resources`,
    fail,
  );

  const a = mapping(s.sessionAgent, `${at}.sessionAgent`, fail, ["image", "resources"]);
  if (a.image !== undefined && a.image !== null && (typeof a.image !== "string" || !/^\S*$/.test(a.image))) {
    fail(`${at}.sessionAgent.image`, `${show(a.image)} must be an image reference, or empty for the default`);
  }
  const agentImage = typeof a.image === "string" && a.image !== "" ? a.image : DEFAULT_SESSION_AGENT_IMAGE;
  const agentResources = resources(a.resources ?? {}, `${at}.sessionAgent.resources`, fail);

  return {
    nativeSidecars: native as NativeSidecarsSetting,
    securityContextUid: uid as number | null,
    engine: {
      image: image as string,
      logLevel: logLevel as LogLevel,
      concurrency: concurrency as number,
      resources: engineResources,
    },
    sessionAgent: { image: agentImage, resources: agentResources },
    engineContainerTemplate: parseContainerTemplate(
      s.engineContainerTemplate,
      {
        path: `${at}.engineContainerTemplate`,
        fixedEnv: ENGINE_ENV,
        imageField: `${at}.engine.image`,
        resourcesField: `${at}.engine.resources`,
      },
      fail,
    ),
    sessionAgentContainerTemplate: parseContainerTemplate(
      s.sessionAgentContainerTemplate,
      {
        path: `${at}.sessionAgentContainerTemplate`,
        fixedEnv: SESSION_AGENT_ENV,
        imageField: `${at}.sessionAgent.image`,
        resourcesField: `${at}.sessionAgent.resources`,
      },
      fail,
    ),
  };
}

/** `requests`/`limits` maps of quantities; numbers are accepted as YAML writes them (`cpu: 1`). */
function resources(raw: unknown, at: string, fail: Fail): ResourceRequirements {
  const m = mapping(raw, at, fail, ["requests", "limits"]);
  const result: ResourceRequirements = {};
  for (const kind of ["requests", "limits"] as const) {
    if (m[kind] === undefined || m[kind] === null) continue;
    const values = mapping(m[kind], `${at}.${kind}`, fail);
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(values)) {
      const text = typeof value === "number" ? String(value) : value;
      const q = typeof text === "string" ? parseQuantity(text) : undefined;
      if (!q || q.negative)
        fail(`${at}.${kind}.${name}`, `${show(value)} must be a non-negative ${QUANTITY_SYNTAX}`);
      out[name] = text as string;
    }
    result[kind] = out;
  }
  for (const [name, request] of Object.entries(result.requests ?? {})) {
    const limit = result.limits?.[name];
    if (limit !== undefined && compareQuantities(parseQuantity(request)!, parseQuantity(limit)!) > 0) {
      fail(
        `${at}.requests.${name}`,
        `${show(request)} must not be above ${at}.limits.${name} ${show(limit)}`,
      );
    }
  }
  return result;
}

const DURATION = /^(?:[0-9]+(?:\.[0-9]+)?(?:h|m|s|ms))+$/;
const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** A Go-style duration (`48h`, `1h30m`, `90s`) in milliseconds; must be positive. */
function duration(raw: unknown, at: string, fail: Fail): number {
  if (typeof raw !== "string" || !DURATION.test(raw)) {
    return fail(at, `${show(raw)} must be a duration such as 48h, 1h30m or 90s (units h, m, s, ms)`);
  }
  let ms = 0;
  for (const [, amount, unit] of raw.matchAll(/([0-9.]+)(ms|h|m|s)/g))
    ms += Number(amount) * (UNIT_MS[unit ?? ""] ?? 0);
  if (!(ms > 0)) fail(at, `${show(raw)} must be longer than zero`);
  return ms;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** The configuration with every default: what an empty OperatorConfig file gives. */
export const DEFAULT_OPERATOR_CONFIG: OperatorConfig = operatorConfigFrom(
  { apiVersion: OPERATOR_CONFIG_API_VERSION, kind: OPERATOR_CONFIG_KIND },
  "(defaults)",
);
