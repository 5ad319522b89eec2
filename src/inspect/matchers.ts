/**
 * StringMatchers and requestConditions of the API (reference §3.2), compiled once per policy into
 * plain predicates. A `regex` matcher must match the whole string (as in Envoy), in RE2.
 */
import { BlockList, isIP } from "node:net";
import { MicrogatewayError } from "../errors.ts";
import type { RequestConditions, StringMatch } from "../model/types.ts";
import { decodeValue } from "./decode.ts";
import { headerValue, rawPathOf } from "./parse-request.ts";
import { compileRe2, type Re2 } from "./re2.ts";
import type { ParsedRequest } from "./types.ts";

/** A compiled matcher. */
export type Matcher = (value: string) => boolean;

/** Collects the RE2 programs a policy compiles, so they can be freed with it. */
export type Programs = Re2[];

/**
 * Compiles a StringMatcher.
 *
 * @example compileMatch({kind: "prefix", value: "/admin", ignoreCase: true}, [])("/ADMIN/x") // true
 */
export function compileMatch(match: StringMatch, programs: Programs): Matcher {
  const { kind, ignoreCase } = match;
  const wanted = ignoreCase ? match.value.toLowerCase() : match.value;
  const norm = ignoreCase ? (v: string) => v.toLowerCase() : (v: string) => v;
  switch (kind) {
    case "exact":
      return (v) => norm(v) === wanted;
    case "prefix":
      return (v) => norm(v).startsWith(wanted);
    case "suffix":
      return (v) => norm(v).endsWith(wanted);
    case "contains":
      return (v) => norm(v).includes(wanted);
    case "regex": {
      const re = compileRe2(`^(?:${match.value})$`, { ignoreCase });
      programs.push(re);
      return (v) => re.test(v);
    }
  }
}

/** The decoded path of a request (what path matchers see). */
export function decodedPath(request: ParsedRequest): string {
  const path = request.values.find((v) => v.target === "Path");
  return path?.decoded ?? decodeValue(rawPathOf(request.rawTarget), { plusAsSpace: false });
}

/** The media type of a Content-Type value: before `;`, trimmed, lower case. */
export function mediaTypeOf(contentType: string): string {
  return (contentType.split(";")[0] ?? "").trim().toLowerCase();
}

/** A compiled requestConditions: whether they apply to a request. */
export type Condition = (request: ParsedRequest) => boolean;

/**
 * Compiles requestConditions: every condition set must match, then `invert` negates. The path
 * matcher sees the decoded path; header values are matched as sent. A request whose client address
 * is unknown or not an IP matches no remoteIP range (so an inverted range matches it).
 *
 * @example compileConditions({method: ["GET"]}, [])(request)
 */
export function compileConditions(conditions: RequestConditions, programs: Programs): Condition {
  const checks: Condition[] = [];
  if (conditions.method !== undefined && conditions.method.length > 0) {
    const methods = new Set<string>(conditions.method);
    checks.push((r) => methods.has(r.method.toUpperCase()));
  }
  if (conditions.path !== undefined) {
    const path = compileMatch(conditions.path, programs);
    checks.push((r) => path(decodedPath(r)));
  }
  if (conditions.header !== undefined) {
    const name = compileMatch({ ...conditions.header.name, ignoreCase: true }, programs);
    const value = conditions.header.value && compileMatch(conditions.header.value, programs);
    checks.push((r) => r.headers.some(([n, v]) => name(n) && (value === undefined || value(v))));
  }
  if (conditions.mediaType !== undefined) {
    const type = compileMatch({ ...conditions.mediaType, ignoreCase: true }, programs);
    checks.push((r) => {
      const contentType = headerValue(r.headers, "content-type");
      return contentType !== undefined && type(mediaTypeOf(contentType));
    });
  }
  if (conditions.remoteIP !== undefined) {
    const inRanges = compileCidrs(conditions.remoteIP.cidrRanges);
    const invert = conditions.remoteIP.invert;
    checks.push((r) => inRanges(r.remoteIp) !== invert);
  }
  const invert = conditions.invert === true;
  return (r) => checks.every((c) => c(r)) !== invert;
}

/**
 * Whether an address is in one of `cidrs` (IPv4 and IPv6; an IPv4-mapped IPv6 address counts as
 * its IPv4 address). Throws MicrogatewayError `InvalidArgument` for a range that is not a CIDR.
 */
export function compileCidrs(cidrs: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split("/");
    const family = isIP(address ?? "");
    const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix);
    if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
      throw new MicrogatewayError("InvalidArgument", `${JSON.stringify(cidr)} is not a CIDR range`);
    }
    list.addSubnet(address as string, bits, family === 4 ? "ipv4" : "ipv6");
  }
  return (address) => {
    if (address === undefined) return false;
    const family = isIP(address);
    if (family === 0) return false;
    return list.check(address, family === 4 ? "ipv4" : "ipv6");
  };
}
