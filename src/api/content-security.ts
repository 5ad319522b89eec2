/**
 * ContentSecurity (reference §3.4): the bundle of filter policies a secured route uses.
 */
import { localRef } from "./common.ts";
import type { KindDefinition } from "./crd.ts";
import { object, withDefault } from "./schema.ts";

/** ContentSecurity `spec`: references only; an absent reference means that policy's defaults. */
export const contentSecuritySpecSchema = object(
  "The policies applied to the routes that reference this ContentSecurity. Each absent reference means that policy's defaults.",
  {
    filter: object("Request filtering.", {
      denyRulesRef: localRef("The DenyRules. Absent: the built-in deny rules at level Standard, Block."),
    }),
    headerRewritesRef: localRef("The HeaderRewrites. Absent: the default header rewrites."),
    limitsRef: localRef("The Limits. Absent: the default limits."),
    parserRef: localRef("The Parser. Absent: the default parsers."),
    apiProtectionRef: localRef("The APIProtection (OpenAPI and GraphQL validation). Absent: none."),
    csrfProtectionRef: localRef("The CSRFProtection. Absent: none."),
    apiProtection: object("Deprecated: use apiProtectionRef.", {
      openAPIRef: localRef("Deprecated: an OpenAPI."),
      graphQLRef: localRef("Deprecated: a GraphQL."),
    }),
  },
);

export const contentSecurityKind: KindDefinition = {
  kind: "ContentSecurity",
  plural: "contentsecurities",
  description: "Bundles the filter policies (deny rules, header rewrites, limits, parser) of secured routes.",
  spec: withDefault(contentSecuritySpecSchema, {}),
  printerColumns: [
    {
      name: "DenyRules",
      type: "string",
      jsonPath: ".spec.filter.denyRulesRef.name",
      description: "The referenced DenyRules.",
    },
  ],
};
