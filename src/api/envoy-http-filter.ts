/**
 * EnvoyHTTPFilter (reference §3.10): a raw Envoy HTTP filter placed before or after the WAF's filters
 * of the applications that reference it.
 */
import type { KindDefinition } from "./crd.ts";
import { freeForm, object, required, string } from "./schema.ts";

/** EnvoyHTTPFilter `spec`. */
export const envoyHTTPFilterSpecSchema = object("A raw Envoy HTTP filter.", {
  value: required(
    freeForm(
      "The filter as Envoy's HttpFilter (name and typed_config) in JSON/YAML form; stored as written and validated by Envoy.",
      {
        name: required(
          string("Filter name, e.g. envoy.filters.http.ext_authz.", { minLength: 1, maxLength: 512 }),
        ),
      },
    ),
  ),
});

export const envoyHTTPFilterKind: KindDefinition = {
  kind: "EnvoyHTTPFilter",
  plural: "envoyhttpfilters",
  description:
    "A raw Envoy HTTP filter for the applications that reference it (applications[].envoyHTTPFilterRefs).",
  spec: required(envoyHTTPFilterSpecSchema),
};
