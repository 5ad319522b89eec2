/**
 * The wire form of a route's HeaderRewritePlan (src/inspect/header-rewrites.ts): how the plan
 * travels with the route's ext_proc configuration (a second gRPC initial metadata entry next to
 * the policy, src/extproc/contract.ts HEADER_REWRITES_METADATA_KEY) to the stateless inspector.
 * Like the policy, it is compact JSON in base64url (metadata values must be printable ASCII, and
 * header patterns may hold any character), prefixed `j.`.
 */
import { MicrogatewayError } from "../errors.ts";
import type { HeaderRewritePlan } from "./header-rewrites.ts";

/**
 * The plan as a header-safe string.
 *
 * @example decodeHeaderRewritePlan(encodeHeaderRewritePlan(plan)) // deep-equals plan
 */
export function encodeHeaderRewritePlan(plan: HeaderRewritePlan): string {
  return `j.${Buffer.from(JSON.stringify(plan), "utf8").toString("base64url")}`;
}

/** How many decoded plans `headerRewritePlanFor` keeps (one per route; a pod has few). */
const CACHE_SIZE = 64;
const cache = new Map<string, HeaderRewritePlan>();

/**
 * The plan of `encodeHeaderRewritePlan`'s string, from a small least-recently-used cache (every
 * request of a route brings the same string). Throws MicrogatewayError `InvalidArgument` naming
 * the field for anything else.
 *
 * @example requestHeaderMutation(headerRewritePlanFor(metadataValue), request)
 */
export function headerRewritePlanFor(wire: string): HeaderRewritePlan {
  const hit = cache.get(wire);
  if (hit !== undefined) {
    cache.delete(wire);
    cache.set(wire, hit);
    return hit;
  }
  const plan = decodeHeaderRewritePlan(wire);
  cache.set(wire, plan);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return plan;
}

/** The plan of `encodeHeaderRewritePlan`'s string; throws MicrogatewayError for anything else. */
export function decodeHeaderRewritePlan(wire: string): HeaderRewritePlan {
  if (!/^j\.[A-Za-z0-9_-]+$/.test(wire)) throw invalid("", "not a j.<base64url> string");
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(wire.slice(2), "base64url").toString("utf8"));
  } catch (e) {
    throw invalid("", `not JSON (${e instanceof Error ? e.message : e})`);
  }
  const plan = record(value, "");
  const request = record(plan.request, "request");
  const response = record(plan.response, "response");
  for (const [part, at] of [
    [request, "request"],
    [response, "response"],
  ] as const) {
    if (part.allow !== undefined) {
      const allow = record(part.allow, `${at}.allow`);
      list(allow.names, `${at}.allow.names`);
      list(allow.rules, `${at}.allow.rules`);
    }
    list(part.remove, `${at}.remove`);
    list(part.add, `${at}.add`);
  }
  const schemes = list(response.removeAuthSchemes, "response.removeAuthSchemes");
  schemes.forEach((s, i) => {
    if (s !== "basic" && s !== "negotiate" && s !== "ntlm") {
      throw invalid(`response.removeAuthSchemes[${i}]`, "not basic, negotiate or ntlm");
    }
  });
  if (typeof response.removePermissiveCors !== "boolean") {
    throw invalid("response.removePermissiveCors", "not a boolean");
  }
  return value as HeaderRewritePlan;
}

function record(value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid(at, "not an object");
  return value as Record<string, unknown>;
}

function list(value: unknown, at: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(at, "not a list");
  return value;
}

function invalid(at: string, why: string): MicrogatewayError {
  return new MicrogatewayError("InvalidArgument", `header rewrite plan${at === "" ? "" : ` ${at}`}: ${why}`);
}
