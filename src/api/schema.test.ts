import { describe, expect, test } from "bun:test";
import {
  array,
  boolean,
  enumOf,
  freeForm,
  integer,
  intOrString,
  map,
  marker,
  object,
  required,
  type Stored,
  string,
  type Written,
  withDefault,
} from "./schema.ts";

const LEVELS = ["Low", "High"] as const;
const settings = object(
  "Settings.",
  {
    level: withDefault(enumOf("Level.", LEVELS), "Low"),
    name: required(string("Name.", { maxLength: 8 })),
    note: string("Note."),
    on: marker("On."),
    off: marker("Off."),
  },
  { atMostOneOf: ["on", "off"] },
);
const parent = object("Parent.", { settings: withDefault(settings, { name: "x" }) });

describe("object", () => {
  test("lists required properties only, and puts defaults on the property's node", () => {
    expect(settings.json.required).toEqual(["name"]);
    expect(settings.json.properties?.level?.default).toBe("Low");
    expect(parent.json.properties?.settings?.default).toEqual({ name: "x" });
    expect(parent.json.required).toBeUndefined();
  });

  test("turns choices into CEL rules with a message naming the fields", () => {
    expect(settings.json["x-kubernetes-validations"]).toEqual([
      {
        rule: "[has(self.on), has(self.off)].filter(x, x).size() <= 1",
        message: "at most one of on, off may be set",
      },
    ]);
    const matcher = object("M.", { a: string("A."), b: string("B.") }, { exactlyOneOf: ["a", "b"] });
    expect(matcher.json["x-kubernetes-validations"]?.[0]?.rule).toBe(
      "[has(self.a), has(self.b)].filter(x, x).size() == 1",
    );
  });

  test("a default does not change the schema it was made from", () => {
    const plain = string("Plain.");
    withDefault(plain, "x");
    expect(plain.json.default).toBeUndefined();
  });
});

describe("leaves", () => {
  test("produce the Kubernetes spelling of each type", () => {
    expect(integer("Port.", { minimum: 1, maximum: 65535 }).json).toEqual({
      description: "Port.",
      type: "integer",
      format: "int32",
      minimum: 1,
      maximum: 65535,
    });
    expect(intOrString("Size.", { pattern: "^x$" }).json).toEqual({
      description: "Size.",
      anyOf: [{ type: "integer" }, { type: "string" }],
      pattern: "^x$",
      "x-kubernetes-int-or-string": true,
    });
    expect(array("L.", boolean("B."), { maxItems: 3, listType: "set" }).json).toEqual({
      description: "L.",
      type: "array",
      maxItems: 3,
      items: { description: "B.", type: "boolean" },
      "x-kubernetes-list-type": "set",
    });
    expect(map("M.", string("V.")).json.additionalProperties).toEqual({ description: "V.", type: "string" });
    expect(freeForm("F.", { name: required(string("N.")) }).json).toEqual({
      description: "F.",
      type: "object",
      properties: { name: { description: "N.", type: "string" } },
      required: ["name"],
      "x-kubernetes-preserve-unknown-fields": true,
    });
  });
});

describe("value types", () => {
  test("fields with defaults are optional when written and present when stored", () => {
    const written: Written<typeof parent> = {};
    const alsoWritten: Written<typeof parent> = { settings: { name: "n", on: {} } };
    const stored: Stored<typeof parent> = { settings: { name: "n", level: "High" } };
    // @ts-expect-error a stored object has its defaults
    const incomplete: Stored<typeof parent> = { settings: { name: "n" } };
    // @ts-expect-error enums are literal unions
    const wrongLevel: Written<typeof parent> = { settings: { name: "n", level: "Medium" } };
    // @ts-expect-error required fields are required when written too
    const noName: Written<typeof settings> = {};
    expect([written, alsoWritten, stored, incomplete, wrongLevel, noName]).toHaveLength(6);
  });

  test("defaults are typed by their schema", () => {
    // @ts-expect-error not a level
    withDefault(enumOf("Level.", LEVELS), "Medium");
    // @ts-expect-error not a number
    withDefault(integer("N."), "8080");
    expect(true).toBe(true);
  });
});
