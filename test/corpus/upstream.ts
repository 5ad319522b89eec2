/**
 * The application behind the gateway in corpus runs and WAF benchmarks: it reads the body and
 * answers 200 with a marker header, so the client can tell "reached the application" apart from
 * any answer of the gateway itself.
 *
 * @example
 * const app = startCorpusUpstream();
 * // point the gateway at http://127.0.0.1:${app.port}; responses with `x-corpus-upstream: 1` came from here
 * app.stop();
 */

/** The header the upstream puts on every response. */
export const UPSTREAM_MARKER = "x-corpus-upstream";

/** A running upstream. */
export interface CorpusUpstream {
  readonly port: number;
  /** Requests that reached it. */
  readonly received: number;
  stop(): void;
}

/** Starts the upstream on 127.0.0.1 (a free port unless `port` is given). */
export function startCorpusUpstream(port = 0): CorpusUpstream {
  let received = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    async fetch(req) {
      received++;
      if (req.body) await req.arrayBuffer();
      return new Response("ok\n", { headers: { [UPSTREAM_MARKER]: "1", "content-type": "text/plain" } });
    },
  });
  return {
    port: server.port ?? port,
    get received() {
      return received;
    },
    stop: () => server.stop(true),
  };
}
