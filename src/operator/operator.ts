import {
  AdmissionregistrationV1Api,
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  type KubeConfig,
  VersionApi,
} from "@kubernetes/client-node";
import { errorMessage } from "../errors.ts";
import { nativeSidecarsFor, parseKubernetesVersion } from "../inject/mutate.ts";
import type { OperatorConfig } from "../inject/operator-config.ts";
import { nodeIdOf } from "../model/types.ts";
import { type KubeSource, startKubeSource } from "../source/kube-source.ts";
import { describeWatchScope, namespaceInScope } from "../source/watch-scope.ts";
import { PodConfigEncoder } from "../translate/pod-config-encoder.ts";
import { newCounters, webhookApp } from "../webhook/app.ts";
import { startWebhookServer, type WebhookServer } from "../webhook/server.ts";
import { ConfigCache } from "../xds/config-cache.ts";
import { EngineStatusStore } from "../xds/engine-status.ts";
import { TypeUrl } from "../xds/resource-types.ts";
import { startXdsServer, type XdsServer } from "../xds/server.ts";
import { type AdmissionCounters, podAdmitter } from "./admit-pod.ts";
import { OperatorCertificates } from "./certificates.ts";
import { EngineController } from "./engine-controller.ts";
import { GatewayStatusWriter } from "./gateway-status-writer.ts";
import { InvalidObjectEvents } from "./invalid-object-events.ts";
import { kubeLeaseApi, type LeaderElection, leaderIdentity, startLeaderElection } from "./leader-election.ts";
import { kubeSecretStore } from "./secret-store.ts";
import { StatusWriter } from "./status-writer.ts";
import { syncCaBundle } from "./webhook-ca-bundle.ts";

export interface OperatorOptions {
  readonly config: OperatorConfig;
  readonly kubeConfig: KubeConfig;
  /** Address the servers bind to (default 0.0.0.0). */
  readonly host?: string;
  readonly log?: (line: string) => void;
  /** How often pending bootstrap secrets and the webhook caBundle are re-checked (default 10 s). */
  readonly reconcileIntervalMs?: number;
  /** Leader election timings; default `config.leaderElection` (15 s lease, 10 s renew deadline, 2 s retry). */
  readonly leaderElection?: { leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
}

/** A running operator. */
export interface Operator {
  readonly webhookPort: number;
  readonly xdsPort: number;
  readonly healthPort: number;
  readonly certificates: OperatorCertificates;
  readonly cache: ConfigCache;
  readonly status: EngineStatusStore;
  readonly admissions: AdmissionCounters;
  readonly controller: EngineController;
  readonly statusWriter: StatusWriter;
  /** Writes SidecarGateway status (leader only). */
  readonly gatewayStatusWriter: GatewayStatusWriter;
  /** Whether this replica holds the lease (renews certificates, keeps the caBundle, writes shared status). */
  isLeader(): boolean;
  /** Re-issues the serving certificates and renews due bootstrap secrets now (the periodic job). */
  renew(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the operator: certificates, the pod injection webhook, the xDS server and health
 * endpoints. Talks to the API server named by `kubeConfig`.
 */
export async function startOperator(opts: OperatorOptions): Promise<Operator> {
  const { config, kubeConfig } = opts;
  const log = opts.log ?? ((line: string) => console.log(line));
  const host = opts.host ?? "0.0.0.0";
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const admissionApi = kubeConfig.makeApiClient(AdmissionregistrationV1Api);

  const certificates = new OperatorCertificates({ store: kubeSecretStore(core), config, log });
  const ca = await certificates.authority();

  // Native sidecars need the API server and every kubelet to support them.
  const server = parseKubernetesVersion(await kubeConfig.makeApiClient(VersionApi).getCode());
  let oldestKubelet: ReturnType<typeof parseKubernetesVersion> | undefined;
  try {
    for (const node of (await core.listNode()).items) {
      const v = parseKubernetesVersion(node.status?.nodeInfo?.kubeletVersion ?? "");
      if (
        !oldestKubelet ||
        v.major < oldestKubelet.major ||
        (v.major === oldestKubelet.major && v.minor < oldestKubelet.minor)
      ) {
        oldestKubelet = v;
      }
    }
  } catch (e) {
    log(
      `operator: cannot list nodes (${errorMessage(e)}); deciding native sidecars by the API server's version`,
    );
  }
  const native = nativeSidecarsFor(config.sidecar.nativeSidecars, server, oldestKubelet);
  log(
    `operator: Kubernetes ${server.major}.${server.minor}${oldestKubelet ? `, oldest kubelet ${oldestKubelet.major}.${oldestKubelet.minor}` : ""}: sidecars are ${native ? "native (init containers with restartPolicy Always)" : "regular containers"}`,
  );

  // Namespaces whose bootstrap secret could not be written at admission time: retried until done.
  const pending = new Set<string>();
  const ensureBootstrapSecret = async (namespace: string) => {
    try {
      await certificates.ensureBootstrapSecret(namespace);
      pending.delete(namespace);
    } catch (e) {
      pending.add(namespace);
      throw e;
    }
  };
  const admissions: AdmissionCounters = { injected: 0, skipped: 0, denied: 0, secretErrors: 0 };
  // In selector mode a namespace the informers do not (yet) know to match is read: a pod created
  // right after its namespace got the label must not start unprotected.
  const inScope = async (namespace: string) =>
    source?.watchesNamespace(namespace) === true ||
    namespaceInScope(config.watch, namespace, async (name) => {
      try {
        return (await core.readNamespace({ name })).metadata?.labels ?? {};
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) return undefined;
        throw e;
      }
    });
  const admit = podAdmitter(
    { config, nativeSidecars: () => native, ensureBootstrapSecret, inScope, log },
    admissions,
  );

  let ready = false;
  const webhookCounters = newCounters();
  const app = webhookApp({ admitPod: admit, ready: () => ready, log }, webhookCounters);
  const toWebhookTls = (c: { chainPem: string; privateKeyPem: string }) => ({
    certificatePem: c.chainPem,
    privateKeyPem: c.privateKeyPem,
  });
  let webhook: WebhookServer | undefined;
  let xds: XdsServer | undefined;
  let health: ReturnType<typeof Bun.serve> | undefined;
  const timers: ReturnType<typeof setInterval>[] = [];
  const cache = new ConfigCache();
  const status = new EngineStatusStore();
  const controller = new EngineController(cache, new PodConfigEncoder(), log);
  let source: KubeSource | undefined;
  const statusWriter = new StatusWriter({
    kubeConfig,
    operatorNamespace: config.operatorNamespace,
    status,
    controller,
    podUid: (podKey) => source?.current().podUids.get(podKey),
    desiredResources: (nodeId) => {
      const out: Record<string, string[]> = {};
      for (const typeUrl of [TypeUrl.Cluster, TypeUrl.Listener, TypeUrl.RouteConfiguration, TypeUrl.Secret]) {
        const names = [...cache.resources(nodeId, typeUrl).keys()].sort();
        if (names.length > 0) out[typeUrl] = names;
      }
      return out;
    },
    log,
  });

  // Shared objects (SidecarGateway status, Events on invalid objects) are written by the leader only.
  let leading = false;
  const gatewayStatusWriter = new GatewayStatusWriter({
    kubeConfig,
    status,
    controller,
    snapshot: () => source?.current(),
    isLeader: () => leading,
    log,
  });
  const invalidObjectEvents = new InvalidObjectEvents({ kubeConfig, isLeader: () => leading, log });

  let election: LeaderElection | undefined;
  const stop = async () => {
    for (const t of timers) clearInterval(t);
    // Final flushes first, while this replica may still hold the lease.
    await Promise.allSettled([gatewayStatusWriter.stop(), invalidObjectEvents.stop()]);
    await election?.stop();
    await Promise.allSettled([source?.stop(), statusWriter.stop()]);
    await Promise.allSettled([webhook?.stop(), xds?.close(), health?.stop(true)]);
  };

  try {
    webhook = await startWebhookServer({
      fetch: app.fetch,
      tls: toWebhookTls(await certificates.webhookServing()),
      host,
      port: config.webhook.port,
    });
    const xdsTls = (c: { chainPem: string; privateKeyPem: string }) => ({
      certificatePem: c.chainPem,
      privateKeyPem: c.privateKeyPem,
      caPem: ca.certificatePem,
    });
    xds = await startXdsServer({
      cache,
      status,
      tls: xdsTls(await certificates.xdsServing()),
      host,
      port: config.xds.port,
      log,
    });
    health = Bun.serve({
      hostname: host,
      port: config.health.port,
      fetch(req) {
        const path = new URL(req.url).pathname;
        if (path === "/healthz") return new Response("ok");
        if (path === "/readyz")
          return ready ? new Response("ok") : new Response("not ready", { status: 503 });
        return new Response("not found", { status: 404 });
      },
    });

    const syncBundle = async () => {
      try {
        const r = await syncCaBundle(admissionApi, config.webhook.configurationName, ca.certificatePem);
        if (r === "updated")
          log(
            `operator: set the caBundle of MutatingWebhookConfiguration ${config.webhook.configurationName}`,
          );
      } catch (e) {
        log(`operator: caBundle of ${config.webhook.configurationName}: ${errorMessage(e)}`);
      }
    };
    // One replica (the Lease holder) renews the bootstrap secrets and keeps the caBundle; every
    // replica serves webhook and xDS with its own serving certificates and creates a missing
    // bootstrap secret at admission (a create race is harmless).
    election = startLeaderElection({
      api: kubeLeaseApi(kubeConfig.makeApiClient(CoordinationV1Api)),
      namespace: config.operatorNamespace,
      identity: leaderIdentity(),
      ...(opts.leaderElection ?? config.leaderElection),
      log,
      onStartedLeading: () => {
        leading = true;
        log(
          "operator: leading (renews bootstrap secrets, keeps the webhook caBundle, writes SidecarGateway status)",
        );
        void syncBundle();
      },
      onStoppedLeading: () => {
        leading = false;
        log("operator: no longer leading");
      },
    });

    // The controller: custom resources and injected pods -> engine configurations -> status.
    statusWriter.start();
    gatewayStatusWriter.start();
    invalidObjectEvents.start();
    source = await startKubeSource({
      kubeConfig,
      operatorNamespace: config.operatorNamespace,
      scope: config.watch,
      log,
      onSnapshot: (snapshot) => {
        for (const [id, error] of snapshot.invalid) log(`controller: ${id} is invalid: ${error.message}`);
        const result = controller.apply(snapshot);
        statusWriter.markPods(result.recomputed);
        gatewayStatusWriter.onSnapshot(snapshot);
        invalidObjectEvents.onSnapshot(snapshot);
        for (const podKey of result.removed) {
          statusWriter.forget(podKey);
          const slash = podKey.indexOf("/");
          status.delete(nodeIdOf({ namespace: podKey.slice(0, slash), name: podKey.slice(slash + 1) }));
        }
      },
    });

    const renew = async () => {
      webhook?.updateTls(toWebhookTls(await certificates.webhookServing()));
      xds?.updateTls(xdsTls(await certificates.xdsServing()));
      const n = leading ? await certificates.renewBootstrapSecrets() : 0;
      log(`operator: renewed the serving certificates${leading ? ` and ${n} bootstrap secret(s)` : ""}`);
    };
    // Bootstrap secrets are renewed once they are a renewal period old. Checking only once per
    // period would let a secret issued just after a check wait almost two periods; checking four
    // times per period bounds its age to 1.25 periods.
    const renewDueSecrets = async () => {
      if (!leading) return;
      const n = await certificates.renewBootstrapSecrets();
      if (n > 0) log(`operator: renewed ${n} bootstrap secret(s)`);
    };
    timers.push(
      setInterval(() => {
        renew().catch((e) => log(`operator: renewal failed: ${errorMessage(e)}`));
      }, config.certificates.renewalPeriodMs),
      setInterval(() => {
        renewDueSecrets().catch((e) => log(`operator: renewal failed: ${errorMessage(e)}`));
      }, config.certificates.renewalPeriodMs / 4),
      setInterval(() => {
        if (leading) void syncBundle();
        for (const ns of [...pending]) void ensureBootstrapSecret(ns).catch(() => {});
      }, opts.reconcileIntervalMs ?? 10_000),
    );

    ready = true;
    log(
      `operator: ready (webhook :${webhook.port}, xDS :${xds.port}, health :${health.port}, namespace ${config.operatorNamespace}, watching ${describeWatchScope(config.watch)})`,
    );
    return {
      webhookPort: webhook.port,
      xdsPort: xds.port,
      healthPort: health.port ?? config.health.port,
      certificates,
      cache,
      status,
      admissions,
      controller,
      statusWriter,
      gatewayStatusWriter,
      isLeader: () => leading,
      renew,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
