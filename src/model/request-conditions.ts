/**
 * String matchers and request conditions (reference §3.2) after parse, as every policy that is
 * evaluated per request (header rewrites here; the inspector's rules later) uses them: a tagged
 * matcher instead of five optional fields, RE2-checked regexes, and every condition kept, since
 * they are evaluated in our own code and not mapped onto a limited Envoy matcher.
 */

import { isIP } from "node:net";
import {
  type At,
  asEnum,
  asList,
  asRecord,
  asString,
  child,
  fail,
  optionalRecord,
  present,
  required,
  show,
} from "./fields.ts";
import { parseMatching } from "./parse-matchers.ts";
import { HTTP_METHODS, type HttpMethod, type StringMatch } from "./types.ts";

/** Matches a header by name (always ignoring case) and, if set, by value. */
export interface HeaderMatch {
  readonly name: StringMatch;
  readonly value?: StringMatch;
}

/** A CIDR range, split for matching: `10.0.0.0/8` is `{address: "10.0.0.0", prefix: 8, family: 4}`. */
export interface CidrRange {
  readonly address: string;
  readonly prefix: number;
  readonly family: 4 | 6;
}

/** Request conditions: every one that is set must match; `invert` negates the result. */
export interface RequestConditions {
  readonly method?: readonly HttpMethod[];
  readonly path?: StringMatch;
  readonly header?: HeaderMatch;
  /** Matched against the media type of Content-Type (without parameters), ignoring case. */
  readonly mediaType?: StringMatch;
  readonly remoteIP?: { readonly cidrRanges: readonly CidrRange[]; readonly invert: boolean };
  readonly invert: boolean;
}

const _MATCHER_KINDS = ["exact", "prefix", "suffix", "contains", "regex"] as const;
const MAX_CIDR_RANGES = 1024;

// One parser of the API's StringMatcher for every resource (parse-matchers.ts).
export { parseMatching };

/** Parses `{name: {matcher}, value?: {matcher}}`, the header selector of rules and conditions. */
export function parseHeaderMatch(at: At, raw: unknown): HeaderMatch {
  const header = asRecord(at, raw);
  const nameAt = child(at, "name");
  const name = parseMatching(nameAt, required(nameAt, header.name), true);
  const value = present(header.value);
  return value === undefined ? { name } : { name, value: parseMatching(child(at, "value"), value) };
}

/**
 * Parses `requestConditions`; undefined when absent.
 *
 * @example parseRequestConditions(at, {method: ["POST"], path: {matcher: {prefix: "/api"}}})
 */
export function parseRequestConditions(at: At, raw: unknown): RequestConditions | undefined {
  if (present(raw) === undefined) return undefined;
  const conditions = optionalRecord(at, raw);
  const methodAt = child(at, "method");
  const rawMethods = present(conditions.method);
  const method =
    rawMethods === undefined
      ? undefined
      : [
          ...new Set(
            asList(methodAt, rawMethods, 0, HTTP_METHODS.length).map((m, i) =>
              asEnum(child(methodAt, i), m, HTTP_METHODS),
            ),
          ),
        ];
  const path = present(conditions.path);
  const header = present(conditions.header);
  const mediaType = present(conditions.mediaType);
  const remoteIP = present(conditions.remoteIP);
  return {
    ...(method === undefined ? {} : { method }),
    ...(path === undefined ? {} : { path: parseMatching(child(at, "path"), path) }),
    ...(header === undefined ? {} : { header: parseHeaderMatch(child(at, "header"), header) }),
    ...(mediaType === undefined ? {} : { mediaType: parseMatching(child(at, "mediaType"), mediaType, true) }),
    ...(remoteIP === undefined ? {} : { remoteIP: parseRemoteIP(child(at, "remoteIP"), remoteIP) }),
    invert: parseFlag(child(at, "invert"), conditions.invert, false),
  };
}

function parseRemoteIP(at: At, raw: unknown): NonNullable<RequestConditions["remoteIP"]> {
  const remote = asRecord(at, raw);
  const rangesAt = child(at, "cidrRanges");
  const cidrRanges = asList(rangesAt, required(rangesAt, remote.cidrRanges), 1, MAX_CIDR_RANGES).map((r, i) =>
    parseCidr(child(rangesAt, i), r),
  );
  return { cidrRanges, invert: parseFlag(child(at, "invert"), remote.invert, false) };
}

/** `10.0.0.0/8`, `2001:db8::/32`; a bare address is a single host (/32, /128). */
export function parseCidr(at: At, raw: unknown): CidrRange {
  const text = asString(at, raw);
  const [address = "", prefixText, extra] = text.split("/");
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (
    (family !== 4 && family !== 6) ||
    extra !== undefined ||
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > max ||
    (prefixText !== undefined && !/^[0-9]{1,3}$/.test(prefixText))
  ) {
    fail(at, `${show(text)} must be an IPv4 or IPv6 CIDR range such as 10.0.0.0/8 or 2001:db8::/32`);
  }
  return { address, prefix, family };
}

/** A boolean field with a default. */
export function parseFlag(at: At, raw: unknown, fallback: boolean): boolean {
  const value = present(raw);
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") fail(at, `${show(value)} must be a boolean`);
  return value;
}
