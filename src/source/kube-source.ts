import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
} from "@kubernetes/client-node";
import { errorMessage, isMicrogatewayError, MicrogatewayError } from "../errors.ts";
import { buildModel, type Model } from "../model/model.ts";
import { parseResource } from "../model/parse.ts";
import { API_GROUP, type CustomResource, type PodInfo } from "../model/types.ts";

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
  stop(): Promise<void>;
}

/** The label the webhook puts on every injected pod; the pod informer selects on it. */
const MANAGED_BY_LABEL = "microgateway.airlock.com/managedBy";

/** Custom resource kinds the model understands today, with their plural names. */
const CUSTOM_KINDS: readonly { kind: string; plural: string }[] = [
  { kind: "SidecarGateway", plural: "sidecargateways" },
  { kind: "ContentSecurity", plural: "contentsecurities" },
  { kind: "DenyRules", plural: "denyrules" },
];

/**
 * The Kubernetes source: informers for the custom resources and for the pods that carry an engine
 * feed the same model the local mode builds from files. Watches are restarted after errors (the
 * client relists by itself after `410 Gone`), and bursts of events are coalesced into one snapshot.
 * Resolves once every informer has listed, so the first snapshot is complete.
 */
export async function startKubeSource(opts: KubeSourceOptions): Promise<KubeSource> {
  const { kubeConfig, log } = opts;
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const version = "v1alpha1";
  const podSelector = `${MANAGED_BY_LABEL}=${opts.operatorNamespace}`;
  const kinds: WatchedKind[] = [
    ...CUSTOM_KINDS.map(({ kind, plural }) => ({
      kind,
      apiVersion: `${API_GROUP}/${version}`,
      path: `/apis/${API_GROUP}/${version}/${plural}`,
      list: () =>
        custom.listClusterCustomObject({ group: API_GROUP, version, plural }) as Promise<
          KubernetesListObject<KubernetesObject>
        >,
    })),
    {
      kind: "Pod",
      apiVersion: "v1",
      path: "/api/v1/pods",
      list: () => core.listPodForAllNamespaces({ labelSelector: podSelector }),
      labelSelector: podSelector,
    },
  ];

  // Parsed objects by `Kind ns/name`, reused while the object's resourceVersion is unchanged.
  const parsed = new Map<
    string,
    { rv: string; value: CustomResource | PodInfo | undefined; error?: MicrogatewayError }
  >();
  const changed = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let snapshot: KubeSnapshot = {
    model: buildModel([]),
    changed: new Set(),
    invalid: new Map(),
    podUids: new Map(),
  };

  const informers = kinds.map((k) => {
    const informer = makeInformer(kubeConfig, k.path, k.list, k.labelSelector);
    const key = (o: KubernetesObject) => `${k.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
    const onChange = (o: KubernetesObject) => {
      changed.add(key(o));
      schedule();
    };
    informer.on("add", onChange);
    informer.on("update", onChange);
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
  });

  function schedule(): void {
    if (stopped || timer) return;
    timer = setTimeout(rebuild, opts.debounceMs ?? 50);
  }

  function rebuild(): void {
    timer = undefined;
    const objects: (CustomResource | PodInfo)[] = [];
    const invalid = new Map<string, MicrogatewayError>();
    const podUids = new Map<string, string>();
    for (const { k, informer, key } of informers) {
      for (const raw of informer.list()) {
        const id = key(raw);
        if (k.kind === "Pod" && raw.metadata?.uid) {
          podUids.set(`${raw.metadata.namespace}/${raw.metadata.name}`, raw.metadata.uid);
        }
        const rv = raw.metadata?.resourceVersion ?? "";
        let entry = parsed.get(id);
        if (!entry || entry.rv !== rv) {
          try {
            // List items carry no apiVersion/kind; the parser needs them.
            entry = { rv, value: parseResource({ ...raw, apiVersion: k.apiVersion, kind: k.kind }, id) };
          } catch (e) {
            const error = isMicrogatewayError(e)
              ? e
              : new MicrogatewayError("InvalidResource", `${id}: ${errorMessage(e)}`);
            entry = { rv, value: undefined, error };
          }
          parsed.set(id, entry);
        }
        if (entry.error) invalid.set(id, entry.error);
        else if (entry.value) objects.push(entry.value);
      }
    }
    let model: Model;
    try {
      model = buildModel(objects);
    } catch (e) {
      // Duplicates cannot happen with one API server; keep the previous model if they ever do.
      log?.(`kube: ${errorMessage(e)}`);
      return;
    }
    snapshot = { model, changed: new Set(changed), invalid, podUids };
    changed.clear();
    try {
      opts.onSnapshot(snapshot);
    } catch (e) {
      log?.(`kube: snapshot handler failed: ${errorMessage(e)}`);
    }
  }

  await Promise.all(informers.map(({ informer }) => informer.start()));
  if (timer) clearTimeout(timer);
  timer = undefined;
  rebuild();

  return {
    current: () => snapshot,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.all(informers.map(({ informer }) => informer.stop()));
    },
  };
}
