/**
 * The pure core of the mutating admission webhook: a Pod in, the Pod with the Microgateway sidecars
 * out (reference §1.7). No I/O: the HTTP adapter decodes the AdmissionReview, calls {@link mutate}
 * and turns the difference into a JSON Patch (json-patch.ts).
 *
 * The result shares every untouched subtree with the input (managedFields, the user's containers),
 * which is what lets the patch be computed without walking them.
 */
import { MicrogatewayError } from "../errors.ts";
import { parseSidecarAnnotations } from "./annotations.ts";
import { ENGINE_CONTAINER, INJECT_LABEL, INJECTED_ANNOTATION, MANAGED_BY_LABEL } from "./names.ts";
import type { NativeSidecarsSetting, OperatorConfig } from "./operator-config.ts";
import { type Container, checkPodShape, describePod, type Pod, type Volume } from "./pod.ts";
import {
  bootstrapVolume,
  engineContainer,
  inspectorSocketVolume,
  type SidecarInputs,
  sessionAgentContainer,
  sessionAgentVolume,
} from "./sidecar-containers.ts";

/** Options of {@link mutate}. */
export interface MutateOptions {
  /** Inject native sidecars (see {@link nativeSidecarsFor}). */
  readonly nativeSidecars: boolean;
  /** Overrides the configuration's operator namespace (the `managedBy` label value). */
  readonly operatorNamespace?: string;
  /** The request's namespace, for messages: at admission the pod's metadata often has none. */
  readonly namespace?: string;
}

/** Whether the pod asks for injection: the label's value is exactly `"true"`, as the webhook's objectSelector matches. */
export function shouldInject(pod: Pod): boolean {
  return pod.metadata?.labels?.[INJECT_LABEL] === "true";
}

/** Whether the engine sidecar is already in the pod, as a container or an init container. */
export function isInjected(pod: Pod): boolean {
  const has = (list: Container[] | undefined) =>
    Array.isArray(list) && list.some((c) => c?.name === ENGINE_CONTAINER);
  return has(pod.spec?.containers) || has(pod.spec?.initContainers);
}

/**
 * Returns the pod with the sidecars, volumes, label and annotation added, or the very same object if
 * the pod does not ask for injection or already has the engine (the webhook may be invoked again).
 * Throws MicrogatewayError("InvalidArgument") naming the pod when an annotation is invalid or the pod
 * already uses a name or port the sidecars need; the webhook denies such a pod with that message.
 * Never modifies `pod`.
 *
 * @example mutate(pod, config, { nativeSidecars: nativeSidecarsFor(config.sidecar.nativeSidecars, version) })
 */
export function mutate(pod: Pod, config: OperatorConfig, opts: MutateOptions): Pod {
  if (!shouldInject(pod)) return pod;
  const subject = describePod(pod, opts.namespace);
  checkPodShape(pod, subject);
  if (isInjected(pod)) return pod;
  const invalid = (message: string) => new MicrogatewayError("InvalidArgument", `${subject}: ${message}`);
  const spec = pod.spec ?? {};
  const meta = pod.metadata ?? {};
  // The engine would bind its ports on the node and no CNI runs for such a pod: nothing to protect.
  if (spec.hostNetwork === true) throw invalid("spec.hostNetwork pods cannot get the Microgateway sidecars");

  const inputs: SidecarInputs = {
    config: config.sidecar,
    annotations: parseSidecarAnnotations(meta.annotations, subject),
    native: opts.nativeSidecars,
    subject,
  };
  // The agent first: as native sidecars start in order and each waits for the previous one's
  // startup probe, the engine then takes traffic only once the inspector it asks can answer.
  const sidecars = [sessionAgentContainer(inputs), engineContainer(pod, inputs)];
  const volumes = [bootstrapVolume(), inspectorSocketVolume(), sessionAgentVolume(pod)];
  checkNoClash(pod, sidecars, volumes, invalid);

  const operatorNamespace = opts.operatorNamespace ?? config.operatorNamespace;
  const labels = withEntry(meta.labels, MANAGED_BY_LABEL, operatorNamespace, (existing) =>
    invalid(
      `label ${MANAGED_BY_LABEL} ${JSON.stringify(existing)} names another operator instance; this one is ${JSON.stringify(operatorNamespace)}`,
    ),
  );
  const annotations = withEntry(
    meta.annotations,
    INJECTED_ANNOTATION,
    config.sidecar.engine.image,
    (existing) =>
      invalid(
        `annotation ${INJECTED_ANNOTATION} ${JSON.stringify(existing)} is written by the sidecar injection and the pod has no ${ENGINE_CONTAINER} container; remove the annotation`,
      ),
  );

  const mutatedSpec = { ...spec };
  if (opts.nativeSidecars) {
    // First, so that the engine is started (and ready, by its startup probe) before any other
    // container of the pod, the user's init containers included.
    mutatedSpec.initContainers = [...sidecars, ...(spec.initContainers ?? [])];
  } else {
    mutatedSpec.containers = [...(spec.containers ?? []), ...sidecars];
  }
  mutatedSpec.volumes = [...(spec.volumes ?? []), ...volumes];
  return { ...pod, metadata: { ...meta, labels, annotations }, spec: mutatedSpec };
}

/** A Kubernetes minor version, as `nativeSidecarsFor` compares them. */
export interface KubernetesVersion {
  readonly major: number;
  readonly minor: number;
}

/**
 * Whether to inject native sidecars. `auto`: when the API server is at least 1.29, the first release
 * with the SidecarContainers feature on by default (beta; alpha off by default in 1.28, GA in 1.33).
 * Kubelets may lag the API server by up to three minors, and an older kubelet runs a native sidecar as
 * a plain init container that never ends, so the pod never starts: pass `oldestKubelet` when known
 * (the lowest `status.nodeInfo.kubeletVersion` of the nodes) and auto requires it to be 1.29 too.
 *
 * @example nativeSidecarsFor("auto", { major: 1, minor: 30 }) // true
 */
export function nativeSidecarsFor(
  setting: NativeSidecarsSetting,
  serverVersion: KubernetesVersion,
  oldestKubelet?: KubernetesVersion,
): boolean {
  if (setting !== "auto") return setting === "true";
  const supports = (v: KubernetesVersion) => v.major > 1 || (v.major === 1 && v.minor >= 29);
  return supports(serverVersion) && (oldestKubelet === undefined || supports(oldestKubelet));
}

/**
 * Reads the API server's `/version` (`{ major: "1", minor: "29+" }` on some managed clusters) or a
 * kubelet version (`v1.29.3-eks-1234`). Throws MicrogatewayError("InvalidArgument") if neither form.
 *
 * @example parseKubernetesVersion("v1.31.2") // { major: 1, minor: 31 }
 */
export function parseKubernetesVersion(
  version: string | { major: string; minor: string },
): KubernetesVersion {
  const match =
    typeof version === "string"
      ? /^v?([0-9]+)\.([0-9]+)/.exec(version)
      : [undefined, /^[0-9]+/.exec(version.major)?.[0], /^[0-9]+/.exec(version.minor)?.[0]];
  const major = Number(match?.[1]);
  const minor = Number(match?.[2]);
  if (!match?.[1] || !match[2] || !Number.isInteger(major) || !Number.isInteger(minor)) {
    throw new MicrogatewayError(
      "InvalidArgument",
      `Kubernetes version ${JSON.stringify(version)} must look like v1.29.3 or {major: "1", minor: "29"}`,
    );
  }
  return { major, minor };
}

/**
 * Refuses a pod that already has one of the sidecars' container or volume names (it is not ours: the
 * engine is not there) or uses one of their ports, which would keep the sidecar from starting.
 */
function checkNoClash(
  pod: Pod,
  sidecars: Container[],
  volumes: Volume[],
  invalid: (m: string) => Error,
): void {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  for (const sidecar of sidecars) {
    if (containers.some((c) => c.name === sidecar.name)) {
      throw invalid(
        `a container named ${sidecar.name} already exists; the sidecar injection adds a container of that name`,
      );
    }
  }
  for (const volume of volumes) {
    if ((pod.spec?.volumes ?? []).some((v) => v.name === volume.name)) {
      throw invalid(
        `a volume named ${volume.name} already exists; the sidecar injection adds a volume of that name`,
      );
    }
  }
  const sidecarPorts = new Map<number, string>();
  for (const sidecar of sidecars)
    for (const p of sidecar.ports ?? []) sidecarPorts.set(p.containerPort, sidecar.name);
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      // The sidecars listen on TCP only; a UDP port of the same number does not collide.
      if ((p.protocol ?? "TCP") !== "TCP") continue;
      const owner = sidecarPorts.get(p.containerPort);
      if (owner) {
        throw invalid(
          `container ${c.name} uses port ${p.containerPort}, which ${owner} listens on; the sidecar ports ${[...sidecarPorts.keys()].join(", ")} must be free`,
        );
      }
    }
  }
}

/**
 * The map with `key: value` added, or the same map if it already holds that value. Any other existing
 * value is the user's and is never replaced.
 */
function withEntry(
  map: Record<string, string> | undefined,
  key: string,
  value: string,
  conflict: (existing: string) => Error,
): Record<string, string> {
  const existing = map?.[key];
  if (existing === value && map) return map;
  if (existing !== undefined) throw conflict(existing);
  return { ...map, [key]: value };
}
