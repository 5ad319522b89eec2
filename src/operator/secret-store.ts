import { ApiException, type CoreV1Api, type V1Secret } from "@kubernetes/client-node";

/** The secret operations the operator needs; Kubernetes in production, a map in unit tests. */
export interface SecretStore {
  /** The secret, or undefined if it does not exist. */
  get(namespace: string, name: string): Promise<V1Secret | undefined>;
  /** Creates the secret; resolves to undefined if it already exists (another replica won the race). */
  create(namespace: string, secret: V1Secret): Promise<V1Secret | undefined>;
  /** Replaces the secret (optimistic concurrency through metadata.resourceVersion). */
  replace(namespace: string, secret: V1Secret): Promise<V1Secret>;
  /** Secrets with `name` across all namespaces (a field selector: one list call, no cluster-wide cache). */
  listByName(name: string): Promise<V1Secret[]>;
}

/** A SecretStore on the Kubernetes API. */
export function kubeSecretStore(core: CoreV1Api): SecretStore {
  return {
    async get(namespace, name) {
      try {
        return await core.readNamespacedSecret({ namespace, name });
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) return undefined;
        throw e;
      }
    },
    async create(namespace, secret) {
      try {
        return await core.createNamespacedSecret({ namespace, body: secret });
      } catch (e) {
        if (e instanceof ApiException && e.code === 409) return undefined;
        throw e;
      }
    },
    replace(namespace, secret) {
      return core.replaceNamespacedSecret({ namespace, name: secret.metadata?.name ?? "", body: secret });
    },
    async listByName(name) {
      const list = await core.listSecretForAllNamespaces({ fieldSelector: `metadata.name=${name}` });
      return list.items;
    },
  };
}

/** Reads one key of a secret as text (data is base64, stringData is plain). */
export function secretText(secret: V1Secret | undefined, key: string): string | undefined {
  const s = secret?.stringData?.[key];
  if (s !== undefined) return s;
  const b = secret?.data?.[key];
  return b === undefined ? undefined : Buffer.from(b, "base64").toString("utf8");
}

/** Base64 `data` from plain strings. */
export function secretData(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, Buffer.from(v, "utf8").toString("base64")]),
  );
}
