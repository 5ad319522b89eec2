import { errorMessage, isMicrogatewayError } from "../errors.ts";
import { patchFor } from "../inject/json-patch.ts";
import { mutate, shouldInject } from "../inject/mutate.ts";
import type { OperatorConfig } from "../inject/operator-config.ts";
import { describePod, type Pod } from "../inject/pod.ts";
import {
  type AdmissionRequest,
  type AdmissionReview,
  allowed,
  denied,
  patched,
} from "../webhook/admission-review.ts";

export interface PodAdmitterDeps {
  readonly config: OperatorConfig;
  /** Whether sidecars are injected as native sidecars (decided from the cluster's versions). */
  readonly nativeSidecars: () => boolean;
  /** Makes sure the namespace has its bootstrap secret (a side effect: never called on dry runs). */
  readonly ensureBootstrapSecret: (namespace: string) => Promise<unknown>;
  /**
   * Whether the namespace is one this operator watches (default: every namespace). Asked only for
   * labelled pods; a pod outside the scope is admitted unchanged.
   */
  readonly inScope?: (namespace: string) => boolean | Promise<boolean>;
  readonly log?: (line: string) => void;
}

/** Counters for the operator's /metrics. */
export interface AdmissionCounters {
  injected: number;
  skipped: number;
  denied: number;
  secretErrors: number;
}

/**
 * The admission handler for pod creation: injects the engine (and session agent) into pods with
 * the inject label, as an add-only JSON Patch. An invalid annotation is denied with a message
 * naming it; a pod without the label, one already injected, or one in a namespace outside the watch
 * scope is admitted unchanged (that namespace belongs to another operator, or to none).
 */
export function podAdmitter(
  deps: PodAdmitterDeps,
  counters: AdmissionCounters = { injected: 0, skipped: 0, denied: 0, secretErrors: 0 },
): (request: AdmissionRequest) => Promise<AdmissionReview> {
  return async (request) => {
    const pod = request.object as Pod;
    if (!shouldInject(pod)) {
      counters.skipped++;
      return allowed(request.uid);
    }
    if (deps.inScope && !(await deps.inScope(request.namespace))) {
      counters.skipped++;
      deps.log?.(
        `webhook: ${describePod(pod, request.namespace)} not injected: namespace ${request.namespace} is outside the watch scope`,
      );
      return allowed(request.uid);
    }
    let mutated: Pod;
    try {
      mutated = mutate(pod, deps.config, {
        nativeSidecars: deps.nativeSidecars(),
        operatorNamespace: deps.config.operatorNamespace,
        namespace: request.namespace,
      });
    } catch (e) {
      if (isMicrogatewayError(e) && e.code === "InvalidArgument") {
        counters.denied++;
        return denied(request.uid, e.message);
      }
      throw e;
    }
    const patch = patchFor(pod, mutated);
    if (patch.length === 0) {
      counters.skipped++;
      return allowed(request.uid);
    }
    if (!request.dryRun) {
      try {
        await deps.ensureBootstrapSecret(request.namespace);
      } catch (e) {
        // The pod is still injected: the kubelet waits for the secret volume, and the periodic
        // reconciliation creates the secret once the API lets us.
        counters.secretErrors++;
        deps.log?.(`webhook: bootstrap secret in namespace ${request.namespace}: ${errorMessage(e)}`);
      }
    }
    counters.injected++;
    return patched(request.uid, patch);
  };
}
