/**
 * The inspector in its own process, as in a pod (the agent container's Bun process): serves
 * ext_proc on the Unix socket given as argv[2]. With `--fake` it runs a stand-in engine that
 * only compares strings, which isolates the cost of the protocol from the cost of the rules; with
 * `--connect` it serves with connect-node instead of the handwritten gRPC handler.
 * Prints `{"event":"ready"}`; exits when stdin closes.
 */
import { inspectorEngine } from "../../src/extproc/inspector-engine.ts";
import { startInspectorServer } from "../../src/extproc/server.ts";
import { fakeEngine } from "../../src/extproc/testing/fake-engine.ts";
import { emit, listenForCommands } from "../support/command-channel.ts";

const socketPath = process.argv[2];
if (!socketPath) throw new Error("usage: inspector.ts <socket-path> [--fake]");
const fake = process.argv.includes("--fake");
const implementation = process.argv.includes("--connect") ? "connect" : "handwritten";
const server = fake
  ? await startInspectorServer({ engine: fakeEngine, listen: { socketPath }, implementation })
  : await startInspectorServer({ engine: inspectorEngine(), listen: { socketPath }, implementation });
emit({ event: "ready" });
listenForCommands(
  () => {},
  () => void server.close().then(() => process.exit(0)),
);
