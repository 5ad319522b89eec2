import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningEnvoy, startEnvoy } from "../../../test/support/envoy-process.ts";
import { rawGet } from "../../../test/support/raw-http.ts";

// The PROTOCOL family has no rules for what Envoy's HTTP/1.1 codec refuses before any filter runs
// (docs/decisions.md, "PROTOCOL rules cover only what Envoy lets through"). This test holds Envoy
// to that: if a codec default changes (say `allow_chunked_length`), it fails and the family needs
// the rules it left out. The listener, like the translator's, sets no http_protocol_options and
// normalises the path; its route answers 200 itself, with no WAF filter at all.

const HOST = "protocol.test";
let workDir = "";
let envoy: Promise<RunningEnvoy> | undefined;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "protocol-envoy-"));
  const path = join(workDir, "bootstrap.json");
  await Bun.write(path, JSON.stringify(codecOnlyBootstrap(HOST)));
  envoy = startEnvoy(path, workDir);
  envoy.catch(() => {});
});

afterAll(async () => {
  await envoy?.then((e) => e.stop()).catch(() => {});
  await rm(workDir, { recursive: true, force: true });
});

async function status(method: string, headers: Record<string, string> = {}): Promise<number> {
  return (await rawGet((await envoy!).listenerPort, HOST, "/a", { method, headers })).status;
}

describe("what Envoy's codec answers before the inspector is asked", () => {
  test.each([
    [
      "Content-Length with Transfer-Encoding",
      "POST",
      { "Content-Length": "5", "Transfer-Encoding": "chunked" },
      400,
    ],
    ["Transfer-Encoding xchunked", "POST", { "Transfer-Encoding": "xchunked" }, 501],
    ["Transfer-Encoding identity, chunked", "POST", { "Transfer-Encoding": "identity, chunked" }, 501],
    ["Content-Length 3, 3", "POST", { "Content-Length": "3, 3" }, 400],
    ["Content-Length +3", "POST", { "Content-Length": "+3" }, 400],
    ["a space before the colon", "POST", { "Transfer-Encoding ": "chunked" }, 400],
    ["the unknown method TRACK", "TRACK", {}, 400],
    ["a lower-case method", "get", {}, 400],
  ] as const)(
    "%s: refused by Envoy",
    async (_, method, headers, expected) => {
      expect(await status(method, headers)).toBe(expected);
    },
    30_000,
  );
});

describe("what reaches the application, and so the PROTOCOL rules", () => {
  test.each([
    ["TRACE (PROTOCOL_DEBUG_METHOD)", "TRACE", {}],
    ["an underscore in a header name (PROTOCOL_UNDERSCORE_HEADER)", "GET", { X_Forwarded_For: "127.0.0.1" }],
    [
      "two Content-Types (PROTOCOL_CONFLICTING_CONTENT_TYPE)",
      "GET",
      { "Content-Type": "text/plain", "content-type": "application/json" },
    ],
    ["WebDAV PROPFIND (PROTOCOL_UNUSUAL_METHOD)", "PROPFIND", {}],
  ] as const)(
    "%s: passes Envoy",
    async (_, method, headers) => {
      expect(await status(method, headers)).toBe(200);
    },
    30_000,
  );
});

/** A static bootstrap: one listener with the translator's codec settings and a route answering 200. */
function codecOnlyBootstrap(host: string) {
  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    static_resources: {
      listeners: [
        {
          name: "ingress",
          address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: {
                    "@type":
                      "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    stat_prefix: "protocol_test",
                    normalize_path: true,
                    merge_slashes: true,
                    http_filters: [
                      {
                        name: "envoy.filters.http.router",
                        typed_config: {
                          "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                        },
                      },
                    ],
                    route_config: {
                      name: "local",
                      virtual_hosts: [
                        {
                          name: host,
                          domains: [host],
                          routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }],
                        },
                      ],
                    },
                  },
                },
              ],
            },
          ],
        },
      ],
    },
  };
}
