import { describe, expect, test } from "bun:test";
import type { JSONSchemaProps } from "./schema.ts";
import { preservedPaths, structuralProblems, valueProblems } from "./structural.ts";

function root(spec: JSONSchemaProps): JSONSchemaProps {
  return {
    type: "object",
    properties: { apiVersion: { type: "string", description: "v" }, metadata: { type: "object" }, spec },
  };
}

describe("structuralProblems", () => {
  test("accepts a well-formed schema", () => {
    expect(
      structuralProblems(
        root({
          description: "Spec.",
          type: "object",
          properties: {
            ports: {
              description: "Ports.",
              type: "array",
              maxItems: 2,
              items: {
                description: "A port.",
                type: "object",
                properties: { port: { description: "P.", type: "integer", default: 80 } },
              },
              "x-kubernetes-list-type": "map",
              "x-kubernetes-list-map-keys": ["port"],
            },
            size: {
              description: "S.",
              anyOf: [{ type: "integer" }, { type: "string" }],
              "x-kubernetes-int-or-string": true,
              default: "1Ki",
            },
            raw: { description: "R.", type: "object", "x-kubernetes-preserve-unknown-fields": true },
          },
        }),
      ),
    ).toEqual([]);
  });

  test("names each violation with its path", () => {
    const problems = structuralProblems({
      type: "object",
      properties: {
        metadata: { type: "object", description: "not allowed here" },
        spec: {
          description: "Spec.",
          type: "object",
          properties: {
            untyped: { description: "U." },
            undocumented: { type: "string" },
            both: {
              description: "B.",
              type: "object",
              properties: { a: { description: "A.", type: "string" } },
              additionalProperties: { description: "V.", type: "string" },
            },
            unbounded: { description: "L.", type: "array", items: { description: "I.", type: "string" } },
            badDefault: { description: "D.", type: "string", enum: ["a"], default: "b" },
            badKey: {
              description: "K.",
              type: "array",
              maxItems: 1,
              items: {
                description: "I.",
                type: "object",
                properties: { k: { description: "K.", type: "string" } },
              },
              "x-kubernetes-list-type": "map",
              "x-kubernetes-list-map-keys": ["k"],
            },
            ref: { description: "R.", type: "object", $ref: "#/x" } as JSONSchemaProps,
          },
        },
      },
    });
    expect(problems).toEqual([
      "metadata: the root metadata must be exactly {type: object}",
      "spec.untyped: has no type",
      "spec.undocumented: has no description (kubectl explain would show nothing)",
      "spec.both: properties and additionalProperties are exclusive",
      "spec.unbounded: an array needs maxItems",
      'spec.badDefault: default: "b" is not one of a',
      "spec.badKey: list-map key k must be required or have a default",
      "spec.ref: $ref is not used in our schemas",
    ]);
  });
});

describe("valueProblems", () => {
  const node: JSONSchemaProps = {
    type: "object",
    required: ["name"],
    properties: {
      name: { type: "string", pattern: "^[a-z]+$" },
      port: { type: "integer", minimum: 1, maximum: 65535 },
    },
  };
  test("checks types, bounds, patterns, required and unknown fields", () => {
    expect(valueProblems(node, { name: "ok", port: 80 })).toEqual([]);
    expect(valueProblems(node, { port: 70000, extra: true })).toEqual([
      "missing required name",
      "port: 70000 > maximum 65535",
      "unknown field extra (would be pruned)",
    ]);
    expect(valueProblems(node, { name: "UPPER" })).toEqual(['name: "UPPER" does not match ^[a-z]+$']);
  });
});

describe("preservedPaths", () => {
  test("finds nodes that keep unknown fields, inside lists and maps too", () => {
    const schema: JSONSchemaProps = {
      type: "object",
      properties: {
        a: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        l: { type: "array", items: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
        m: {
          type: "object",
          additionalProperties: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        },
      },
    };
    expect(preservedPaths(schema)).toEqual(["a", "l[]", "m{}"]);
  });
});
