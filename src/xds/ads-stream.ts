import type { PeerIdentity } from "../certs/identity.ts";
import { errorMessage } from "../errors.ts";
import type { ConfigCache } from "./config-cache.ts";
import type { EngineStatusStore } from "./engine-status.ts";
import type { FanOutScheduler } from "./fan-out.ts";

/** Decides whether a peer may be served the configuration of `nodeId`; throws MicrogatewayError to refuse. */
export type NodeAuthorizer = (peer: PeerIdentity | undefined, nodeId: string) => void;

export interface AdsServiceOptions {
  readonly cache: ConfigCache;
  readonly status: EngineStatusStore;
  readonly authorize: NodeAuthorizer;
  readonly log?: (line: string) => void;
  /** Spreads configuration changes over the event loop; without it, streams answer at once. */
  readonly fanOut?: FanOutScheduler;
}

/** The protocol state machine of one stream (DeltaSession or SotwSession). */
export interface AdsSession<Req, Res> {
  readonly node: string | undefined;
  handle(req: Req): void;
  nextResponse(): Res | undefined;
}

export type AdsFlavour = "delta" | "sotw";

/**
 * One ADS stream's life, whatever carries it: binds the stream to its node on the first request,
 * watches the node's configuration, hands every response the session produces to `send` in order,
 * and keeps the engine status and counters. The transport feeds it requests and closes it.
 *
 * @example
 * const stream = new AdsStream(opts, peer, "delta", new DeltaSession(...), (r) => write(deltaFrame(r)));
 * stream.receive(request); // may throw MicrogatewayError: end the stream with that error
 * stream.close();
 */
export class AdsStream<Req, Res> {
  private nodeId: string | undefined;
  private unwatch: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly opts: AdsServiceOptions,
    private readonly flavour: AdsFlavour,
    private readonly session: AdsSession<Req, Res>,
    private readonly send: (response: Res) => void,
  ) {
    opts.status.counters.streamsOpened++;
  }

  /** Applies one client request and sends what it makes due. Throws on protocol violations. */
  receive(req: Req): void {
    if (this.closed) return;
    this.session.handle(req);
    if (this.nodeId === undefined && this.session.node !== undefined) {
      const nodeId = this.session.node;
      this.nodeId = nodeId;
      const fanOut = this.opts.fanOut;
      this.unwatch = this.opts.cache.watch(nodeId, fanOut ? () => fanOut.schedule(this.pump) : this.pump);
      this.opts.status.engine(nodeId).streams++;
      this.opts.status.changed(nodeId);
      this.opts.log?.(`xds: ${this.flavour} stream opened by ${nodeId}`);
    }
    this.pump();
  }

  /** Records a stream that failed (not a client going away), for the log. */
  failed(e: unknown): void {
    this.opts.log?.(
      `xds: ${this.flavour} stream of ${this.nodeId ?? "unknown node"} failed: ${errorMessage(e)}`,
    );
  }

  /** Ends the stream's bookkeeping; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch?.();
    this.opts.fanOut?.cancel(this.pump);
    this.opts.status.counters.streamsClosed++;
    if (this.nodeId !== undefined) {
      this.opts.status.engine(this.nodeId).streams--;
      this.opts.status.changed(this.nodeId);
      this.opts.log?.(`xds: ${this.flavour} stream of ${this.nodeId} closed`);
    }
  }

  private readonly pump = (): void => {
    if (this.closed) return;
    for (let r = this.session.nextResponse(); r !== undefined; r = this.session.nextResponse()) this.send(r);
  };
}
