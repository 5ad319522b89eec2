/**
 * A real Envoy for the inspector's tests: a static bootstrap whose listener runs the ext_proc
 * filter against an inspector on a Unix socket, the way the translation configures it (see
 * src/translate/inspector-filter.ts), with routes that answer 200 directly.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INSPECTOR_STREAMS_PER_CONNECTION, POLICY_METADATA_KEY } from "../contract.ts";

/** One route of the test Envoy: by path prefix, with a policy (inspected) or without (not inspected). */
export interface TestRoute {
  readonly prefix: string;
  /** The policy in its wire form; absent: the route disables the inspector. */
  readonly policy?: string;
}

/** The static bootstrap (JSON). Local replies carry `%RESPONSE_CODE_DETAILS%` when `details` is set. */
export function extProcTestBootstrap(
  socketPath: string,
  routes: readonly TestRoute[],
  opts: { readonly failureModeAllow?: boolean } = {},
): unknown {
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
                    stat_prefix: "inspector_test",
                    access_log: [
                      {
                        name: "envoy.access_loggers.stdout",
                        typed_config: {
                          "@type":
                            "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
                          log_format: {
                            json_format: {
                              path: "%REQ(:PATH)%",
                              status: "%RESPONSE_CODE%",
                              details: "%RESPONSE_CODE_DETAILS%",
                              microgateway: "%DYNAMIC_METADATA(microgateway)%",
                            },
                          },
                        },
                      },
                    ],
                    http_filters: [
                      {
                        name: "envoy.filters.http.ext_proc",
                        typed_config: {
                          "@type":
                            "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
                          grpc_service: { envoy_grpc: { cluster_name: "inspector" }, timeout: "2s" },
                          failure_mode_allow: opts.failureModeAllow ?? false,
                          allow_mode_override: true,
                          message_timeout: "2s",
                          processing_mode: {
                            request_header_mode: "SEND",
                            response_header_mode: "SKIP",
                            request_body_mode: "NONE",
                            response_body_mode: "NONE",
                            request_trailer_mode: "SKIP",
                            response_trailer_mode: "SKIP",
                          },
                          metadata_options: { receiving_namespaces: { untyped: ["microgateway"] } },
                        },
                      },
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
                          name: "all",
                          domains: ["*"],
                          routes: routes.map((r) => ({
                            match: { prefix: r.prefix },
                            direct_response: { status: 200, body: { inline_string: "ok\n" } },
                            typed_per_filter_config: {
                              "envoy.filters.http.ext_proc": {
                                "@type":
                                  "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute",
                                ...(r.policy === undefined
                                  ? { disabled: true }
                                  : {
                                      overrides: {
                                        grpc_initial_metadata: [
                                          { key: POLICY_METADATA_KEY, value: r.policy },
                                        ],
                                      },
                                    }),
                              },
                            },
                          })),
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
      clusters: [
        {
          name: "inspector",
          type: "STATIC",
          connect_timeout: "1s",
          typed_extension_protocol_options: {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
              "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
              explicit_http_config: { http2_protocol_options: {} },
              // As the translation sets it (src/translate/inspector.ts INSPECTOR_STREAMS_PER_CONNECTION).
              common_http_protocol_options: { max_requests_per_connection: INSPECTOR_STREAMS_PER_CONNECTION },
            },
          },
          load_assignment: {
            cluster_name: "inspector",
            endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: socketPath } } } }] }],
          },
        },
      ],
    },
  };
}

/** An Envoy started by {@link startTestEnvoy}. */
export interface TestEnvoy {
  readonly pid: number;
  readonly url: string;
  readonly adminUrl: string;
  /** Access log lines Envoy wrote so far (JSON objects). */
  accessLog(): Record<string, unknown>[];
  stop(): Promise<void>;
}

/** Starts Envoy on `bootstrap`; fails loudly when Envoy is not on PATH. */
export async function startTestEnvoy(bootstrap: unknown): Promise<TestEnvoy> {
  const bin = Bun.which("envoy");
  if (bin === null)
    throw new Error("envoy is not on PATH: the inspector's Envoy tests need a real Envoy (1.40)");
  const dir = mkdtempSync(join(tmpdir(), "mgw-extproc-envoy-"));
  const configPath = join(dir, "envoy.json");
  writeFileSync(configPath, JSON.stringify(bootstrap));
  const adminAddressPath = join(dir, "admin-address");
  const proc = Bun.spawn(
    [
      bin,
      "-c",
      configPath,
      "--disable-hot-restart",
      "--concurrency",
      "1",
      "-l",
      "error",
      "--admin-address-path",
      adminAddressPath,
      "--file-flush-interval-msec",
      "50",
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const lines: string[] = [];
  let errors = "";
  void (async () => {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of proc.stdout) {
      rest += decoder.decode(chunk, { stream: true });
      const parts = rest.split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts.filter((l) => l.trim() !== ""));
    }
  })();
  void (async () => {
    errors = await new Response(proc.stderr).text();
  })();
  const stop = async () => {
    proc.kill();
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 15_000;
    let adminUrl = "";
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`envoy exited with ${proc.exitCode}`);
      try {
        adminUrl = `http://${(await readFile(adminAddressPath, "utf8")).trim()}`;
        if ((await fetch(`${adminUrl}/ready`)).status === 200) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error("Envoy not ready after 15 s");
      await Bun.sleep(50);
    }
    const listeners = (await (await fetch(`${adminUrl}/listeners?format=json`)).json()) as {
      listener_statuses: { local_address: { socket_address: { port_value: number } } }[];
    };
    const port = listeners.listener_statuses[0]?.local_address.socket_address.port_value;
    if (port === undefined) throw new Error("Envoy reports no listener");
    return {
      pid: proc.pid,
      url: `http://127.0.0.1:${port}`,
      adminUrl,
      accessLog: () =>
        lines.flatMap((l) => (l.startsWith("{") ? [JSON.parse(l) as Record<string, unknown>] : [])),
      stop,
    };
  } catch (e) {
    await stop();
    throw new Error(`Envoy did not start: ${e instanceof Error ? e.message : String(e)}\n${errors}`);
  }
}

/** A fresh, short temporary directory for a Unix socket (paths are limited to 107 bytes). */
export function socketDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), "mgw-sock-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
