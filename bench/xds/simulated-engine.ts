/**
 * One simulated engine: its own TLS connection and one delta ADS stream, speaking to the server the
 * way Envoy does at startup and on updates:
 *   1. request Cluster (wildcard) with the node id,
 *   2. ACK the first Cluster response, then subscribe Listener (wildcard),
 *   3. ACK every response (response_nonce = nonce, same type_url), NACK one it cannot use.
 * No timers and no per-message closures: thousands of these share one process.
 */
import * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  type DeltaDiscoveryRequest,
  DeltaDiscoveryRequestSchema,
} from "../../gen/envoy/service/discovery/v3/discovery_pb.js";
import { TypeUrl } from "../../src/xds/resource-types.ts";
import { wallMs } from "../support/clock.ts";
import { type DeltaResponseView, readDeltaResponse } from "./delta-response-view.ts";
import { frameMessage, GrpcFrameDecoder } from "./grpc-frames.ts";

const ADS_PATH = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";
const REQUEST_HEADERS: http2.OutgoingHttpHeaders = {
  ":method": "POST",
  ":path": ADS_PATH,
  "content-type": "application/grpc",
  te: "trailers",
};
/** google.rpc.Code INVALID_ARGUMENT, what Envoy puts in error_detail when it rejects a response. */
const NACK_CODE = 3;

/** Where and how engines connect. */
export interface EngineTarget {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  readonly tls: http2.SecureClientSessionOptions;
}

/** Counters shared by all engines of a process (one object, not N). */
export interface EngineCounters {
  responses: number;
  bytesReceived: number;
  nacksSent: number;
  streamErrors: number;
}

/** What the fleet hears from its engines. */
export interface EngineHooks {
  /** The TLS handshake finished (`error` undefined) or failed. Called once per engine. */
  connected(engine: SimulatedEngine, error?: string): void;
  /** The engine ACKed its first Cluster and Listener responses. */
  ready(engine: SimulatedEngine): void;
  /** A Listener response was ACKed; `engine.listenerVersion` is new, `previous` what it had. */
  listener(engine: SimulatedEngine, previous: string): void;
  /** The stream or connection broke after the handshake. Called at most once per engine. */
  failed(engine: SimulatedEngine, message: string): void;
}

type Phase = "connecting" | "clusters" | "listeners" | "ready" | "failed" | "closing";

/** One engine. `listenerVersion`/`listenerAt` say what listener it runs and when that arrived. */
export class SimulatedEngine {
  private phase: Phase = "connecting";
  private session: http2.ClientHttp2Session | undefined;
  private stream: http2.ClientHttp2Stream | undefined;
  private readonly frames = new GrpcFrameDecoder();
  /** Arrival time of the chunk being decoded: when the engine "received" the response. */
  private chunkAt = 0;
  /** Version of the first listener of the last Listener response ("" before the first). */
  listenerVersion = "";
  /** `wallMs()` at which the response carrying `listenerVersion` arrived. */
  listenerAt = 0;

  constructor(
    readonly nodeId: string,
    private readonly hooks: EngineHooks,
    private readonly counters: EngineCounters,
  ) {}

  /** Opens the connection and, once it is up, the ADS stream. Resolves when the handshake ended either way. */
  connect(target: EngineTarget): Promise<void> {
    return new Promise((resolve) => {
      const session = http2.connect(target.url, target.tls);
      this.session = session;
      session.once("connect", () => {
        if (this.phase !== "connecting") return;
        this.phase = "clusters";
        this.hooks.connected(this);
        this.openStream(session);
        resolve();
      });
      session.on("error", (e: Error) => {
        if (this.phase === "connecting") {
          this.phase = "failed";
          this.hooks.connected(this, `${this.nodeId}: ${e.message}`);
          resolve();
        } else this.fail(`connection error: ${e.message}`);
      });
      session.on("goaway", (code: number) => this.fail(`GOAWAY (code ${code})`));
      session.on("close", () => {
        if (this.phase === "connecting") {
          this.phase = "failed";
          this.hooks.connected(this, `${this.nodeId}: connection closed during the handshake`);
          resolve();
        } else this.fail("connection closed");
      });
    });
  }

  /** Closes the connection without reporting it as a failure. */
  close(): void {
    this.phase = "closing";
    this.session?.destroy();
  }

  private openStream(session: http2.ClientHttp2Session): void {
    const stream = session.request(REQUEST_HEADERS, { endStream: false });
    this.stream = stream;
    stream.on("response", (headers: http2.IncomingHttpHeaders) => {
      const status = Number(headers[":status"]);
      if (status !== 200) this.fail(`HTTP status ${status}`);
      // A trailers-only response: the server refused the stream outright.
      else if (headers["grpc-status"] !== undefined) this.fail(grpcStatus(headers));
    });
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    stream.on("trailers", (trailers: http2.IncomingHttpHeaders) =>
      this.fail(`stream ended: ${grpcStatus(trailers)}`),
    );
    stream.on("error", (e: Error) => this.fail(`stream error: ${e.message}`));
    stream.on("close", () => this.fail(`stream closed (RST code ${stream.rstCode})`));
    this.send(
      create(DeltaDiscoveryRequestSchema, {
        node: { id: this.nodeId, cluster: "bench" },
        typeUrl: TypeUrl.Cluster,
      }),
    );
  }

  private onData(chunk: Buffer): void {
    this.chunkAt = wallMs();
    this.counters.bytesReceived += chunk.length;
    try {
      this.frames.push(chunk, this.onMessage);
    } catch (e) {
      this.counters.nacksSent++;
      this.fail(`undecodable response: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private readonly onMessage = (bytes: Uint8Array): void => {
    if (this.phase === "failed" || this.phase === "closing") return;
    this.counters.responses++;
    const view = readDeltaResponse(bytes);
    const problem = rejectReason(view);
    if (problem !== undefined) {
      this.counters.nacksSent++;
      this.send(
        create(DeltaDiscoveryRequestSchema, {
          typeUrl: view.typeUrl,
          responseNonce: view.nonce,
          errorDetail: { code: NACK_CODE, message: problem },
        }),
      );
      return;
    }
    this.send(create(DeltaDiscoveryRequestSchema, { typeUrl: view.typeUrl, responseNonce: view.nonce }));
    if (view.typeUrl === TypeUrl.Cluster) {
      if (this.phase === "clusters") {
        // Envoy asks for listeners once its clusters are initialised: after the first CDS answer.
        this.phase = "listeners";
        this.send(create(DeltaDiscoveryRequestSchema, { typeUrl: TypeUrl.Listener }));
      }
      return;
    }
    const previous = this.listenerVersion;
    this.listenerVersion = view.versions[0] ?? "";
    this.listenerAt = this.chunkAt;
    if (this.phase === "listeners") {
      this.phase = "ready";
      this.hooks.ready(this);
    }
    this.hooks.listener(this, previous);
  };

  private send(request: DeltaDiscoveryRequest): void {
    this.stream?.write(frameMessage(toBinary(DeltaDiscoveryRequestSchema, request)));
  }

  private fail(message: string): void {
    if (this.phase === "failed" || this.phase === "closing" || this.phase === "connecting") return;
    this.phase = "failed";
    this.counters.streamErrors++;
    this.hooks.failed(this, `${this.nodeId}: ${message}`);
  }
}

/** Why Envoy would NACK this response, or undefined if it would apply it. */
function rejectReason(view: DeltaResponseView): string | undefined {
  if (view.typeUrl !== TypeUrl.Cluster && view.typeUrl !== TypeUrl.Listener) {
    return `unexpected type_url "${view.typeUrl}" (only Cluster and Listener were requested)`;
  }
  if (view.nonce === "") return "response without a nonce";
  if (view.names.length > 1 && new Set(view.names).size !== view.names.length)
    return "the response names a resource twice";
  return undefined;
}

function grpcStatus(headers: http2.IncomingHttpHeaders): string {
  const message = headers["grpc-message"];
  return `grpc-status ${headers["grpc-status"]}${message ? ` (${decodeURIComponent(String(message))})` : ""}`;
}
