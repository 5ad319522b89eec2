/**
 * The model: typed, validated custom resources and pods, as every downstream stage sees them.
 * Both sources (files for local mode, Kubernetes informers for the operator) produce exactly
 * these shapes; nothing downstream knows which one ran.
 *
 * Field names follow the sidecar API (`microgateway.airlock.com/v1alpha1`); the spec types derive
 * from its schemas in src/api/. Defaults are applied by the API server in cluster mode and by the
 * parser (src/model/parse.ts) for files, so optional fields here are truly optional in the API too.
 */

import type { HTTP_METHODS, ThreatHandlingMode } from "../api/common.ts";
import type { contentSecuritySpecSchema } from "../api/content-security.ts";
import type { denyRulesSpecSchema } from "../api/deny-rules.ts";
import type { Stored } from "../api/schema.ts";
import type { applicationSchema, routeSchema, sidecarGatewaySpecSchema } from "../api/sidecar-gateway.ts";
import type { HeaderRewritesSpec } from "./header-rewrites.ts";
import type { TelemetrySpec } from "./telemetry.ts";

export {
  HTTP_METHODS,
  type LocalRef,
  MAX_MATCHER_LENGTH,
  THREAT_HANDLING_MODES,
  type ThreatHandlingMode,
} from "../api/common.ts";
export { API_GROUP, API_VERSION } from "../api/crd.ts";
export {
  DENY_RULE_LEVELS,
  type DenyRuleLevel,
  RULE_FAMILIES,
  RULE_KEY_PATTERN,
  type RuleFamily,
} from "../api/deny-rules.ts";

/** An HTTP method as the API spells it. */
export type HttpMethod = (typeof HTTP_METHODS)[number];

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

// The spec types below are the API's (src/api/, from which the CRDs are generated) as the API server
// stores them, that is with defaults applied, narrowed to what the model holds so far: fields the
// parser accepts but does not model yet are left out, so no stage can believe it honours them.

// ---------------------------------------------------------------------------------------------
// SidecarGateway (reference §3.3)

type ApiSidecarGatewaySpec = Stored<typeof sidecarGatewaySpecSchema>;
type ApiApplication = Stored<typeof applicationSchema>;
type ApiRoute = Stored<typeof routeSchema>;

export interface SidecarGateway {
  readonly kind: "SidecarGateway";
  readonly metadata: ObjectMeta;
  readonly spec: SidecarGatewaySpec;
}

/** Not modelled yet: sessionHandlingRef, envoyClusterRefs. */
export interface SidecarGatewaySpec extends Pick<ApiSidecarGatewaySpec, "podSelector"> {
  readonly applications: readonly Application[];
}

/** Not modelled yet: downstream, upstream, envoyHTTPFilterRefs. */
export interface Application extends Pick<ApiApplication, "containerPort" | "telemetryRef"> {
  /** Ordered; the first route whose pathPrefix matches wins. Absent in the API: one secured route for "/". */
  readonly routes: readonly Route[];
}

/** The API's "at most one of secured, unsecured; none means secured", after parse: exactly one. */
export type Route =
  | {
      readonly pathPrefix: ApiRoute["pathPrefix"];
      readonly secured: SecuredRoute;
      readonly unsecured?: undefined;
    }
  | {
      readonly pathPrefix: ApiRoute["pathPrefix"];
      readonly unsecured: NonNullable<ApiRoute["unsecured"]>;
      readonly secured?: undefined;
    };

/** Absent contentSecurityRef: the built-in defaults (Standard deny rules, Block). */
export type SecuredRoute = NonNullable<ApiRoute["secured"]>;

// ---------------------------------------------------------------------------------------------
// ContentSecurity (reference §3.4)

export interface ContentSecurity {
  readonly kind: "ContentSecurity";
  readonly metadata: ObjectMeta;
  readonly spec: ContentSecuritySpec;
}

/** Not modelled yet: apiProtectionRef, csrfProtectionRef, apiProtection. */
export type ContentSecuritySpec = Pick<
  Stored<typeof contentSecuritySpecSchema>,
  "filter" | "headerRewritesRef" | "limitsRef" | "parserRef"
>;

// ---------------------------------------------------------------------------------------------
// DenyRules (reference §3.5)

type ApiBuiltIn = Stored<typeof denyRulesSpecSchema>["request"]["builtIn"];

export interface DenyRules {
  readonly kind: "DenyRules";
  readonly metadata: ObjectMeta;
  readonly spec: DenyRulesSpec;
}

/** Not modelled yet: request.builtIn.overrides, request.builtIn.exceptions. */
export interface DenyRulesSpec {
  readonly request: {
    readonly builtIn: Pick<ApiBuiltIn, "settings">;
    /** Absent when the object has none; an empty list means the same. */
    readonly custom?: { readonly rules: readonly CustomRule[] };
  };
}

/**
 * A StringMatcher after parse: the API's one-of (`exact`, `prefix`, `suffix`, `contains`, `regex`)
 * as a tagged value, so a translator switches on `kind` instead of probing five optional fields.
 * A `regex` has been compiled by RE2.
 */
export interface StringMatch {
  readonly kind: "exact" | "prefix" | "suffix" | "contains" | "regex";
  readonly value: string;
  readonly ignoreCase: boolean;
}

/**
 * A custom deny rule, narrowed to what Envoy's RBAC filter can enforce. blockData kinds pathSegment,
 * json and graphQL, parameters from a form body (source Post or Any), header names other than
 * `exact`, and request conditions other than method and path are rejected by parse.
 */
export interface CustomRule {
  readonly ruleKey: string;
  readonly threatHandlingMode: ThreatHandlingMode;
  readonly blockData: CustomRuleData;
  readonly requestConditions?: CustomRuleConditions;
}

/** What a custom rule blocks on: the path, a header or a query parameter (value absent: any value). */
export type CustomRuleData =
  | { readonly kind: "path"; readonly path: StringMatch }
  | { readonly kind: "header"; readonly name: string; readonly value?: StringMatch }
  | { readonly kind: "parameter"; readonly name: StringMatch; readonly value?: StringMatch };

/** The request conditions a custom rule supports; every one that is set must match. */
export interface CustomRuleConditions {
  readonly method?: readonly HttpMethod[];
  readonly path?: StringMatch;
}

/** What applies when a secured route has no ContentSecurity or no DenyRules: the spec's defaults. */
export const DEFAULT_DENY_RULES_SPEC: DenyRulesSpec = {
  request: { builtIn: { settings: { level: "Standard", threatHandlingMode: "Block" } } },
};

// ---------------------------------------------------------------------------------------------
// HeaderRewrites (reference §3.6) and Telemetry (§3.9): specs in src/model/header-rewrites.ts and
// src/model/telemetry.ts, which also parse them.

export interface HeaderRewrites {
  readonly kind: "HeaderRewrites";
  readonly metadata: ObjectMeta;
  readonly spec: HeaderRewritesSpec;
}

export interface Telemetry {
  readonly kind: "Telemetry";
  readonly metadata: ObjectMeta;
  readonly spec: TelemetrySpec;
}

// ---------------------------------------------------------------------------------------------
// Pods

/** The part of a Pod the control plane needs. */
export interface PodInfo {
  readonly metadata: ObjectMeta;
}

/** Any custom resource the model holds. */
export type CustomResource = SidecarGateway | ContentSecurity | DenyRules | HeaderRewrites | Telemetry;
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
