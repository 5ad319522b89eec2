import { createHash } from "node:crypto";
import { create, type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { type Any, AnySchema } from "@bufbuild/protobuf/wkt";
import { type EncodedResource, encodeResourceFields } from "./wire.ts";

/**
 * One named xDS resource, encoded once. Every stream that serves it shares the same bytes: the
 * response fields in `encoded` (src/xds/wire.ts), of which `any.value` is a view, so fan-out to N
 * engines costs copying bytes into a frame, not encoding. Instances are immutable.
 */
export interface CachedResource {
  readonly typeUrl: string;
  readonly name: string;
  /** Content hash of the encoded resource: equal content gives an equal version, across restarts. */
  readonly version: string;
  /** The packed resource, for code that builds protobuf-es messages (tests, the connect transport). */
  readonly any: Any;
  /** The resource as delta and state-of-the-world response fields, encoded once. */
  readonly encoded: EncodedResource;
  /** Encoded size in bytes. */
  readonly size: number;
}

/** Encodes a protobuf message as a cached xDS resource named `name`. */
export function encodeResource<Desc extends DescMessage>(
  schema: Desc,
  name: string,
  message: MessageShape<Desc>,
): CachedResource {
  const bytes = toBinary(schema, message);
  return fromBytes(`type.googleapis.com/${schema.typeName}`, name, bytes);
}

/** Wraps already-encoded resource bytes (e.g. a resource produced elsewhere) as a cached resource. */
export function fromBytes(typeUrl: string, name: string, bytes: Uint8Array): CachedResource {
  // The hash covers the type and name too, so a version never collides across resources.
  const version = createHash("sha256")
    .update(typeUrl)
    .update("\0")
    .update(name)
    .update("\0")
    .update(bytes)
    .digest("base64url")
    .slice(0, 22);
  const encoded = encodeResourceFields(typeUrl, name, version, bytes);
  return Object.freeze({
    typeUrl,
    name,
    version,
    any: create(AnySchema, { typeUrl, value: encoded.value }),
    encoded,
    size: bytes.byteLength,
  });
}

/**
 * Keeps one instance per (type, name, version) so that pods with identical resources share the
 * same bytes in memory. Entries are dropped by `release` when the last node stops using them.
 */
export class ResourceInterner {
  private readonly entries = new Map<string, { resource: CachedResource; refs: number }>();

  /** Returns the shared instance equal to `r` (possibly `r` itself) and counts a reference to it. */
  intern(r: CachedResource): CachedResource {
    const key = internKey(r);
    const entry = this.entries.get(key);
    if (entry) {
      entry.refs++;
      return entry.resource;
    }
    this.entries.set(key, { resource: r, refs: 1 });
    return r;
  }

  /** Drops one reference taken by `intern`. */
  release(r: CachedResource): void {
    const key = internKey(r);
    const entry = this.entries.get(key);
    if (!entry) return;
    if (--entry.refs === 0) this.entries.delete(key);
  }

  /** Number of distinct resources held. */
  get size(): number {
    return this.entries.size;
  }
}

function internKey(r: CachedResource): string {
  return `${r.typeUrl}\0${r.name}\0${r.version}`;
}
