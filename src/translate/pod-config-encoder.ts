import { gatewayDependencies, gatewaysForPod, type Model, objectKey } from "../model/model.ts";
import type { PodInfo, SidecarGateway } from "../model/types.ts";
import type { CachedResource } from "../xds/cached-resource.ts";
import { encodePodConfig } from "./encode.ts";
import { type TranslateOptions, translatePod } from "./translate-pod.ts";

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
 * The memo holds one entry per gateway (the latest version), so it is bounded by the number of
 * gateways. Translation errors are not memoized; they throw on every call, as translatePod does.
 */
export class PodConfigEncoder {
  private readonly byGateway = new Map<string, { fingerprint: string; config: EncodedPodConfig }>();
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
    const fingerprint = dependencyFingerprint(model, gateway);
    const memo = this.byGateway.get(key);
    if (memo?.fingerprint === fingerprint) return memo.config;
    const translated = translatePod(model, pod, this.options);
    this.translations++;
    const config: EncodedPodConfig = { gateway: translated.gateway, resources: encodePodConfig(translated) };
    this.byGateway.set(key, { fingerprint, config });
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
