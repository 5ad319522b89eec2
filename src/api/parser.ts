/**
 * Parser (reference §3.8): which body parsers (form, JSON, multipart) run for which requests, so that
 * deny rules and limits see parameters and JSON properties.
 */
import { requestConditions } from "./common.ts";
import type { KindDefinition } from "./crd.ts";
import { array, boolean, marker, object, required, string, withDefault } from "./schema.ts";

function builtInParser(name: string, pattern: string) {
  return object(`The ${name} parser.`, {
    enable: withDefault(boolean("Use it for matching requests. Default: true."), true),
    mediaTypePattern: withDefault(
      string(`RE2 regular expression the Content-Type must match. Default: ${pattern}.`, {
        minLength: 1,
        maxLength: 1024,
      }),
      pattern,
    ),
  });
}

const customRule = object("A rule.", {
  requestConditions: required(requestConditions("Requests the rule applies to.")),
  action: required(
    object(
      "What to do with matching requests. Exactly one of parse and skip must be set.",
      {
        parse: object(
          "Parse the body with one parser. Exactly one of form, json and multipart must be set.",
          {
            form: marker("As a form (application/x-www-form-urlencoded)."),
            json: marker("As JSON."),
            multipart: marker("As multipart."),
          },
          { exactlyOneOf: ["form", "json", "multipart"] },
        ),
        skip: marker("Do not parse the body."),
      },
      { exactlyOneOf: ["parse", "skip"] },
    ),
  ),
});

/** Parser `spec`. */
export const parserSpecSchema = object("How request bodies are parsed.", {
  request: object("Request body parsing.", {
    defaultContentType: withDefault(
      string("Content type assumed when a request has none. Default: application/x-www-form-urlencoded.", {
        maxLength: 256,
      }),
      "application/x-www-form-urlencoded",
    ),
    parsers: object("The built-in parser selection, by Content-Type.", {
      form: builtInParser("form", ".*urlencoded.*"),
      json: builtInParser("JSON", ".*json.*"),
      multipart: builtInParser("multipart", ".*multipart.*"),
    }),
    custom: object("Rules checked before the built-in selection.", {
      rules: array("The rules, first match wins.", customRule, { maxItems: 4096 }),
    }),
  }),
});

export const parserKind: KindDefinition = {
  kind: "Parser",
  plural: "parsers",
  description:
    "Selects the body parsers (form, JSON, multipart) whose results the deny rules and limits inspect.",
  spec: withDefault(parserSpecSchema, {}),
};
