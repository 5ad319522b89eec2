/**
 * The simulated engines of one run, spread over one or more clients processes (clients.ts), seen
 * by the driver as one: commands go to every process, and each event is awaited from every
 * process and merged (counts summed, latencies concatenated, times taken at the last process).
 * Two processes let the engines use both cores when one Bun thread would saturate.
 *
 * @example
 *   const clients = ClientGroup.spawn({ engines: 10_000, procs: 2, port, certDir, batch: 200, protocol: "delta", openFiles, cwd });
 *   clients.send({ cmd: "connect" });
 *   const ready = await clients.next("ready", deadline);
 */
import { BenchChild } from "../support/child-process.ts";
import type { ClientsCommand, ClientsEvent } from "./messages.ts";
import type { XdsProtocol } from "./simulated-engine.ts";

type Clients = BenchChild<ClientsCommand, ClientsEvent>;
type EventOf<K extends ClientsEvent["event"]> = Extract<ClientsEvent, { event: K }>;

/** How to start the group. */
export interface ClientGroupOptions {
  readonly engines: number;
  readonly procs: number;
  readonly port: number;
  readonly certDir: string;
  readonly batch: number;
  readonly protocol: XdsProtocol;
  /** The RouteConfigurations every engine's listener names (from the server's `ready`). */
  readonly routeNames: readonly string[];
  readonly openFiles: number;
  readonly cwd: string;
}

/** One or more clients processes holding engines `0..engines-1` between them. */
export class ClientGroup {
  private constructor(private readonly children: readonly Clients[]) {}

  /** Starts `procs` processes; process p holds a contiguous range of engine indices. */
  static spawn(opts: ClientGroupOptions): ClientGroup {
    const procs = Math.max(1, Math.min(opts.procs, opts.engines));
    const children: Clients[] = [];
    for (let p = 0; p < procs; p++) {
      const first = Math.floor((p * opts.engines) / procs);
      const count = Math.floor(((p + 1) * opts.engines) / procs) - first;
      children.push(
        BenchChild.spawn({
          name: procs === 1 ? "clients" : `clients-${p}`,
          argv: [
            "bun",
            "bench/xds/clients.ts",
            ...["--port", String(opts.port), "--certs", opts.certDir],
            ...["--engines", String(count), "--first", String(first)],
            ...["--batch", String(Math.max(1, Math.round(opts.batch / procs))), "--protocol", opts.protocol],
            ...["--routes", opts.routeNames.join(",")],
          ],
          openFiles: opts.openFiles,
          cwd: opts.cwd,
        }),
      );
    }
    return new ClientGroup(children);
  }

  /** Process ids, for CPU accounting. */
  get pids(): number[] {
    return this.children.map((c) => c.pid);
  }

  send(command: ClientsCommand): void {
    for (const c of this.children) c.send(command);
  }

  /** The next event of `kind` from every process, merged into one. */
  async next<K extends ClientsEvent["event"]>(kind: K, deadline: number): Promise<EventOf<K>> {
    const events = (await Promise.all(this.children.map((c) => c.next(kind, deadline)))) as ClientsEvent[];
    return merge(events) as EventOf<K>;
  }

  async stop(graceMs: number): Promise<void> {
    await Promise.all(this.children.map((c) => c.stop(graceMs)));
  }
}

/** Merges one event per process (all of the same kind) into the event one process would have sent. */
export function merge(events: readonly ClientsEvent[]): ClientsEvent {
  const [first, ...rest] = events;
  if (!first) throw new Error("merge of zero events");
  if (rest.length === 0) return first;
  const all = <K extends ClientsEvent["event"]>(_kind: K) => events as EventOf<K>[];
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  switch (first.event) {
    case "connected": {
      const es = all("connected");
      return {
        event: "connected",
        startedAt: Math.min(...es.map((e) => e.startedAt)),
        at: Math.max(...es.map((e) => e.at)),
        connectErrors: sum(es.map((e) => e.connectErrors)),
        firstError: es.find((e) => e.firstError)?.firstError,
      };
    }
    case "ready":
    case "disconnected":
      return { event: first.event, at: Math.max(...events.map((e) => (e as EventOf<"ready">).at)) };
    case "marked":
      return first;
    case "converged": {
      const es = all("converged");
      return {
        event: "converged",
        latenciesMs: es.flatMap((e) => e.latenciesMs),
        versions: [...new Set(es.flatMap((e) => e.versions))],
      };
    }
    case "reconnected": {
      const es = all("reconnected");
      return {
        event: "reconnected",
        at: Math.max(...es.map((e) => e.at)),
        connectErrors: sum(es.map((e) => e.connectErrors)),
        firstError: es.find((e) => e.firstError)?.firstError,
      };
    }
    case "stats": {
      const es = all("stats");
      return {
        event: "stats",
        cpu: { user: sum(es.map((e) => e.cpu.user)), system: sum(es.map((e) => e.cpu.system)) },
        rss: sum(es.map((e) => e.rss)),
        engines: sum(es.map((e) => e.engines)),
        ready: sum(es.map((e) => e.ready)),
        connectErrors: sum(es.map((e) => e.connectErrors)),
        streamErrors: sum(es.map((e) => e.streamErrors)),
        nacksSent: sum(es.map((e) => e.nacksSent)),
        responses: sum(es.map((e) => e.responses)),
        bytesReceived: sum(es.map((e) => e.bytesReceived)),
        firstError: es.find((e) => e.firstError)?.firstError,
        // Each process answers for the engines it holds, in ascending global order.
        engineBytes: es.flatMap((e) => e.engineBytes),
      };
    }
    case "failed":
      return first;
  }
}
