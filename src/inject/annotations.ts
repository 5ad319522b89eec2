/**
 * The pod annotations of the sidecar API that tune an injected pod (reference §2). They are read and
 * validated at admission, so a typo rejects the pod with a message naming the annotation, the value and
 * what is accepted, instead of surfacing later as a CNI failure or an engine that will not start.
 * Where an annotation and the operator configuration both set something, the annotation wins.
 */
import type { EngineLogLevel } from "../bootstrap/engine-bootstrap.ts";
import { MicrogatewayError } from "../errors.ts";
import { SIDECAR_PORTS } from "./names.ts";
import { parseQuantity, QUANTITY_SYNTAX, type Quantity } from "./quantity.ts";

const PREFIX = "sidecar.microgateway.airlock.com/";

/** The annotation names (public API). */
export const ANNOTATIONS = {
  excludeInboundPorts: `${PREFIX}excludeInboundPorts`,
  serviceMesh: `${PREFIX}serviceMesh`,
  engineLogLevel: `${PREFIX}engineLogLevel`,
  engineCpuRequests: `${PREFIX}engineCpuRequests`,
  engineCpuLimits: `${PREFIX}engineCpuLimits`,
  engineMemoryRequests: `${PREFIX}engineMemoryRequests`,
  engineMemoryLimits: `${PREFIX}engineMemoryLimits`,
} as const;

/** Log levels of the API (annotation and operator configuration); `warn` is Envoy's `warning`. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "critical", "off"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Service meshes the CNI knows how to coexist with. */
export const SERVICE_MESHES = ["none", "istio"] as const;
export type ServiceMesh = (typeof SERVICE_MESHES)[number];

/** An engine resource value from an annotation, kept as written (it goes into the container as-is). */
export interface QuantityOverride {
  readonly text: string;
  readonly value: Quantity;
}

/** The validated annotations of one pod; absent annotations are absent here (no defaults applied). */
export interface SidecarAnnotations {
  /** Inbound ports the CNI must not redirect to the engine, in the order written. Default empty. */
  readonly excludeInboundPorts: readonly number[];
  /** Default `none`. */
  readonly serviceMesh: ServiceMesh;
  readonly engineLogLevel?: LogLevel;
  readonly engineCpuRequests?: QuantityOverride;
  readonly engineCpuLimits?: QuantityOverride;
  readonly engineMemoryRequests?: QuantityOverride;
  readonly engineMemoryLimits?: QuantityOverride;
}

/** Envoy's spelling of a log level. */
export function envoyLogLevel(level: LogLevel): EngineLogLevel {
  return level === "warn" ? "warning" : level;
}

/**
 * Parses the sidecar annotations of a pod. Throws MicrogatewayError("InvalidArgument") naming `subject`,
 * the annotation, the value and the accepted values. Request-versus-limit is checked where the
 * operator configuration is known (see `engineResources` in sidecar-containers.ts).
 *
 * @example parseSidecarAnnotations({ [ANNOTATIONS.engineLogLevel]: "warn" }, "Pod shop/web").engineLogLevel // "warn"
 */
export function parseSidecarAnnotations(
  annotations: Readonly<Record<string, string>> | undefined,
  subject: string,
): SidecarAnnotations {
  const get = (name: string) => annotations?.[name];
  const fail = (name: string, value: string, expected: string): never => {
    throw new MicrogatewayError(
      "InvalidArgument",
      `${subject}: annotation ${name} ${JSON.stringify(value)} ${expected}`,
    );
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
    const value = get(name);
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value))
      fail(name, value, `must be one of ${allowed.join(", ")}`);
    return value as T;
  };
  const quantity = (name: string): QuantityOverride | undefined => {
    const text = get(name);
    if (text === undefined) return undefined;
    const value = parseQuantity(text);
    if (!value || value.negative) fail(name, text, `must be a non-negative ${QUANTITY_SYNTAX}`);
    return { text, value: value as Quantity };
  };

  const excluded = get(ANNOTATIONS.excludeInboundPorts);
  const parsed: SidecarAnnotations = {
    excludeInboundPorts: excluded === undefined ? [] : parsePorts(excluded, fail),
    serviceMesh: oneOf(ANNOTATIONS.serviceMesh, SERVICE_MESHES) ?? "none",
    engineLogLevel: oneOf(ANNOTATIONS.engineLogLevel, LOG_LEVELS),
    engineCpuRequests: quantity(ANNOTATIONS.engineCpuRequests),
    engineCpuLimits: quantity(ANNOTATIONS.engineCpuLimits),
    engineMemoryRequests: quantity(ANNOTATIONS.engineMemoryRequests),
    engineMemoryLimits: quantity(ANNOTATIONS.engineMemoryLimits),
  };
  return stripUndefined(parsed);
}

const PORT_SYNTAX = 'a comma-separated list of distinct ports 1-65535 (e.g. "8081, 9090")';

function parsePorts(value: string, fail: (name: string, value: string, expected: string) => never): number[] {
  const name = ANNOTATIONS.excludeInboundPorts;
  // The API's default is the empty string: no ports.
  if (value.trim() === "") return [];
  const ports: number[] = [];
  for (const entry of value.split(",")) {
    const text = entry.trim();
    const port = /^[1-9][0-9]{0,4}$/.test(text) ? Number(text) : Number.NaN;
    if (!(port >= 1 && port <= 65535)) {
      fail(name, value, `must be ${PORT_SYNTAX}; ${JSON.stringify(text)} is not a port`);
    }
    if (ports.includes(port)) fail(name, value, `must be ${PORT_SYNTAX}; ${port} is listed twice`);
    // The engine's own listener is where excluded traffic would otherwise go; excluding it means
    // nothing and usually means "no WAF for this pod", which is done by removing the inject label.
    // The probe, metrics and session agent ports are always excluded, so listing them is harmless.
    if (port === SIDECAR_PORTS.engine) {
      fail(
        name,
        value,
        `must be ${PORT_SYNTAX} other than the engine's port ${SIDECAR_PORTS.engine} (to run a pod without the WAF, remove its label sidecar.microgateway.airlock.com/inject)`,
      );
    }
    ports.push(port);
  }
  return ports;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
