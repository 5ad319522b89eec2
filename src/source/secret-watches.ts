/**
 * Watches of exactly the Secrets the SidecarGateways reference (TLS certificates, client CAs, CRLs),
 * one list+watch per Secret narrowed by `metadata.name`, so no other Secret ever reaches the
 * operator's memory (RBAC cannot name user-chosen Secrets in advance; see docs/decisions.md).
 */
import {
  type CoreV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  type V1Secret,
  Watch,
} from "@kubernetes/client-node";
import { errorMessage } from "../errors.ts";

/** A running set of Secret watches. */
export interface SecretWatches {
  /** Starts watches for keys (`namespace/name`) not watched yet and stops the others; resolves once new ones have listed. */
  reconcile(wanted: ReadonlySet<string>): Promise<void>;
  /** The watched Secrets that exist, by `namespace/name`. */
  current(): Map<string, V1Secret>;
  stop(): Promise<void>;
}

/**
 * `onChange(key)` is called for every add, update and delete of a watched Secret, and when a watch
 * is stopped (its Secret leaves the model).
 */
export function startSecretWatches(
  kubeConfig: KubeConfig,
  core: CoreV1Api,
  onChange: (key: string) => void,
  log?: (line: string) => void,
  restartDelayMs = 1000,
): SecretWatches {
  const watches = new Map<string, { informer: ListWatch<V1Secret>; stopped: boolean }>();
  const watch = new Watch(kubeConfig);
  return {
    async reconcile(wanted) {
      const started: Promise<void>[] = [];
      for (const [key, w] of watches) {
        if (wanted.has(key)) continue;
        w.stopped = true;
        watches.delete(key);
        await w.informer.stop();
        onChange(key);
      }
      for (const key of wanted) {
        if (watches.has(key)) continue;
        const [namespace, name] = [key.slice(0, key.indexOf("/")), key.slice(key.indexOf("/") + 1)];
        const fieldSelector = `metadata.name=${name}`;
        const list = () =>
          core.listNamespacedSecret({ namespace, fieldSelector }) as Promise<KubernetesListObject<V1Secret>>;
        const informer = new ListWatch<V1Secret>(
          `/api/v1/namespaces/${namespace}/secrets`,
          watch,
          list,
          false,
          undefined,
          fieldSelector,
        );
        const entry = { informer, stopped: false };
        watches.set(key, entry);
        const changed = () => onChange(key);
        informer.on("add", changed);
        informer.on("update", changed);
        informer.on("delete", changed);
        informer.on("error", (e: unknown) => {
          if (entry.stopped) return;
          log?.(
            `kube: watch of Secret ${key} failed (${errorMessage(e)}); restarting in ${restartDelayMs} ms`,
          );
          setTimeout(() => {
            if (!entry.stopped) informer.start().catch(() => {});
          }, restartDelayMs);
        });
        started.push(
          informer.start().catch((e: unknown) => {
            log?.(`kube: cannot watch Secret ${key}: ${errorMessage(e)}`);
          }),
        );
      }
      await Promise.all(started);
    },
    current() {
      const secrets = new Map<string, V1Secret>();
      for (const [key, w] of watches) {
        const s = w.informer.list()[0];
        if (s) secrets.set(key, s);
      }
      return secrets;
    },
    async stop() {
      for (const w of watches.values()) w.stopped = true;
      await Promise.all([...watches.values()].map((w) => w.informer.stop()));
      watches.clear();
    },
  };
}

/** Keys (`namespace/name`) of the Secrets among dependency ids like `Secret shop/tls`. */
export function secretKeys(dependencyIds: Iterable<string>): Set<string> {
  const keys = new Set<string>();
  for (const id of dependencyIds) if (id.startsWith("Secret ")) keys.add(id.slice("Secret ".length));
  return keys;
}

/** Marks a list item as what it is (list items carry no apiVersion/kind). */
export function asSecretObject(s: V1Secret): KubernetesObject & Record<string, unknown> {
  return { ...s, apiVersion: "v1", kind: "Secret" };
}
