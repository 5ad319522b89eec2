/**
 * Decoded Kubernetes object -> validated, defaulted model object (reference §3.3-3.5, 3.7, 3.8).
 *
 * Behaves like the API server with our CRDs installed plus the validating webhook: defaults are
 * applied where the API declares them, wrong types and out-of-range values are rejected with a
 * message naming object, field and expectation, and fields we do not know are dropped silently
 * (structural schemas prune unknown fields instead of rejecting them).
 */

import { createHash } from "node:crypto";
import { MAX_NAME_LENGTH as MAX_NAME } from "../api/common.ts";
import { MAX_APPLICATIONS, MAX_ROUTES } from "../api/sidecar-gateway.ts";
import { MicrogatewayError } from "../errors.ts";
import {
  type At,
  asEnum,
  asInt,
  asList,
  asRecord,
  asString,
  asStringMap,
  child,
  fail,
  isRecord,
  optionalRecord,
  optionalRef,
  present,
  required,
  show,
} from "./fields.ts";
import { parseHeaderRewritesSpec } from "./header-rewrites.ts";
import { parseCustomRules } from "./parse-custom-rules.ts";
import { parseEnvoyClusterSpec, parseEnvoyHTTPFilterSpec, parseSecretContent } from "./parse-envoy-raw.ts";
import { parseApplicationSettings, parseEnvoyClusterRefs } from "./parse-gateway-settings.ts";
import { parseLimitsSpec } from "./parse-limits.ts";
import { parseRequestConditions, parseRequestData } from "./parse-matchers.ts";
import { parseParserSpec } from "./parse-parser.ts";
import { parseTelemetrySpec } from "./telemetry.ts";
import {
  API_VERSION,
  type Application,
  type ContentSecurity,
  type ContentSecuritySpec,
  DENY_RULE_LEVELS,
  type DenyRules,
  type DenyRulesException,
  type DenyRulesOverride,
  type DenyRulesSpec,
  type EnvoyCluster,
  type EnvoyHTTPFilter,
  type HeaderRewrites,
  type Limits,
  type ModelObject,
  type ObjectMeta,
  type Parser,
  type Route,
  RULE_FAMILIES,
  RULE_TARGET_TYPES,
  type RuleFamily,
  type SecretObject,
  type SecuredRoute,
  type SidecarGateway,
  type SidecarGatewaySpec,
  type Telemetry,
  THREAT_HANDLING_MODES,
} from "./types.ts";

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Validates `obj` and returns the model object, or undefined for kinds the model does not hold
 * (so a manifest directory may contain Deployments, Services, ... that the caller reports as ignored).
 * Throws `MicrogatewayError` `InvalidManifest` if `obj` is not a Kubernetes object at all and
 * `InvalidResource` if a handled kind is invalid.
 *
 * @example parseResource(yaml.parse(text), "examples/local/gateway.yaml#1")
 */
export function parseResource(obj: unknown, origin?: string): ModelObject | undefined {
  if (!isRecord(obj)) {
    throw new MicrogatewayError(
      "InvalidManifest",
      `expected a Kubernetes object with apiVersion and kind, got ${show(obj)}`,
    );
  }
  const { apiVersion, kind } = obj;
  if (typeof apiVersion !== "string" || apiVersion === "") {
    throw new MicrogatewayError(
      "InvalidManifest",
      `apiVersion ${show(apiVersion)} must be a non-empty string`,
    );
  }
  if (typeof kind !== "string" || kind === "") {
    throw new MicrogatewayError("InvalidManifest", `kind ${show(kind)} must be a non-empty string`);
  }
  if (apiVersion === "v1" && kind === "Pod") {
    const { meta } = parseMetadata("Pod", obj.metadata, origin);
    return freeze(withVersion({ metadata: meta }, obj.metadata));
  }
  if (apiVersion === "v1" && kind === "Secret") {
    const { meta, at } = parseMetadata(kind, obj.metadata, origin);
    const content = parseSecretContent(at, obj);
    return freeze(withVersion<SecretObject>({ kind, metadata: meta, ...content }, obj.metadata));
  }
  if (apiVersion !== API_VERSION) return undefined;
  switch (kind) {
    case "SidecarGateway": {
      const { meta, at } = parseMetadata(kind, obj.metadata, origin);
      const spec = parseSidecarGatewaySpec(child(at, "spec"), obj.spec);
      return freeze(withVersion<SidecarGateway>({ kind, metadata: meta, spec }, obj.metadata));
    }
    case "ContentSecurity": {
      const { meta, at } = parseMetadata(kind, obj.metadata, origin);
      const spec = parseContentSecuritySpec(child(at, "spec"), obj.spec);
      return freeze(withVersion<ContentSecurity>({ kind, metadata: meta, spec }, obj.metadata));
    }
    case "DenyRules": {
      const { meta, at } = parseMetadata(kind, obj.metadata, origin);
      const spec = parseDenyRulesSpec(child(at, "spec"), obj.spec);
      return freeze(withVersion<DenyRules>({ kind, metadata: meta, spec }, obj.metadata));
    }
    case "EnvoyCluster": {
      const { meta, at } = parseMetadata(kind, obj.metadata, origin);
      const spec = parseEnvoyClusterSpec(child(at, "spec"), obj.spec, meta);
      return freeze(withVersion<EnvoyCluster>({ kind, metadata: meta, spec }, obj.metadata));
    }
    case "EnvoyHTTPFilter": {
      const { meta, at } = parseMetadata(kind, obj.metadata, origin);
      const spec = parseEnvoyHTTPFilterSpec(child(at, "spec"), obj.spec);
      return freeze(withVersion<EnvoyHTTPFilter>({ kind, metadata: meta, spec }, obj.metadata));
    }
    case "HeaderRewrites": {
      const { meta, at } = parseMetadata(kind, obj.metadata, origin);
      const spec = parseHeaderRewritesSpec(child(at, "spec"), obj.spec);
      return freeze(withVersion<HeaderRewrites>({ kind, metadata: meta, spec }, obj.metadata));
    }
    case "Telemetry": {
      const { meta, at } = parseMetadata(kind, obj.metadata, origin);
      const spec = parseTelemetrySpec(child(at, "spec"), obj.spec);
      return freeze(withVersion<Telemetry>({ kind, metadata: meta, spec }, obj.metadata));
    }
    case "Limits": {
      const { meta, at } = parseMetadata(kind, obj.metadata, origin);
      const spec = parseLimitsSpec(child(at, "spec"), obj.spec);
      return freeze(withVersion<Limits>({ kind, metadata: meta, spec }, obj.metadata));
    }
    case "Parser": {
      const { meta, at } = parseMetadata(kind, obj.metadata, origin);
      const spec = parseParserSpec(child(at, "spec"), obj.spec);
      return freeze(withVersion<Parser>({ kind, metadata: meta, spec }, obj.metadata));
    }
    default:
      // Other kinds of our group (SessionHandling, ...) are not modelled yet.
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Kinds

function parseSidecarGatewaySpec(at: At, raw: unknown): SidecarGatewaySpec {
  // Accepted but not modelled yet (dropped): sessionHandlingRef.
  const spec = asRecord(at, required(at, raw));
  const selectorAt = child(at, "podSelector");
  const selector = asRecord(selectorAt, required(selectorAt, spec.podSelector));
  const labelsAt = child(selectorAt, "matchLabels");
  const matchLabels = asStringMap(labelsAt, required(labelsAt, selector.matchLabels));

  const appsAt = child(at, "applications");
  const rawApps = asList(appsAt, required(appsAt, spec.applications), 1, MAX_APPLICATIONS);
  const applications = rawApps.map((app, i) => parseApplication(child(appsAt, i), app));
  const firstByPort = new Map<number, number>();
  applications.forEach((app, i) => {
    const first = firstByPort.get(app.containerPort);
    if (first !== undefined) {
      fail(
        child(child(appsAt, i), "containerPort"),
        `${app.containerPort} must be unique within the gateway (also used by spec.applications[${first}])`,
      );
    }
    firstByPort.set(app.containerPort, i);
  });
  return { podSelector: { matchLabels }, applications, ...parseEnvoyClusterRefs(at, spec) };
}

function parseApplication(at: At, raw: unknown): Application {
  // Accepted but not modelled yet (dropped): nothing.
  const app = asRecord(at, raw);
  const portAt = child(at, "containerPort");
  const containerPort =
    present(app.containerPort) === undefined ? 8080 : asInt(portAt, app.containerPort, 1, 65535);
  const routesAt = child(at, "routes");
  // An explicit empty list stays empty (Kubernetes defaults only absent fields): nothing is routed.
  const routes =
    present(app.routes) === undefined
      ? [{ pathPrefix: "/", secured: {} }]
      : asList(routesAt, app.routes, 0, MAX_ROUTES).map((r, i) => parseRoute(child(routesAt, i), r));
  return {
    containerPort,
    routes,
    ...optionalRef(at, app, "telemetryRef"),
    ...parseApplicationSettings(at, app),
  };
}

function parseRoute(at: At, raw: unknown): Route {
  const route = asRecord(at, raw);
  const prefixAt = child(at, "pathPrefix");
  const pathPrefix = present(route.pathPrefix) === undefined ? "/" : asString(prefixAt, route.pathPrefix);
  if (!pathPrefix.startsWith("/")) fail(prefixAt, `${show(pathPrefix)} must start with "/"`);
  const secured = present(route.secured);
  const unsecured = present(route.unsecured);
  if (secured !== undefined && unsecured !== undefined) {
    fail(at, "must have exactly one of secured, unsecured (both are set)");
  }
  if (unsecured !== undefined) {
    asRecord(child(at, "unsecured"), unsecured);
    return { pathPrefix, unsecured: {} };
  }
  // Secured is the default: forgetting to say which one must never turn the WAF off.
  return { pathPrefix, secured: secured === undefined ? {} : parseSecured(child(at, "secured"), secured) };
}

function parseSecured(at: At, raw: unknown): SecuredRoute {
  const secured = asRecord(at, raw);
  return {
    ...optionalRef(at, secured, "contentSecurityRef"),
    ...optionalRef(at, secured, "accessControlRef"),
  };
}

function parseContentSecuritySpec(at: At, raw: unknown): ContentSecuritySpec {
  // Accepted but not modelled yet (dropped): apiProtectionRef, csrfProtectionRef, apiProtection.
  const spec = present(raw) === undefined ? {} : asRecord(at, raw);
  const filterAt = child(at, "filter");
  const filter = present(spec.filter) === undefined ? undefined : asRecord(filterAt, spec.filter);
  return {
    ...(filter === undefined ? {} : { filter: optionalRef(filterAt, filter, "denyRulesRef") }),
    ...optionalRef(at, spec, "headerRewritesRef"),
    ...optionalRef(at, spec, "limitsRef"),
    ...optionalRef(at, spec, "parserRef"),
  };
}

function parseDenyRulesSpec(at: At, raw: unknown): DenyRulesSpec {
  const spec = optionalRecord(at, raw);
  const requestAt = child(at, "request");
  const request = optionalRecord(requestAt, spec.request);
  const builtInAt = child(requestAt, "builtIn");
  const builtIn = optionalRecord(builtInAt, request.builtIn);
  const settingsAt = child(builtInAt, "settings");
  const settings = optionalRecord(settingsAt, builtIn.settings);
  const level =
    present(settings.level) === undefined
      ? "Standard"
      : asEnum(child(settingsAt, "level"), settings.level, DENY_RULE_LEVELS);
  const threatHandlingMode =
    present(settings.threatHandlingMode) === undefined
      ? "Block"
      : asEnum(child(settingsAt, "threatHandlingMode"), settings.threatHandlingMode, THREAT_HANDLING_MODES);
  const custom = parseCustomRules(child(requestAt, "custom"), request.custom);
  const overridesAt = child(builtInAt, "overrides");
  const rawOverrides = present(builtIn.overrides);
  const overrides =
    rawOverrides === undefined
      ? []
      : asList(overridesAt, rawOverrides, 0, MAX_OVERRIDES).map((o, i) =>
          parseOverride(child(overridesAt, i), o),
        );
  const exceptionsAt = child(builtInAt, "exceptions");
  const rawExceptions = present(builtIn.exceptions);
  const exceptions =
    rawExceptions === undefined
      ? []
      : asList(exceptionsAt, rawExceptions, 0, MAX_EXCEPTIONS).map((e, i) =>
          parseException(child(exceptionsAt, i), e),
        );
  return {
    request: {
      builtIn: {
        settings: { level, threatHandlingMode },
        // Empty lists are left out, so such specs stay equal to the defaults.
        ...(overrides.length === 0 ? {} : { overrides }),
        ...(exceptions.length === 0 ? {} : { exceptions }),
      },
      // No rules and no `custom` mean the same; leaving it out keeps such specs equal to the defaults.
      ...(custom.rules.length === 0 ? {} : { custom }),
    },
  };
}

const MAX_OVERRIDES = 128;
const MAX_EXCEPTIONS = 4096;
const MAX_EXCEPTION_FAMILIES = 32;

function parseFamilies(at: At, raw: unknown, max: number): RuleFamily[] {
  return [...new Set(asList(at, raw, 1, max).map((f, i) => asEnum(child(at, i), f, RULE_FAMILIES)))];
}

function parseOverride(at: At, raw: unknown): DenyRulesOverride {
  const override = asRecord(at, raw);
  const conditionsAt = child(at, "conditions");
  const conditions = optionalRecord(conditionsAt, override.conditions);
  const settingsAt = child(at, "settings");
  const settings = optionalRecord(settingsAt, override.settings);
  const ruleKeys = present(conditions.ruleKeys);
  const types = present(conditions.types);
  const level = present(settings.level);
  const mode = present(settings.threatHandlingMode);
  const typesAt = child(conditionsAt, "types");
  return {
    ...(ruleKeys === undefined
      ? {}
      : { ruleKeys: parseFamilies(child(conditionsAt, "ruleKeys"), ruleKeys, RULE_FAMILIES.length) }),
    ...(types === undefined
      ? {}
      : {
          types: [
            ...new Set(
              asList(typesAt, types, 0, RULE_TARGET_TYPES.length).map((t, i) =>
                asEnum(child(typesAt, i), t, RULE_TARGET_TYPES),
              ),
            ),
          ],
        }),
    ...(level === undefined ? {} : { level: asEnum(child(settingsAt, "level"), level, DENY_RULE_LEVELS) }),
    ...(mode === undefined
      ? {}
      : { threatHandlingMode: asEnum(child(settingsAt, "threatHandlingMode"), mode, THREAT_HANDLING_MODES) }),
  };
}

function parseException(at: At, raw: unknown): DenyRulesException {
  const exception = asRecord(at, raw);
  const ruleKeys = present(exception.ruleKeys);
  const data = present(exception.blockedData);
  const conditions = present(exception.requestConditions);
  if (data === undefined && conditions === undefined) {
    fail(at, "must have at least one of blockedData, requestConditions (none set)");
  }
  return {
    ...(ruleKeys === undefined
      ? {}
      : { ruleKeys: parseFamilies(child(at, "ruleKeys"), ruleKeys, MAX_EXCEPTION_FAMILIES) }),
    ...(data === undefined ? {} : { blockedData: parseRequestData(child(at, "blockedData"), data) }),
    ...(conditions === undefined
      ? {}
      : { requestConditions: parseRequestConditions(child(at, "requestConditions"), conditions) }),
  };
}

// ---------------------------------------------------------------------------------------------
// Metadata

function parseMetadata(kind: string, raw: unknown, origin: string | undefined): { meta: ObjectMeta; at: At } {
  const loose = isRecord(raw) ? raw : {};
  // The subject is built from the raw values first so that errors in the name itself can name the object.
  const rawNs = present(loose.namespace) ?? "default";
  const subject = `${kind} ${typeof rawNs === "string" ? rawNs : "?"}/${typeof loose.name === "string" ? loose.name : "?"}`;
  const at: At = { subject, path: "" };
  const metaAt = child(at, "metadata");
  const metadata = asRecord(metaAt, required(metaAt, raw));

  const nameAt = child(metaAt, "name");
  const name = asString(nameAt, required(nameAt, metadata.name));
  if (name.length > MAX_NAME || !DNS1123_SUBDOMAIN.test(name)) {
    fail(
      nameAt,
      `${show(name)} must be a DNS-1123 subdomain (lowercase alphanumerics, "-" and ".", at most 253)`,
    );
  }
  const nsAt = child(metaAt, "namespace");
  const namespace = asString(nsAt, rawNs);
  // Namespaces are DNS-1123 labels, so they never contain a dot; node ids rely on that.
  if (namespace.length > 63 || !DNS1123_LABEL.test(namespace)) {
    fail(nsAt, `${show(namespace)} must be a DNS-1123 label (lowercase alphanumerics and "-", at most 63)`);
  }
  const labels = present(metadata.labels);
  const annotations = present(metadata.annotations);
  const meta: ObjectMeta = {
    name,
    namespace,
    ...(labels === undefined ? {} : { labels: asStringMap(child(metaAt, "labels"), labels) }),
    ...(annotations === undefined
      ? {}
      : { annotations: asStringMap(child(metaAt, "annotations"), annotations) }),
    ...(origin === undefined ? {} : { origin }),
  };
  return { meta, at };
}

/**
 * Adds `metadata.resourceVersion`: the object's own if it has one (Kubernetes), else a hash of the
 * validated content (files). Hashing the normalized result rather than the text means comments,
 * key order and dropped fields do not make a new version, so they never cause a needless push.
 */
function withVersion<T extends { metadata: ObjectMeta }>(obj: T, rawMeta: unknown): T {
  const own = isRecord(rawMeta) ? rawMeta.resourceVersion : undefined;
  if (typeof own === "string" && own !== "")
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: own } };
  const { origin: _origin, ...identity } = obj.metadata;
  const hash = createHash("sha256")
    .update(canonicalJson({ ...obj, metadata: identity }))
    .digest("hex");
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: `sha256:${hash.slice(0, 16)}` } };
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function freeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) freeze(v);
    Object.freeze(value);
  }
  return value;
}
