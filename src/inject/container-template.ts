/**
 * Container templates of the operator configuration: a partial Container that adjusts a generated
 * sidecar (extra env, probe timings, a preStop hook, imagePullPolicy, securityContext additions).
 *
 * The merge rule: the template is applied to the generated container as a JSON Merge Patch (RFC 7386):
 * maps merge key by key, a scalar or list in the template replaces ours, and `null` removes our field.
 * Two exceptions keep the sidecar wired up:
 *  - `env` is merged by name: the template's variables are appended after ours, and may not redefine
 *    ours (POD_NAME, ...), which the command line refers to.
 *  - fields that make the sidecar what the API promises cannot appear in a template at all: name,
 *    image, args, ports, volumeMounts, restartPolicy, resources, and the handler of a probe
 *    (httpGet, grpc, tcpSocket, exec). Images and resources have their own configuration fields.
 * A template that breaks these rules is refused when the configuration is read, not at admission.
 */
import type { Container } from "./pod.ts";
import { isObject } from "./pod.ts";

/** A validated partial Container. */
export type ContainerTemplate = Readonly<Record<string, unknown>>;

/** Where a template's image and resources are configured instead, for messages. */
export interface TemplateContext {
  /** Path of the template in the configuration, e.g. `sidecar.engineContainerTemplate`. */
  readonly path: string;
  /** Env variables the generated container defines itself. */
  readonly fixedEnv: readonly string[];
  readonly imageField: string;
  readonly resourcesField: string;
}

const PROBES = ["startupProbe", "readinessProbe", "livenessProbe"] as const;
const PROBE_HANDLERS = ["httpGet", "grpc", "tcpSocket", "exec"] as const;

/**
 * Validates a template from the configuration; `fail(path, detail)` reports the first problem.
 *
 * @example parseContainerTemplate({ env: [{ name: "X", value: "1" }] }, ctx, fail)
 */
export function parseContainerTemplate(
  raw: unknown,
  ctx: TemplateContext,
  fail: (path: string, detail: string) => never,
): ContainerTemplate {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) return fail(ctx.path, "must be a partial Container (a mapping)");
  const fixed: Readonly<Record<string, string>> = {
    name: "the sidecar's name is public API",
    image: `set ${ctx.imageField} instead`,
    args: "the command line is derived from the pod and the configuration",
    ports: "the sidecar's ports are public API",
    volumeMounts: "the sidecar's mounts are public API",
    restartPolicy: "sidecar.nativeSidecars decides it",
    resources: `set ${ctx.resourcesField} instead`,
  };
  for (const [field, why] of Object.entries(fixed)) {
    if (field in raw) fail(`${ctx.path}.${field}`, `cannot be set in a container template (${why})`);
  }
  for (const probe of PROBES) {
    const value = raw[probe];
    if (value === undefined || value === null) continue;
    if (!isObject(value))
      fail(`${ctx.path}.${probe}`, "must be a mapping (probe timings) or null (no probe)");
    for (const handler of PROBE_HANDLERS) {
      if (handler in value) {
        fail(
          `${ctx.path}.${probe}.${handler}`,
          "cannot be set in a container template (the sidecar's probe endpoint is fixed)",
        );
      }
    }
  }
  if ("env" in raw) parseEnv(raw.env, ctx, fail);
  return structuredClone(raw);
}

function parseEnv(raw: unknown, ctx: TemplateContext, fail: (path: string, detail: string) => never): void {
  const at = `${ctx.path}.env`;
  if (!Array.isArray(raw)) fail(at, "must be a list of env variables (to add to the sidecar's own)");
  const seen = new Set<string>();
  raw.forEach((item, i) => {
    if (!isObject(item) || typeof item.name !== "string" || item.name === "") {
      fail(`${at}[${i}]`, "must be an env variable with a name");
    }
    const name = item.name as string;
    if (ctx.fixedEnv.includes(name)) {
      fail(
        `${at}[${i}].name`,
        `${JSON.stringify(name)} cannot be redefined (the sidecar sets ${ctx.fixedEnv.join(", ")})`,
      );
    }
    if (seen.has(name)) fail(`${at}[${i}].name`, `${JSON.stringify(name)} is defined twice`);
    seen.add(name);
  });
}

/**
 * Applies a template to a generated container (see the file comment for the rule). Neither argument is
 * modified and the result shares nothing with the template, so pods never alias the configuration.
 */
export function applyContainerTemplate(generated: Container, template: ContainerTemplate): Container {
  const { env, ...rest } = template;
  const merged = mergePatch(generated, rest) as Container;
  if (Array.isArray(env) && env.length > 0) merged.env = [...(generated.env ?? []), ...structuredClone(env)];
  return merged;
}

/** RFC 7386 JSON Merge Patch, copying whatever it takes from `patch`. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}
