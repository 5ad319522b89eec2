/**
 * Evaluating the API's string matchers and request conditions (reference §3.2) on a request, as
 * the inspector does for rules Envoy cannot apply itself. Regexes run in RE2 (linear time) and
 * match the whole value, as Envoy's StringMatcher does.
 */

import { BlockList, isIP } from "node:net";
import type { HeaderMatch, RequestConditions } from "../model/request-conditions.ts";
import type { StringMatch } from "../model/types.ts";
import { type Re2, sharedRe2 } from "./re2.ts";

/** What the inspector knows of a request when it evaluates conditions. */
export interface RequestView {
  readonly method: string;
  /** `:path` as sent: path and query. Conditions match the path without the query. */
  readonly path: string;
  /** Header names in any case, in arrival order, repeated names kept; pseudo-headers are ignored. */
  readonly headers: readonly (readonly [string, string])[];
  /** The client address as the gateway determined it (for remoteIP conditions); absent: unknown. */
  readonly remoteAddress?: string;
}

const compiled = new Map<string, Re2>();
const MAX_CACHED_REGEXES = 4096;

function regex(pattern: string, ignoreCase: boolean): Re2 {
  const key = `${ignoreCase ? "i" : "-"}${pattern}`;
  let re = compiled.get(key);
  if (re === undefined) {
    if (compiled.size >= MAX_CACHED_REGEXES) compiled.clear();
    re = sharedRe2(`^(?:${pattern})$`, { ignoreCase });
    compiled.set(key, re);
  }
  return re;
}

/**
 * Whether `value` matches `match`.
 *
 * @example stringMatches({kind: "prefix", value: "/api", ignoreCase: false}, "/api/x") // true
 */
export function stringMatches(match: StringMatch, value: string): boolean {
  if (match.kind === "regex") return regex(match.value, match.ignoreCase).test(value);
  const v = match.ignoreCase ? value.toLowerCase() : value;
  const m = match.ignoreCase ? match.value.toLowerCase() : match.value;
  switch (match.kind) {
    case "exact":
      return v === m;
    case "prefix":
      return v.startsWith(m);
    case "suffix":
      return v.endsWith(m);
    case "contains":
      return v.includes(m);
  }
}

/** Whether one header (name, value) matches a header selector; names always ignore case. */
export function headerMatches(match: HeaderMatch, name: string, value: string): boolean {
  return (
    stringMatches({ ...match.name, ignoreCase: true }, name) &&
    (match.value === undefined || stringMatches(match.value, value))
  );
}

const blockLists = new WeakMap<object, BlockList>();

function blockListOf(remote: NonNullable<RequestConditions["remoteIP"]>): BlockList {
  let list = blockLists.get(remote);
  if (list === undefined) {
    list = new BlockList();
    for (const r of remote.cidrRanges) list.addSubnet(r.address, r.prefix, r.family === 6 ? "ipv6" : "ipv4");
    blockLists.set(remote, list);
  }
  return list;
}

/**
 * Whether `request` satisfies `conditions` (absent: always). Every condition that is set must
 * match; `invert` negates the whole. A remoteIP condition on a request without a known address
 * does not match.
 */
export function conditionsMatch(conditions: RequestConditions | undefined, request: RequestView): boolean {
  if (conditions === undefined) return true;
  return allMatch(conditions, request) !== conditions.invert;
}

function allMatch(c: RequestConditions, request: RequestView): boolean {
  if (c.method !== undefined && !c.method.includes(request.method.toUpperCase() as never)) return false;
  if (c.path !== undefined && !stringMatches(c.path, pathOnly(request.path))) return false;
  if (c.header !== undefined) {
    const header = c.header;
    if (!request.headers.some(([n, v]) => !n.startsWith(":") && headerMatches(header, n, v))) return false;
  }
  if (c.mediaType !== undefined) {
    const contentType = request.headers.find(([n]) => n.toLowerCase() === "content-type")?.[1];
    if (contentType === undefined) return false;
    const mediaType = (contentType.split(";")[0] ?? "").trim();
    if (!stringMatches({ ...c.mediaType, ignoreCase: true }, mediaType)) return false;
  }
  if (c.remoteIP !== undefined) {
    const address = request.remoteAddress;
    if (address === undefined) return false;
    const family = isIP(address);
    // An address we cannot read matches no range, whatever invert says.
    if (family === 0) return false;
    if (blockListOf(c.remoteIP).check(address, family === 6 ? "ipv6" : "ipv4") === c.remoteIP.invert)
      return false;
  }
  return true;
}

function pathOnly(path: string): string {
  const q = path.indexOf("?");
  return q < 0 ? path : path.slice(0, q);
}
