/**
 * Which namespaces one operator serves (its install mode, `watch` in the OperatorConfig): every
 * namespace, a fixed list, or the namespaces whose labels match a selector. The Kubernetes source
 * watches only these, and the webhook injects only into them. Pure: matching and describing; reading
 * namespaces is the caller's.
 */

/** One `matchExpressions` entry of a Kubernetes label selector. */
export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  /** Non-empty for In and NotIn, empty for Exists and DoesNotExist. */
  readonly values: readonly string[];
}

/** A Kubernetes label selector (`metav1.LabelSelector`), both parts always present. */
export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly LabelSelectorRequirement[];
}

/** The namespaces an operator watches. */
export type WatchScope =
  | { readonly mode: "all" }
  | { readonly mode: "namespaces"; readonly namespaces: readonly string[] }
  | { readonly mode: "selector"; readonly selector: LabelSelector };

/** Every namespace: the default install mode. */
export const ALL_NAMESPACES: WatchScope = Object.freeze({ mode: "all" });

/**
 * Whether `labels` satisfy `selector`, with Kubernetes' semantics: every matchLabels pair and every
 * requirement must hold (NotIn and DoesNotExist also hold when the key is absent).
 *
 * @example matchesLabelSelector({ matchLabels: { team: "shop" }, matchExpressions: [] }, ns.metadata.labels ?? {})
 */
export function matchesLabelSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) if (labels[key] !== value) return false;
  for (const r of selector.matchExpressions) {
    const has = Object.hasOwn(labels, r.key);
    const value = labels[r.key];
    switch (r.operator) {
      case "In":
        if (!has || !r.values.includes(value ?? "")) return false;
        break;
      case "NotIn":
        if (has && r.values.includes(value ?? "")) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
    }
  }
  return true;
}

/**
 * Whether `namespace` is in the scope. `namespaceLabels` is asked only in selector mode, and only
 * then: it reads the namespace (undefined when it does not exist, which is out of scope).
 */
export async function namespaceInScope(
  scope: WatchScope,
  namespace: string,
  namespaceLabels: (namespace: string) => Promise<Readonly<Record<string, string>> | undefined>,
): Promise<boolean> {
  switch (scope.mode) {
    case "all":
      return true;
    case "namespaces":
      return scope.namespaces.includes(namespace);
    case "selector": {
      const labels = await namespaceLabels(namespace);
      return labels !== undefined && matchesLabelSelector(scope.selector, labels);
    }
  }
}

/** The scope in words, for the operator's startup line. */
export function describeWatchScope(scope: WatchScope): string {
  switch (scope.mode) {
    case "all":
      return "all namespaces";
    case "namespaces":
      return `namespaces ${scope.namespaces.join(", ")}`;
    case "selector":
      return `namespaces matching ${selectorString(scope.selector)}`;
  }
}

/** The selector in kubectl's `-l` syntax (`team=shop,env in (prod,staging),!legacy`). */
export function selectorString(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels).map(([k, v]) => `${k}=${v}`);
  for (const r of selector.matchExpressions) {
    if (r.operator === "In") parts.push(`${r.key} in (${r.values.join(",")})`);
    else if (r.operator === "NotIn") parts.push(`${r.key} notin (${r.values.join(",")})`);
    else if (r.operator === "Exists") parts.push(r.key);
    else parts.push(`!${r.key}`);
  }
  return parts.join(",");
}
