/**
 * A small builder for Kubernetes structural schemas that also carries the TypeScript types of the
 * values they describe: the CRDs (scripts/gen-crds.ts) and the model types (src/model/types.ts) come
 * from the same declarations in src/api/, so they cannot drift apart.
 *
 * Why our own builder and not a JSON Schema library (e.g. @sinclair/typebox): the output dialect is
 * the Kubernetes subset of OpenAPI v3 (no `$ref`, no `const`, no `patternProperties`, `anyOf` only for
 * int-or-string, CEL in `x-kubernetes-validations`), so a JSON Schema library's unions, literals and
 * records would all need rewriting; and Kubernetes applies `default`s before anyone reads an object,
 * which only a builder that knows about defaults can express as a type ({@link Stored}).
 *
 * Every schema node takes its description first: `kubectl explain` shows it, and it cannot be forgotten.
 *
 * @example
 *   const settings = object("Deny rule settings.", { level: withDefault(enumOf("Level.", LEVELS), "Standard") });
 *   type Written = Written<typeof settings>; // { readonly level?: "Basic" | ... }
 *   type Stored = Stored<typeof settings>;   // { readonly level: "Basic" | ... }
 */

/** A JSON value, as defaults and examples are written. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [k: string]: JsonValue };

/** One CEL rule (`x-kubernetes-validations`); the API server evaluates it after defaulting. */
export interface ValidationRule {
  readonly rule: string;
  readonly message: string;
}

/** A schema node as it appears in a CRD (`JSONSchemaProps`), limited to what our schemas use. */
export interface JSONSchemaProps {
  readonly description?: string;
  readonly type?: "object" | "array" | "string" | "integer" | "boolean";
  readonly format?: string;
  readonly default?: JsonValue;
  readonly enum?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly maxProperties?: number;
  readonly properties?: { readonly [name: string]: JSONSchemaProps };
  readonly required?: readonly string[];
  readonly items?: JSONSchemaProps;
  readonly additionalProperties?: JSONSchemaProps;
  readonly anyOf?: readonly JSONSchemaProps[];
  readonly "x-kubernetes-int-or-string"?: true;
  readonly "x-kubernetes-preserve-unknown-fields"?: true;
  readonly "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  readonly "x-kubernetes-list-map-keys"?: readonly string[];
  readonly "x-kubernetes-validations"?: readonly ValidationRule[];
}

declare const valueTypes: unique symbol;

/**
 * A schema node plus, at the type level only, the type of a value as a user writes it (`W`) and as the
 * API server stores it after defaulting (`S`).
 */
export interface Schema<W, S = W> {
  readonly json: JSONSchemaProps;
  /** Never set: carries the value types for {@link Written} and {@link Stored}. */
  readonly [valueTypes]?: { readonly written: W; readonly stored: S };
}

// biome-ignore lint/suspicious/noExplicitAny: the widest schema, used only in constraints
type AnySchema = Schema<any, any>;

/** The type of a value as users write it: fields with defaults are optional. */
export type Written<T extends AnySchema> = T extends Schema<infer W, unknown> ? W : never;
/** The type of a value as the API server returns it: fields with defaults are always present. */
export type Stored<T extends AnySchema> = T extends Schema<unknown, infer S> ? S : never;

/** A property that must be present (`required`), or is filled in by the API server (`default`). */
export interface Field<T extends AnySchema, P extends "required" | "defaulted"> {
  readonly schema: T;
  readonly presence: P;
}

/** The properties of an object: a bare schema is an optional property. */
type Props = { readonly [name: string]: AnySchema | Field<AnySchema, "required" | "defaulted"> };

type SchemaOf<P> = P extends Field<infer T, "required" | "defaulted"> ? T : P extends AnySchema ? P : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

type WrittenObject<P extends Props> = Simplify<
  {
    readonly [K in keyof P as P[K] extends Field<AnySchema, "required"> ? K : never]: Written<SchemaOf<P[K]>>;
  } & {
    readonly [K in keyof P as P[K] extends Field<AnySchema, "required"> ? never : K]?: Written<
      SchemaOf<P[K]>
    >;
  }
>;
type StoredObject<P extends Props> = Simplify<
  {
    readonly [K in keyof P as P[K] extends Field<AnySchema, "required" | "defaulted"> ? K : never]: Stored<
      SchemaOf<P[K]>
    >;
  } & {
    readonly [K in keyof P as P[K] extends Field<AnySchema, "required" | "defaulted"> ? never : K]?: Stored<
      SchemaOf<P[K]>
    >;
  }
>;

/** An object with no fields, used as a choice marker (`unsecured: {}`, `http1: {}`). */
export type EmptyObject = { readonly [k: string]: never };

/** Marks a property as required. */
export function required<T extends AnySchema>(schema: T): Field<T, "required"> {
  return { schema, presence: "required" };
}

/**
 * Gives a property a default the API server fills in when the field is absent. The value is typed by
 * the schema, and an object default (usually `{}`) gets its own fields' defaults applied too.
 */
export function withDefault<T extends AnySchema>(schema: T, value: Written<T>): Field<T, "defaulted"> {
  // Written values are plain JSON by construction of the schemas.
  const json = { ...schema.json, default: value as JsonValue };
  return { schema: { ...schema, json } as T, presence: "defaulted" };
}

/** Options of {@link string}. */
export interface StringOptions {
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly format?: string;
}

/** A string. */
export function string(description: string, opts: StringOptions = {}): Schema<string> {
  return node({ description, type: "string", ...opts });
}

/** A string limited to the given values. */
export function enumOf<const V extends string>(description: string, values: readonly V[]): Schema<V> {
  return node({ description, type: "string", enum: values });
}

/** Options of {@link integer}. */
export interface IntegerOptions {
  readonly minimum?: number;
  readonly maximum?: number;
  readonly format?: "int32" | "int64";
}

/** An integer (int32 unless said otherwise). */
export function integer(description: string, opts: IntegerOptions = {}): Schema<number> {
  return node({ description, type: "integer", format: "int32", ...opts });
}

/** A boolean. */
export function boolean(description: string): Schema<boolean> {
  return node({ description, type: "boolean" });
}

/** Options of {@link object}; the key lists name this object's own properties. */
export interface ObjectOptions<K extends string> {
  /** Exactly one of these properties must be present (a choice without a default). */
  readonly exactlyOneOf?: readonly K[];
  /** At most one of these properties may be present (a choice with a default when none is). */
  readonly atMostOneOf?: readonly K[];
  /** At least one of these properties must be present. */
  readonly atLeastOneOf?: readonly K[];
  /** Further CEL rules. */
  readonly rules?: readonly ValidationRule[];
}

/** An object with known properties; unknown fields are pruned by the API server. */
export function object<P extends Props>(
  description: string,
  props: P,
  opts: ObjectOptions<keyof P & string> = {},
): Schema<WrittenObject<P>, StoredObject<P>> {
  const properties: Record<string, JSONSchemaProps> = {};
  const requiredNames: string[] = [];
  for (const [name, prop] of Object.entries(props)) {
    if (isField(prop)) {
      properties[name] = prop.schema.json;
      if (prop.presence === "required") requiredNames.push(name);
    } else {
      properties[name] = prop.json;
    }
  }
  const rules = [
    ...(opts.exactlyOneOf ? [choiceRule(opts.exactlyOneOf, "== 1", "exactly one of", "must")] : []),
    ...(opts.atMostOneOf ? [choiceRule(opts.atMostOneOf, "<= 1", "at most one of", "may")] : []),
    ...(opts.atLeastOneOf ? [choiceRule(opts.atLeastOneOf, ">= 1", "at least one of", "must")] : []),
    ...(opts.rules ?? []),
  ];
  return node({
    description,
    type: "object",
    properties,
    ...(requiredNames.length > 0 ? { required: requiredNames } : {}),
    ...(rules.length > 0 ? { "x-kubernetes-validations": rules } : {}),
  });
}

/** An object with no fields: present or absent is all it says (a choice like `unsecured: {}`). */
export function marker(description: string): Schema<EmptyObject> {
  return node({ description, type: "object" });
}

/** Options of {@link array}. */
export interface ArrayOptions {
  /** Always given: CEL cost estimates and the size of stored objects depend on it. */
  readonly maxItems: number;
  readonly minItems?: number;
  /** `map` makes the API server reject two items with the same key values (and lets apply merge them). */
  readonly listType?: "atomic" | "set" | "map";
  readonly listMapKeys?: readonly string[];
}

/** A list. */
export function array<T extends AnySchema>(
  description: string,
  items: T,
  opts: ArrayOptions,
): Schema<readonly Written<T>[], readonly Stored<T>[]> {
  const { listType, listMapKeys, ...bounds } = opts;
  return node({
    description,
    type: "array",
    ...bounds,
    items: items.json,
    ...(listType ? { "x-kubernetes-list-type": listType } : {}),
    ...(listMapKeys ? { "x-kubernetes-list-map-keys": listMapKeys } : {}),
  });
}

/** A map from arbitrary string keys to values of one schema (`additionalProperties`). */
export function map<T extends AnySchema>(
  description: string,
  values: T,
  opts: { readonly maxProperties?: number } = {},
): Schema<{ readonly [key: string]: Written<T> }, { readonly [key: string]: Stored<T> }> {
  return node({ description, type: "object", additionalProperties: values.json, ...opts });
}

/**
 * An integer or a string (`60Ki`, `8080`), like Kubernetes quantities. The pattern only constrains strings.
 */
export function intOrString(
  description: string,
  opts: { readonly pattern?: string } = {},
): Schema<number | string> {
  return node({
    description,
    anyOf: [{ type: "integer" }, { type: "string" }],
    ...opts,
    "x-kubernetes-int-or-string": true,
  });
}

/**
 * A free-form JSON object kept exactly as written (raw Envoy configuration, a log format). `known`
 * declares the few fields we validate; everything else is stored untouched.
 */
export function freeForm<P extends Props = Record<never, never>>(
  description: string,
  known?: P,
): Schema<
  WrittenObject<P> & { readonly [key: string]: unknown },
  StoredObject<P> & { readonly [key: string]: unknown }
> {
  const typed = known ? object(description, known).json : { description, type: "object" as const };
  return node({ ...typed, "x-kubernetes-preserve-unknown-fields": true });
}

function node<W, S = W>(json: JSONSchemaProps): Schema<W, S> {
  return { json };
}

function isField(
  prop: AnySchema | Field<AnySchema, "required" | "defaulted">,
): prop is Field<AnySchema, "required" | "defaulted"> {
  return "presence" in prop;
}

/** Counts present properties in CEL; `has()` is cheap, so the rule's cost does not grow with the data. */
function choiceRule(
  names: readonly string[],
  comparison: string,
  what: string,
  verb: string,
): ValidationRule {
  return {
    rule: `[${names.map((n) => `has(self.${n})`).join(", ")}].filter(x, x).size() ${comparison}`,
    message: `${what} ${names.join(", ")} ${verb} be set`,
  };
}
