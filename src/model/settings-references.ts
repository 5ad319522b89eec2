/**
 * The objects a SidecarGateway's settings reference (reference §3.3, §3.10): EnvoyClusters,
 * EnvoyHTTPFilters and Secrets (server certificate, client CAs, CRLs). One walk lists them for the
 * dependency index, checks that they exist and fit, and resolves them for the translator; every
 * error names the gateway field and the referenced object.
 */
import { MicrogatewayError } from "../errors.ts";
import type { GatewayDependency, Model } from "./model.ts";
import { caBundle, crlBundle, type TlsKeyPair, tlsKeyPair } from "./secret-content.ts";
import type {
  Application,
  CrlSettings,
  EnvoyCluster,
  EnvoyHTTPFilter,
  LocalRef,
  SecretObject,
  SidecarGateway,
  TrustedCASettings,
} from "./types.ts";

/** One reference of a gateway: what it points at and the field holding it. */
interface SettingsReference {
  readonly kind: "EnvoyCluster" | "EnvoyHTTPFilter" | "Secret";
  readonly name: string;
  /** `SidecarGateway ns/gw: spec.applications[0].downstream.tls.secretRef` */
  readonly at: string;
}

/** Every EnvoyCluster, EnvoyHTTPFilter and Secret reference of the gateway, in spec order. */
function referencesOf(gateway: SidecarGateway): SettingsReference[] {
  const prefix = `SidecarGateway ${gateway.metadata.namespace}/${gateway.metadata.name}: spec`;
  const refs: SettingsReference[] = [];
  gateway.spec.envoyClusterRefs?.forEach((r, i) => {
    refs.push({ kind: "EnvoyCluster", name: r.name, at: `${prefix}.envoyClusterRefs[${i}]` });
  });
  gateway.spec.applications.forEach((app, a) => {
    const appAt = `${prefix}.applications[${a}]`;
    for (const side of ["prepend", "append"] as const) {
      app.envoyHTTPFilterRefs?.[side].forEach((r, i) => {
        refs.push({
          kind: "EnvoyHTTPFilter",
          name: r.name,
          at: `${appAt}.envoyHTTPFilterRefs.${side}[${i}]`,
        });
      });
    }
    const tls = app.downstream?.tls;
    if (tls === undefined) return;
    const tlsAt = `${appAt}.downstream.tls`;
    refs.push({ kind: "Secret", name: tls.secretRef.name, at: `${tlsAt}.secretRef` });
    const client = tls.clientCertificate;
    if (client.kind === "ignored") return;
    const clientAt = `${tlsAt}.clientCertificate.${client.kind}`;
    client.trustedCA?.secretRefs.forEach((r, i) => {
      refs.push({ kind: "Secret", name: r.name, at: `${clientAt}.trustedCA.certificates[${i}].secretRef` });
    });
    client.crl?.secretRefs.forEach((r, i) => {
      refs.push({ kind: "Secret", name: r.name, at: `${clientAt}.crl.lists[${i}].secretRef` });
    });
  });
  return refs;
}

function lookup(model: Model, kind: SettingsReference["kind"], key: string) {
  if (kind === "EnvoyCluster") return model.envoyClusters.get(key);
  if (kind === "EnvoyHTTPFilter") return model.envoyHTTPFilters.get(key);
  return model.secrets.get(key);
}

/** The referenced objects of a gateway's settings (for `gatewayDependencies`), each once. */
export function settingsDependencies(model: Model, gateway: SidecarGateway): GatewayDependency[] {
  const ns = gateway.metadata.namespace;
  const deps = new Map<string, string | undefined>();
  for (const r of referencesOf(gateway)) {
    const key = `${ns}/${r.name}`;
    deps.set(`${r.kind} ${key}`, lookup(model, r.kind, key)?.metadata.resourceVersion);
  }
  return [...deps].map(([id, version]) => ({ id, version }));
}

/** Every missing or unfit reference of every gateway's settings (for `validateModel`). */
export function validateSettingsReferences(model: Model): MicrogatewayError[] {
  const errors: MicrogatewayError[] = [];
  for (const gateway of model.gateways.values()) {
    for (const r of referencesOf(gateway)) {
      try {
        const key = `${gateway.metadata.namespace}/${r.name}`;
        const found = lookup(model, r.kind, key);
        if (found === undefined) throw missing(r, key);
        if (found.kind === "Secret") checkSecretFits(r, found);
      } catch (e) {
        errors.push(e as MicrogatewayError);
      }
    }
  }
  return errors;
}

function checkSecretFits(r: SettingsReference, secret: SecretObject): void {
  if (r.at.endsWith(".tls.secretRef")) tlsKeyPair(secret, r.at);
  else if (r.at.includes(".crl.")) crlBundle(secret, r.at);
  else caBundle(secret, r.at);
}

function missing(r: SettingsReference, key: string): MicrogatewayError {
  return new MicrogatewayError(
    "InvalidReference",
    `${r.at} ${JSON.stringify(r.name)}: ${r.kind} ${key} does not exist`,
  );
}

function resolve<T extends EnvoyCluster | EnvoyHTTPFilter | SecretObject>(
  model: Model,
  gateway: SidecarGateway,
  kind: T["kind"],
  ref: LocalRef,
  at: string,
): T {
  const key = `${gateway.metadata.namespace}/${ref.name}`;
  const found = lookup(model, kind, key);
  if (found === undefined) throw missing({ kind, name: ref.name, at }, key);
  return found as T;
}

function gatewayPrefix(gateway: SidecarGateway): string {
  return `SidecarGateway ${gateway.metadata.namespace}/${gateway.metadata.name}: spec`;
}

/** The gateway's EnvoyClusters, in spec order. Throws InvalidReference for a missing one. */
export function resolveEnvoyClusters(model: Model, gateway: SidecarGateway): EnvoyCluster[] {
  return (gateway.spec.envoyClusterRefs ?? []).map((r, i) =>
    resolve<EnvoyCluster>(
      model,
      gateway,
      "EnvoyCluster",
      r,
      `${gatewayPrefix(gateway)}.envoyClusterRefs[${i}]`,
    ),
  );
}

/** An application's EnvoyHTTPFilters before and after ours, in spec order. */
export function resolveEnvoyHTTPFilters(
  model: Model,
  gateway: SidecarGateway,
  appIndex: number,
): { prepend: EnvoyHTTPFilter[]; append: EnvoyHTTPFilter[] } {
  const app = gateway.spec.applications[appIndex] as Application;
  const at = `${gatewayPrefix(gateway)}.applications[${appIndex}].envoyHTTPFilterRefs`;
  const list = (side: "prepend" | "append") =>
    (app.envoyHTTPFilterRefs?.[side] ?? []).map((r, i) =>
      resolve<EnvoyHTTPFilter>(model, gateway, "EnvoyHTTPFilter", r, `${at}.${side}[${i}]`),
    );
  return { prepend: list("prepend"), append: list("append") };
}

/** The server certificate and key of an application's downstream TLS, checked. */
export function resolveServerCertificate(
  model: Model,
  gateway: SidecarGateway,
  appIndex: number,
  ref: LocalRef,
): { secret: SecretObject; keyPair: TlsKeyPair } {
  const at = `${gatewayPrefix(gateway)}.applications[${appIndex}].downstream.tls.secretRef`;
  const secret = resolve<SecretObject>(model, gateway, "Secret", ref, at);
  return { secret, keyPair: tlsKeyPair(secret, at) };
}

/** The client CA bundle (and CRLs) of an application's downstream TLS, concatenated PEM. */
export function resolveClientValidation(
  model: Model,
  gateway: SidecarGateway,
  appIndex: number,
  kind: "optional" | "required",
  trustedCA: TrustedCASettings | undefined,
  crl: CrlSettings | undefined,
): { trustedCA?: string; crl?: string } {
  const at = `${gatewayPrefix(gateway)}.applications[${appIndex}].downstream.tls.clientCertificate.${kind}`;
  const ca = trustedCA?.secretRefs.map((r, i) => {
    const refAt = `${at}.trustedCA.certificates[${i}].secretRef`;
    return caBundle(resolve<SecretObject>(model, gateway, "Secret", r, refAt), refAt);
  });
  const crls = crl?.secretRefs.map((r, i) => {
    const refAt = `${at}.crl.lists[${i}].secretRef`;
    return crlBundle(resolve<SecretObject>(model, gateway, "Secret", r, refAt), refAt);
  });
  return {
    ...(ca ? { trustedCA: ca.map(endWithNewline).join("") } : {}),
    ...(crls ? { crl: crls.map(endWithNewline).join("") } : {}),
  };
}

function endWithNewline(pem: string): string {
  return pem.endsWith("\n") ? pem : `${pem}\n`;
}
