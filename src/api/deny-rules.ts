/**
 * DenyRules (reference §3.5): the built-in deny rules' level and mode, overrides per rule family,
 * exceptions for false positives, and custom rules.
 *
 * `spec`, `request`, `builtIn` and `settings` default to `{}`, so the API server stores the effective
 * level and mode of every DenyRules object, even one written as `spec: {}`.
 */
import {
  defaultBlock,
  matching,
  matchingIgnoringCase,
  requestConditions,
  threatHandlingMode,
} from "./common.ts";
import type { KindDefinition } from "./crd.ts";
import { array, enumOf, integer, object, required, string, withDefault } from "./schema.ts";

/** Filter strengths, weakest first; each level's rules include the previous level's. */
export const DENY_RULE_LEVELS = ["Unfiltered", "Basic", "Standard", "Strict"] as const;
/** A built-in deny rule level. */
export type DenyRuleLevel = (typeof DENY_RULE_LEVELS)[number];

/** Built-in rule families, exactly as the API's `ruleKeys` enum spells them. */
export const RULE_FAMILIES = [
  "ENCODING",
  "EXPLOIT",
  "HPP",
  "HTML",
  "IDOR",
  "LDAP",
  "NOSQL",
  "OGNL",
  "PHP",
  "PROTOCOL",
  "SANITY",
  "SCANNING",
  "SQL",
  "TEMPLATE",
  "UNIXCMD",
  "WINCMD",
  "XSS",
  "SSRF",
  "BOT",
] as const;
/** A built-in rule family. */
export type RuleFamily = (typeof RULE_FAMILIES)[number];

/** Parts of a request a built-in rule inspects, for overrides. */
export const RULE_TARGET_TYPES = ["Header", "Parameter", "Path", "PathSegment", "JSON", "GraphQL"] as const;

/** Custom rule keys: upper case, digits and underscores, starting with a letter. */
export const RULE_KEY_PATTERN = "^[A-Z][A-Z0-9_]*$";

function level(description: string, defaultNote = "") {
  return enumOf(
    `${description} Unfiltered, Basic, Standard or Strict (each includes the rules of the ones before).${defaultNote}`,
    DENY_RULE_LEVELS,
  );
}

function ruleFamilies(description: string, maxItems: number) {
  return array(description, enumOf("A built-in rule family.", RULE_FAMILIES), {
    minItems: 1,
    maxItems,
    listType: "set",
  });
}

const DATA_KINDS = ["header", "parameter", "path", "pathSegment", "json", "graphQL"] as const;

/** The part of a request a rule blocks on (custom rules) or blocked on (exceptions): exactly one kind. */
function requestData(description: string, verb: string) {
  return object(
    `${description} Exactly one of header, parameter, path, pathSegment, json and graphQL must be set.`,
    {
      header: object(`A header ${verb}.`, {
        name: matchingIgnoringCase("The header name."),
        value: matching("The header value."),
      }),
      parameter: object(`A query or form parameter ${verb}.`, {
        name: matching("The parameter name."),
        value: matching("The parameter value."),
        source: withDefault(
          enumOf("Where the parameter is: Query, Post (form body) or Any. Default: Any.", [
            "Query",
            "Post",
            "Any",
          ]),
          "Any",
        ),
      }),
      path: matching(`The path ${verb}.`),
      pathSegment: object(`A path segment ${verb}.`, {
        segments: object("Which segments.", {
          index: integer("Only the segment at this position (0-based).", { minimum: 0, maximum: 1024 }),
        }),
        value: matching("The segment value."),
      }),
      json: object(
        `A JSON property ${verb}. At most one of key and value may be set.`,
        {
          jsonPath: string(
            "JSONPath of the property, e.g. $.user.name (filter expressions ?() are not supported).",
            {
              minLength: 1,
              maxLength: 1024,
            },
          ),
          key: matching("The property's key."),
          value: matching("The property's value."),
        },
        { atMostOneOf: ["key", "value"] },
      ),
      graphQL: object(
        `Part of a GraphQL query ${verb}. At least one of field, argument and value must be set.`,
        {
          field: matching("The field name."),
          argument: matching("The argument name."),
          value: matching("The argument value."),
        },
        { atLeastOneOf: ["field", "argument", "value"] },
      ),
    },
    { exactlyOneOf: DATA_KINDS },
  );
}

const builtIn = object("The built-in deny rules.", {
  settings: withDefault(
    object("Level and mode of all built-in rules.", {
      level: withDefault(level("Filter strength.", " Default: Standard."), "Standard"),
      threatHandlingMode: defaultBlock("What happens to a request a built-in rule matches."),
    }),
    {},
  ),
  overrides: array(
    "Different settings for some rule families or parts of the request.",
    object("An override.", {
      conditions: object("The rules it applies to. Types without ruleKeys mean all rules.", {
        ruleKeys: ruleFamilies("Rule families.", RULE_FAMILIES.length),
        types: array("Parts of the request.", enumOf("A part of the request.", RULE_TARGET_TYPES), {
          maxItems: RULE_TARGET_TYPES.length,
          listType: "set",
        }),
      }),
      settings: object("The settings that replace the defaults for these rules.", {
        level: level("Filter strength."),
        threatHandlingMode: threatHandlingMode("What happens to a request these rules match."),
      }),
    }),
    { maxItems: 128 },
  ),
  exceptions: array(
    "Requests or request data the built-in rules must not block (false positives).",
    object(
      "An exception. At least one of blockedData and requestConditions must be set.",
      {
        ruleKeys: ruleFamilies("Only for these rule families. Absent: all.", 32),
        blockedData: requestData("The request data that is not to be blocked.", "that is not to be blocked"),
        requestConditions: requestConditions("Only for requests matching these conditions."),
      },
      { atLeastOneOf: ["blockedData", "requestConditions"] },
    ),
    { maxItems: 4096 },
  ),
});

const customRule = object("A custom deny rule.", {
  ruleKey: required(
    string("Unique name of the rule, reported in logs and metrics, e.g. BLOCK_ADMIN.", {
      minLength: 1,
      maxLength: 64,
      pattern: RULE_KEY_PATTERN,
    }),
  ),
  threatHandlingMode: defaultBlock("What happens to a request the rule matches."),
  blockData: required(requestData("The request data that causes a block.", "that causes a block")),
  requestConditions: requestConditions("Only block requests matching these conditions."),
});

/** DenyRules `spec`. */
export const denyRulesSpecSchema = object("Which requests the deny rules block.", {
  request: withDefault(
    object("Deny rules for requests.", {
      builtIn: withDefault(builtIn, {}),
      custom: object("Deny rules of your own, checked in addition to the built-in ones.", {
        rules: array("The rules; ruleKey is unique.", customRule, {
          maxItems: 256,
          listType: "map",
          listMapKeys: ["ruleKey"],
        }),
      }),
    }),
    {},
  ),
});

export const denyRulesKind: KindDefinition = {
  kind: "DenyRules",
  plural: "denyrules",
  description:
    "Deny rules block requests containing attack patterns (built-in rule families at a level) or data you name (custom rules), with exceptions for false positives.",
  spec: withDefault(denyRulesSpecSchema, {}),
  printerColumns: [
    {
      name: "Level",
      type: "string",
      jsonPath: ".spec.request.builtIn.settings.level",
      description: "Level of the built-in rules.",
    },
    {
      name: "Mode",
      type: "string",
      jsonPath: ".spec.request.builtIn.settings.threatHandlingMode",
      description: "Block or LogOnly.",
    },
  ],
};
