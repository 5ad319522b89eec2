/**
 * A route's policy as it travels (see policy.ts): its shape, defaults filled in, and the header-safe
 * string the translator puts in the route's ExtProcPerRoute metadata. Apart from policy.ts so that
 * the operator, which only writes policies, does not load the inspector's engine, rules and
 * compilers (about 10 MiB of a process that starts for every restart of the operator).
 */
import { deflateRawSync } from "node:zlib";
import {
  DEFAULT_LIMITS_SPEC,
  DEFAULT_PARSER_SPEC,
  type DenyRulesSpec,
  type LimitsSpec,
  type ParserSpec,
} from "../model/types.ts";

/** Version of the wire format; `decodePolicy` refuses any other. */
export const POLICY_VERSION = 1;

/** Everything the inspector needs to judge a request of one route. JSON-serializable. */
export interface RoutePolicy {
  readonly version: typeof POLICY_VERSION;
  readonly denyRules: DenyRulesSpec;
  readonly limits: LimitsSpec;
  readonly parser: ParserSpec;
}

/** A route's content security as the model resolves it (src/model/model.ts `resolveContentSecurity`). */
export interface ResolvedPolicies {
  readonly denyRules: DenyRulesSpec;
  /** Absent: the default limits. */
  readonly limits?: LimitsSpec;
  /** Absent: the default parsers. */
  readonly parser?: ParserSpec;
}

/**
 * The policy of a route, defaults filled in.
 *
 * @example routePolicy(resolveContentSecurity(model, ns, route, at))
 */
export function routePolicy(resolved: ResolvedPolicies): RoutePolicy {
  return {
    version: POLICY_VERSION,
    denyRules: resolved.denyRules,
    limits: resolved.limits ?? DEFAULT_LIMITS_SPEC,
    parser: resolved.parser ?? DEFAULT_PARSER_SPEC,
  };
}

/** Largest decoded policy accepted (a compressed policy could otherwise inflate without bound). */
export const MAX_POLICY_BYTES = 16 * 1024 * 1024;

/** Policies longer than this are deflated: exceptions and custom rules repeat themselves a lot. */
const COMPRESS_ABOVE = 512;

/**
 * The policy as a header-safe string (gRPC metadata values must be printable ASCII, and the
 * patterns in a policy may hold any character): compact JSON in base64url, prefixed `j.`, or for
 * larger policies raw-deflated first and prefixed `z.` (a policy with 100 parameter exceptions is
 * 11 KB of JSON and under 400 bytes deflated).
 *
 * @example decodePolicy(encodePolicy(policy)) // deep-equals policy
 */
export function encodePolicy(policy: RoutePolicy): string {
  const json = Buffer.from(JSON.stringify(policy), "utf8");
  return json.length > COMPRESS_ABOVE
    ? `z.${deflateRawSync(json).toString("base64url")}`
    : `j.${json.toString("base64url")}`;
}
