/**
 * gRPC message framing over an HTTP/2 stream: each message is a 1-byte compressed flag, a 4-byte
 * big-endian length and the protobuf bytes. HTTP/2 DATA frames cut messages anywhere (a 40 KB
 * listener arrives in several chunks), so the decoder reassembles them.
 */

const HEADER = 5;

/** Frames one uncompressed message. */
export function frameMessage(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, HEADER);
  return out;
}

/**
 * Splits a stream of chunks into whole messages. In the common case a chunk holds whole messages
 * and they are handed out as views without copying; only a message that spans chunks is copied,
 * once, when its last byte arrives.
 */
export class GrpcFrameDecoder {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Bytes needed to complete the pending message (header included); 0 while its header is incomplete. */
  private need = 0;

  constructor(private readonly maxMessageBytes = 16 * 1024 * 1024) {}

  /**
   * Feeds one chunk; `onMessage` is called synchronously for every message it completes, with a view
   * that is only valid during the call. Throws on compressed or oversized messages.
   */
  push(chunk: Uint8Array, onMessage: (message: Uint8Array) => void): void {
    if (this.pendingBytes === 0) {
      this.drain(chunk, onMessage);
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.need === 0 && this.pendingBytes >= HEADER) this.need = HEADER + this.pendingLength();
    if (this.need === 0 || this.pendingBytes < this.need) return;
    const joined = new Uint8Array(this.pendingBytes);
    let at = 0;
    for (const c of this.pending) {
      joined.set(c, at);
      at += c.length;
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.need = 0;
    this.drain(joined, onMessage);
  }

  /** Bytes received that do not yet form a whole message. */
  get buffered(): number {
    return this.pendingBytes;
  }

  private drain(buf: Uint8Array, onMessage: (message: Uint8Array) => void): void {
    let pos = 0;
    while (buf.length - pos >= HEADER) {
      const len = this.lengthAt(buf[pos]!, buf[pos + 1]!, buf[pos + 2]!, buf[pos + 3]!, buf[pos + 4]!);
      if (buf.length - pos - HEADER < len) break;
      onMessage(buf.subarray(pos + HEADER, pos + HEADER + len));
      pos += HEADER + len;
    }
    if (pos === buf.length) return;
    // Copied: the transport may reuse its chunk buffers once this call returns.
    const rest = buf.slice(pos);
    this.pending = [rest];
    this.pendingBytes = rest.length;
    this.need = rest.length >= HEADER ? HEADER + this.pendingLength() : 0;
  }

  /** The message length from the header of the pending bytes, which may span chunks. */
  private pendingLength(): number {
    const h: number[] = [];
    for (const c of this.pending) {
      for (let i = 0; i < c.length && h.length < HEADER; i++) h.push(c[i]!);
      if (h.length === HEADER) break;
    }
    return this.lengthAt(h[0]!, h[1]!, h[2]!, h[3]!, h[4]!);
  }

  private lengthAt(flag: number, b1: number, b2: number, b3: number, b4: number): number {
    if (flag !== 0) throw new Error(`gRPC message with flags ${flag}: compression was not negotiated`);
    const len = ((b1 << 24) >>> 0) + (b2 << 16) + (b3 << 8) + b4;
    if (len > this.maxMessageBytes) {
      throw new Error(`gRPC message of ${len} bytes exceeds the limit of ${this.maxMessageBytes}`);
    }
    return len;
  }
}
