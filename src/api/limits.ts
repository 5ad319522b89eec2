/**
 * Limits (reference §3.7): size and count limits on requests, with exceptions.
 */
import { defaultBlock, matching, quantity, requestConditions } from "./common.ts";
import type { KindDefinition } from "./crd.ts";
import { array, enumOf, integer, marker, object, required, string, withDefault } from "./schema.ts";

function size(description: string, value: string) {
  return withDefault(quantity(`${description} Default: ${value}.`), value);
}

function count(description: string, value: number) {
  return withDefault(integer(`${description} Default: ${value}.`, { minimum: 0 }), value);
}

const exception = object("An exception.", {
  length: required(
    object(
      "The data whose length is not limited. Exactly one of parameter, json and graphQL must be set.",
      {
        parameter: object("A parameter.", {
          name: required(matching("The parameter name.")),
          source: withDefault(
            enumOf("Where the parameter is: Query, Post (form body) or Any. Default: Any.", [
              "Query",
              "Post",
              "Any",
            ]),
            "Any",
          ),
        }),
        json: object("A JSON property.", {
          jsonPath: required(
            string("JSONPath of the property, e.g. $.attachment.", { minLength: 1, maxLength: 1024 }),
          ),
        }),
        graphQL: object(
          "Part of a GraphQL query. At least one of field, argument and value must be set.",
          {
            field: matching("The field name."),
            argument: matching("The argument name."),
            value: matching("The argument value."),
          },
          { atLeastOneOf: ["field", "argument", "value"] },
        ),
      },
      { exactlyOneOf: ["parameter", "json", "graphQL"] },
    ),
  ),
  requestConditions: requestConditions("Only for requests matching these conditions."),
});

const limited = object("Limit requests (the default).", {
  general: object("Limits on every request.", {
    bodySize: size("Largest request body.", "100Mi"),
    pathLength: size("Longest path.", "1Ki"),
  }),
  parameter: object("Limits on query and form parameters.", {
    bodySize: size("Largest form body.", "100Ki"),
    count: count("Most parameters.", 128),
    nameLength: size("Longest parameter name.", "128"),
    valueLength: size("Longest parameter value.", "8Ki"),
  }),
  json: object("Limits on JSON bodies.", {
    bodySize: size("Largest JSON body.", "100Ki"),
    nestingDepth: count("Deepest nesting of objects and arrays.", 100),
    keyCount: count("Most keys in one object.", 250),
    elementCount: count("Most elements in one array.", 10000),
    keyLength: size("Longest key.", "128"),
    valueLength: size("Longest string value.", "8Ki"),
  }),
  multipart: object("Limits on multipart bodies.", {
    bodySize: size("Largest multipart body.", "100Mi"),
  }),
  graphQL: object("Limits on GraphQL queries.", {
    querySize: size("Largest query.", "1Ki"),
    nestingDepth: count("Deepest nesting of selections.", 10),
    valueLength: size("Longest argument value.", "256"),
  }),
  exceptions: array("Data exempt from the length limits.", exception, { maxItems: 4096 }),
});

/** Limits `spec`. */
export const limitsSpecSchema = object("Size and count limits on requests.", {
  settings: object("General settings.", {
    threatHandlingMode: defaultBlock("What happens to a request over a limit."),
  }),
  request: object(
    "Limits on requests. At most one of unlimited and limited may be set; none means limited with the defaults.",
    {
      unlimited: marker("Do not limit requests."),
      limited,
    },
    { atMostOneOf: ["unlimited", "limited"] },
  ),
});

export const limitsKind: KindDefinition = {
  kind: "Limits",
  plural: "limits",
  description:
    "Limits the size of requests and the number and length of their parameters, JSON and GraphQL parts.",
  spec: withDefault(limitsSpecSchema, {}),
  printerColumns: [
    {
      name: "Mode",
      type: "string",
      jsonPath: ".spec.settings.threatHandlingMode",
      description: "Block or LogOnly.",
    },
  ],
};
