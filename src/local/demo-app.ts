/**
 * The small application the local demo protects: it echoes what it received as JSON, so a user
 * can see that a request reached it (and that a blocked one did not).
 */
export interface DemoApp {
  readonly port: number;
  /** Requests that reached the app. */
  readonly received: number;
  stop(): void;
}

/** Starts the demo app on 127.0.0.1:`port` (0 picks a free port). */
export function startDemoApp(port: number): DemoApp {
  let received = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    async fetch(req) {
      received++;
      const url = new URL(req.url);
      const body = req.body ? await req.text() : "";
      return Response.json({
        app: "microgateway demo",
        message: "This request passed the firewall and reached the application.",
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        bodyBytes: body.length,
      });
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
