import { gatewayDependencies, gatewaysForPod, type Model, objectKey } from "../model/model.ts";
import type { PodInfo, SidecarGateway } from "../model/types.ts";
import type { CachedResource } from "../xds/cached-resource.ts";
import { encodePodConfig } from "./encode.ts";
import { type TranslateOptions, translatePod } from "./translate-pod.ts";

/** Versions of one gateway's translation kept (most recent first). */
export const MEMO_PER_GATEWAY = 4;

/** A pod's encoded engine configuration. */
export interface EncodedPodConfig {
  /** The SidecarGateway that configured the pod (`namespace/name`), if any. */
  readonly gateway?: string;
  readonly resources: readonly CachedResource[];
}

/**
 * Translates and encodes pods, once per distinct input: every pod selected by the same
 * SidecarGateway gets the same resources, so they are translated and encoded once per version of
 * that gateway and the policies it references, and all those pods share the bytes. This is what
 * makes a policy change cost one encoding, not one per pod.
 *
 * The memo holds the last MEMO_PER_GATEWAY versions of each gateway, so it is bounded by the number
 * of gateways. More than the latest, because a policy edit that is rolled back, or a pod that
 * moves to a version other pods of its gateway still run (a rollout), is common and should not
 * translate again. Translation errors are not memoized; they throw on every call, as translatePod does.
 */
export class PodConfigEncoder {
  private readonly byGateway = new Map<string, { fingerprint: string; config: EncodedPodConfig }[]>();
  /** Fingerprints computed for a model, by gateway: a model serves thousands of pods. */
  private fingerprints = new WeakMap<Model, Map<string, string>>();
  private translations = 0;

  constructor(private readonly options: TranslateOptions = {}) {}

  /** The encoded configuration of `pod` under `model`. */
  encode(model: Model, pod: PodInfo): EncodedPodConfig {
    const gateways = gatewaysForPod(model, pod);
    if (gateways.length !== 1) {
      // None: the empty configuration; several: translatePod throws the error naming them.
      const config = translatePod(model, pod, this.options);
      return { resources: encodePodConfig(config) };
    }
    const gateway = gateways[0]!;
    const key = objectKey(gateway.metadata);
    let byKey = this.fingerprints.get(model);
    if (!byKey) {
      byKey = new Map();
      this.fingerprints.set(model, byKey);
    }
    let fingerprint = byKey.get(key);
    if (fingerprint === undefined) {
      fingerprint = dependencyFingerprint(model, gateway);
      byKey.set(key, fingerprint);
    }
    const memo = this.byGateway.get(key) ?? [];
    const hit = memo.findIndex((m) => m.fingerprint === fingerprint);
    if (hit === 0) return memo[0]!.config;
    if (hit > 0) {
      const [entry] = memo.splice(hit, 1);
      memo.unshift(entry!);
      return entry!.config;
    }
    const translated = translatePod(model, pod, this.options);
    this.translations++;
    // Frozen: every pod of the gateway shares it, and ConfigCache.setNode recognises it (see there).
    const resources = Object.freeze(encodePodConfig(translated));
    const config: EncodedPodConfig = { gateway: translated.gateway, resources };
    memo.unshift({ fingerprint, config });
    if (memo.length > MEMO_PER_GATEWAY) memo.length = MEMO_PER_GATEWAY;
    this.byGateway.set(key, memo);
    return config;
  }

  /** Forgets gateways that no longer exist in `model` (call after a deletion). */
  prune(model: Model): void {
    for (const key of this.byGateway.keys()) if (!model.gateways.has(key)) this.byGateway.delete(key);
  }

  /** How many times a gateway was actually translated and encoded (for tests and benchmarks). */
  get translationCount(): number {
    return this.translations;
  }
}

/**
 * Everything a gateway's translation depends on: its own version and the versions of the
 * ContentSecurity and DenyRules objects its routes reference (or their absence).
 */
function dependencyFingerprint(model: Model, gateway: SidecarGateway): string {
  const deps = gatewayDependencies(model, gateway).map((d) => `${d.id}=${d.version ?? "missing"}`);
  return [gateway.metadata.resourceVersion ?? "", ...deps].join("|");
}
