/**
 * Field readers for the parser (src/model/parse.ts): each returns the typed value or throws
 * `InvalidResource` naming the object, the field's path and what was expected.
 */

import { MAX_NAME_LENGTH as MAX_NAME } from "../api/common.ts";
import { MicrogatewayError } from "../errors.ts";
import type { LocalRef } from "./types.ts";

/** The object being validated (`DenyRules shop/strict`) and the JSON path of the current field. */
export interface At {
  readonly subject: string;
  readonly path: string;
}

export function child(at: At, key: string | number): At {
  const path = typeof key === "number" ? `${at.path}[${key}]` : at.path === "" ? key : `${at.path}.${key}`;
  return { subject: at.subject, path };
}

export function fail(at: At, detail: string): never {
  throw new MicrogatewayError("InvalidResource", `${at.subject}: ${at.path} ${detail}`);
}

/** Kubernetes drops explicit nulls of non-nullable fields before defaulting; so do we. */
export function present(value: unknown): unknown {
  return value === null ? undefined : value;
}

export function required(at: At, value: unknown): unknown {
  if (present(value) === undefined) fail(at, "is required");
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function asRecord(at: At, value: unknown): Record<string, unknown> {
  if (!isRecord(value)) fail(at, `${show(value)} must be an object`);
  return value;
}

export function optionalRecord(at: At, value: unknown): Record<string, unknown> {
  return present(value) === undefined ? {} : asRecord(at, value);
}

export function asString(at: At, value: unknown): string {
  if (typeof value !== "string") fail(at, `${show(value)} must be a string`);
  return value;
}

export function asInt(at: At, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(at, `${show(value)} must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function asEnum<T extends string>(at: At, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) fail(at, `${show(value)} must be one of ${allowed.join(", ")}`);
  return value as T;
}

export function asList(at: At, value: unknown, min: number, max: number): unknown[] {
  if (!Array.isArray(value)) fail(at, `${show(value)} must be a list`);
  if (value.length < min || value.length > max) {
    fail(at, `has ${value.length} items, must have ${min === 0 ? "at most" : `${min} to`} ${max}`);
  }
  return value;
}

export function asStringMap(at: At, value: unknown): Record<string, string> {
  const map = asRecord(at, value);
  for (const [key, v] of Object.entries(map)) {
    if (typeof v !== "string") fail(child(at, key), `${show(v)} must be a string`);
  }
  return { ...(map as Record<string, string>) };
}

export function optionalRef<K extends string>(
  at: At,
  parent: Record<string, unknown>,
  key: K,
): { [P in K]?: LocalRef } {
  const raw = present(parent[key]);
  if (raw === undefined) return {};
  const refAt = child(at, key);
  const ref = asRecord(refAt, raw);
  const nameAt = child(refAt, "name");
  const name = asString(nameAt, required(nameAt, ref.name));
  if (name === "" || name.length > MAX_NAME)
    fail(nameAt, `${show(name)} must have 1 to ${MAX_NAME} characters`);
  return { [key]: { name } } as { [P in K]?: LocalRef };
}

/** A short rendering of a bad value for an error message. */
export function show(value: unknown): string {
  if (value === undefined) return "(missing)";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
