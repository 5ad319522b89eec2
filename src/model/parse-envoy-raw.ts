/**
 * EnvoyCluster and EnvoyHTTPFilter (reference §3.10) and core/v1 Secrets: the spec checks of the
 * parser. Raw values are converted to protobuf once here, so a value Envoy's API cannot express
 * (unknown field, unknown `@type`, wrong name) is an invalid object, not a NACK later.
 */
import { ClusterSchema } from "../../gen/envoy/config/cluster/v3/cluster_pb.js";
import { HttpFilterSchema } from "../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js";
import { envoyFromJson } from "./envoy-json.ts";
import { type At, asRecord, asString, child, fail, isRecord, present, required, show } from "./fields.ts";

/** The cluster name an EnvoyCluster must carry: `envoycluster/<namespace>/<name>` (reference §3.10). */
export function envoyClusterName(meta: { readonly namespace: string; readonly name: string }): string {
  return `envoycluster/${meta.namespace}/${meta.name}`;
}

/** EnvoyCluster `spec`: `value` must be a Cluster named after the object. */
export function parseEnvoyClusterSpec(
  at: At,
  raw: unknown,
  meta: { readonly namespace: string; readonly name: string },
): { value: Record<string, unknown> } {
  const value = rawValue(at, raw);
  const nameAt = child(child(at, "value"), "name");
  const name = asString(nameAt, required(nameAt, value.name));
  const expected = envoyClusterName(meta);
  if (name !== expected)
    fail(
      nameAt,
      `${show(name)} must be ${JSON.stringify(expected)} (envoycluster/<namespace>/<name> of this object)`,
    );
  envoyFromJson(ClusterSchema, value, `${at.subject}: ${child(at, "value").path}`);
  return { value };
}

/** EnvoyHTTPFilter `spec`: `value` must be an HttpFilter (name and typed_config). */
export function parseEnvoyHTTPFilterSpec(at: At, raw: unknown): { value: Record<string, unknown> } {
  const value = rawValue(at, raw);
  const nameAt = child(child(at, "value"), "name");
  const name = asString(nameAt, required(nameAt, value.name));
  if (name === "") fail(nameAt, "must not be empty");
  envoyFromJson(HttpFilterSchema, value, `${at.subject}: ${child(at, "value").path}`);
  return { value };
}

/**
 * A core/v1 Secret's type and values: `data` is base64 (decoded to UTF-8 text, as PEM is), and
 * `stringData` wins over `data` for the same key, as the API server merges them.
 */
export function parseSecretContent(
  at: At,
  obj: Record<string, unknown>,
): { type: string; data: Record<string, string> } {
  const typeAt = child(at, "type");
  const type = present(obj.type) === undefined ? "Opaque" : asString(typeAt, obj.type);
  const data: Record<string, string> = {};
  const dataAt = child(at, "data");
  if (present(obj.data) !== undefined) {
    for (const [key, v] of Object.entries(asRecord(dataAt, obj.data))) {
      const text = asString(child(dataAt, key), v);
      if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(text)) fail(child(dataAt, key), "must be base64");
      data[key] = Buffer.from(text, "base64").toString("utf8");
    }
  }
  const stringAt = child(at, "stringData");
  if (present(obj.stringData) !== undefined) {
    for (const [key, v] of Object.entries(asRecord(stringAt, obj.stringData))) {
      data[key] = asString(child(stringAt, key), v);
    }
  }
  return { type, data };
}

function rawValue(at: At, raw: unknown): Record<string, unknown> {
  const spec = asRecord(at, required(at, raw));
  const valueAt = child(at, "value");
  const value = required(valueAt, spec.value);
  if (!isRecord(value)) fail(valueAt, `${show(value)} must be an object (Envoy's JSON form)`);
  return value;
}
