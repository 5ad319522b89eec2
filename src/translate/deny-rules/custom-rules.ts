/**
 * Custom deny rules (DenyRules `spec.request.custom.rules`) -> RBAC policies named `<ruleKey>/custom`,
 * one per rule, beside the built-in rules' `<KEY>/<location>` policies.
 */

import { create } from "@bufbuild/protobuf";
import {
  type Permission,
  PermissionSchema,
  type Policy,
  PolicySchema,
} from "../../../gen/envoy/config/rbac/v3/rbac_pb.js";
import { type StringMatcher, StringMatcherSchema } from "../../../gen/envoy/type/matcher/v3/string_pb.js";
import { MicrogatewayError } from "../../errors.ts";
import type { CustomRule, StringMatch, ThreatHandlingMode } from "../../model/types.ts";

/** The RBAC policy name of a custom rule; Envoy reports it in `response_code_details`. */
export function customPolicyName(rule: Pick<CustomRule, "ruleKey">): string {
  return `${rule.ruleKey}/custom`;
}

/**
 * The policies of the custom rules whose mode is `mode`, by policy name.
 *
 * @example customRulePolicies(spec.request.custom?.rules ?? [], "Block")["BLOCK_ADMIN/custom"]
 */
export function customRulePolicies(
  rules: readonly CustomRule[],
  mode: ThreatHandlingMode,
): Record<string, Policy> {
  const policies: Record<string, Policy> = {};
  for (const rule of rules) {
    if (rule.threatHandlingMode !== mode) continue;
    policies[customPolicyName(rule)] = create(PolicySchema, {
      permissions: [customRulePermission(rule)],
      principals: [{ identifier: { case: "any", value: true } }],
    });
  }
  return policies;
}

/** The permission a request must match to be denied: the blocked data AND every request condition. */
export function customRulePermission(rule: CustomRule): Permission {
  const parts: Permission[] = [blockDataPermission(rule)];
  const methods = rule.requestConditions?.method;
  if (methods !== undefined && methods.length > 0) {
    const byMethod = methods.map((method) =>
      headerPermission(":method", stringMatcher({ kind: "exact", value: method, ignoreCase: false })),
    );
    parts.push(
      byMethod.length === 1
        ? byMethod[0]!
        : create(PermissionSchema, { rule: { case: "orRules", value: { rules: byMethod } } }),
    );
  }
  const path = rule.requestConditions?.path;
  if (path !== undefined) parts.push(urlPathPermission(path));
  if (parts.length === 1) return parts[0]!;
  return create(PermissionSchema, { rule: { case: "andRules", value: { rules: parts } } });
}

function blockDataPermission(rule: CustomRule): Permission {
  const data = rule.blockData;
  switch (data.kind) {
    case "path":
      return urlPathPermission(data.path);
    case "header":
      return create(PermissionSchema, {
        rule: {
          case: "header",
          value: {
            name: rbacHeaderName(rule),
            headerMatchSpecifier:
              data.value === undefined
                ? { case: "presentMatch", value: true }
                : { case: "stringMatch", value: stringMatcher(data.value) },
          },
        },
      });
    case "parameter":
      if (data.source !== "Query" || data.name === undefined)
        throw notForRbac(rule, "a parameter other than a named query parameter");
      return headerPermission(
        ":path",
        stringMatcher({
          kind: "regex",
          value: queryParameterRegex(data.name, data.value),
          ignoreCase: false,
        }),
      );
    default:
      throw notForRbac(rule, data.kind);
  }
}

// The model now holds every blockData kind the inspector enforces (src/inspect/); RBAC enforces only
// a few of them. This translation is replaced by the inspector's; until then it refuses the others.
function notForRbac(rule: CustomRule, what: string): MicrogatewayError {
  return new MicrogatewayError(
    "InvalidResource",
    `custom rule ${rule.ruleKey}: ${what} cannot be enforced by RBAC`,
  );
}

function rbacHeaderName(rule: CustomRule): string {
  const data = rule.blockData;
  if (data.kind !== "header" || data.name?.kind !== "exact")
    throw notForRbac(rule, "a header name other than exact");
  return data.name.value.toLowerCase();
}

function urlPathPermission(match: StringMatch): Permission {
  // url_path matches the path without the query string.
  return create(PermissionSchema, {
    rule: { case: "urlPath", value: { rule: { case: "path", value: stringMatcher(match) } } },
  });
}

function headerPermission(name: string, matcher: StringMatcher): Permission {
  return create(PermissionSchema, {
    rule: { case: "header", value: { name, headerMatchSpecifier: { case: "stringMatch", value: matcher } } },
  });
}

/**
 * Envoy's StringMatcher for a model matcher. Envoy ignores `ignore_case` for `safe_regex`, so a
 * case-insensitive regex is wrapped in `(?i:...)`, as the API documents.
 */
export function stringMatcher(match: StringMatch): StringMatcher {
  const { kind, value, ignoreCase } = match;
  switch (kind) {
    case "regex":
      return create(StringMatcherSchema, {
        matchPattern: { case: "safeRegex", value: { regex: ignoreCase ? `(?i:${value})` : value } },
      });
    case "exact":
    case "prefix":
    case "suffix":
    case "contains":
      return create(StringMatcherSchema, { matchPattern: { case: kind, value }, ignoreCase });
  }
}

/** Characters of a query parameter's name or value: up to the next `=` (names only), `&` or `#`. */
const NAME_CHARS = "[^=&#]";
const VALUE_CHARS = "[^&#]";

/**
 * A full-match RE2 regex over `:path` (path plus `?query`) that matches when the query string has
 * a parameter whose name matches `name` and, if given, whose value matches `value`. Names and values
 * are matched as they are on the wire: Envoy does not decode the query, so `a%20b` is not `a b`.
 *
 * @example queryParameterRegex({kind: "exact", value: "debug", ignoreCase: false}) // "[^?#]*\\?(?:[^#]*&)?(?:debug)(?:=[^&#]*)?(?:[&#].*)?"
 */
export function queryParameterRegex(name: StringMatch, value?: StringMatch): string {
  const namePart = `(?:${fragment(name, NAME_CHARS)})`;
  const valuePart = value === undefined ? `(?:=${VALUE_CHARS}*)?` : `=(?:${fragment(value, VALUE_CHARS)})`;
  // The parameter is the first one, or follows a `&`; after it comes the next one or the fragment.
  return `[^?#]*\\?(?:[^#]*&)?${namePart}${valuePart}(?:[&#].*)?`;
}

/** An RE2 fragment matching exactly the strings `match` matches, built from `chars` for the free parts. */
function fragment(match: StringMatch, chars: string): string {
  const { kind, value, ignoreCase } = match;
  const body = (() => {
    switch (kind) {
      case "exact":
        return re2Quote(value);
      case "prefix":
        return `${re2Quote(value)}${chars}*`;
      case "suffix":
        return `${chars}*${re2Quote(value)}`;
      case "contains":
        return `${chars}*${re2Quote(value)}${chars}*`;
      case "regex":
        return value;
    }
  })();
  return ignoreCase ? `(?i:${body})` : body;
}

/**
 * Escapes `text` so RE2 matches it literally. Every ASCII punctuation character is escaped (RE2
 * accepts `\` before any of them), other characters stand for themselves; `\Q...\E` is avoided
 * because a literal `\E` would end it.
 *
 * @example re2Quote("a.b?") // "a\\.b\\?"
 */
export function re2Quote(text: string): string {
  return text.replace(/[!-/:-@[-`{-~]/g, (c) => `\\${c}`);
}
