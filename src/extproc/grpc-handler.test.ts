/**
 * The handwritten gRPC handler with a raw HTTP/2 client: malformed calls end with a gRPC error
 * status on their own stream, and the server keeps answering well-formed ones.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as http2 from "node:http2";
import { connect } from "node:net";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ProcessingRequestSchema,
  ProcessingResponseSchema,
} from "../../gen/envoy/service/ext_proc/v3/external_processor_pb.js";
import { POLICY_METADATA_KEY } from "./contract.ts";
import { PROCESS_PATH } from "./grpc-handler.ts";
import { type InspectorServer, startInspectorServer } from "./server.ts";
import { socketDir } from "./testing/envoy.ts";
import { fakeEngine, fakePolicyWire } from "./testing/fake-engine.ts";

const dir = socketDir();
const socketPath = join(dir.path, "inspector.sock");
let server: InspectorServer;
let client: http2.ClientHttp2Session;

beforeAll(async () => {
  server = await startInspectorServer({ engine: fakeEngine, listen: { socketPath } });
  client = http2.connect("http://inspector", { createConnection: () => connect(socketPath) });
});
afterAll(async () => {
  client?.close();
  await server?.close();
  dir.remove();
});

const encoder = new TextEncoder();
function headersMessage(path: string): Uint8Array {
  const message = create(ProcessingRequestSchema, {
    request: {
      case: "requestHeaders",
      value: {
        headers: {
          headers: [
            { key: ":method", rawValue: encoder.encode("GET") },
            { key: ":path", rawValue: encoder.encode(path) },
          ],
        },
        endOfStream: true,
      },
    },
  });
  return frame(toBinary(ProcessingRequestSchema, message));
}

function frame(message: Uint8Array, flag = 0): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  out[0] = flag;
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

/** One call: its gRPC status and the response messages. */
function call(
  body: Uint8Array,
  headers: Record<string, string> = {},
): Promise<{ status: string; messages: Uint8Array[] }> {
  return new Promise((resolve, reject) => {
    const stream = client.request({
      ":method": "POST",
      ":path": PROCESS_PATH,
      "content-type": "application/grpc",
      te: "trailers",
      [POLICY_METADATA_KEY]: fakePolicyWire({ word: "attack" }),
      ...headers,
    });
    let status = "";
    let data = Buffer.alloc(0);
    stream.on("response", (h) => {
      if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]);
    });
    stream.on("trailers", (t) => {
      status = String(t["grpc-status"]);
    });
    stream.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
    });
    stream.on("error", reject);
    stream.on("close", () => {
      const messages: Uint8Array[] = [];
      for (let at = 0; at + 5 <= data.length; ) {
        const length = data.readUInt32BE(at + 1);
        messages.push(data.subarray(at + 5, at + 5 + length));
        at += 5 + length;
      }
      resolve({ status, messages });
    });
    stream.end(body);
  });
}

test("a well-formed call gets one answer and status OK", async () => {
  const { status, messages } = await call(headersMessage("/x?q=attack"));
  expect(status).toBe("0");
  expect(messages).toHaveLength(1);
  const answer = fromBinary(ProcessingResponseSchema, messages[0]!);
  expect(answer.response.case).toBe("immediateResponse");
});

test("malformed calls end with an error status on their own stream", async () => {
  // Not a ProcessingRequest.
  expect((await call(frame(new Uint8Array([0xff, 0xff, 0xff])))).status).toBe("3");
  // Compressed (we announce no compression).
  expect((await call(frame(new Uint8Array([1, 2]), 1))).status).toBe("12");
  // A length prefix larger than any message we take.
  const huge = new Uint8Array(5);
  new DataView(huge.buffer).setUint32(1, 0xffffffff);
  expect((await call(huge)).status).toBe("8");
  // Cut off inside a message.
  expect((await call(headersMessage("/x").subarray(0, 8))).status).toBe("3");
  // No policy; an unreadable policy; another method.
  expect((await call(headersMessage("/x"), { [POLICY_METADATA_KEY]: "" })).status).toBe("3");
  expect((await call(headersMessage("/x"), { [POLICY_METADATA_KEY]: "%%%" })).status).toBe("3");
  expect((await call(headersMessage("/x"), { ":path": "/other.Service/Method" })).status).toBe("12");
  // Headers twice.
  const twice = new Uint8Array([...headersMessage("/a"), ...headersMessage("/b")]);
  const res = await call(twice);
  expect(res.status).toBe("3");
  expect(res.messages).toHaveLength(1);
  // And the server still answers.
  expect((await call(headersMessage("/x?q=fine"))).status).toBe("0");
});
