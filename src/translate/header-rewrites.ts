/**
 * HeaderRewrites (reference §3.6) -> what Envoy does on the route (request/response headers to add
 * and remove, by exact name) plus the `HeaderRewritePlan` the inspector applies for the rest (allow
 * lists, patterns, values, authentication challenges, CORS, requestConditions). The built-in
 * header lists and values are ours; docs/header-rewrites.md documents them.
 */

import { create } from "@bufbuild/protobuf";
import {
  type HeaderValueOption,
  HeaderValueOption_HeaderAppendAction,
  HeaderValueOptionSchema,
} from "../../gen/envoy/config/core/v3/base_pb.js";
import type { AllowList, HeaderRewritePlan } from "../inspect/header-rewrites.ts";
import type {
  HeaderAddRule,
  HeaderAllowList,
  HeaderMatchRule,
  HeaderRewritesSpec,
} from "../model/header-rewrites.ts";
import type { HeaderMatch } from "../model/request-conditions.ts";

/** The header fields of an Envoy route that carry the native part of the rewrites. */
export interface RouteHeaders {
  readonly requestHeadersToAdd: HeaderValueOption[];
  readonly requestHeadersToRemove: string[];
  readonly responseHeadersToAdd: HeaderValueOption[];
  readonly responseHeadersToRemove: string[];
}

/** Both halves of a route's header rewrites. */
export interface TranslatedHeaderRewrites {
  readonly route: RouteHeaders;
  readonly plan: HeaderRewritePlan;
}

/** Security headers of `response.add.builtIn`, added only when the application did not set one. */
export const SECURITY_HEADERS = {
  hsts: ["strict-transport-security", "max-age=31536000; includeSubDomains"],
  hstsPreload: ["strict-transport-security", "max-age=31536000; includeSubDomains; preload"],
  xContentTypeOptions: ["x-content-type-options", "nosniff"],
  xFrameOptions: ["x-frame-options", "SAMEORIGIN"],
  referrerPolicy: ["referrer-policy", "strict-origin-when-cross-origin"],
  permissionsPolicy: [
    "permissions-policy",
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()",
  ],
  csp: [
    "content-security-policy",
    "default-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'; form-action 'self'",
  ],
  featurePolicy: [
    "feature-policy",
    "accelerometer 'none'; camera 'none'; geolocation 'none'; gyroscope 'none'; magnetometer 'none'; microphone 'none'; payment 'none'; usb 'none'",
  ],
} as const satisfies Record<string, readonly [string, string]>;

/** `request.remove.builtIn.alternativeForwardedHeaders`: forwarding headers other than X-Forwarded-For/-Proto. */
export const ALTERNATIVE_FORWARDED_HEADERS: readonly string[] = [
  "forwarded",
  "forwarded-for",
  "x-forwarded",
  "x-forwarded-host",
  "x-forwarded-server",
  "x-forwarded-port",
  "x-real-ip",
  "x-client-ip",
  "x-originating-ip",
  "x-remote-ip",
  "x-remote-addr",
  "x-cluster-client-ip",
  "true-client-ip",
  "x-host",
  "x-original-host",
];

/** `response.remove.builtIn.informationLeakage.server`: headers naming the server software. */
export const SERVER_LEAKAGE_HEADERS: readonly string[] = [
  "server",
  "x-server",
  "x-envoy-upstream-service-time",
];

/** `response.remove.builtIn.informationLeakage.application`: headers naming the application stack. */
export const APPLICATION_LEAKAGE_HEADERS: readonly string[] = [
  "x-powered-by",
  "x-aspnet-version",
  "x-aspnetmvc-version",
  "x-sourcefiles",
  "x-runtime",
  "x-version",
  "x-generator",
  "x-backend-server",
  "x-drupal-cache",
  "x-drupal-dynamic-cache",
];

/** `request.allow.matchingHeaders.builtIn.standardHeaders`: the request headers of HTTP and browsers. */
export const STANDARD_REQUEST_HEADERS: readonly string[] = [
  "accept",
  "accept-charset",
  "accept-encoding",
  "accept-language",
  "access-control-request-headers",
  "access-control-request-method",
  "authorization",
  "cache-control",
  "connection",
  "content-encoding",
  "content-language",
  "content-length",
  "content-type",
  "cookie",
  "date",
  "dnt",
  "expect",
  "from",
  "if-match",
  "if-modified-since",
  "if-none-match",
  "if-range",
  "if-unmodified-since",
  "keep-alive",
  "max-forwards",
  "origin",
  "pragma",
  "priority",
  "range",
  "referer",
  "sec-ch-ua",
  "sec-ch-ua-mobile",
  "sec-ch-ua-platform",
  "sec-fetch-dest",
  "sec-fetch-mode",
  "sec-fetch-site",
  "sec-fetch-user",
  "sec-websocket-extensions",
  "sec-websocket-key",
  "sec-websocket-protocol",
  "sec-websocket-version",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "upgrade-insecure-requests",
  "user-agent",
  "via",
  "x-requested-with",
];

/** `request.allow.matchingHeaders.builtIn.tracingHeaders`: W3C, B3, Jaeger, Datadog, AWS, GCP. */
export const TRACING_HEADERS: readonly string[] = [
  "traceparent",
  "tracestate",
  "baggage",
  "b3",
  "x-b3-traceid",
  "x-b3-spanid",
  "x-b3-parentspanid",
  "x-b3-sampled",
  "x-b3-flags",
  "x-ot-span-context",
  "uber-trace-id",
  "x-datadog-trace-id",
  "x-datadog-parent-id",
  "x-datadog-sampling-priority",
  "x-datadog-origin",
  "x-amzn-trace-id",
  "x-cloud-trace-context",
  "grpc-trace-bin",
];

/** `response.allow.matchingHeaders.builtIn.standardHeaders`: the response headers of HTTP and browsers. */
export const STANDARD_RESPONSE_HEADERS: readonly string[] = [
  "accept-ranges",
  "access-control-allow-credentials",
  "access-control-allow-headers",
  "access-control-allow-methods",
  "access-control-allow-origin",
  "access-control-expose-headers",
  "access-control-max-age",
  "age",
  "allow",
  "cache-control",
  "connection",
  "content-disposition",
  "content-encoding",
  "content-language",
  "content-length",
  "content-location",
  "content-range",
  "content-security-policy",
  "content-type",
  "date",
  "etag",
  "expires",
  "keep-alive",
  "last-modified",
  "link",
  "location",
  "permissions-policy",
  "pragma",
  "referrer-policy",
  "retry-after",
  "set-cookie",
  "strict-transport-security",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "vary",
  "www-authenticate",
  "x-content-type-options",
  "x-frame-options",
];

/**
 * Request headers an allow list never removes, whatever it says: the ones Envoy itself sets and
 * relies on (request id, client address), and the framing of the body.
 */
const ALWAYS_ALLOWED_REQUEST = [
  "content-length",
  "transfer-encoding",
  "x-request-id",
  "x-forwarded-for",
  "x-forwarded-proto",
];

/** Options of {@link translateHeaderRewrites}. */
export interface HeaderRewritesOptions {
  /** The application's correlation header (Telemetry): request allow lists always keep it. */
  readonly correlationHeader?: string;
}

/**
 * Splits `spec` into Envoy route headers and the inspector's plan.
 *
 * @example translateHeaderRewrites(DEFAULT_HEADER_REWRITES_SPEC).route.responseHeadersToRemove // ["server", ...]
 */
export function translateHeaderRewrites(
  spec: HeaderRewritesSpec,
  options: HeaderRewritesOptions = {},
): TranslatedHeaderRewrites {
  const req = spec.request;
  const res = spec.response;

  const requestRemove = split(req.remove.custom);
  const requestAdd = splitAdds(req.add.custom);
  const responseRemove = split(res.remove.custom);
  const responseAdd = splitAdds(res.add.custom);

  const builtIn = res.add.builtIn;
  const security: (readonly [string, string])[] = [];
  if (builtIn.hsts) security.push(builtIn.hstsPreload ? SECURITY_HEADERS.hstsPreload : SECURITY_HEADERS.hsts);
  for (const key of [
    "xContentTypeOptions",
    "xFrameOptions",
    "referrerPolicy",
    "permissionsPolicy",
    "csp",
    "featurePolicy",
  ] as const) {
    if (builtIn[key]) security.push(SECURITY_HEADERS[key]);
  }

  const leak = res.remove.informationLeakage;
  const route: RouteHeaders = {
    requestHeadersToAdd: requestAdd.native,
    requestHeadersToRemove: unique([
      ...(req.remove.alternativeForwardedHeaders ? ALTERNATIVE_FORWARDED_HEADERS : []),
      ...requestRemove.native,
    ]),
    responseHeadersToAdd: [
      ...security.map(([key, value]) => headerOption(key, value, "AddIfAbsent")),
      ...responseAdd.native,
    ],
    responseHeadersToRemove: unique([
      ...(leak.server ? SERVER_LEAKAGE_HEADERS : []),
      ...(leak.application ? APPLICATION_LEAKAGE_HEADERS : []),
      ...responseRemove.native,
    ]),
  };

  // Names this object adds itself are never removed again by its own response allow list.
  const addedResponseNames = [
    ...security.map(([name]) => name),
    ...res.add.custom.flatMap((rule) => rule.headers.map((h) => h.name.toLowerCase())),
  ];
  const auth = res.remove.auth;
  const plan: HeaderRewritePlan = {
    request: {
      ...allowList(req.allow, [
        ...(req.allow.kind === "matching" && req.allow.standardHeaders ? STANDARD_REQUEST_HEADERS : []),
        ...(req.allow.kind === "matching" && req.allow.tracingHeaders ? TRACING_HEADERS : []),
        ...ALWAYS_ALLOWED_REQUEST,
        ...(options.correlationHeader === undefined ? [] : [options.correlationHeader.toLowerCase()]),
      ]),
      remove: requestRemove.plan,
      add: requestAdd.plan,
    },
    response: {
      ...allowList(res.allow, [
        ...(res.allow.kind === "matching" && res.allow.standardHeaders ? STANDARD_RESPONSE_HEADERS : []),
        ...addedResponseNames,
      ]),
      remove: responseRemove.plan,
      add: responseAdd.plan,
      removeAuthSchemes: (["basic", "negotiate", "ntlm"] as const).filter((scheme) => auth[scheme]),
      removePermissiveCors: res.remove.permissiveCors,
    },
  };
  return { route, plan };
}

function allowList(allow: HeaderAllowList, names: readonly string[]): { allow?: AllowList } {
  if (allow.kind === "all") return {};
  return { allow: { names: unique(names), rules: allow.custom } };
}

/** A header selector Envoy can remove by itself: one exact name, any value. */
function removableByName(h: HeaderMatch): boolean {
  return h.name.kind === "exact" && h.value === undefined;
}

/** Removal rules -> names Envoy removes, and rules (or parts of rules) the inspector applies. */
function split(rules: readonly HeaderMatchRule[]): { native: string[]; plan: HeaderMatchRule[] } {
  const native: string[] = [];
  const plan: HeaderMatchRule[] = [];
  for (const rule of rules) {
    if (rule.requestConditions !== undefined) {
      plan.push(rule);
      continue;
    }
    const byName = rule.headers.filter(removableByName);
    const rest = rule.headers.filter((h) => !removableByName(h));
    native.push(...byName.map((h) => h.name.value.toLowerCase()));
    if (rest.length > 0) plan.push({ ...rule, headers: rest });
  }
  return { native, plan };
}

/** Add rules -> Envoy header options (no conditions) and inspector rules (with conditions, literal values). */
function splitAdds(rules: readonly HeaderAddRule[]): { native: HeaderValueOption[]; plan: HeaderAddRule[] } {
  const native: HeaderValueOption[] = [];
  const plan: HeaderAddRule[] = [];
  for (const rule of rules) {
    if (rule.requestConditions === undefined) {
      native.push(...rule.headers.map((h) => headerOption(h.name, h.value, rule.mode)));
    } else {
      // Parse guarantees these values hold no operator; only the "%%" escape is left to undo.
      plan.push({
        ...rule,
        headers: rule.headers.map((h) => ({ name: h.name, value: h.value.replaceAll("%%", "%") })),
      });
    }
  }
  return { native, plan };
}

function headerOption(key: string, value: string, mode: HeaderAddRule["mode"]): HeaderValueOption {
  return create(HeaderValueOptionSchema, {
    header: { key: key.toLowerCase(), value },
    appendAction:
      mode === "AddIfAbsent"
        ? HeaderValueOption_HeaderAppendAction.ADD_IF_ABSENT
        : HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
  });
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}
