/**
 * The inspector's contract: what the request inspector (src/inspect/, served to Envoy as an
 * external processor) sees of a request, what the built-in rules are written against, and what it
 * answers. Rules, the inspection engine, the ext_proc server and the telemetry that reports its
 * findings all meet here; change it only together with all of them.
 *
 * Decision (docs/decisions.md, "Where attacks are looked for"): Envoy's RBAC can see neither bodies
 * nor every header, so the deny rules, limits and parsers run in the inspector, our own Bun process
 * next to the engine, which Envoy asks through ext_proc. Every regex runs on RE2 (re2-wasm), so no
 * input can make a match take more than linear time.
 */
import type { RuleFamily, ThreatHandlingMode } from "../model/types.ts";

/**
 * Where in a request a value was found. These are the API's override/exception types
 * (DenyRules `overrides.conditions.types`) except GraphQL, plus Cookie, which the API counts as
 * Header for overrides and exceptions (a cookie is a header) but which logs name separately.
 */
export type InspectTarget = "Path" | "PathSegment" | "Parameter" | "Header" | "Cookie" | "JSON";

/** Every target a value rule can look at. */
export const ALL_TARGETS: readonly InspectTarget[] = [
  "Path",
  "PathSegment",
  "Parameter",
  "Header",
  "Cookie",
  "JSON",
];

/** Where a parameter came from: the query string, a form body or a multipart body field. */
export type ParameterSource = "Query" | "Post";

/** One value of a request as the rules see it. */
export interface InspectedValue {
  readonly target: InspectTarget;
  /**
   * Parameter, header (lower case), cookie or JSON property name; for PathSegment the 0-based
   * index as a string; for JSON the property's JSONPath (`$.user.name`, `$.items[2]`); absent for
   * Path.
   */
  readonly name?: string;
  /** For Parameter: Query or Post (form and multipart fields are Post). */
  readonly source?: ParameterSource;
  /** As it arrived (percent-encoding, `+`, entities untouched). */
  readonly raw: string;
  /**
   * Fully decoded: percent-decoding repeated until nothing changes (at most 3 rounds, so double
   * and triple encoding fall out), `+` as space in query and form values, HTML entities
   * (`&lt;`, `&#60;`, `&#x3c;`) resolved, invalid UTF-8 replaced by U+FFFD. Rules match this
   * unless they ask for `raw`.
   */
  readonly decoded: string;
  /** For JSON: true when the value is a property's key (`name` is that property's path). */
  readonly jsonKey?: boolean;
  /**
   * For a multipart file part (a Parameter of source Post): `name` is the field name and the value
   * is the file's name, or the content of a text file (inspected, but not subject to the
   * parameter length and count limits).
   */
  readonly file?: "name" | "content";
}

/** The shape of a JSON body, for the Limits (measured while the body is read). */
export interface JsonShape {
  /** Deepest nesting of objects and arrays (a scalar body: 0; `{}`: 1). */
  readonly nestingDepth: number;
  /** Most keys in one object, and the path of that object. */
  readonly keyCount: number;
  readonly keyCountPath: string;
  /** Most elements in one array, and the path of that array. */
  readonly elementCount: number;
  readonly elementCountPath: string;
}

/** A request, parsed once, as every rule and limit sees it. */
export interface ParsedRequest {
  readonly method: string;
  /** The request target as sent: path and query, percent-encoding intact. */
  readonly rawTarget: string;
  /** Lower-case header names, in arrival order, repeated names kept. Pseudo-headers excluded. */
  readonly headers: readonly (readonly [string, string])[];
  /** Every value the value rules inspect, in request order. */
  readonly values: readonly InspectedValue[];
  /** The parser that read the body, if any. */
  readonly bodyParser?: "form" | "json" | "multipart";
  /** The body's size in bytes, when it was read. */
  readonly bodySize?: number;
  /** Why the body parser gave up (malformed JSON, broken multipart); `values` hold what came before. */
  readonly bodyError?: string;
  /** For a JSON body: its shape. */
  readonly json?: JsonShape;
  /** The client's address as the gateway determines it, for requestConditions.remoteIP. */
  readonly remoteIp?: string;
}

/** A rule that matches one regex against values. */
export interface ValueRule {
  /** Stable name `<FAMILY>_<WHAT>`, reported in logs; never reused for another meaning. */
  readonly key: string;
  readonly family: RuleFamily;
  /** The lowest level that includes the rule; every higher level includes it too. */
  readonly level: "Basic" | "Standard" | "Strict";
  /** Targets whose values the rule looks at; absent means all of ALL_TARGETS. */
  readonly targets?: readonly InspectTarget[];
  /** Only headers (and for Parameter only parameters) with these lower-case names; absent: all. */
  readonly names?: readonly string[];
  /**
   * RE2 pattern *searched for* (not full-matched) in the value, case-insensitively. Portable
   * syntax only (src/translate/deny-rules/testing/re2-in-js.ts checks it): no lookaround, no
   * backreferences, no `\s`.
   */
  readonly regex: string;
  /** Which form of the value the regex sees: decoded (default) or raw (for encoding evasions). */
  readonly input?: "decoded" | "raw";
  /** One line for operators: what the rule catches. */
  readonly description: string;
  /**
   * Values the rule must catch, in the form the regex sees (`decoded` unless `input` is `raw`).
   * That encoded spellings decode to these is the decoder's business, tested there and by the
   * corpus (test/corpus/).
   */
  readonly examples: readonly string[];
  /** Values (same form) that look close but are legitimate; the rule must not catch them. */
  readonly benign?: readonly string[];
}

/** A rule about the request as a whole (protocol anomalies, parameter pollution, sanity). */
export interface RequestRule {
  readonly key: string;
  readonly family: RuleFamily;
  readonly level: "Basic" | "Standard" | "Strict";
  readonly description: string;
  /** What is wrong, for the log (e.g. `parameter "id" given 2 times`), or undefined if nothing. */
  readonly check: (request: ParsedRequest) => string | undefined;
}

/** Why a request was (or would have been) blocked. */
export interface Finding {
  /** Metrics label `block_type`. */
  readonly blockType: "deny_rules" | "limits" | "parser";
  /** Metrics label `block_subtype`: the rule family (`SQL`), `CUSTOM`, or a limit (`parameter_body_size`). */
  readonly blockSubtype: string;
  /** Built-in rule key, custom rule key, or limit name. */
  readonly ruleKey: string;
  readonly mode: ThreatHandlingMode;
  /** Where: target and name of the value, when there is one. */
  readonly target?: InspectTarget;
  readonly name?: string;
  /** A short, log-safe excerpt of what matched (at most 64 characters). */
  readonly detail?: string;
}

/** The inspector's answer for one request. */
export interface Verdict {
  /** The first finding in Block mode; the request is answered 400 (413 for body size limits). */
  readonly block?: Finding;
  /** Findings in LogOnly mode: the request passes; they are logged and counted. */
  readonly logged: readonly Finding[];
}

/**
 * Dynamic metadata the inspector sets on every request it decides about (namespace
 * `microgateway`), read by the access log and the block counters:
 * `action` (`allow` | `block` | `log_only`), `block_type`, `block_subtype`, `rule_key`,
 * `log_only` (comma-separated rule keys of the LogOnly findings).
 */
export const INSPECTOR_METADATA_NAMESPACE = "microgateway";
