/**
 * The `watch` section of the OperatorConfig: the install mode.
 *
 * ```yaml
 * watch: {}                                   # absent or empty: every namespace
 * watch: { namespaces: [shop, blog] }         # a fixed list (namespace-scoped RBAC suffices)
 * watch:                                      # the namespaces whose labels match (follows label changes)
 *   namespaceSelector:
 *     matchLabels: { microgateway.airlock.com/watch: "true" }
 *     matchExpressions: [{ key: env, operator: In, values: [prod, staging] }]
 * ```
 */
import {
  ALL_NAMESPACES,
  type LabelSelector,
  type LabelSelectorRequirement,
  type WatchScope,
} from "../source/watch-scope.ts";
import { type Fail, mapping, show } from "./config-fields.ts";

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A label name, or the value of a label (which may also be empty). */
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const OPERATORS: readonly LabelSelectorRequirement["operator"][] = ["In", "NotIn", "Exists", "DoesNotExist"];

/** Parses `watch` (at path `watch`); throws through `fail` naming the field. */
export function parseWatchScope(raw: unknown, fail: Fail): WatchScope {
  const w = mapping(raw, "watch", fail, ["namespaces", "namespaceSelector"]);
  const hasList = w.namespaces !== undefined && w.namespaces !== null;
  const hasSelector = w.namespaceSelector !== undefined && w.namespaceSelector !== null;
  if (hasList && hasSelector) {
    fail("watch", "may set namespaces or namespaceSelector, not both (they are two install modes)");
  }
  if (hasList) return { mode: "namespaces", namespaces: namespaceList(w.namespaces, fail) };
  if (hasSelector) return { mode: "selector", selector: labelSelector(w.namespaceSelector, fail) };
  return ALL_NAMESPACES;
}

function namespaceList(raw: unknown, fail: Fail): string[] {
  const at = "watch.namespaces";
  if (!Array.isArray(raw)) return fail(at, `must be a list of namespace names, got ${show(raw)}`);
  if (raw.length === 0) fail(at, "must name at least one namespace (omit watch to watch every namespace)");
  const seen = new Set<string>();
  raw.forEach((ns, i) => {
    if (typeof ns !== "string" || !NAMESPACE.test(ns))
      fail(`${at}[${i}]`, `${show(ns)} must be a namespace name (a DNS-1123 label)`);
    if (seen.has(ns as string)) fail(`${at}[${i}]`, `${show(ns)} is listed twice`);
    seen.add(ns as string);
  });
  return [...seen];
}

function labelSelector(raw: unknown, fail: Fail): LabelSelector {
  const at = "watch.namespaceSelector";
  const s = mapping(raw, at, fail, ["matchLabels", "matchExpressions"]);
  const matchLabels: Record<string, string> = {};
  for (const [key, value] of Object.entries(mapping(s.matchLabels, `${at}.matchLabels`, fail))) {
    labelKey(key, `${at}.matchLabels`, fail);
    // YAML reads `true` and `1` as a boolean and a number; a label value is always a string.
    const text = typeof value === "boolean" || typeof value === "number" ? String(value) : value;
    if (typeof text !== "string" || (text !== "" && !LABEL_NAME.test(text)))
      fail(`${at}.matchLabels.${key}`, `${show(value)} must be a label value (at most 63 characters)`);
    matchLabels[key] = text as string;
  }
  const rawExpressions = s.matchExpressions ?? [];
  if (!Array.isArray(rawExpressions))
    fail(`${at}.matchExpressions`, `must be a list, got ${show(rawExpressions)}`);
  const matchExpressions = (rawExpressions as unknown[]).map((e, i) =>
    requirement(e, `${at}.matchExpressions[${i}]`, fail),
  );
  if (Object.keys(matchLabels).length === 0 && matchExpressions.length === 0) {
    fail(at, "must have matchLabels or matchExpressions (omit watch to watch every namespace)");
  }
  return { matchLabels, matchExpressions };
}

function requirement(raw: unknown, at: string, fail: Fail): LabelSelectorRequirement {
  const r = mapping(raw, at, fail, ["key", "operator", "values"]);
  if (typeof r.key !== "string") return fail(`${at}.key`, `${show(r.key)} must be a label key`);
  labelKey(r.key, `${at}.key`, fail);
  const operator = r.operator as LabelSelectorRequirement["operator"];
  if (!OPERATORS.includes(operator))
    fail(`${at}.operator`, `${show(r.operator)} must be one of ${OPERATORS.join(", ")}`);
  const rawValues = r.values ?? [];
  if (!Array.isArray(rawValues)) return fail(`${at}.values`, `must be a list, got ${show(rawValues)}`);
  const values = rawValues.map((v, i) => {
    const text = typeof v === "boolean" || typeof v === "number" ? String(v) : v;
    if (typeof text !== "string" || (text !== "" && !LABEL_NAME.test(text)))
      fail(`${at}.values[${i}]`, `${show(v)} must be a label value`);
    return text as string;
  });
  const needsValues = operator === "In" || operator === "NotIn";
  if (needsValues && values.length === 0) fail(`${at}.values`, `must not be empty for operator ${operator}`);
  if (!needsValues && values.length > 0) fail(`${at}.values`, `must be empty for operator ${operator}`);
  return { key: r.key, operator, values };
}

/** `[prefix/]name`: the prefix a DNS subdomain, the name at most 63 characters. */
function labelKey(key: string, at: string, fail: Fail): void {
  const slash = key.indexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if ((prefix !== undefined && !DNS_SUBDOMAIN.test(prefix)) || !LABEL_NAME.test(name)) {
    fail(at, `${show(key)} must be a label key ([prefix/]name, name at most 63 characters)`);
  }
}
