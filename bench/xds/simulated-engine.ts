/**
 * One simulated engine: its own TLS connection and one ADS stream, speaking to the server the way
 * Envoy does at startup, on updates and after the server restarts. Delta (the default):
 *   1. request Cluster (wildcard) with the node id,
 *   2. ACK the first Cluster response, then subscribe Listener (wildcard),
 *   3. ACK the first Listener response, then subscribe the RouteConfigurations its connection
 *      managers name (`routeNames`: Envoy reads them from the listener; the engine is told them),
 *   4. ACK every response (response_nonce = nonce, same type_url), NACK one it cannot use,
 *   5. after a reconnect, subscribe all three types at once with `initial_resource_versions` (what it runs).
 * State of the world (`protocol: "sotw"`) follows the same steps on StreamAggregatedResources, and
 * its ACKs carry the response's version_info.
 * No timers and no per-message closures: thousands of these share one process.
 *
 * @example
 *   const engine = new SimulatedEngine("bench-0.bench", hooks, counters, "delta");
 *   await engine.connect({ url: "https://127.0.0.1:40000", tls });
 */
import * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  type DeltaDiscoveryRequest,
  DeltaDiscoveryRequestSchema,
  type DiscoveryRequest,
  DiscoveryRequestSchema,
} from "../../gen/envoy/service/discovery/v3/discovery_pb.js";
import { TypeUrl } from "../../src/xds/resource-types.ts";
import { wallMs } from "../support/clock.ts";
import { type DeltaResponseView, readDeltaResponse } from "./delta-response-view.ts";
import { frameMessage, GrpcFrameDecoder } from "./grpc-frames.ts";
import { readSotwResponse } from "./sotw-response-view.ts";

const ADS = "/envoy.service.discovery.v3.AggregatedDiscoveryService";
const headersFor = (method: string): http2.OutgoingHttpHeaders => ({
  ":method": "POST",
  ":path": `${ADS}/${method}`,
  "content-type": "application/grpc",
  te: "trailers",
});
const DELTA_HEADERS = headersFor("DeltaAggregatedResources");
const SOTW_HEADERS = headersFor("StreamAggregatedResources");
/** google.rpc.Code INVALID_ARGUMENT, what Envoy puts in error_detail when it rejects a response. */
const NACK_CODE = 3;

/** Which ADS variant the engine speaks. */
export type XdsProtocol = "delta" | "sotw";

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
  /** The TLS handshake finished (`error` undefined) or failed. Called once per connect or reconnect. */
  connected(engine: SimulatedEngine, error?: string): void;
  /** The engine ACKed its first Cluster, Listener and RouteConfiguration responses. */
  ready(engine: SimulatedEngine): void;
  /** A RouteConfiguration response was ACKed; `engine.routeVersion` is what it runs now. */
  route(engine: SimulatedEngine): void;
  /** The stream or connection broke after the handshake. Called at most once per engine. */
  failed(engine: SimulatedEngine, message: string): void;
  /** The connection closed while a disconnect was expected (`expectDisconnect`). */
  disconnected(engine: SimulatedEngine): void;
}

type Phase =
  | "connecting"
  | "clusters"
  | "listeners"
  | "routes"
  | "ready"
  | "expecting-disconnect"
  | "disconnected"
  | "failed"
  | "closing";

/**
 * One engine. `routeVersion`/`routeAt` say what routes it runs and when they arrived: the routes
 * carry the policies, so a policy change is a RouteConfiguration response.
 */
export class SimulatedEngine {
  private phase: Phase = "connecting";
  private session: http2.ClientHttp2Session | undefined;
  private stream: http2.ClientHttp2Stream | undefined;
  private frames = new GrpcFrameDecoder();
  /** Arrival time of the chunk being decoded: when the engine "received" the response. */
  private chunkAt = 0;
  /** Delta: the resources the engine runs, by type then name (its `initial_resource_versions`). */
  private readonly known = new Map<string, Map<string, string>>();
  /** Version of the first route configuration of the last RouteConfiguration response ("" before the first). */
  routeVersion = "";
  /** `wallMs()` at which the last RouteConfiguration response arrived. */
  routeAt = 0;
  /** RouteConfiguration responses received so far; `mark` remembers the count at the driver's `mark`. */
  routeResponses = 0;
  mark = 0;
  /** gRPC bytes this engine received (framing included). */
  bytesReceived = 0;

  constructor(
    readonly nodeId: string,
    private readonly hooks: EngineHooks,
    private readonly counters: EngineCounters,
    /** The RouteConfigurations the engine's listener names (the same for every engine of a fleet). */
    private readonly routeNames: readonly string[],
    readonly protocol: XdsProtocol = "delta",
  ) {}

  /** Opens the connection and, once it is up, the ADS stream. Resolves when the handshake ended either way. */
  connect(target: EngineTarget): Promise<void> {
    return new Promise((resolve) => {
      const session = http2.connect(target.url, target.tls);
      this.session = session;
      const resuming = this.phase === "disconnected";
      this.phase = "connecting";
      session.once("connect", () => {
        if (this.phase !== "connecting") return;
        this.phase = resuming ? "ready" : "clusters";
        this.hooks.connected(this);
        this.openStream(session, resuming);
        resolve();
      });
      session.on("error", (e: Error) => {
        if (this.session !== session) return;
        if (this.phase === "connecting") {
          this.phase = "failed";
          this.hooks.connected(this, `${this.nodeId}: ${e.message}`);
          resolve();
        } else this.fail(`connection error: ${e.message}`);
      });
      session.on("goaway", (code: number) => {
        if (this.session === session) this.fail(`GOAWAY (code ${code})`);
      });
      session.on("close", () => {
        if (this.session !== session) return;
        if (this.phase === "connecting") {
          this.phase = "failed";
          this.hooks.connected(this, `${this.nodeId}: connection closed during the handshake`);
          resolve();
        } else this.fail("connection closed");
      });
    });
  }

  /** From now on a closing connection is the server going away on purpose, not a failure. */
  expectDisconnect(): void {
    if (this.phase === "ready") this.phase = "expecting-disconnect";
  }

  /** Whether the engine is ready for a reconnect (its connection closed while one was expected). */
  get isDisconnected(): boolean {
    return this.phase === "disconnected";
  }

  /** Closes the connection without reporting it as a failure. */
  close(): void {
    this.phase = "closing";
    this.session?.destroy();
  }

  private openStream(session: http2.ClientHttp2Session, resuming: boolean): void {
    const stream = session.request(this.protocol === "delta" ? DELTA_HEADERS : SOTW_HEADERS, {
      endStream: false,
    });
    this.stream = stream;
    this.frames = new GrpcFrameDecoder();
    // Events of a stream from before a reconnect are history, not failures of the current one.
    const fail = (message: string) => {
      if (this.stream === stream) this.fail(message);
    };
    stream.on("response", (headers: http2.IncomingHttpHeaders) => {
      const status = Number(headers[":status"]);
      if (status !== 200) fail(`HTTP status ${status}`);
      // A trailers-only response: the server refused the stream outright.
      else if (headers["grpc-status"] !== undefined) fail(grpcStatus(headers));
    });
    stream.on("data", (chunk: Buffer) => {
      if (this.stream === stream) this.onData(chunk);
    });
    stream.on("trailers", (trailers: http2.IncomingHttpHeaders) =>
      fail(`stream ended: ${grpcStatus(trailers)}`),
    );
    stream.on("error", (e: Error) => fail(`stream error: ${e.message}`));
    stream.on("close", () => fail(`stream closed (RST code ${stream.rstCode})`));
    const node = { id: this.nodeId, cluster: "bench" };
    if (this.protocol === "sotw") {
      this.sendSotw(create(DiscoveryRequestSchema, { node, typeUrl: TypeUrl.Cluster }));
      return;
    }
    if (!resuming) {
      this.sendDelta(create(DeltaDiscoveryRequestSchema, { node, typeUrl: TypeUrl.Cluster }));
      return;
    }
    // Envoy after a reconnect: every type at once, each with the versions it runs.
    const initial = (typeUrl: string) => Object.fromEntries(this.known.get(typeUrl) ?? []);
    this.sendDelta(
      create(DeltaDiscoveryRequestSchema, {
        node,
        typeUrl: TypeUrl.Cluster,
        initialResourceVersions: initial(TypeUrl.Cluster),
      }),
    );
    this.sendDelta(
      create(DeltaDiscoveryRequestSchema, {
        typeUrl: TypeUrl.Listener,
        initialResourceVersions: initial(TypeUrl.Listener),
      }),
    );
    this.sendDelta(
      create(DeltaDiscoveryRequestSchema, {
        typeUrl: TypeUrl.RouteConfiguration,
        resourceNamesSubscribe: [...this.routeNames],
        initialResourceVersions: initial(TypeUrl.RouteConfiguration),
      }),
    );
  }

  private onData(chunk: Buffer): void {
    this.chunkAt = wallMs();
    this.counters.bytesReceived += chunk.length;
    this.bytesReceived += chunk.length;
    try {
      this.frames.push(chunk, this.protocol === "delta" ? this.onDelta : this.onSotw);
    } catch (e) {
      this.counters.nacksSent++;
      this.fail(`undecodable response: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private readonly onDelta = (bytes: Uint8Array): void => {
    if (!this.live) return;
    this.counters.responses++;
    const view = readDeltaResponse(bytes);
    const problem = rejectReason(view.typeUrl, view.nonce) ?? duplicateName(view);
    if (problem !== undefined) {
      this.counters.nacksSent++;
      this.sendDelta(
        create(DeltaDiscoveryRequestSchema, {
          typeUrl: view.typeUrl,
          responseNonce: view.nonce,
          errorDetail: { code: NACK_CODE, message: problem },
        }),
      );
      return;
    }
    let known = this.known.get(view.typeUrl);
    if (!known) {
      known = new Map();
      this.known.set(view.typeUrl, known);
    }
    for (let i = 0; i < view.names.length; i++) known.set(view.names[i]!, view.versions[i]!);
    for (const name of view.removed) known.delete(name);
    this.stream?.write(
      ackFrame(`${view.typeUrl}\0${view.nonce}`, () =>
        toBinary(
          DeltaDiscoveryRequestSchema,
          create(DeltaDiscoveryRequestSchema, { typeUrl: view.typeUrl, responseNonce: view.nonce }),
        ),
      ),
    );
    this.after(view.typeUrl, view.versions[0] ?? "");
  };

  private readonly onSotw = (bytes: Uint8Array): void => {
    if (!this.live) return;
    this.counters.responses++;
    const view = readSotwResponse(bytes);
    const problem = rejectReason(view.typeUrl, view.nonce);
    if (problem !== undefined) {
      this.counters.nacksSent++;
      this.sendSotw(
        create(DiscoveryRequestSchema, {
          typeUrl: view.typeUrl,
          responseNonce: view.nonce,
          errorDetail: { code: NACK_CODE, message: problem },
        }),
      );
      return;
    }
    this.stream?.write(
      ackFrame(`${view.typeUrl}\0${view.versionInfo}\0${view.nonce}`, () =>
        toBinary(
          DiscoveryRequestSchema,
          create(DiscoveryRequestSchema, {
            typeUrl: view.typeUrl,
            versionInfo: view.versionInfo,
            responseNonce: view.nonce,
          }),
        ),
      ),
    );
    this.after(view.typeUrl, view.versionInfo);
  };

  private get live(): boolean {
    return this.phase !== "failed" && this.phase !== "closing" && this.phase !== "disconnected";
  }

  /** What the engine does after ACKing a response of `typeUrl` (`version`: its first resource's, or the SotW set's). */
  private after(typeUrl: string, version: string): void {
    if (typeUrl === TypeUrl.Cluster) {
      if (this.phase !== "clusters") return;
      // Envoy asks for listeners once its clusters are initialised: after the first CDS answer.
      this.phase = "listeners";
      if (this.protocol === "delta")
        this.sendDelta(create(DeltaDiscoveryRequestSchema, { typeUrl: TypeUrl.Listener }));
      else this.sendSotw(create(DiscoveryRequestSchema, { typeUrl: TypeUrl.Listener }));
      return;
    }
    if (typeUrl === TypeUrl.Listener) {
      if (this.phase !== "listeners") return;
      // A listener warms until the routes its connection managers name arrive over RDS.
      this.phase = "routes";
      const names = [...this.routeNames];
      if (this.protocol === "delta")
        this.sendDelta(
          create(DeltaDiscoveryRequestSchema, {
            typeUrl: TypeUrl.RouteConfiguration,
            resourceNamesSubscribe: names,
          }),
        );
      else
        this.sendSotw(
          create(DiscoveryRequestSchema, { typeUrl: TypeUrl.RouteConfiguration, resourceNames: names }),
        );
      return;
    }
    this.routeVersion = version;
    this.routeAt = this.chunkAt;
    this.routeResponses++;
    if (this.phase === "routes") {
      this.phase = "ready";
      this.hooks.ready(this);
    }
    this.hooks.route(this);
  }

  private sendDelta(request: DeltaDiscoveryRequest): void {
    this.stream?.write(frameMessage(toBinary(DeltaDiscoveryRequestSchema, request)));
  }

  private sendSotw(request: DiscoveryRequest): void {
    this.stream?.write(frameMessage(toBinary(DiscoveryRequestSchema, request)));
  }

  private fail(message: string): void {
    if (this.phase === "expecting-disconnect") {
      this.phase = "disconnected";
      this.session?.destroy();
      this.hooks.disconnected(this);
      return;
    }
    if (!this.live || this.phase === "connecting") return;
    this.phase = "failed";
    this.counters.streamErrors++;
    this.hooks.failed(this, `${this.nodeId}: ${message}`);
  }
}

/**
 * The framed ACK for `key`, encoded once: every engine of a fan-out ACKs the same response (same
 * type, nonce and version), so thousands of engines share one buffer instead of each building a
 * protobuf-es message. Keeps the generator's CPU per change below the server's.
 */
function ackFrame(key: string, encode: () => Uint8Array): Uint8Array {
  let frame = ackFrames.get(key);
  if (frame === undefined) {
    frame = frameMessage(encode());
    if (ackFrames.size >= 256) ackFrames.delete(ackFrames.keys().next().value!);
    ackFrames.set(key, frame);
  }
  return frame;
}
const ackFrames = new Map<string, Uint8Array>();

/** Why Envoy would NACK a response of this type and nonce, or undefined. */
function rejectReason(typeUrl: string, nonce: string): string | undefined {
  if (typeUrl !== TypeUrl.Cluster && typeUrl !== TypeUrl.Listener && typeUrl !== TypeUrl.RouteConfiguration) {
    return `unexpected type_url "${typeUrl}" (only Cluster, Listener and RouteConfiguration were requested)`;
  }
  if (nonce === "") return "response without a nonce";
  return undefined;
}

function duplicateName(view: DeltaResponseView): string | undefined {
  if (view.names.length > 1 && new Set(view.names).size !== view.names.length)
    return "the response names a resource twice";
  return undefined;
}

function grpcStatus(headers: http2.IncomingHttpHeaders): string {
  const message = headers["grpc-message"];
  return `grpc-status ${headers["grpc-status"]}${message ? ` (${decodeURIComponent(String(message))})` : ""}`;
}
