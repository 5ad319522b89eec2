import { describe, expect, test } from "bun:test";
import { frameMessage, GrpcFrameDecoder } from "./grpc-frames.ts";

const messages = [
  new Uint8Array([1, 2, 3]),
  new Uint8Array(0),
  Uint8Array.from({ length: 300 }, (_, i) => i % 251),
];
const stream = Uint8Array.from(messages.flatMap((m) => [...frameMessage(m)]));

function decodeInChunks(bytes: Uint8Array, cuts: number[]): number[][] {
  const decoder = new GrpcFrameDecoder();
  const out: number[][] = [];
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    decoder.push(bytes.slice(from, to), (m) => out.push([...m]));
    from = to;
  }
  return out;
}

describe("GrpcFrameDecoder", () => {
  test("returns every message whole, wherever the transport cuts the byte stream", () => {
    const expected = messages.map((m) => [...m]);
    for (let a = 0; a <= stream.length; a++) {
      for (const b of [a, a + 1, a + 7, stream.length]) {
        expect(decodeInChunks(stream, [a, Math.min(b, stream.length)])).toEqual(expected);
      }
    }
  });

  test("survives a message arriving one byte at a time", () => {
    const cuts = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    expect(decodeInChunks(stream, cuts)).toEqual(messages.map((m) => [...m]));
  });

  test("refuses compressed messages, which the engines never negotiate", () => {
    const framed = frameMessage(new Uint8Array([1]));
    framed[0] = 1;
    expect(() => new GrpcFrameDecoder().push(framed, () => {})).toThrow("compression");
  });
});
