/**
 * The model: typed, validated custom resources and pods, as every downstream stage sees them.
 * Both sources (files for local mode, Kubernetes informers for the operator) produce exactly
 * these shapes; nothing downstream knows which one ran.
 *
 * Field names follow the sidecar API (`microgateway.airlock.com/v1alpha1`); the spec types derive
 * from its schemas in src/api/. Defaults are applied by the API server in cluster mode and by the
 * parser (src/model/parse.ts) for files, so optional fields here are truly optional in the API too.
 */

import type {
  HTTP_METHODS,
  LocalRef as LocalRefShape,
  ThreatHandlingMode,
  TLS_VERSIONS,
} from "../api/common.ts";
import type { contentSecuritySpecSchema } from "../api/content-security.ts";
import type { DenyRuleLevel, denyRulesSpecSchema, RULE_TARGET_TYPES, RuleFamily } from "../api/deny-rules.ts";
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
  RULE_TARGET_TYPES,
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

/** Not modelled yet: sessionHandlingRef. */
export interface SidecarGatewaySpec extends Pick<ApiSidecarGatewaySpec, "podSelector"> {
  readonly applications: readonly Application[];
  /** EnvoyClusters added to the engines; absent: none. */
  readonly envoyClusterRefs?: readonly LocalRefShape[];
}

/** Not modelled yet: nothing; see ApplicationSettings. */
export interface Application
  extends Pick<ApiApplication, "containerPort" | "telemetryRef">,
    ApplicationSettings {
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

/** The parts of a request the API's overrides name (`conditions.types`). */
export type RuleTargetType = (typeof RULE_TARGET_TYPES)[number];

export interface DenyRulesSpec {
  readonly request: {
    readonly builtIn: Pick<ApiBuiltIn, "settings"> & {
      /** Absent or empty: the settings apply to every family and part of the request. */
      readonly overrides?: readonly DenyRulesOverride[];
      /** Absent or empty: no exceptions. */
      readonly exceptions?: readonly DenyRulesException[];
    };
    /** Absent when the object has none; an empty list means the same. */
    readonly custom?: { readonly rules: readonly CustomRule[] };
  };
}

/**
 * Different level and/or mode for some rule families (`ruleKeys`) and/or parts of the request
 * (`types`); absent lists mean all. GraphQL in `types` is accepted and has no effect (no GraphQL
 * parser yet).
 */
export interface DenyRulesOverride {
  readonly ruleKeys?: readonly RuleFamily[];
  readonly types?: readonly RuleTargetType[];
  readonly level?: DenyRuleLevel;
  readonly threatHandlingMode?: ThreatHandlingMode;
}

/** A false positive the built-in rules must let pass: families (absent: all), data and/or conditions. */
export interface DenyRulesException {
  readonly ruleKeys?: readonly RuleFamily[];
  readonly blockedData?: RequestData;
  readonly requestConditions?: RequestConditions;
}

/**
 * A StringMatcher after parse: the API's one-of (`exact`, `prefix`, `suffix`, `contains`, `regex`)
 * as a tagged value, so a translator switches on `kind` instead of probing five optional fields.
 * A `regex` has been compiled by RE2 and must match the whole string.
 */
export interface StringMatch {
  readonly kind: "exact" | "prefix" | "suffix" | "contains" | "regex";
  readonly value: string;
  readonly ignoreCase: boolean;
}

/** A custom deny rule: request data that is blocked, optionally only under request conditions. */
export interface CustomRule {
  readonly ruleKey: string;
  readonly threatHandlingMode: ThreatHandlingMode;
  readonly blockData: CustomRuleData;
  readonly requestConditions?: CustomRuleConditions;
}

/**
 * Request data a custom rule blocks on or an exception exempts (the API's `blockData` /
 * `blockedData`; graphQL is rejected by parse). Every matcher that is set must match; an absent one
 * matches anything (a header rule with only a name blocks that header with any value). At least
 * one matcher (or the segment index) is set.
 *
 * - `header`: header name (always case-insensitive) and decoded value.
 * - `parameter`: query, form or multipart parameter name and decoded value, from `source`.
 * - `pathSegment`: the segment at `index` (0-based, absent: any) whose decoded value matches.
 * - `json`: the property at `jsonPath` (`$`, `.key`, `['key']`, `[n]`, `[*]`, `.*`; absent: any),
 *   its key or its string value (at most one of key and value).
 */
export type RequestData =
  | { readonly kind: "path"; readonly path: StringMatch }
  | { readonly kind: "header"; readonly name?: StringMatch; readonly value?: StringMatch }
  | {
      readonly kind: "parameter";
      readonly name?: StringMatch;
      readonly value?: StringMatch;
      readonly source: "Query" | "Post" | "Any";
    }
  | { readonly kind: "pathSegment"; readonly index?: number; readonly value?: StringMatch }
  | {
      readonly kind: "json";
      readonly jsonPath?: string;
      readonly key?: StringMatch;
      readonly value?: StringMatch;
    };

/** What a custom rule blocks on (same shapes as exceptions). */
export type CustomRuleData = RequestData;

/**
 * The API's requestConditions (§3.2): every condition that is set must match, then `invert`
 * negates the result. `header` matches when some header's name (and value, if set) match;
 * `mediaType` matches the Content-Type without parameters; `remoteIP` the client address.
 */
export interface RequestConditions {
  readonly method?: readonly HttpMethod[];
  readonly path?: StringMatch;
  readonly header?: { readonly name: StringMatch; readonly value?: StringMatch };
  readonly mediaType?: StringMatch;
  readonly remoteIP?: { readonly cidrRanges: readonly string[]; readonly invert: boolean };
  readonly invert?: boolean;
}

/** The request conditions of a custom rule. */
export type CustomRuleConditions = RequestConditions;

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

// Limits (reference §3.7)

export interface Limits {
  readonly kind: "Limits";
  readonly metadata: ObjectMeta;
  readonly spec: LimitsSpec;
}

/** Sizes in bytes (quantities resolved), counts as numbers; GraphQL limits are not modelled (no GraphQL parser). */
export interface LimitsSpec {
  readonly threatHandlingMode: ThreatHandlingMode;
  /** Undefined: `request.unlimited`, nothing is limited. */
  readonly limited?: LimitValues;
}

export interface LimitValues {
  readonly general: { readonly bodySize: number; readonly pathLength: number };
  readonly parameter: {
    readonly bodySize: number;
    readonly count: number;
    readonly nameLength: number;
    readonly valueLength: number;
  };
  readonly json: {
    readonly bodySize: number;
    readonly nestingDepth: number;
    readonly keyCount: number;
    readonly elementCount: number;
    readonly keyLength: number;
    readonly valueLength: number;
  };
  readonly multipart: { readonly bodySize: number };
  readonly exceptions: readonly LimitsException[];
}

/** Data whose length is not limited (a parameter or a JSON property), optionally only under conditions. */
export interface LimitsException {
  readonly length:
    | { readonly kind: "parameter"; readonly name: StringMatch; readonly source: "Query" | "Post" | "Any" }
    | { readonly kind: "json"; readonly jsonPath: string };
  readonly requestConditions?: RequestConditions;
}

/** The API's defaults for `request.limited` (reference §3.7). */
export const DEFAULT_LIMIT_VALUES: LimitValues = {
  general: { bodySize: 100 * 1024 * 1024, pathLength: 1024 },
  parameter: { bodySize: 100 * 1024, count: 128, nameLength: 128, valueLength: 8 * 1024 },
  json: {
    bodySize: 100 * 1024,
    nestingDepth: 100,
    keyCount: 250,
    elementCount: 10000,
    keyLength: 128,
    valueLength: 8 * 1024,
  },
  multipart: { bodySize: 100 * 1024 * 1024 },
  exceptions: [],
};

/** What applies when a secured route has no Limits: the defaults, Block. */
export const DEFAULT_LIMITS_SPEC: LimitsSpec = { threatHandlingMode: "Block", limited: DEFAULT_LIMIT_VALUES };

// ---------------------------------------------------------------------------------------------
// Parser (reference §3.8)

export interface Parser {
  readonly kind: "Parser";
  readonly metadata: ObjectMeta;
  readonly spec: ParserSpec;
}

/** A body parser of the inspector. */
export type BodyParserKind = "form" | "json" | "multipart";

export interface ParserSpec {
  readonly defaultContentType: string;
  /** Per parser: enabled and the RE2 pattern the whole Content-Type must match (case-insensitive). */
  readonly parsers: Readonly<
    Record<BodyParserKind, { readonly enable: boolean; readonly mediaTypePattern: string }>
  >;
  /** Checked in order before the built-in selection; the first whose conditions match decides. */
  readonly custom: readonly {
    readonly requestConditions: RequestConditions;
    readonly action: BodyParserKind | "skip";
  }[];
}

/** The API's Parser defaults (reference §3.8). */
export const DEFAULT_PARSER_SPEC: ParserSpec = {
  defaultContentType: "application/x-www-form-urlencoded",
  parsers: {
    form: { enable: true, mediaTypePattern: ".*urlencoded.*" },
    json: { enable: true, mediaTypePattern: ".*json.*" },
    multipart: { enable: true, mediaTypePattern: ".*multipart.*" },
  },
  custom: [],
};

// ---------------------------------------------------------------------------------------------
// Pods

/** The part of a Pod the control plane needs. */
export interface PodInfo {
  readonly metadata: ObjectMeta;
}

/** Any custom resource the model holds. */
export type CustomResource =
  | SidecarGateway
  | ContentSecurity
  | DenyRules
  | EnvoyCluster
  | EnvoyHTTPFilter
  | HeaderRewrites
  | Telemetry
  | Limits
  | Parser;
export type CustomResourceKind = CustomResource["kind"];

/** Anything a source puts into the model. */
export type ModelObject = CustomResource | PodInfo | SecretObject;

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

// ---------------------------------------------------------------------------------------------
// Gateway settings (reference §3.3 downstream, upstream, envoyHTTPFilterRefs, envoyClusterRefs)
//
// Present on an Application only when the manifest sets them; absent means the API's defaults
// (the translator applies DEFAULT_DOWNSTREAM / DEFAULT_UPSTREAM), as Kubernetes defaults nested
// fields only when their parent object exists. Durations are in milliseconds, sizes in bytes.

/** HTTP version choice after parse: the API's one-of as a tagged value (absent in the API: auto). */
export type HttpProtocolChoice =
  | { readonly kind: "http1" }
  | { readonly kind: "http2"; readonly allowConnect: boolean }
  | { readonly kind: "auto"; readonly allowConnect: boolean };

/** Where the client IP comes from (absent in the API: xff with one trusted hop). */
export type RemoteIPSource =
  | {
      readonly kind: "xff";
      readonly numTrustedHops: number;
      /** CIDR ranges; empty: trust X-Forwarded-For from any peer. */
      readonly trustedCIDRRanges: readonly string[];
    }
  | { readonly kind: "customHeader"; readonly headerName: string; readonly required: boolean }
  | { readonly kind: "connectionIP" };

/** TLS versions and ciphers of one side. */
export interface TlsParameters {
  readonly minimum?: (typeof TLS_VERSIONS)[number];
  readonly maximum?: (typeof TLS_VERSIONS)[number];
  readonly ciphers?: readonly string[];
}

/** Trusted CAs: Secrets with key ca.crt. */
export interface TrustedCASettings {
  readonly secretRefs: readonly LocalRefShape[];
  readonly verificationDepth: number;
}

/** Certificate revocation lists: Secrets with key ca.crl. */
export interface CrlSettings {
  readonly secretRefs: readonly LocalRefShape[];
  readonly validationMode: "VerifyChain" | "VerifyLeafCertOnly";
}

/** A SAN the client certificate must have (one of several). */
export interface SanMatch {
  readonly sanType: "DNS" | "Email" | "URI" | "IPAddress";
  readonly matcher: StringMatch;
}

/** Client certificates (mutual TLS); the API's one-of as a tagged value (absent: ignored). */
export type ClientCertificateSettings =
  | { readonly kind: "ignored" }
  | { readonly kind: "optional"; readonly trustedCA: TrustedCASettings; readonly crl?: CrlSettings }
  | {
      readonly kind: "required";
      readonly trustedCA?: TrustedCASettings;
      readonly crl?: CrlSettings;
      readonly allowedSANs?: readonly SanMatch[];
      readonly certificatePinning?: {
        readonly allowedHashes?: readonly string[];
        readonly allowedSPKIs?: readonly string[];
      };
    };

export const XFCC_MODES = [
  "Sanitize",
  "ForwardOnly",
  "AppendAndForward",
  "SanitizeAndSet",
  "AlwaysForwardOnly",
] as const;
export type XfccMode = (typeof XFCC_MODES)[number];

/** TLS towards clients; present only when enabled. */
export interface DownstreamTls extends TlsParameters {
  /** A Secret of type kubernetes.io/tls. */
  readonly secretRef: LocalRefShape;
  readonly clientCertificate: ClientCertificateSettings;
  readonly xfcc: XfccMode;
}

/** The connection from clients to the engine. */
export interface DownstreamSettings {
  readonly protocol: HttpProtocolChoice;
  readonly remoteIP: RemoteIPSource;
  readonly requestNormalizations: { readonly mergeSlashes: boolean; readonly normalizePath: boolean };
  /** restrictions.http.headersLength in bytes. */
  readonly headersLengthBytes: number;
  /** timeouts.http in milliseconds; 0 disables one. */
  readonly timeouts: {
    readonly idleMs: number;
    readonly maxDurationMs: number;
    readonly requestHeadersMs: number;
  };
  readonly tls?: DownstreamTls;
}

/** The connection from the engine to the application. */
export interface UpstreamSettings {
  readonly protocol: HttpProtocolChoice;
  /** timeouts.http in milliseconds; idle absent: the downstream idle timeout. */
  readonly timeouts: { readonly idleMs?: number; readonly maxDurationMs: number };
  /** TLS towards the application; present only when enabled. */
  readonly tls?: TlsParameters;
}

/** The API defaults of `downstream`, applied when an application has none. */
export const DEFAULT_DOWNSTREAM: DownstreamSettings = {
  protocol: { kind: "auto", allowConnect: false },
  remoteIP: { kind: "xff", numTrustedHops: 1, trustedCIDRRanges: [] },
  requestNormalizations: { mergeSlashes: true, normalizePath: true },
  headersLengthBytes: 60 * 1024,
  timeouts: { idleMs: 300_000, maxDurationMs: 300_000, requestHeadersMs: 10_000 },
};

/** The API defaults of `upstream`, applied when an application has none. */
export const DEFAULT_UPSTREAM: UpstreamSettings = {
  protocol: { kind: "auto", allowConnect: false },
  timeouts: { maxDurationMs: 15_000 },
};

/** Raw Envoy HTTP filters of an application, in order. */
export interface EnvoyHTTPFilterRefs {
  readonly prepend: readonly LocalRefShape[];
  readonly append: readonly LocalRefShape[];
}

/** An Application with its optional settings (see the section comment above). */
export interface ApplicationSettings {
  readonly downstream?: DownstreamSettings;
  readonly upstream?: UpstreamSettings;
  readonly envoyHTTPFilterRefs?: EnvoyHTTPFilterRefs;
}

// ---------------------------------------------------------------------------------------------
// EnvoyCluster, EnvoyHTTPFilter (reference §3.10) and Secrets

/** A raw Envoy cluster; `value` is Envoy's JSON form, already checked to convert to a Cluster. */
export interface EnvoyCluster {
  readonly kind: "EnvoyCluster";
  readonly metadata: ObjectMeta;
  readonly spec: { readonly value: Readonly<Record<string, unknown>> };
}

/** A raw Envoy HTTP filter; `value` is Envoy's JSON form, already checked to convert to an HttpFilter. */
export interface EnvoyHTTPFilter {
  readonly kind: "EnvoyHTTPFilter";
  readonly metadata: ObjectMeta;
  readonly spec: { readonly value: Readonly<Record<string, unknown>> };
}

/**
 * A Kubernetes Secret (core/v1) as the model holds it: the type and the decoded values (`data`
 * base64-decoded, `stringData` merged over it as the API server does). Only what gateways reference
 * is held in cluster mode; whether its content fits the reference is checked where it is used.
 */
export interface SecretObject {
  readonly kind: "Secret";
  readonly metadata: ObjectMeta;
  readonly type: string;
  readonly data: Readonly<Record<string, string>>;
}

/** The Secret type a downstream.tls.secretRef must have. */
export const TLS_SECRET_TYPE = "kubernetes.io/tls";
