import { describe, expect, test } from "bun:test";
import { GrpcFrameReader } from "./grpc-frames.ts";

function frame(payload: number[], flag = 0): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = flag;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

describe("GrpcFrameReader", () => {
  test("messages come out whole and in order however the bytes are chunked", () => {
    const bytes = concat(frame([1, 2, 3]), frame([]), frame(Array.from({ length: 300 }, (_, i) => i & 0xff)));
    for (const size of [1, 2, 4, 5, 6, 7, 64, bytes.byteLength]) {
      const got: number[][] = [];
      const reader = new GrpcFrameReader(1024, (m) => got.push([...m]));
      for (let i = 0; i < bytes.byteLength; i += size) reader.push(bytes.subarray(i, i + size));
      expect(reader.pending).toBe(false);
      expect(got.map((m) => m.length)).toEqual([3, 0, 300]);
      expect(got[0]).toEqual([1, 2, 3]);
      expect(got[2]![299]).toBe(299 & 0xff);
    }
  });

  test("a partial message stays pending", () => {
    const reader = new GrpcFrameReader(1024, () => {});
    reader.push(frame([1, 2, 3]).subarray(0, 6));
    expect(reader.pending).toBe(true);
  });

  test("compressed messages, bad flags and oversized messages are refused with a reason", () => {
    expect(() => new GrpcFrameReader(1024, () => {}).push(frame([1], 1))).toThrow(/compressed/);
    expect(() => new GrpcFrameReader(1024, () => {}).push(frame([1], 7))).toThrow(/flag 7/);
    const huge = new Uint8Array([0, 0x7f, 0xff, 0xff, 0xff]);
    expect(() => new GrpcFrameReader(1024, () => {}).push(huge)).toThrow(/exceeds the limit of 1024/);
  });
});
