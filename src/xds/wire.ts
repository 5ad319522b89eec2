/**
 * Hand-written protobuf encoding of the two discovery responses, from resources encoded once.
 *
 * A discovery response is mostly its resources, and every engine that gets a resource gets the
 * same bytes. So each CachedResource carries its `Resource` (delta) field already encoded, with
 * the `Any` (state of the world) field inside it, and a response is those bytes laid end to end
 * with a few small fields around them: no reflection, no per-stream re-encoding of a 48 KB
 * listener. The output decodes to exactly the message protobuf-es would build (tested in
 * wire.test.ts against `toBinary`).
 *
 * Field numbers (envoy/service/discovery/v3/discovery.proto, google/protobuf/any.proto):
 * - Any: type_url = 1, value = 2.
 * - Resource: version = 1, resource = 2 (Any), name = 3.
 * - DeltaDiscoveryResponse: system_version_info = 1, resources = 2, type_url = 4, nonce = 5,
 *   removed_resources = 6.
 * - DiscoveryResponse: version_info = 1, resources = 2 (Any), type_url = 4, nonce = 5.
 */

import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

const encoder = new TextEncoder();

/** Tag byte of a length-delimited field numbered below 16. */
function tag(field: number): number {
  return (field << 3) | WireType.LengthDelimited;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

/**
 * Size of a length-delimited field (tag, length, payload) with a payload of `len` bytes; 0 for an
 * empty payload, which proto3 leaves out (so the output is byte-identical to protobuf-es's).
 */
function fieldSize(len: number): number {
  return len === 0 ? 0 : 1 + varintSize(len) + len;
}

function writeField(out: Uint8Array, at: number, field: number, payload: Uint8Array): number {
  if (payload.byteLength === 0) return at;
  out[at++] = tag(field);
  at = writeVarint(out, at, payload.byteLength);
  out.set(payload, at);
  return at + payload.byteLength;
}

/** One resource encoded for both response kinds, sharing one buffer. */
export interface EncodedResource {
  /** The `resources` field of a DeltaDiscoveryResponse (tag, length, Resource message). */
  readonly deltaField: Uint8Array;
  /** The `resources` field of a DiscoveryResponse (tag, length, Any message): a view into deltaField. */
  readonly sotwField: Uint8Array;
  /** The resource's own bytes (the Any's value): a view into deltaField. */
  readonly value: Uint8Array;
}

/**
 * Encodes a resource once: `Resource{version, resource: Any{type_url, value}, name}` as a delta
 * response field. The state-of-the-world field is the same `Any` field (both are field 2 holding
 * an Any), so it is a view into the same buffer, as is the value.
 */
export function encodeResourceFields(
  typeUrl: string,
  name: string,
  version: string,
  value: Uint8Array,
): EncodedResource {
  const typeUrlBytes = encoder.encode(typeUrl);
  const nameBytes = encoder.encode(name);
  const versionBytes = encoder.encode(version);
  const anyLen = fieldSize(typeUrlBytes.byteLength) + fieldSize(value.byteLength);
  const resourceLen =
    fieldSize(versionBytes.byteLength) + fieldSize(anyLen) + fieldSize(nameBytes.byteLength);
  const out = new Uint8Array(fieldSize(resourceLen));
  let at = 0;
  out[at++] = tag(2);
  at = writeVarint(out, at, resourceLen);
  at = writeField(out, at, 1, versionBytes);
  const anyStart = at;
  out[at++] = tag(2);
  at = writeVarint(out, at, anyLen);
  at = writeField(out, at, 1, typeUrlBytes);
  const valueStart = at + (value.byteLength === 0 ? 0 : 1 + varintSize(value.byteLength));
  at = writeField(out, at, 2, value);
  const anyEnd = at;
  at = writeField(out, at, 3, nameBytes);
  return {
    deltaField: out,
    sotwField: out.subarray(anyStart, anyEnd),
    value: out.subarray(valueStart, valueStart + value.byteLength),
  };
}

/** gRPC length-prefixed message header: 1 byte "compressed" flag (0), 4 bytes big-endian length. */
export const GRPC_HEADER_SIZE = 5;

/** A part of a response message: a small string field (number, value) or a pre-encoded field. */
type Part = readonly [number, string] | Uint8Array;

/**
 * Lays out a response message from its parts, in the order given (field-number order, as
 * protobuf-es writes it), prefixed with its gRPC header.
 */
function frame(parts: readonly Part[]): Uint8Array {
  const encoded = parts.map((p) => (p instanceof Uint8Array ? p : ([p[0], encoder.encode(p[1])] as const)));
  let len = 0;
  for (const p of encoded) len += p instanceof Uint8Array ? p.byteLength : fieldSize(p[1].byteLength);
  const out = new Uint8Array(GRPC_HEADER_SIZE + len);
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(1, len);
  let at = GRPC_HEADER_SIZE;
  for (const p of encoded) {
    if (p instanceof Uint8Array) {
      out.set(p, at);
      at += p.byteLength;
    } else at = writeField(out, at, p[0], p[1]);
  }
  return out;
}

/** What a delta response carries; the resources come pre-encoded. */
export interface DeltaResponseParts {
  readonly typeUrl: string;
  readonly nonce: string;
  readonly systemVersionInfo: string;
  readonly resources: readonly { readonly encoded: EncodedResource }[];
  readonly removed: readonly string[];
}

/** A DeltaDiscoveryResponse as one gRPC message frame. */
export function deltaResponseFrame(r: DeltaResponseParts): Uint8Array {
  return frame([
    [1, r.systemVersionInfo],
    ...r.resources.map((x) => x.encoded.deltaField),
    [4, r.typeUrl],
    [5, r.nonce],
    ...r.removed.map((name) => [6, name] as const),
  ]);
}

/** What a state-of-the-world response carries. */
export interface SotwResponseParts {
  readonly typeUrl: string;
  readonly nonce: string;
  readonly versionInfo: string;
  readonly resources: readonly { readonly encoded: EncodedResource }[];
}

/** A DiscoveryResponse as one gRPC message frame. */
export function sotwResponseFrame(r: SotwResponseParts): Uint8Array {
  return frame([
    [1, r.versionInfo],
    ...r.resources.map((x) => x.encoded.sotwField),
    [4, r.typeUrl],
    [5, r.nonce],
  ]);
}

// ---------------------------------------------------------------------------------------------
// Requests: the ACK fast path

const decoder = new TextDecoder("utf-8", { fatal: true });
const NO_NAMES: readonly string[] = Object.freeze([]);
const NO_VERSIONS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A DeltaDiscoveryRequest that holds only `type_url` (2) and `response_nonce` (6), i.e. a plain
 * ACK, decoded by hand; undefined for anything else (the caller then uses protobuf-es). Every
 * engine ACKs every push, so a fan-out to N engines decodes N of these: this skips the reflection
 * and the message allocation of `fromBinary` for them. The result has the shape of the message
 * with every other field empty (shared frozen arrays: callers read requests, never change them).
 */
export function decodeDeltaAck(bytes: Uint8Array): DeltaAck | undefined {
  let typeUrl = "";
  let responseNonce = "";
  try {
    const r = new BinaryReader(bytes);
    while (r.pos < r.len) {
      const [field, wireType] = r.tag();
      if (wireType !== WireType.LengthDelimited || (field !== 2 && field !== 6)) return undefined;
      // Fatal: a string that is not UTF-8 is left to protobuf-es to refuse.
      const value = decoder.decode(r.bytes());
      if (field === 2) typeUrl = value;
      else responseNonce = value;
    }
  } catch {
    return undefined; // truncated or not UTF-8
  }
  if (responseNonce === "") return undefined;
  return {
    typeUrl,
    responseNonce,
    node: undefined,
    resourceNamesSubscribe: NO_NAMES,
    resourceNamesUnsubscribe: NO_NAMES,
    initialResourceVersions: NO_VERSIONS,
    errorDetail: undefined,
  };
}

/** The fields of a DeltaDiscoveryRequest the session reads, as decodeDeltaAck fills them. */
export interface DeltaAck {
  readonly typeUrl: string;
  readonly responseNonce: string;
  readonly node: undefined;
  readonly resourceNamesSubscribe: readonly string[];
  readonly resourceNamesUnsubscribe: readonly string[];
  readonly initialResourceVersions: Readonly<Record<string, string>>;
  readonly errorDetail: undefined;
}
