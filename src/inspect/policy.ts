/**
 * The policy of one secured route as the inspector enforces it: the route's DenyRules, Limits and
 * Parser specs (src/model/types.ts), defaults filled in. It is plain JSON, so it travels with the
 * route's xDS configuration (ExtProcPerRoute gRPC initial metadata) as `encodePolicy`'s string and
 * the inspector stays stateless: `compiledPolicyFor(wire)` decodes, validates and compiles it once
 * and keeps the result in a small LRU cache, since every request of a route brings the same string.
 */
import { inflateRawSync } from "node:zlib";
import { MicrogatewayError } from "../errors.ts";
import { type CompiledDenyRules, compileDenyRules } from "./engine.ts";
import { type CompiledLimits, compileLimits } from "./limits.ts";
import { type CompiledParser, compileParser } from "./parser-selection.ts";
import { validatePolicy } from "./policy-validate.ts";
import { MAX_POLICY_BYTES, type RoutePolicy } from "./policy-wire.ts";
import { freeWhenCollected, type Re2 } from "./re2.ts";

export {
  encodePolicy,
  MAX_POLICY_BYTES,
  POLICY_VERSION,
  type ResolvedPolicies,
  type RoutePolicy,
  routePolicy,
} from "./policy-wire.ts";

/**
 * The policy of `encodePolicy`'s string. Throws MicrogatewayError `InvalidArgument` naming the
 * field for anything else (not the format, not JSON, wrong shape or version).
 */
export function decodePolicy(wire: string): RoutePolicy {
  if (!/^[jz]\.[A-Za-z0-9_-]+$/.test(wire)) {
    throw new MicrogatewayError("InvalidArgument", "policy: not a j.<base64url> or z.<base64url> string");
  }
  let value: unknown;
  try {
    const bytes = Buffer.from(wire.slice(2), "base64url");
    const json = wire[0] === "z" ? inflateRawSync(bytes, { maxOutputLength: MAX_POLICY_BYTES }) : bytes;
    value = JSON.parse(json.toString("utf8"));
  } catch (e) {
    throw new MicrogatewayError(
      "InvalidArgument",
      `policy: not ${wire[0] === "z" ? "deflated " : ""}JSON (${e instanceof Error ? e.message : e})`,
    );
  }
  return validatePolicy(value);
}

/** A policy ready to judge requests: every matcher and rule group compiled. */
export interface CompiledPolicy {
  readonly policy: RoutePolicy;
  readonly denyRules: CompiledDenyRules;
  readonly limits: CompiledLimits;
  readonly parser: CompiledParser;
}

/**
 * Compiles a policy (every regex once, in RE2). Throws MicrogatewayError `InvalidArgument` for a
 * regex RE2 refuses or a JSONPath or CIDR that is not one. The RE2 programs are freed when the
 * compiled policy is garbage-collected.
 */
export function compilePolicy(policy: RoutePolicy): CompiledPolicy {
  const programs: Re2[] = [];
  try {
    const compiled: CompiledPolicy = {
      policy,
      denyRules: compileDenyRules(policy.denyRules, programs),
      limits: compileLimits(policy.limits, programs),
      parser: compileParser(policy.parser, programs),
    };
    freeWhenCollected(compiled, programs);
    return compiled;
  } catch (e) {
    for (const p of programs) p.free();
    throw e;
  }
}

/** How many compiled policies `compiledPolicyFor` keeps (a pod rarely has more routes). */
export const POLICY_CACHE_SIZE = 64;

const cache = new Map<string, CompiledPolicy>();

/**
 * The compiled policy of an encoded policy, from a least-recently-used cache keyed by the string.
 * Throws like `decodePolicy` and `compilePolicy`; failures are not cached.
 *
 * @example inspect(compiledPolicyFor(metadataValue), request)
 */
export function compiledPolicyFor(wire: string): CompiledPolicy {
  const hit = cache.get(wire);
  if (hit !== undefined) {
    cache.delete(wire);
    cache.set(wire, hit);
    return hit;
  }
  const compiled = compilePolicy(decodePolicy(wire));
  cache.set(wire, compiled);
  if (cache.size > POLICY_CACHE_SIZE) {
    const oldest = cache.keys().next().value as string;
    cache.delete(oldest);
  }
  return compiled;
}

/** How many compiled policies are cached (for tests and metrics). */
export function cachedPolicyCount(): number {
  return cache.size;
}
