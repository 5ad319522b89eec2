/**
 * The model: typed, validated custom resources and pods, as every downstream stage sees them.
 * Both sources (files for local mode, Kubernetes informers for the operator) produce exactly
 * these shapes; nothing downstream knows which one ran.
 *
 * Field names follow the sidecar API (`microgateway.airlock.com/v1alpha1`); defaults are applied
 * by the parser (src/model/parse.ts), so optional fields here are truly optional in the API too.
 */

export const API_GROUP = "microgateway.airlock.com";
export const API_VERSION = `${API_GROUP}/v1alpha1`;

/** Identity of a namespaced object. */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Kubernetes resourceVersion, or a content hash for files; changes whenever the object does. */
  readonly resourceVersion?: string;
  /** Where the object came from, for error messages (e.g. `examples/local/gateway.yaml#2`). */
  readonly origin?: string;
}

export interface LocalRef {
  readonly name: string;
}

// ---------------------------------------------------------------------------------------------
// SidecarGateway (reference §3.3)

export interface SidecarGateway {
  readonly kind: "SidecarGateway";
  readonly metadata: ObjectMeta;
  readonly spec: SidecarGatewaySpec;
}

export interface SidecarGatewaySpec {
  readonly podSelector: { readonly matchLabels: Readonly<Record<string, string>> };
  readonly applications: readonly Application[];
}

export interface Application {
  /** The application container's port; the engine forwards to 127.0.0.1:<containerPort>. Default 8080. */
  readonly containerPort: number;
  /** Ordered; the first route whose pathPrefix matches wins. Default: one secured route for "/". */
  readonly routes: readonly Route[];
}

export type Route =
  | { readonly pathPrefix: string; readonly secured: SecuredRoute; readonly unsecured?: undefined }
  | { readonly pathPrefix: string; readonly unsecured: Record<string, never>; readonly secured?: undefined };

export interface SecuredRoute {
  /** Absent: the built-in defaults (Standard deny rules, Block). */
  readonly contentSecurityRef?: LocalRef;
  readonly accessControlRef?: LocalRef;
}

// ---------------------------------------------------------------------------------------------
// ContentSecurity (reference §3.4)

export interface ContentSecurity {
  readonly kind: "ContentSecurity";
  readonly metadata: ObjectMeta;
  readonly spec: ContentSecuritySpec;
}

export interface ContentSecuritySpec {
  readonly filter?: { readonly denyRulesRef?: LocalRef };
  readonly headerRewritesRef?: LocalRef;
  readonly limitsRef?: LocalRef;
  readonly parserRef?: LocalRef;
}

// ---------------------------------------------------------------------------------------------
// DenyRules (reference §3.5)

export const DENY_RULE_LEVELS = ["Unfiltered", "Basic", "Standard", "Strict"] as const;
export type DenyRuleLevel = (typeof DENY_RULE_LEVELS)[number];

export const THREAT_HANDLING_MODES = ["Block", "LogOnly"] as const;
export type ThreatHandlingMode = (typeof THREAT_HANDLING_MODES)[number];

/** Built-in rule families, exactly as the API's `ruleKeys` enum spells them. */
export const RULE_FAMILIES = [
  "ENCODING",
  "EXPLOIT",
  "HPP",
  "HTML",
  "IDOR",
  "LDAP",
  "NOSQL",
  "OGNL",
  "PHP",
  "PROTOCOL",
  "SANITY",
  "SCANNING",
  "SQL",
  "TEMPLATE",
  "UNIXCMD",
  "WINCMD",
  "XSS",
  "SSRF",
  "BOT",
] as const;
export type RuleFamily = (typeof RULE_FAMILIES)[number];

export interface DenyRules {
  readonly kind: "DenyRules";
  readonly metadata: ObjectMeta;
  readonly spec: DenyRulesSpec;
}

export interface DenyRulesSpec {
  readonly request: {
    readonly builtIn: {
      readonly settings: {
        readonly level: DenyRuleLevel;
        readonly threatHandlingMode: ThreatHandlingMode;
      };
    };
  };
}

/** What applies when a secured route has no ContentSecurity or no DenyRules: the spec's defaults. */
export const DEFAULT_DENY_RULES_SPEC: DenyRulesSpec = {
  request: { builtIn: { settings: { level: "Standard", threatHandlingMode: "Block" } } },
};

// ---------------------------------------------------------------------------------------------
// Pods

/** The part of a Pod the control plane needs. */
export interface PodInfo {
  readonly metadata: ObjectMeta;
}

/** Any custom resource the model holds. */
export type CustomResource = SidecarGateway | ContentSecurity | DenyRules;
export type CustomResourceKind = CustomResource["kind"];

/** Envoy node id of a pod's engine: `<pod>.<namespace>` (namespaces cannot contain dots, pods can). */
export function nodeIdOf(pod: { readonly name: string; readonly namespace: string }): string {
  return `${pod.name}.${pod.namespace}`;
}

/** Splits a node id at its last dot; undefined if it has none. */
export function parseNodeId(nodeId: string): { name: string; namespace: string } | undefined {
  const dot = nodeId.lastIndexOf(".");
  if (dot <= 0 || dot === nodeId.length - 1) return undefined;
  return { name: nodeId.slice(0, dot), namespace: nodeId.slice(dot + 1) };
}
