import { MicrogatewayError } from "../errors.ts";

/**
 * Splits a gRPC request body into messages (length-prefixed: 1 byte compressed flag, 4 bytes
 * big-endian length), however the bytes are chunked. Compressed messages are refused: we never
 * offer a grpc-encoding, so a conforming client does not send them.
 *
 * @example
 * const reader = new GrpcFrameReader(4 << 20, (msg) => handle(msg));
 * socket.on("data", (chunk) => reader.push(chunk)); // throws MicrogatewayError on a bad frame
 */
export class GrpcFrameReader {
  private buffer: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly maxMessageBytes: number,
    private readonly onMessage: (message: Uint8Array) => void,
  ) {}

  /** Whether a partial message is buffered (a stream ending now ends inside a message). */
  get pending(): boolean {
    return this.buffer.byteLength > 0;
  }

  /** Feeds bytes; calls onMessage for every complete message, in order. */
  push(chunk: Uint8Array): void {
    let data = chunk;
    if (this.buffer.byteLength > 0) {
      data = new Uint8Array(this.buffer.byteLength + chunk.byteLength);
      data.set(this.buffer, 0);
      data.set(chunk, this.buffer.byteLength);
    }
    let at = 0;
    while (data.byteLength - at >= 5) {
      const flag = data[at]!;
      const len = new DataView(data.buffer, data.byteOffset + at + 1, 4).getUint32(0);
      if (flag !== 0) {
        throw new MicrogatewayError(
          "InvalidArgument",
          flag === 1 ? "compressed gRPC messages are not accepted" : `invalid gRPC frame flag ${flag}`,
        );
      }
      if (len > this.maxMessageBytes) {
        throw new MicrogatewayError(
          "InvalidArgument",
          `gRPC message of ${len} bytes exceeds the limit of ${this.maxMessageBytes}`,
        );
      }
      if (data.byteLength - at - 5 < len) break;
      const message = data.subarray(at + 5, at + 5 + len);
      at += 5 + len;
      this.onMessage(message);
    }
    this.buffer = at === data.byteLength ? new Uint8Array(0) : data.slice(at);
  }
}
