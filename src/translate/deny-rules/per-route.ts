import { create } from "@bufbuild/protobuf";
import {
  type Permission,
  PermissionSchema,
  type Policy,
  PolicySchema,
  RBAC_Action,
  RBACSchema as RbacRulesSchema,
} from "../../../gen/envoy/config/rbac/v3/rbac_pb.js";
import {
  type RBACPerRoute,
  RBACPerRouteSchema,
  RBACSchema,
} from "../../../gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js";
import { StringMatcherSchema } from "../../../gen/envoy/type/matcher/v3/string_pb.js";
import { MicrogatewayError } from "../../errors.ts";
import type { DenyRulesSpec, ThreatHandlingMode } from "../../model/types.ts";
import { type BuiltInRule, locationRegex, policyName, type RuleLocation } from "./built-in-rule.ts";
import { rulesAtLevel } from "./catalog.ts";
import { customRulePolicies } from "./custom-rules.ts";

/**
 * The RBAC filter's per-route configuration that enforces (Block) or only reports (LogOnly) the
 * built-in deny rules of `spec` and its custom rules. Policies of mode Block go to `rules`, those of
 * mode LogOnly to `shadow_rules`; one spec can fill both, since a custom rule has its own mode.
 * Level Unfiltered without custom rules yields an RBAC without rules, which lets every request
 * through. A blocked request gets RBAC's 403 with `response_code_details`
 * `rbac_access_denied_matched_policy[<KEY>/<location>]` (`<ruleKey>/custom` for a custom rule);
 * the listener maps the status.
 *
 * @example denyRulesPerRoute(DEFAULT_DENY_RULES_SPEC).rbac?.rules?.policies["SQL_UNION_SELECT/query"]
 */
export function denyRulesPerRoute(spec: DenyRulesSpec): RBACPerRoute {
  const { level, threatHandlingMode } = spec.request.builtIn.settings;
  if (threatHandlingMode !== "Block" && threatHandlingMode !== "LogOnly") {
    throw new MicrogatewayError(
      "Internal",
      `deny rules: threatHandlingMode "${String(threatHandlingMode satisfies never)}" is not one of Block, LogOnly`,
    );
  }
  const builtIn = policiesFor(rulesAtLevel(level));
  const custom = spec.request.custom?.rules ?? [];
  const byMode: Record<ThreatHandlingMode, Record<string, Policy>> = {
    Block: { ...(threatHandlingMode === "Block" ? builtIn : {}), ...customRulePolicies(custom, "Block") },
    LogOnly: {
      ...(threatHandlingMode === "LogOnly" ? builtIn : {}),
      ...customRulePolicies(custom, "LogOnly"),
    },
  };
  const denyList = (policies: Record<string, Policy>) =>
    Object.keys(policies).length === 0
      ? undefined
      : create(RbacRulesSchema, { action: RBAC_Action.DENY, policies });
  const rules = denyList(byMode.Block);
  // Shadow rules are evaluated and counted (`rbac.shadow_denied`, dynamic metadata
  // `shadow_effective_policy_id`) but never enforced.
  const shadowRules = denyList(byMode.LogOnly);
  return create(RBACPerRouteSchema, {
    rbac: create(RBACSchema, {
      ...(rules === undefined ? {} : { rules }),
      ...(shadowRules === undefined ? {} : { shadowRules }),
    }),
  });
}

function policiesFor(rules: readonly BuiltInRule[]): Record<string, Policy> {
  const policies: Record<string, Policy> = {};
  for (const rule of rules) {
    for (const location of rule.locations) {
      policies[policyName(rule, location)] = create(PolicySchema, {
        permissions: [permissionFor(locationRegex(rule, location), location)],
        principals: [{ identifier: { case: "any", value: true } }],
      });
    }
  }
  return policies;
}

function permissionFor(regex: string, location: RuleLocation): Permission {
  const stringMatcher = create(StringMatcherSchema, {
    matchPattern: { case: "safeRegex", value: { regex } },
  });
  switch (location) {
    case "path":
      // url_path strips the query string before matching.
      return create(PermissionSchema, {
        rule: { case: "urlPath", value: { rule: { case: "path", value: stringMatcher } } },
      });
    case "query":
      // No RBAC matcher sees only the query, so match the whole `:path` and anchor after the `?`.
      return create(PermissionSchema, {
        rule: {
          case: "header",
          value: { name: ":path", headerMatchSpecifier: { case: "stringMatch", value: stringMatcher } },
        },
      });
  }
}
