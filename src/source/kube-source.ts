import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
} from "@kubernetes/client-node";
import { errorMessage, isMicrogatewayError, MicrogatewayError } from "../errors.ts";
import { buildModel, gatewayDependencies, type Model } from "../model/model.ts";
import { parseResource } from "../model/parse.ts";
import { API_GROUP, type ModelObject } from "../model/types.ts";
import { asSecretObject, secretKeys, startSecretWatches } from "./secret-watches.ts";
import { ALL_NAMESPACES, matchesLabelSelector, type WatchScope } from "./watch-scope.ts";

/** A watched kind: where to list/watch it and how it is called in the model. */
interface WatchedKind {
  readonly kind: string;
  readonly apiVersion: string;
  /** Watch path, e.g. `/apis/microgateway.airlock.com/v1alpha1/sidecargateways`. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<KubernetesObject>>;
  readonly labelSelector?: string;
}

/** One consistent view of the cluster, delivered after every burst of changes. */
export interface KubeSnapshot {
  readonly model: Model;
  /** `Kind namespace/name` of every object added, changed or deleted since the previous snapshot. */
  readonly changed: ReadonlySet<string>;
  /** Objects that failed validation, by `Kind namespace/name`, with the error naming the field. */
  readonly invalid: ReadonlyMap<string, MicrogatewayError>;
  /** Kubernetes uids of the pods, by `namespace/name` (status objects are owned by their pod). */
  readonly podUids: ReadonlyMap<string, string>;
}

export interface KubeSourceOptions {
  readonly kubeConfig: KubeConfig;
  /** Only pods with `microgateway.airlock.com/managedBy=<operatorNamespace>` are watched. */
  readonly operatorNamespace: string;
  /**
   * The namespaces to watch (default all). A list gets informers per namespace, so Roles in those
   * namespaces suffice; a selector adds a Namespace informer and keeps only objects of matching
   * namespaces, following label changes.
   */
  readonly scope?: WatchScope;
  /** Called with each snapshot; bursts of changes within `debounceMs` are coalesced into one. */
  readonly onSnapshot: (snapshot: KubeSnapshot) => void;
  /** Default 50 ms. */
  readonly debounceMs?: number;
  /** Delay before restarting a watch that failed (default 1 s, doubling up to 30 s). */
  readonly restartDelayMs?: number;
  readonly log?: (line: string) => void;
}

export interface KubeSource {
  /** The latest snapshot. */
  current(): KubeSnapshot;
  /** Whether the namespace is in the scope, as far as the informers know (selector mode lags the API). */
  watchesNamespace(namespace: string): boolean;
  stop(): Promise<void>;
}

/** The label the webhook puts on every injected pod; the pod informer selects on it. */
const MANAGED_BY_LABEL = "microgateway.airlock.com/managedBy";

/** Custom resource kinds the model understands today, with their plural names. */
const CUSTOM_KINDS: readonly { kind: string; plural: string }[] = [
  { kind: "SidecarGateway", plural: "sidecargateways" },
  { kind: "ContentSecurity", plural: "contentsecurities" },
  { kind: "DenyRules", plural: "denyrules" },
  // Raw Envoy objects that SidecarGateways reference (reference §3.10).
  { kind: "EnvoyCluster", plural: "envoyclusters" },
  { kind: "EnvoyHTTPFilter", plural: "envoyhttpfilters" },
  { kind: "HeaderRewrites", plural: "headerrewrites" },
  { kind: "Telemetry", plural: "telemetries" },
  { kind: "Limits", plural: "limits" },
  { kind: "Parser", plural: "parsers" },
];

/**
 * The Kubernetes source: informers for the custom resources and for the pods that carry an engine
 * feed the same model the local mode builds from files. Watches are restarted after errors (the
 * client relists by itself after `410 Gone`), and bursts of events are coalesced into one snapshot.
 * Only objects of namespaces in `scope` are in a snapshot. Resolves once every informer has listed, so
 * the first snapshot is complete.
 */
export async function startKubeSource(opts: KubeSourceOptions): Promise<KubeSource> {
  const { kubeConfig, log } = opts;
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const version = "v1alpha1";
  const podSelector = `${MANAGED_BY_LABEL}=${opts.operatorNamespace}`;
  const scope = opts.scope ?? ALL_NAMESPACES;
  /** The kinds in one namespace, or cluster-wide (undefined). */
  const kindsIn = (namespace: string | undefined): WatchedKind[] => {
    const at = namespace === undefined ? "" : `/namespaces/${namespace}`;
    return [
      ...CUSTOM_KINDS.map(({ kind, plural }) => ({
        kind,
        apiVersion: `${API_GROUP}/${version}`,
        path: `/apis/${API_GROUP}/${version}${at}/${plural}`,
        list: () =>
          (namespace === undefined
            ? custom.listClusterCustomObject({ group: API_GROUP, version, plural })
            : custom.listNamespacedCustomObject({ group: API_GROUP, version, namespace, plural })) as Promise<
            KubernetesListObject<KubernetesObject>
          >,
      })),
      {
        kind: "Pod",
        apiVersion: "v1",
        path: `/api/v1${at}/pods`,
        list: () =>
          namespace === undefined
            ? core.listPodForAllNamespaces({ labelSelector: podSelector })
            : core.listNamespacedPod({ namespace, labelSelector: podSelector }),
        labelSelector: podSelector,
      },
    ];
  };
  const kinds: WatchedKind[] =
    scope.mode === "namespaces" ? scope.namespaces.flatMap((ns) => kindsIn(ns)) : kindsIn(undefined);
  // Selector mode: every Namespace, matched here, so that a label change is one update event.
  const namespaceKind: WatchedKind | undefined =
    scope.mode === "selector"
      ? { kind: "Namespace", apiVersion: "v1", path: "/api/v1/namespaces", list: () => core.listNamespace() }
      : undefined;

  // Parsed objects by `Kind ns/name`, reused while the object's version is unchanged. For custom
  // resources the version is metadata.generation, which status writes do not bump, so our own status
  // updates never cause a re-translation. `lastGood` keeps an object's last valid parse: an invalid
  // edit is reported, and the model keeps the previous version (the last good configuration serves).
  const parsed = new Map<
    string,
    {
      version: string;
      value: ModelObject | undefined;
      error?: MicrogatewayError;
      lastGood?: ModelObject;
    }
  >();
  const versionOf = (kind: string, o: KubernetesObject): string =>
    kind === "Pod" || kind === "Namespace"
      ? (o.metadata?.resourceVersion ?? "")
      : `generation:${o.metadata?.generation ?? o.metadata?.resourceVersion ?? ""}`;
  const changed = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let snapshot: KubeSnapshot = {
    model: buildModel([]),
    changed: new Set(),
    invalid: new Map(),
    podUids: new Map(),
  };

  // `Kind ns/name` of the objects in the previous snapshot: a namespace entering or leaving the scope
  // changes which objects are visible without an event for any of them.
  let visible = new Set<string>();

  const watch = (k: WatchedKind) => {
    const informer = makeInformer(kubeConfig, k.path, k.list, k.labelSelector);
    const key = (o: KubernetesObject) => `${k.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
    const onChange = (o: KubernetesObject) => {
      if (k.kind !== "Namespace") changed.add(key(o));
      schedule();
    };
    informer.on("add", onChange);
    informer.on("update", (o) => {
      // A status-only update of a custom resource (ours, usually) changes nothing we translate.
      if (parsed.get(key(o))?.version === versionOf(k.kind, o)) return;
      onChange(o);
    });
    informer.on("delete", (o) => {
      parsed.delete(key(o));
      onChange(o);
    });
    let delay = opts.restartDelayMs ?? 1000;
    informer.on("error", (e: unknown) => {
      if (stopped) return;
      log?.(`kube: watch of ${k.path} failed (${errorMessage(e)}); restarting in ${delay} ms`);
      setTimeout(() => {
        if (!stopped) informer.start().catch(() => {});
      }, delay);
      delay = Math.min(delay * 2, 30_000);
    });
    informer.on("connect", () => {
      delay = opts.restartDelayMs ?? 1000;
    });
    return { k, informer, key };
  };
  const informers = kinds.map(watch);
  const secrets = startSecretWatches(
    kubeConfig,
    core,
    (key) => {
      if (stopped) return;
      parsed.delete(`Secret ${key}`);
      changed.add(`Secret ${key}`);
      schedule();
    },
    log,
    opts.restartDelayMs,
  );
  const namespaces = namespaceKind && watch(namespaceKind);

  const watchesNamespace = (namespace: string): boolean => {
    if (scope.mode === "all") return true;
    if (scope.mode === "namespaces") return scope.namespaces.includes(namespace);
    const ns = namespaces?.informer.get(namespace);
    return ns !== undefined && matchesLabelSelector(scope.selector, ns.metadata?.labels ?? {});
  };

  function schedule(): void {
    if (stopped || timer) return;
    timer = setTimeout(rebuild, opts.debounceMs ?? 50);
  }

  function rebuild(): void {
    timer = undefined;
    const objects: ModelObject[] = [];
    const invalid = new Map<string, MicrogatewayError>();
    const podUids = new Map<string, string>();
    const nowVisible = new Set<string>();
    const inScope = new Map<string, boolean>();
    for (const { k, informer, key } of informers) {
      for (const raw of informer.list()) {
        const ns = raw.metadata?.namespace ?? "";
        let watched = inScope.get(ns);
        if (watched === undefined) {
          watched = watchesNamespace(ns);
          inScope.set(ns, watched);
        }
        if (!watched) continue;
        const id = key(raw);
        nowVisible.add(id);
        if (k.kind === "Pod" && raw.metadata?.uid) {
          podUids.set(`${raw.metadata.namespace}/${raw.metadata.name}`, raw.metadata.uid);
        }
        const version = versionOf(k.kind, raw);
        let entry = parsed.get(id);
        if (!entry || entry.version !== version) {
          const lastGood = entry?.value ?? entry?.lastGood;
          try {
            // List items carry no apiVersion/kind; the parser needs them.
            entry = { version, value: parseResource({ ...raw, apiVersion: k.apiVersion, kind: k.kind }, id) };
          } catch (e) {
            const error = isMicrogatewayError(e)
              ? e
              : new MicrogatewayError("InvalidResource", `${id}: ${errorMessage(e)}`);
            entry = { version, value: undefined, error, lastGood };
          }
          parsed.set(id, entry);
        }
        if (entry.error) {
          invalid.set(id, entry.error);
          if (entry.lastGood) objects.push(entry.lastGood);
        } else if (entry.value) objects.push(entry.value);
      }
    }
    // Only the Secrets gateways reference are watched (src/source/secret-watches.ts).
    for (const [key, raw] of secrets.current()) {
      const ns = key.slice(0, key.indexOf("/"));
      if (!(inScope.get(ns) ?? watchesNamespace(ns))) continue;
      const id = `Secret ${key}`;
      nowVisible.add(id);
      const version = raw.metadata?.resourceVersion ?? "";
      let entry = parsed.get(id);
      if (!entry || entry.version !== version) {
        try {
          entry = { version, value: parseResource(asSecretObject(raw), id) };
        } catch (e) {
          const error = isMicrogatewayError(e)
            ? e
            : new MicrogatewayError("InvalidResource", `${id}: ${errorMessage(e)}`);
          entry = { version, value: undefined, error };
        }
        parsed.set(id, entry);
      }
      if (entry.error) invalid.set(id, entry.error);
      else if (entry.value) objects.push(entry.value);
    }
    let model: Model;
    try {
      model = buildModel(objects);
    } catch (e) {
      // Duplicates cannot happen with one API server; keep the previous model if they ever do.
      log?.(`kube: ${errorMessage(e)}`);
      return;
    }
    for (const id of nowVisible) if (!visible.has(id)) changed.add(id);
    for (const id of visible) if (!nowVisible.has(id)) changed.add(id);
    visible = nowVisible;
    snapshot = { model, changed: new Set(changed), invalid, podUids };
    changed.clear();
    secrets.reconcile(referencedSecrets(model)).catch((e: unknown) => log?.(`kube: ${errorMessage(e)}`));
    try {
      opts.onSnapshot(snapshot);
    } catch (e) {
      log?.(`kube: snapshot handler failed: ${errorMessage(e)}`);
    }
  }

  const all = namespaces ? [...informers, namespaces] : informers;
  await Promise.all(all.map(({ informer }) => informer.start()));
  if (timer) clearTimeout(timer);
  timer = undefined;
  rebuild();
  // The first snapshot must hold the Secrets its gateways name: list them before resolving.
  await secrets.reconcile(referencedSecrets(snapshot.model));
  if (timer) {
    clearTimeout(timer);
    timer = undefined;
    rebuild();
  }

  return {
    current: () => snapshot,
    watchesNamespace,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.all(all.map(({ informer }) => informer.stop()));
      await secrets.stop();
    },
  };
}

/** `namespace/name` of every Secret a gateway of the model references. */
function referencedSecrets(model: Model): Set<string> {
  const ids: string[] = [];
  for (const gw of model.gateways.values()) for (const d of gatewayDependencies(model, gw)) ids.push(d.id);
  return secretKeys(ids);
}
