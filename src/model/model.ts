/**
 * The model snapshot: every validated object of one moment, indexed by `namespace/name`, plus the
 * queries translation needs (which gateways select a pod, which deny rules protect a route).
 *
 * A snapshot is never changed; a source builds a new one for every change, so a stage holding the
 * previous snapshot keeps a consistent view (and a bad change can be rejected without side effects).
 */

import { MicrogatewayError } from "../errors.ts";
import { DEFAULT_HEADER_REWRITES_SPEC, type HeaderRewritesSpec } from "./header-rewrites.ts";
import { settingsDependencies, validateSettingsReferences } from "./settings-references.ts";
import { DEFAULT_TELEMETRY_SPEC, type TelemetrySpec } from "./telemetry.ts";
import {
  type ContentSecurity,
  DEFAULT_DENY_RULES_SPEC,
  type DenyRules,
  type DenyRulesSpec,
  type EnvoyCluster,
  type EnvoyHTTPFilter,
  type HeaderRewrites,
  type Limits,
  type LimitsSpec,
  type ModelObject,
  type Parser,
  type ParserSpec,
  type PodInfo,
  type SecretObject,
  type SecuredRoute,
  type SidecarGateway,
  type Telemetry,
} from "./types.ts";

/** One consistent set of objects. Maps are keyed `namespace/name`, iterate in key order and must not be altered. */
export interface Model {
  readonly gateways: ReadonlyMap<string, SidecarGateway>;
  readonly contentSecurities: ReadonlyMap<string, ContentSecurity>;
  readonly denyRules: ReadonlyMap<string, DenyRules>;
  readonly headerRewrites: ReadonlyMap<string, HeaderRewrites>;
  readonly telemetries: ReadonlyMap<string, Telemetry>;
  readonly limits: ReadonlyMap<string, Limits>;
  readonly parsers: ReadonlyMap<string, Parser>;
  readonly pods: ReadonlyMap<string, PodInfo>;
  readonly envoyClusters: ReadonlyMap<string, EnvoyCluster>;
  readonly envoyHTTPFilters: ReadonlyMap<string, EnvoyHTTPFilter>;
  /** Kubernetes Secrets (TLS certificates and CAs the gateways reference). */
  readonly secrets: ReadonlyMap<string, SecretObject>;
}

/** What `resolveDenyRules` found: the spec to enforce and where it came from. */
export interface ResolvedDenyRules {
  readonly spec: DenyRulesSpec;
  /** `DenyRules <namespace>/<name>`, or `DEFAULT_DENY_RULES_SOURCE` when the API defaults apply. */
  readonly source: string;
}

/** `ResolvedDenyRules.source` when no DenyRules object is referenced and the API's defaults apply. */
export const DEFAULT_DENY_RULES_SOURCE = "default";

/** The key of an object in the model maps: `namespace/name`. */
export function objectKey(meta: { readonly namespace: string; readonly name: string }): string {
  return `${meta.namespace}/${meta.name}`;
}

/**
 * Indexes `objects` into a snapshot. Throws `InvalidResource` naming both origins when two objects
 * share kind, namespace and name: neither may silently win, since which one did would depend on
 * file order.
 */
export function buildModel(objects: Iterable<ModelObject>): Model {
  const byKind = {
    SidecarGateway: new Map<string, SidecarGateway>(),
    ContentSecurity: new Map<string, ContentSecurity>(),
    DenyRules: new Map<string, DenyRules>(),
    HeaderRewrites: new Map<string, HeaderRewrites>(),
    Telemetry: new Map<string, Telemetry>(),
    Limits: new Map<string, Limits>(),
    Parser: new Map<string, Parser>(),
    Pod: new Map<string, PodInfo>(),
    EnvoyCluster: new Map<string, EnvoyCluster>(),
    EnvoyHTTPFilter: new Map<string, EnvoyHTTPFilter>(),
    Secret: new Map<string, SecretObject>(),
  };
  for (const obj of objects) {
    const kind = "kind" in obj ? obj.kind : "Pod";
    const map: Map<string, ModelObject> = byKind[kind];
    const key = objectKey(obj.metadata);
    const earlier = map.get(key);
    if (earlier !== undefined) {
      throw new MicrogatewayError(
        "InvalidResource",
        `${kind} ${key} is defined twice: in ${originOf(earlier)} and in ${originOf(obj)}`,
      );
    }
    map.set(key, obj);
  }
  return Object.freeze({
    gateways: sorted(byKind.SidecarGateway),
    contentSecurities: sorted(byKind.ContentSecurity),
    denyRules: sorted(byKind.DenyRules),
    headerRewrites: sorted(byKind.HeaderRewrites),
    telemetries: sorted(byKind.Telemetry),
    limits: sorted(byKind.Limits),
    parsers: sorted(byKind.Parser),
    pods: sorted(byKind.Pod),
    envoyClusters: sorted(byKind.EnvoyCluster),
    envoyHTTPFilters: sorted(byKind.EnvoyHTTPFilter),
    secrets: sorted(byKind.Secret),
  });
}

/** The snapshot with nothing in it. */
export const EMPTY_MODEL: Model = buildModel([]);

/** SidecarGateways in the pod's namespace whose `podSelector.matchLabels` are all on the pod, sorted by name. */
export function gatewaysForPod(model: Model, pod: PodInfo): SidecarGateway[] {
  const labels = pod.metadata.labels ?? {};
  const selected: SidecarGateway[] = [];
  for (const gw of model.gateways.values()) {
    if (gw.metadata.namespace !== pod.metadata.namespace) continue;
    const wanted = Object.entries(gw.spec.podSelector.matchLabels);
    if (wanted.every(([key, value]) => labels[key] === value)) selected.push(gw);
  }
  return selected.sort((a, b) => compare(a.metadata.name, b.metadata.name));
}

/** The prefix error messages use for a route: `SidecarGateway ns/gw: spec.applications[0].routes[1]`. */
export function routeLocation(gateway: SidecarGateway, applicationIndex: number, routeIndex: number): string {
  return `SidecarGateway ${objectKey(gateway.metadata)}: spec.applications[${applicationIndex}].routes[${routeIndex}]`;
}

/** One object a gateway's translation reads, and its version (undefined when it does not exist). */
export interface GatewayDependency {
  /** `Kind namespace/name`, as the Kubernetes source names changed objects. */
  readonly id: string;
  readonly version: string | undefined;
}

/**
 * The objects a gateway's translation reads besides the gateway itself: the Telemetry of each
 * application, the ContentSecurity of each secured route and the DenyRules, HeaderRewrites, Limits
 * and Parser it names, each once, in application and route order. Missing objects are listed too
 * (version undefined): their appearance must trigger a recomputation.
 */
export function gatewayDependencies(model: Model, gateway: SidecarGateway): GatewayDependency[] {
  const ns = gateway.metadata.namespace;
  const deps = new Map<string, string | undefined>();
  for (const app of gateway.spec.applications) {
    const telemetryName = app.telemetryRef?.name;
    if (telemetryName !== undefined) {
      deps.set(
        `Telemetry ${ns}/${telemetryName}`,
        model.telemetries.get(`${ns}/${telemetryName}`)?.metadata.resourceVersion,
      );
    }
    for (const route of app.routes) {
      const csName = route.secured?.contentSecurityRef?.name;
      if (csName === undefined || deps.has(`ContentSecurity ${ns}/${csName}`)) continue;
      const cs = model.contentSecurities.get(`${ns}/${csName}`);
      deps.set(`ContentSecurity ${ns}/${csName}`, cs?.metadata.resourceVersion);
      const drName = cs?.spec.filter?.denyRulesRef?.name;
      if (drName !== undefined) {
        deps.set(
          `DenyRules ${ns}/${drName}`,
          model.denyRules.get(`${ns}/${drName}`)?.metadata.resourceVersion,
        );
      }
      const hrName = cs?.spec.headerRewritesRef?.name;
      if (hrName !== undefined) {
        deps.set(
          `HeaderRewrites ${ns}/${hrName}`,
          model.headerRewrites.get(`${ns}/${hrName}`)?.metadata.resourceVersion,
        );
      }
      const limitsName = cs?.spec.limitsRef?.name;
      if (limitsName !== undefined) {
        deps.set(
          `Limits ${ns}/${limitsName}`,
          model.limits.get(`${ns}/${limitsName}`)?.metadata.resourceVersion,
        );
      }
      const parserName = cs?.spec.parserRef?.name;
      if (parserName !== undefined) {
        deps.set(
          `Parser ${ns}/${parserName}`,
          model.parsers.get(`${ns}/${parserName}`)?.metadata.resourceVersion,
        );
      }
    }
  }
  for (const d of settingsDependencies(model, gateway)) deps.set(d.id, d.version);
  return [...deps].map(([id, version]) => ({ id, version }));
}

/**
 * The header rewrites of a secured route: route.secured.contentSecurityRef -> ContentSecurity
 * spec.headerRewritesRef -> HeaderRewrites, all in `namespace`. Absent refs mean the API defaults
 * (which add security headers and remove leaking ones); a ref to a missing object throws
 * `InvalidReference`, like `resolveDenyRules`.
 */
export function resolveHeaderRewrites(
  model: Model,
  namespace: string,
  route: { readonly secured: SecuredRoute },
  at = "route",
): HeaderRewritesSpec {
  const csRef = route.secured.contentSecurityRef;
  if (csRef === undefined) return DEFAULT_HEADER_REWRITES_SPEC;
  const cs = model.contentSecurities.get(`${namespace}/${csRef.name}`);
  if (cs === undefined) {
    throw new MicrogatewayError(
      "InvalidReference",
      `${at}.secured.contentSecurityRef ${JSON.stringify(csRef.name)}: ContentSecurity ${namespace}/${csRef.name} does not exist`,
    );
  }
  const hrRef = cs.spec.headerRewritesRef;
  if (hrRef === undefined) return DEFAULT_HEADER_REWRITES_SPEC;
  const broken = brokenHeaderRewritesRef(model, cs);
  if (broken !== undefined)
    throw new MicrogatewayError("InvalidReference", `${broken.message} (used by ${at})`);
  return (model.headerRewrites.get(`${namespace}/${hrRef.name}`) as HeaderRewrites).spec;
}

/**
 * The telemetry of an application: its telemetryRef in `namespace`, or the defaults when absent.
 * A ref to a missing Telemetry throws `InvalidReference`. `at` names the application.
 */
export function resolveTelemetry(
  model: Model,
  namespace: string,
  app: { readonly telemetryRef?: { readonly name: string } },
  at = "application",
): TelemetrySpec {
  const ref = app.telemetryRef;
  if (ref === undefined) return DEFAULT_TELEMETRY_SPEC;
  const telemetry = model.telemetries.get(`${namespace}/${ref.name}`);
  if (telemetry === undefined) {
    throw new MicrogatewayError(
      "InvalidReference",
      `${at}.telemetryRef ${JSON.stringify(ref.name)}: Telemetry ${namespace}/${ref.name} does not exist`,
    );
  }
  return telemetry.spec;
}

/**
 * The deny rules protecting a secured route: route.secured.contentSecurityRef -> ContentSecurity
 * spec.filter.denyRulesRef -> DenyRules, all in `namespace`. An absent ref means the API defaults;
 * a ref to a missing object throws `InvalidReference`, because falling back to defaults there would
 * silently weaken protection on a typo. `at` (see `routeLocation`) prefixes the error message.
 */
export function resolveDenyRules(
  model: Model,
  namespace: string,
  route: { readonly secured: SecuredRoute },
  at = "route",
): ResolvedDenyRules {
  const csRef = route.secured.contentSecurityRef;
  if (csRef === undefined) return { spec: DEFAULT_DENY_RULES_SPEC, source: DEFAULT_DENY_RULES_SOURCE };
  const csKey = `${namespace}/${csRef.name}`;
  const cs = model.contentSecurities.get(csKey);
  if (cs === undefined) {
    throw new MicrogatewayError(
      "InvalidReference",
      `${at}.secured.contentSecurityRef ${JSON.stringify(csRef.name)}: ContentSecurity ${csKey} does not exist`,
    );
  }
  const broken = brokenDenyRulesRef(model, cs);
  if (broken !== undefined) {
    throw new MicrogatewayError("InvalidReference", `${broken.message} (used by ${at})`);
  }
  const drRef = cs.spec.filter?.denyRulesRef;
  if (drRef === undefined) return { spec: DEFAULT_DENY_RULES_SPEC, source: DEFAULT_DENY_RULES_SOURCE };
  const dr = model.denyRules.get(`${namespace}/${drRef.name}`) as DenyRules;
  return { spec: dr.spec, source: `DenyRules ${objectKey(dr.metadata)}` };
}

/** What `resolveContentSecurity` found for a secured route; absent limits/parser mean the defaults. */
export interface ResolvedContentSecurity {
  readonly denyRules: DenyRulesSpec;
  readonly limits?: LimitsSpec;
  readonly parser?: ParserSpec;
  /** Where each came from: `DenyRules ns/name`, `Limits ns/name`, `Parser ns/name` or `default`. */
  readonly sources: { readonly denyRules: string; readonly limits: string; readonly parser: string };
}

/**
 * Everything the inspector enforces on a secured route: route.secured.contentSecurityRef ->
 * ContentSecurity -> its DenyRules, Limits and Parser, all in `namespace` (src/inspect/policy.ts
 * `routePolicy` turns the result into the route's policy). Absent refs mean the API's defaults; a ref
 * to a missing object throws `InvalidReference` (falling back to defaults would silently weaken
 * protection on a typo). `at` (see `routeLocation`) prefixes the error message.
 *
 * @example routePolicy(resolveContentSecurity(model, "shop", route, routeLocation(gw, 0, 1)))
 */
export function resolveContentSecurity(
  model: Model,
  namespace: string,
  route: { readonly secured: SecuredRoute },
  at = "route",
): ResolvedContentSecurity {
  const deny = resolveDenyRules(model, namespace, route, at);
  const csRef = route.secured.contentSecurityRef;
  const cs = csRef === undefined ? undefined : model.contentSecurities.get(`${namespace}/${csRef.name}`);
  if (cs !== undefined) {
    const broken = brokenPolicyRefs(model, cs)[0];
    if (broken !== undefined)
      throw new MicrogatewayError("InvalidReference", `${broken.message} (used by ${at})`);
  }
  const limitsRef = cs?.spec.limitsRef;
  const parserRef = cs?.spec.parserRef;
  const limits = limitsRef === undefined ? undefined : model.limits.get(`${namespace}/${limitsRef.name}`);
  const parser = parserRef === undefined ? undefined : model.parsers.get(`${namespace}/${parserRef.name}`);
  return {
    denyRules: deny.spec,
    ...(limits === undefined ? {} : { limits: limits.spec }),
    ...(parser === undefined ? {} : { parser: parser.spec }),
    sources: {
      denyRules: deny.source,
      limits: limits === undefined ? DEFAULT_DENY_RULES_SOURCE : `Limits ${objectKey(limits.metadata)}`,
      parser: parser === undefined ? DEFAULT_DENY_RULES_SOURCE : `Parser ${objectKey(parser.metadata)}`,
    },
  };
}

/**
 * Every problem of the snapshot as a whole, in a stable order: references to missing objects
 * (each reported once, at the object holding the ref), references to kinds not supported yet whose
 * absence would weaken protection, and pods selected by more than one SidecarGateway.
 */
export function validateModel(model: Model): MicrogatewayError[] {
  const errors: MicrogatewayError[] = [];
  for (const gw of model.gateways.values()) {
    gw.spec.applications.forEach((app, a) => {
      app.routes.forEach((route, r) => {
        if (route.secured === undefined) return;
        const at = routeLocation(gw, a, r);
        const csRef = route.secured.contentSecurityRef;
        const csKey = `${gw.metadata.namespace}/${csRef?.name}`;
        if (csRef !== undefined && !model.contentSecurities.has(csKey)) {
          errors.push(
            new MicrogatewayError(
              "InvalidReference",
              `${at}.secured.contentSecurityRef ${JSON.stringify(csRef.name)}: ContentSecurity ${csKey} does not exist`,
            ),
          );
        }
        // Without AccessControl support the route would be served unauthenticated: say so loudly.
        const acRef = route.secured.accessControlRef;
        if (acRef !== undefined) {
          errors.push(
            new MicrogatewayError(
              "InvalidReference",
              `${at}.secured.accessControlRef ${JSON.stringify(acRef.name)}: AccessControl is not supported yet`,
            ),
          );
        }
      });
    });
  }
  for (const cs of model.contentSecurities.values()) {
    const broken = brokenDenyRulesRef(model, cs);
    if (broken !== undefined) errors.push(broken);
    const brokenRewrites = brokenHeaderRewritesRef(model, cs);
    if (brokenRewrites !== undefined) errors.push(brokenRewrites);
    errors.push(...brokenPolicyRefs(model, cs));
  }
  for (const gw of model.gateways.values()) {
    gw.spec.applications.forEach((app, a) => {
      const ref = app.telemetryRef;
      const key = `${gw.metadata.namespace}/${ref?.name}`;
      if (ref !== undefined && !model.telemetries.has(key)) {
        errors.push(
          new MicrogatewayError(
            "InvalidReference",
            `SidecarGateway ${objectKey(gw.metadata)}: spec.applications[${a}].telemetryRef ${JSON.stringify(ref.name)}: Telemetry ${key} does not exist`,
          ),
        );
      }
    });
  }
  errors.push(...validateSettingsReferences(model));
  for (const pod of model.pods.values()) {
    const selecting = gatewaysForPod(model, pod);
    if (selecting.length > 1) {
      errors.push(
        new MicrogatewayError(
          "InvalidResource",
          `Pod ${objectKey(pod.metadata)} is selected by more than one SidecarGateway: ${selecting
            .map((gw) => objectKey(gw.metadata))
            .join(", ")}`,
        ),
      );
    }
  }
  return errors;
}

function brokenDenyRulesRef(model: Model, cs: ContentSecurity): MicrogatewayError | undefined {
  const ref = cs.spec.filter?.denyRulesRef;
  if (ref === undefined) return undefined;
  const key = `${cs.metadata.namespace}/${ref.name}`;
  if (model.denyRules.has(key)) return undefined;
  return new MicrogatewayError(
    "InvalidReference",
    `ContentSecurity ${objectKey(cs.metadata)}: spec.filter.denyRulesRef ${JSON.stringify(ref.name)}: DenyRules ${key} does not exist`,
  );
}

function brokenHeaderRewritesRef(model: Model, cs: ContentSecurity): MicrogatewayError | undefined {
  const ref = cs.spec.headerRewritesRef;
  if (ref === undefined) return undefined;
  const key = `${cs.metadata.namespace}/${ref.name}`;
  if (model.headerRewrites.has(key)) return undefined;
  return new MicrogatewayError(
    "InvalidReference",
    `ContentSecurity ${objectKey(cs.metadata)}: spec.headerRewritesRef ${JSON.stringify(ref.name)}: HeaderRewrites ${key} does not exist`,
  );
}

/** References of a ContentSecurity to a Limits or Parser that does not exist. */
function brokenPolicyRefs(model: Model, cs: ContentSecurity): MicrogatewayError[] {
  const errors: MicrogatewayError[] = [];
  const ns = cs.metadata.namespace;
  const limitsRef = cs.spec.limitsRef;
  if (limitsRef !== undefined && !model.limits.has(`${ns}/${limitsRef.name}`)) {
    errors.push(
      new MicrogatewayError(
        "InvalidReference",
        `ContentSecurity ${objectKey(cs.metadata)}: spec.limitsRef ${JSON.stringify(limitsRef.name)}: Limits ${ns}/${limitsRef.name} does not exist`,
      ),
    );
  }
  const parserRef = cs.spec.parserRef;
  if (parserRef !== undefined && !model.parsers.has(`${ns}/${parserRef.name}`)) {
    errors.push(
      new MicrogatewayError(
        "InvalidReference",
        `ContentSecurity ${objectKey(cs.metadata)}: spec.parserRef ${JSON.stringify(parserRef.name)}: Parser ${ns}/${parserRef.name} does not exist`,
      ),
    );
  }
  return errors;
}

function originOf(obj: ModelObject): string {
  return obj.metadata.origin ?? "(unknown origin)";
}

function sorted<V>(map: Map<string, V>): ReadonlyMap<string, V> {
  return new Map([...map].sort(([a], [b]) => compare(a, b)));
}

/** Code-unit order, independent of the process locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
