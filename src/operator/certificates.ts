import "reflect-metadata";
import { isIP } from "node:net";
import type { V1Secret } from "@kubernetes/client-node";
import { BOOTSTRAP_FILES, engineBootstrapYaml, sdsSecretFiles } from "../bootstrap/engine-bootstrap.ts";
import { type Authority, createAuthority, loadAuthority } from "../certs/authority.ts";
import { engineSpiffeId } from "../certs/identity.ts";
import { type IssuedCertificate, issueClientCertificate, issueServerCertificate } from "../certs/issue.ts";
import { errorMessage, MicrogatewayError } from "../errors.ts";
import type { OperatorConfig } from "../inject/operator-config.ts";
import {
  BOOTSTRAP_SECRET,
  CA_SECRET,
  ISSUED_AT_ANNOTATION,
  KUBERNETES_MANAGED_BY,
  KUBERNETES_MANAGED_BY_LABEL,
  MANAGED_BY_LABEL,
} from "./names.ts";
import { type SecretStore, secretData, secretText } from "./secret-store.ts";

/** Where the bootstrap secret is mounted in the engine container (public API). */
const CONFIG_DIR = "/app/config";

export interface OperatorCertificatesOptions {
  readonly store: SecretStore;
  readonly config: OperatorConfig;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
}

/** What `ensureBootstrapSecret` did. */
export type BootstrapSecretResult = "created" | "renewed" | "current";

/**
 * The operator's certificates: its CA (secret `airlock-microgateway-ca-cert`, created once and
 * shared by every replica), the serving certificates of the webhook and the xDS server (kept in
 * memory, re-issued on every renewal), and one bootstrap secret per application namespace with the
 * engines' client certificate, bound to that namespace.
 */
export class OperatorCertificates {
  private ca: Promise<Authority> | undefined;
  /** Namespaces whose bootstrap secret is known to be current, with its issue time. */
  private readonly fresh = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<BootstrapSecretResult>>();

  constructor(private readonly opts: OperatorCertificatesOptions) {}

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  /** The CA: loaded from its secret, or created (once, across replicas) when there is none. */
  authority(): Promise<Authority> {
    this.ca ??= this.loadOrCreateAuthority().catch((e) => {
      this.ca = undefined;
      throw e;
    });
    return this.ca;
  }

  private async loadOrCreateAuthority(): Promise<Authority> {
    const { store, config } = this.opts;
    const ns = config.operatorNamespace;
    const existing = await store.get(ns, CA_SECRET);
    if (existing) return loadCaSecret(existing, ns);
    const ca = await createAuthority({ commonName: `microgateway operator CA (${ns})`, now: this.now() });
    const created = await store.create(ns, {
      apiVersion: "v1",
      kind: "Secret",
      type: "kubernetes.io/tls",
      metadata: { name: CA_SECRET, namespace: ns, labels: labels(ns) },
      data: secretData({
        "tls.crt": ca.certificatePem,
        "tls.key": ca.privateKeyPem,
        "ca.crt": ca.certificatePem,
      }),
    });
    if (created) {
      this.opts.log?.(`certificates: created CA secret ${ns}/${CA_SECRET}`);
      return ca;
    }
    // Another replica created it first: use theirs.
    const theirs = await store.get(ns, CA_SECRET);
    if (!theirs)
      throw new MicrogatewayError("Internal", `secret ${ns}/${CA_SECRET} vanished while being created`);
    return loadCaSecret(theirs, ns);
  }

  /** A fresh serving certificate for the webhook: `<service>.<namespace>.svc[.cluster.local]` plus extra SANs. */
  async webhookServing(): Promise<IssuedCertificate> {
    const { config } = this.opts;
    const svc = `${config.webhook.serviceName}.${config.operatorNamespace}`;
    return this.serving("microgateway webhook", [
      `${svc}.svc`,
      `${svc}.svc.cluster.local`,
      ...config.webhook.extraSANs,
    ]);
  }

  /** A fresh serving certificate for the xDS server: its host plus extra SANs. */
  async xdsServing(): Promise<IssuedCertificate> {
    const { config } = this.opts;
    return this.serving("microgateway xds", [config.xds.host, ...config.xds.extraSANs]);
  }

  private async serving(commonName: string, names: readonly string[]): Promise<IssuedCertificate> {
    const unique = [...new Set(names)];
    return issueServerCertificate(await this.authority(), {
      commonName,
      dnsNames: unique.filter((n) => isIP(n) === 0),
      ipAddresses: unique.filter((n) => isIP(n) !== 0),
      validityHours: this.opts.config.certificates.leafValidityMs / 3_600_000,
      now: this.now(),
    });
  }

  /**
   * Makes sure `namespace` has a current bootstrap secret: created if missing, renewed if older than
   * the renewal period or issued by another CA. Concurrent calls for one namespace share one
   * request, and a namespace known to be current costs no API call.
   */
  ensureBootstrapSecret(namespace: string): Promise<BootstrapSecretResult> {
    const issued = this.fresh.get(namespace);
    if (
      issued !== undefined &&
      this.now().getTime() - issued < this.opts.config.certificates.renewalPeriodMs
    ) {
      return Promise.resolve("current");
    }
    let p = this.inFlight.get(namespace);
    if (!p) {
      p = this.reconcileBootstrapSecret(namespace).finally(() => this.inFlight.delete(namespace));
      this.inFlight.set(namespace, p);
    }
    return p;
  }

  /**
   * Renews every bootstrap secret that is due (the periodic job); returns how many were renewed.
   * With a fixed list of watched namespaces it reads the secret of each (the operator may hold only
   * Roles in those namespaces); otherwise one list across the cluster, selected by name.
   */
  async renewBootstrapSecrets(): Promise<number> {
    const { store, config } = this.opts;
    const watch = config.watch;
    const secrets =
      watch.mode === "namespaces"
        ? (await Promise.all(watch.namespaces.map((ns) => store.get(ns, BOOTSTRAP_SECRET)))).filter(
            (s): s is V1Secret => s !== undefined,
          )
        : await store.listByName(BOOTSTRAP_SECRET);
    let renewed = 0;
    for (const s of secrets) {
      const ns = s.metadata?.namespace;
      if (!ns || s.metadata?.labels?.[MANAGED_BY_LABEL] !== config.operatorNamespace) continue;
      try {
        if ((await this.ensureBootstrapSecret(ns)) === "renewed") renewed++;
      } catch (e) {
        this.opts.log?.(`certificates: renewing ${ns}/${BOOTSTRAP_SECRET} failed: ${errorMessage(e)}`);
      }
    }
    return renewed;
  }

  private async reconcileBootstrapSecret(namespace: string): Promise<BootstrapSecretResult> {
    const { store, config } = this.opts;
    const ca = await this.authority();
    const existing = await store.get(namespace, BOOTSTRAP_SECRET);
    const now = this.now();
    if (existing) {
      const issuedAt = Date.parse(existing.metadata?.annotations?.[ISSUED_AT_ANNOTATION] ?? "");
      const sameCa = secretText(existing, BOOTSTRAP_FILES.ca) === ca.certificatePem;
      if (
        sameCa &&
        Number.isFinite(issuedAt) &&
        now.getTime() - issuedAt < config.certificates.renewalPeriodMs
      ) {
        this.fresh.set(namespace, issuedAt);
        return "current";
      }
    }
    const body = await this.bootstrapSecret(namespace, ca, now);
    if (existing) {
      body.metadata = { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion };
      await store.replace(namespace, body);
      this.opts.log?.(`certificates: renewed ${namespace}/${BOOTSTRAP_SECRET}`);
    } else if (!(await store.create(namespace, body))) {
      // Created meanwhile by another replica or request: check that one on the next call.
      return this.reconcileBootstrapSecret(namespace);
    } else {
      this.opts.log?.(`certificates: created ${namespace}/${BOOTSTRAP_SECRET}`);
    }
    this.fresh.set(namespace, now.getTime());
    return existing ? "renewed" : "created";
  }

  private async bootstrapSecret(namespace: string, ca: Authority, now: Date): Promise<V1Secret> {
    const { config } = this.opts;
    const client = await issueClientCertificate(ca, {
      commonName: `microgateway engine (${namespace})`,
      uris: [engineSpiffeId(namespace)],
      validityHours: config.certificates.leafValidityMs / 3_600_000,
      now,
    });
    const files = {
      [BOOTSTRAP_FILES.bootstrap]: engineBootstrapYaml({
        operatorNamespace: config.operatorNamespace,
        xdsHost: config.xds.host,
        xdsPort: config.xds.port,
        configDir: CONFIG_DIR,
      }),
      ...sdsSecretFiles({
        certPath: `${CONFIG_DIR}/${BOOTSTRAP_FILES.certificate}`,
        keyPath: `${CONFIG_DIR}/${BOOTSTRAP_FILES.privateKey}`,
        caPath: `${CONFIG_DIR}/${BOOTSTRAP_FILES.ca}`,
      }),
      [BOOTSTRAP_FILES.certificate]: client.chainPem,
      [BOOTSTRAP_FILES.privateKey]: client.privateKeyPem,
      [BOOTSTRAP_FILES.ca]: ca.certificatePem,
    };
    return {
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: {
        name: BOOTSTRAP_SECRET,
        namespace,
        labels: labels(config.operatorNamespace),
        annotations: { [ISSUED_AT_ANNOTATION]: now.toISOString() },
      },
      data: secretData(files),
    };
  }
}

function labels(operatorNamespace: string): Record<string, string> {
  return { [MANAGED_BY_LABEL]: operatorNamespace, [KUBERNETES_MANAGED_BY_LABEL]: KUBERNETES_MANAGED_BY };
}

async function loadCaSecret(secret: V1Secret, namespace: string): Promise<Authority> {
  const cert = secretText(secret, "tls.crt");
  const key = secretText(secret, "tls.key");
  if (!cert || !key) {
    throw new MicrogatewayError(
      "InvalidResource",
      `Secret ${namespace}/${CA_SECRET}: data must hold tls.crt and tls.key (PEM); delete it to let the operator create a new CA`,
    );
  }
  try {
    return await loadAuthority(cert, key);
  } catch (e) {
    throw new MicrogatewayError("InvalidResource", `Secret ${namespace}/${CA_SECRET}: ${errorMessage(e)}`);
  }
}
