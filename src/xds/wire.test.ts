import { describe, expect, test } from "bun:test";
import { create, equals, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import {
  DeltaDiscoveryRequestSchema,
  DeltaDiscoveryResponseSchema,
  DiscoveryResponseSchema,
} from "../../gen/envoy/service/discovery/v3/discovery_pb.js";
import { fromBytes } from "./cached-resource.ts";
import { type DeltaResponse, deltaFrame, deltaMessage } from "./delta-session.ts";
import { type SotwResponse, sotwFrame, sotwMessage } from "./sotw-session.ts";
import { decodeDeltaAck, GRPC_HEADER_SIZE } from "./wire.ts";

const LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";

/** Resource bytes of many sizes, so lengths cross the 1-, 2- and 3-byte varint boundaries. */
function resource(name: string, size: number) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + name.length) & 0xff;
  return fromBytes(LISTENER, name, bytes);
}

const SIZES = [0, 1, 100, 127, 128, 16_383, 16_384, 48_000, 2_100_000];

function payload(frame: Uint8Array): Uint8Array {
  expect(frame[0]).toBe(0); // not compressed
  const len = new DataView(frame.buffer, frame.byteOffset).getUint32(1);
  expect(len).toBe(frame.byteLength - GRPC_HEADER_SIZE);
  return frame.subarray(GRPC_HEADER_SIZE);
}

describe("hand-encoded discovery responses", () => {
  test("a delta frame decodes to the message protobuf-es builds, and encodes to the same bytes", () => {
    const r: DeltaResponse = {
      typeUrl: LISTENER,
      nonce: "17",
      systemVersionInfo: "17",
      resources: SIZES.map((n, i) => resource(`listener-${i}-${"x".repeat(i * 20)}`, n)),
      removed: ["gone-a", "gone-ü"],
    };
    const decoded = fromBinary(DeltaDiscoveryResponseSchema, payload(deltaFrame(r)));
    expect(equals(DeltaDiscoveryResponseSchema, decoded, deltaMessage(r))).toBe(true);
    expect(payload(deltaFrame(r))).toEqual(toBinary(DeltaDiscoveryResponseSchema, deltaMessage(r)));
  });

  test("an empty delta response (a first answer with nothing to send) is valid", () => {
    const r: DeltaResponse = {
      typeUrl: LISTENER,
      nonce: "1",
      systemVersionInfo: "1",
      resources: [],
      removed: [],
    };
    const decoded = fromBinary(DeltaDiscoveryResponseSchema, payload(deltaFrame(r)));
    expect(equals(DeltaDiscoveryResponseSchema, decoded, deltaMessage(r))).toBe(true);
  });

  test("a state-of-the-world frame decodes to the message protobuf-es builds", () => {
    const r: SotwResponse = {
      typeUrl: LISTENER,
      nonce: "3",
      versionInfo: "v-abc",
      resources: SIZES.map((n, i) => resource(`l${i}`, n)),
    };
    const decoded = fromBinary(DiscoveryResponseSchema, payload(sotwFrame(r)));
    expect(equals(DiscoveryResponseSchema, decoded, sotwMessage(r))).toBe(true);
    expect(payload(sotwFrame(r))).toEqual(toBinary(DiscoveryResponseSchema, sotwMessage(r)));
  });

  test("the resource's value and Any are views into one buffer, not copies", () => {
    const r = resource("shared", 1000);
    expect(r.any.value.buffer).toBe(r.encoded.deltaField.buffer);
    expect(r.encoded.sotwField.buffer).toBe(r.encoded.deltaField.buffer);
    expect(r.any.value.byteLength).toBe(1000);
  });
});

describe("the hand-decoded ACK", () => {
  const encode = (init: MessageInitShape<typeof DeltaDiscoveryRequestSchema>) =>
    toBinary(DeltaDiscoveryRequestSchema, create(DeltaDiscoveryRequestSchema, init));

  test("a plain ACK decodes to what protobuf-es reads", () => {
    const bytes = encode({ typeUrl: LISTENER, responseNonce: "n0nce-ü" });
    const fast = decodeDeltaAck(bytes)!;
    const slow = fromBinary(DeltaDiscoveryRequestSchema, bytes);
    expect(fast.typeUrl).toBe(slow.typeUrl);
    expect(fast.responseNonce).toBe(slow.responseNonce);
    expect(fast.resourceNamesSubscribe).toEqual([]);
    expect(fast.initialResourceVersions).toEqual({});
    expect(fast.errorDetail).toBeUndefined();
    expect(fast.node).toBeUndefined();
  });

  test("anything more than an ACK, or not protobuf, is left to protobuf-es", () => {
    expect(decodeDeltaAck(encode({ typeUrl: LISTENER }))).toBeUndefined(); // a subscription, no nonce
    expect(
      decodeDeltaAck(encode({ typeUrl: LISTENER, responseNonce: "n", node: { id: "a.b" } })),
    ).toBeUndefined();
    expect(
      decodeDeltaAck(
        encode({ typeUrl: LISTENER, responseNonce: "n", errorDetail: { code: 3, message: "x" } }),
      ),
    ).toBeUndefined();
    expect(
      decodeDeltaAck(encode({ typeUrl: LISTENER, responseNonce: "n", resourceNamesSubscribe: ["r"] })),
    ).toBeUndefined();
    expect(decodeDeltaAck(new Uint8Array([0x12, 0x05, 0x61]))).toBeUndefined(); // truncated
    expect(decodeDeltaAck(new Uint8Array([0x32, 0x01, 0xff]))).toBeUndefined(); // not UTF-8
  });
});
