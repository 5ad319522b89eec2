/**
 * The application behind Envoy in the mechanism benchmark: reads the whole request and answers
 * 200 with two bytes, so what is measured is the proxy path, not the app.
 * Prints `{"event":"ready","port":N}` on stdout; exits when stdin closes (the driver is gone).
 */
import { emit, listenForCommands } from "../support/command-channel.ts";

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    await req.arrayBuffer();
    return new Response("ok");
  },
});
emit({ event: "ready", port: server.port });
listenForCommands(
  () => {},
  () => {
    server.stop(true);
    process.exit(0);
  },
);
