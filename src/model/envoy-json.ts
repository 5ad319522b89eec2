/**
 * Raw Envoy JSON (EnvoyCluster and EnvoyHTTPFilter `spec.value`) -> protobuf message, with a
 * registry of every generated type so that `typed_config` (`google.protobuf.Any` with `@type`)
 * converts. Used by the parser to reject bad values early and by the translator to build them.
 */
import {
  createRegistry,
  type DescMessage,
  fromJson,
  type JsonValue,
  type MessageShape,
  type Registry,
} from "@bufbuild/protobuf";
import type { GenFile } from "@bufbuild/protobuf/codegenv2";
import { MicrogatewayError } from "../errors.ts";

let registry: Registry | undefined;

/**
 * Every generated message type, loaded and built on first use. `gen/registry.ts` imports every
 * generated file (about a hundred files of descriptors): importing it statically cost every process
 * that translates (operator, xDS benchmark server, local mode) ~0.5 s of start-up and ~40 MiB of
 * RSS, for a registry only EnvoyCluster/EnvoyHTTPFilter values need. Bun's `require` loads an ES
 * module synchronously, so callers stay synchronous.
 */
export function envoyRegistry(): Registry {
  if (registry === undefined) {
    const { GENERATED_FILES } = require("../../gen/registry.ts") as { GENERATED_FILES: readonly GenFile[] };
    registry = createRegistry(...GENERATED_FILES);
  }
  return registry;
}

/**
 * Converts `value` (Envoy's JSON/YAML form, snake_case or camelCase field names) to a message of
 * `schema`. Throws InvalidResource prefixed with `at` (e.g. `EnvoyHTTPFilter shop/lua: spec.value`):
 * naming the path of an `@type` Microgateway does not know, or the conversion error.
 *
 * @example envoyFromJson(HttpFilterSchema, filter.spec.value, "EnvoyHTTPFilter shop/lua: spec.value")
 */
export function envoyFromJson<Desc extends DescMessage>(
  schema: Desc,
  value: unknown,
  at: string,
): MessageShape<Desc> {
  const reg = envoyRegistry();
  const unknown = findUnknownType(value, at, reg);
  if (unknown !== undefined) {
    throw new MicrogatewayError(
      "InvalidResource",
      `${unknown.path}: @type ${JSON.stringify(unknown.typeUrl)} is not a type Microgateway can convert (only the Envoy API files listed in proto/targets.txt are known)`,
    );
  }
  try {
    return fromJson(schema, value as JsonValue, { registry: reg });
  } catch (e) {
    throw new MicrogatewayError(
      "InvalidResource",
      `${at} is not a valid ${schema.typeName}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}

/** The first `@type` (depth first) whose message the registry does not hold. */
function findUnknownType(
  value: unknown,
  path: string,
  reg: Registry,
): { path: string; typeUrl: string } | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnknownType(value[i], `${path}[${i}]`, reg);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const typeUrl = record["@type"];
  if (typeof typeUrl === "string") {
    const typeName = typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
    if (reg.getMessage(typeName) === undefined) return { path, typeUrl };
  }
  for (const [key, child] of Object.entries(record)) {
    const found = findUnknownType(child, `${path}.${key}`, reg);
    if (found) return found;
  }
  return undefined;
}
