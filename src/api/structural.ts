/**
 * Checks a CRD schema against the API server's rules for structural schemas (and a few of our own),
 * so a broken schema fails `bun test` and scripts/gen-crds.ts instead of `kubectl apply`.
 *
 * Kubernetes' rules (k8s.io/apiextensions-apiserver `schema/validation.go`): every node has a type,
 * except int-or-string and preserve-unknown-fields nodes; no `$ref`; `properties` and
 * `additionalProperties` are exclusive; value validations (`anyOf`, `allOf`, `oneOf`, `not`) carry no
 * type, description, default or structure of their own, int-or-string's `anyOf` excepted; root
 * `metadata` is `{type: object}` and nothing else; defaults are valid and never nullable-ambiguous;
 * list-map keys are required or defaulted scalars. Ours: every node but root metadata has a
 * description, every list a `maxItems` (CEL cost estimates multiply by it), and defaults match their
 * node's type, enum and bounds.
 */
import type { JSONSchemaProps, JsonValue } from "./schema.ts";

/** Formats the API server validates; anything else would be silently ignored. */
const KNOWN_FORMATS = new Set([
  "int32",
  "int64",
  "byte",
  "date-time",
  "cidr",
  "uri",
  "hostname",
  "ipv4",
  "ipv6",
]);

/** Every problem of `schema` as a CRD's openAPIV3Schema, as `<path>: <problem>`; empty means fine. */
export function structuralProblems(schema: JSONSchemaProps): string[] {
  const problems: string[] = [];
  const report = (path: string, problem: string) => problems.push(`${path || "(root)"}: ${problem}`);
  if (schema.type !== "object") report("", "the root must be of type object");
  const metadata = schema.properties?.metadata;
  if (metadata && JSON.stringify(metadata) !== JSON.stringify({ type: "object" })) {
    report("metadata", "the root metadata must be exactly {type: object}");
  }
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    if (name !== "metadata") checkNode(prop, name, report);
  }
  checkObjectShape(schema, "", report);
  return problems;
}

/** Paths of the nodes that keep unknown fields (`spec.value`), to hold them to an allowlist. */
export function preservedPaths(schema: JSONSchemaProps): string[] {
  const paths: string[] = [];
  walk(schema, "", (node, path) => {
    if (node["x-kubernetes-preserve-unknown-fields"]) paths.push(path);
  });
  return paths;
}

/** Calls `visit` on every node below and including `node`; paths use `[]` for items and `{}` for map values. */
export function walk(
  node: JSONSchemaProps,
  path: string,
  visit: (node: JSONSchemaProps, path: string) => void,
): void {
  visit(node, path);
  for (const [name, prop] of Object.entries(node.properties ?? {})) walk(prop, join(path, name), visit);
  if (node.items) walk(node.items, `${path}[]`, visit);
  if (node.additionalProperties) walk(node.additionalProperties, `${path}{}`, visit);
}

type Report = (path: string, problem: string) => void;

function checkNode(node: JSONSchemaProps, path: string, report: Report): void {
  const loose = node as Record<string, unknown>;
  for (const key of ["$ref", "nullable", "oneOf", "allOf", "not", "patternProperties", "const"]) {
    if (key in loose) report(path, `${key} is not used in our schemas`);
  }
  if (!node.description) report(path, "has no description (kubectl explain would show nothing)");
  const intOrString = node["x-kubernetes-int-or-string"] === true;
  const preserve = node["x-kubernetes-preserve-unknown-fields"] === true;
  if (!node.type && !intOrString && !preserve) report(path, "has no type");
  if (node.anyOf && !isIntOrStringAnyOf(node)) {
    report(path, "anyOf is only allowed as int-or-string's [{type: integer}, {type: string}]");
  }
  if (intOrString && node.type) report(path, "int-or-string must not have a type");
  if (node.format && !KNOWN_FORMATS.has(node.format)) report(path, `format ${node.format} is not validated`);
  if (node.type === "array") {
    if (!node.items) report(path, "an array needs items");
    if (node.maxItems === undefined) report(path, "an array needs maxItems");
    checkListType(node, path, report);
  } else if (node.items) {
    report(path, "items on a non-array");
  }
  if (node.type === "object" || preserve) checkObjectShape(node, path, report);
  else if (node.properties || node.additionalProperties) report(path, "properties on a non-object");
  if (node.default !== undefined) {
    for (const problem of valueProblems(node, node.default)) report(path, `default: ${problem}`);
  }
  for (const [name, prop] of Object.entries(node.properties ?? {})) checkNode(prop, join(path, name), report);
  if (node.items) checkNode(node.items, `${path}[]`, report);
  if (node.additionalProperties) checkNode(node.additionalProperties, `${path}{}`, report);
}

function checkObjectShape(node: JSONSchemaProps, path: string, report: Report): void {
  if (node.properties && node.additionalProperties) {
    report(path, "properties and additionalProperties are exclusive");
  }
  for (const name of node.required ?? []) {
    if (!node.properties?.[name]) report(path, `required names ${name}, which is not a property`);
  }
}

function checkListType(node: JSONSchemaProps, path: string, report: Report): void {
  const listType = node["x-kubernetes-list-type"];
  const keys = node["x-kubernetes-list-map-keys"];
  const items = node.items;
  if (keys && listType !== "map") report(path, "list-map-keys need list-type map");
  if (!items) return;
  if (listType === "set" && (items.type === "object" || items.type === "array")) {
    report(path, "a set's items must be scalars");
  }
  if (listType !== "map") return;
  if (items.type !== "object") report(path, "a map list's items must be objects");
  if (!keys || keys.length === 0) report(path, "a map list needs list-map-keys");
  for (const key of keys ?? []) {
    const prop = items.properties?.[key];
    if (!prop) report(path, `list-map key ${key} is not a property of the items`);
    else if (prop.type === "object" || prop.type === "array")
      report(path, `list-map key ${key} must be a scalar`);
    else if (!items.required?.includes(key) && prop.default === undefined) {
      report(path, `list-map key ${key} must be required or have a default`);
    }
  }
}

function isIntOrStringAnyOf(node: JSONSchemaProps): boolean {
  return (
    node["x-kubernetes-int-or-string"] === true &&
    JSON.stringify(node.anyOf) === JSON.stringify([{ type: "integer" }, { type: "string" }])
  );
}

/** Why `value` does not fit `node` (type, enum, bounds, pattern, known properties), recursively. */
export function valueProblems(node: JSONSchemaProps, value: JsonValue, path = ""): string[] {
  const at = path === "" ? "" : `${path}: `;
  if (value === null) return [`${at}null is not allowed (fields are not nullable)`];
  if (node["x-kubernetes-int-or-string"]) {
    if (typeof value === "number") return Number.isInteger(value) ? [] : [`${at}${value} is not an integer`];
    if (typeof value !== "string") return [`${at}must be an integer or a string`];
    return stringProblems(node, value, at);
  }
  switch (node.type) {
    case "string":
      return typeof value === "string" ? stringProblems(node, value, at) : [`${at}must be a string`];
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) return [`${at}must be an integer`];
      if (node.minimum !== undefined && value < node.minimum)
        return [`${at}${value} < minimum ${node.minimum}`];
      if (node.maximum !== undefined && value > node.maximum)
        return [`${at}${value} > maximum ${node.maximum}`];
      return [];
    case "boolean":
      return typeof value === "boolean" ? [] : [`${at}must be a boolean`];
    case "array": {
      if (!Array.isArray(value)) return [`${at}must be a list`];
      const list = value as readonly JsonValue[];
      const problems = list.flatMap((v, i) =>
        node.items ? valueProblems(node.items, v, `${path}[${i}]`) : [],
      );
      if (node.maxItems !== undefined && list.length > node.maxItems)
        problems.push(`${at}more than ${node.maxItems} items`);
      return problems;
    }
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) return [`${at}must be an object`];
      const obj = value as { readonly [k: string]: JsonValue };
      const problems = (node.required ?? [])
        .filter((k) => !(k in obj))
        .map((k) => `${at}missing required ${k}`);
      for (const [k, v] of Object.entries(obj)) {
        const prop = node.properties?.[k] ?? node.additionalProperties;
        if (prop) problems.push(...valueProblems(prop, v, join(path, k)));
        else if (!node["x-kubernetes-preserve-unknown-fields"])
          problems.push(`${at}unknown field ${k} (would be pruned)`);
      }
      return problems;
    }
    default:
      return [];
  }
}

function stringProblems(node: JSONSchemaProps, value: string, at: string): string[] {
  if (node.enum && !node.enum.includes(value))
    return [`${at}${JSON.stringify(value)} is not one of ${node.enum.join(", ")}`];
  if (node.pattern && !new RegExp(node.pattern, "u").test(value)) {
    return [`${at}${JSON.stringify(value)} does not match ${node.pattern}`];
  }
  if (node.maxLength !== undefined && [...value].length > node.maxLength)
    return [`${at}longer than ${node.maxLength}`];
  if (node.minLength !== undefined && [...value].length < node.minLength)
    return [`${at}shorter than ${node.minLength}`];
  return [];
}

function join(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}
