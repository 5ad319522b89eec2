/**
 * The part of HeaderRewrites (reference §3.6) that Envoy cannot do on the route, done by the
 * inspector: allow lists (remove every header not allowed), removals by pattern or value, the
 * authentication challenges and permissive CORS headers of responses, and every rule with
 * requestConditions. The translator (src/translate/header-rewrites.ts) splits a HeaderRewrites
 * spec into route headers for Envoy and a `HeaderRewritePlan` for here; the plan is plain JSON so
 * it can travel with the route's ext_proc configuration.
 *
 * Both functions are pure: the ext_proc server turns their `HeaderMutation` into its answer for
 * the request headers (and, when `needsResponsePhase`, the response headers) phase.
 */

import type { HeaderAddRule, HeaderMatchRule } from "../model/header-rewrites.ts";
import { conditionsMatch, headerMatches, type RequestView } from "./request-match.ts";

export type { RequestView } from "./request-match.ts";

/** An allow list: headers with one of `names` (lower case) or matching a rule pass; others are removed. */
export interface AllowList {
  readonly names: readonly string[];
  readonly rules: readonly HeaderMatchRule[];
}

/** The inspector's share of one route's header rewrites. Plain JSON. */
export interface HeaderRewritePlan {
  readonly request: {
    /** Absent: every header passes. */
    readonly allow?: AllowList;
    readonly remove: readonly HeaderMatchRule[];
    /** Rules with requestConditions (the others are on the route); values are literal. */
    readonly add: readonly HeaderAddRule[];
  };
  readonly response: {
    readonly allow?: AllowList;
    readonly remove: readonly HeaderMatchRule[];
    readonly add: readonly HeaderAddRule[];
    /** WWW-Authenticate challenges of these schemes are removed, others kept. */
    readonly removeAuthSchemes: readonly ("basic" | "negotiate" | "ntlm")[];
    /** Remove `Access-Control-Allow-Origin: *` (or `null`) and the credentials flag that goes with it. */
    readonly removePermissiveCors: boolean;
  };
}

/**
 * A change to a header map. `remove`: names (lower case) to delete. `set`: entries to write after
 * that; a name's entries replace all its previous values (several entries for one name give
 * several values), so the ext_proc answer uses OVERWRITE_IF_EXISTS_OR_ADD for a name's first entry
 * and APPEND_IF_EXISTS_OR_ADD for the rest.
 */
export interface HeaderMutation {
  readonly remove: string[];
  readonly set: [string, string][];
}

/** A plan that changes nothing (a route whose rewrites Envoy does entirely). */
export const EMPTY_HEADER_REWRITE_PLAN: HeaderRewritePlan = {
  request: { remove: [], add: [] },
  response: { remove: [], add: [], removeAuthSchemes: [], removePermissiveCors: false },
};

/** Whether the request headers phase has anything to do. */
export function needsRequestPhase(plan: HeaderRewritePlan): boolean {
  const r = plan.request;
  return r.allow !== undefined || r.remove.length > 0 || r.add.length > 0;
}

/** Whether the ext_proc filter must send the response headers of this route to the inspector. */
export function needsResponsePhase(plan: HeaderRewritePlan): boolean {
  const r = plan.response;
  return (
    r.allow !== undefined ||
    r.remove.length > 0 ||
    r.add.length > 0 ||
    r.removeAuthSchemes.length > 0 ||
    r.removePermissiveCors
  );
}

type Headers = readonly (readonly [string, string])[];

/**
 * The mutation of a request's headers: allow list first, then removals, then additions (so an
 * added header is never removed again). Pseudo-headers and `host` are never touched.
 *
 * @example requestHeaderMutation(plan, {method: "GET", path: "/", headers: [["x-debug", "1"]]})
 */
export function requestHeaderMutation(plan: HeaderRewritePlan, request: RequestView): HeaderMutation {
  const { allow, remove, add } = plan.request;
  let kept = request.headers.map(([n, v]) => [n.toLowerCase(), v] as const);
  kept = kept.filter(([n, v]) => untouchable(n) || allowed(allow, n, v, request));
  kept = kept.filter(([n, v]) => untouchable(n) || !removed(remove, n, v, request));
  return mutation(request.headers, applyAdds(kept, add, request));
}

/**
 * The mutation of a response's headers for `request`: allow list, removals (custom rules,
 * authentication challenges, permissive CORS), then additions.
 */
export function responseHeaderMutation(
  plan: HeaderRewritePlan,
  request: RequestView,
  responseHeaders: Headers,
): HeaderMutation {
  const r = plan.response;
  let kept = responseHeaders.map(([n, v]) => [n.toLowerCase(), v] as const);
  kept = kept.filter(([n, v]) => untouchable(n) || allowed(r.allow, n, v, request));
  kept = kept.filter(([n, v]) => untouchable(n) || !removed(r.remove, n, v, request));
  if (r.removeAuthSchemes.length > 0) {
    kept = kept.flatMap(([n, v]) => {
      if (n !== "www-authenticate") return [[n, v] as const];
      const left = splitChallenges(v).filter((c) => !r.removeAuthSchemes.includes(schemeOf(c) as never));
      return left.length === 0 ? [] : [[n, left.join(", ")] as const];
    });
  }
  if (r.removePermissiveCors) {
    const origin = kept.find(([n]) => n === "access-control-allow-origin")?.[1].trim();
    if (origin === "*" || origin === "null") {
      kept = kept.filter(
        ([n]) => n !== "access-control-allow-origin" && n !== "access-control-allow-credentials",
      );
    }
  }
  return mutation(responseHeaders, applyAdds(kept, r.add, request));
}

/** Headers the rewrites never change: pseudo-headers, and Host, which routing depends on. */
function untouchable(name: string): boolean {
  return name.startsWith(":") || name === "host";
}

function allowed(allow: AllowList | undefined, name: string, value: string, request: RequestView): boolean {
  if (allow === undefined || allow.names.includes(name)) return true;
  return allow.rules.some(
    (rule) =>
      conditionsMatch(rule.requestConditions, request) &&
      rule.headers.some((h) => headerMatches(h, name, value)),
  );
}

function removed(
  rules: readonly HeaderMatchRule[],
  name: string,
  value: string,
  request: RequestView,
): boolean {
  return rules.some(
    (rule) =>
      conditionsMatch(rule.requestConditions, request) &&
      rule.headers.some((h) => headerMatches(h, name, value)),
  );
}

function applyAdds(
  kept: (readonly [string, string])[],
  rules: readonly HeaderAddRule[],
  request: RequestView,
): (readonly [string, string])[] {
  let out = kept;
  for (const rule of rules) {
    if (!conditionsMatch(rule.requestConditions, request)) continue;
    for (const { name, value } of rule.headers) {
      const lower = name.toLowerCase();
      const present = out.some(([n]) => n === lower);
      if (rule.mode === "AddIfAbsent" && present) continue;
      out = [...out.filter(([n]) => n !== lower), [lower, value]];
    }
  }
  return out;
}

/** The smallest remove/set that turns `before` into `after` (compared per name, in order). */
function mutation(before: Headers, after: readonly (readonly [string, string])[]): HeaderMutation {
  const valuesOf = (headers: Headers) => {
    const map = new Map<string, string[]>();
    for (const [n, v] of headers) {
      const lower = n.toLowerCase();
      if (untouchable(lower)) continue;
      map.set(lower, [...(map.get(lower) ?? []), v]);
    }
    return map;
  };
  const old = valuesOf(before);
  const now = valuesOf(after);
  const remove: string[] = [];
  const set: [string, string][] = [];
  for (const [name, values] of old) {
    const next = now.get(name);
    if (next === undefined) remove.push(name);
    else if (next.join("\n") !== values.join("\n")) {
      remove.push(name);
      for (const v of next) set.push([name, v]);
    }
  }
  for (const [name, values] of now) {
    if (!old.has(name)) for (const v of values) set.push([name, v]);
  }
  return { remove, set };
}

/**
 * Splits a WWW-Authenticate value into its challenges (RFC 9110 §11.6.1): a new challenge starts
 * at a comma followed by a token that is not a parameter name (`token=`), outside quoted strings.
 */
export function splitChallenges(value: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch === '"' && value[i - 1] !== "\\") quoted = !quoted;
    if (
      ch === "," &&
      !quoted &&
      /^\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s+[^=]|\s*$|\s*,)/.test(value.slice(i + 1))
    ) {
      parts.push(current.trim());
      current = "";
      continue;
    }
    current += ch;
  }
  if (current.trim() !== "") parts.push(current.trim());
  return parts;
}

function schemeOf(challenge: string): string {
  return (challenge.split(/\s/)[0] ?? "").toLowerCase();
}
