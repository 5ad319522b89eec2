import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonObject, type JsonValue, toJson } from "@bufbuild/protobuf";
import { ClusterSchema } from "../../gen/envoy/config/cluster/v3/cluster_pb.js";
import { ListenerSchema } from "../../gen/envoy/config/listener/v3/listener_pb.js";
import { envoyBinary, validateEnvoyConfig } from "../../test/support/envoy-process.ts";
import { freePort, waitFor } from "../../test/support/net.ts";
import { engineBootstrap } from "../bootstrap/engine-bootstrap.ts";
import { BLOCKED_BODY } from "../extproc/exchange.ts";
import { inspectorEngine, warmUp } from "../extproc/inspector-engine.ts";
import { type InspectorServer, startInspectorServer } from "../extproc/server.ts";
import { AIRLOCK_LOG_OPERATORS, ENVOY_LOG_OPERATORS } from "../model/access-log-operators.ts";
import { envoyRegistry } from "../model/envoy-json.ts";
import { HEADER_VALUE_OPERATORS } from "../model/header-rewrites.ts";
import { buildModel } from "../model/model.ts";
import { parseResource } from "../model/parse.ts";
import { API_VERSION, type CustomResource, type PodInfo } from "../model/types.ts";
import { listenersWithInlineRoutes } from "./static-config.ts";
import { translatePod } from "./translate-pod.ts";

// A real Envoy running what translatePod makes of a gateway with HeaderRewrites and Telemetry,
// behind the real engine bootstrap's /metrics listener, asking the real inspector (ext_proc on a
// Unix socket, served in this process as local mode does) about every request of a secured
// route: its verdicts set the dynamic metadata (namespace microgateway) that the access log and
// the block counters read.

// Every generated type: translated clusters and filters carry typed_config of many kinds.
const registry = envoyRegistry();

const NS = "shop";
const meta = (kind: string, name: string) => ({
  apiVersion: API_VERSION,
  kind,
  metadata: { name, namespace: NS },
});
const parse = (obj: unknown) => parseResource(obj) as CustomResource | PodInfo;

const TEST_FORMAT = {
  marker: "mgw-test",
  path: "%REQ(:PATH)%",
  status: "%RESPONSE_CODE%",
  correlation: "%LOG_CORRELATION%",
  request_id: "%REQ(X-REQUEST-ID)%",
  airlock: {
    summary: { action: "%SUMMARY_ACTION%" },
    rule_key: "%BLOCK_RULE_KEY%",
    log_only: "%LOG_ONLY_ACTIONS%",
  },
};

function objects(
  appPort: number,
  telemetry: boolean,
  format: object = TEST_FORMAT,
  extraAdds: object[] = [],
): (CustomResource | PodInfo)[] {
  return [
    parse({
      ...meta("SidecarGateway", "gw"),
      spec: {
        podSelector: { matchLabels: { app: "shop" } },
        applications: [
          {
            containerPort: appPort,
            ...(telemetry ? { telemetryRef: { name: "tel" } } : {}),
            routes: [
              { pathPrefix: "/health", unsecured: {} },
              { pathPrefix: "/allow", secured: { contentSecurityRef: { name: "cs-allow" } } },
              { pathPrefix: "/", secured: { contentSecurityRef: { name: "cs" } } },
            ],
          },
        ],
      },
    }),
    parse({
      ...meta("ContentSecurity", "cs"),
      spec: { filter: { denyRulesRef: { name: "dr" } }, headerRewritesRef: { name: "hr" } },
    }),
    // A request allow list: standard headers and X-App-Token pass, every other header is removed.
    parse({ ...meta("ContentSecurity", "cs-allow"), spec: { headerRewritesRef: { name: "hr-allow" } } }),
    parse({
      ...meta("HeaderRewrites", "hr-allow"),
      spec: {
        request: {
          allow: {
            matchingHeaders: {
              custom: [{ name: "token", headers: [{ name: { matcher: { exact: "X-App-Token" } } }] }],
            },
          },
        },
      },
    }),
    // SQL injections are blocked; XSS is only logged.
    parse({
      ...meta("DenyRules", "dr"),
      spec: {
        request: {
          builtIn: {
            settings: { level: "Standard", threatHandlingMode: "Block" },
            overrides: [{ conditions: { ruleKeys: ["XSS"] }, settings: { threatHandlingMode: "LogOnly" } }],
          },
        },
      },
    }),
    parse({
      ...meta("HeaderRewrites", "hr"),
      spec: {
        request: {
          add: {
            custom: [
              {
                name: "tag",
                headers: [{ name: "X-Protected-By", value: "microgateway" }],
                mode: "OverwriteOrAdd",
              },
              {
                name: "client address",
                headers: [
                  { name: "X-Client-Address", value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" },
                  { name: "X-Literal", value: "100%%" },
                ],
              },
              ...extraAdds,
            ],
          },
        },
        response: {
          add: { builtIn: { hstsPreload: true, csp: true } },
          remove: {
            custom: [{ name: "leak", headers: [{ name: { matcher: { exact: "X-Custom-Leak" } } }] }],
          },
        },
      },
    }),
    parse({
      ...meta("Telemetry", "tel"),
      spec: {
        correlation: { idSource: { header: { name: "X-Request-Correlation" } } },
        logging: {
          accessLog: {
            format: {
              json: format,
            },
          },
        },
      },
    }),
    parse({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "shop-1", namespace: NS, labels: { app: "shop" } },
    }),
  ];
}

/** The engine bootstrap (probe and /metrics listeners) with the translated pod as static resources. */
function bootstrap(
  appPort: number,
  ports: { admin: number; probe: number; metrics: number },
  telemetry = true,
  format?: object,
  extraAdds?: object[],
): JsonObject {
  const model = buildModel(objects(appPort, telemetry, format, extraAdds));
  const pod = model.pods.get(`${NS}/shop-1`) as PodInfo;
  const config = translatePod(model, pod, {
    listen: { host: "127.0.0.1", port: 0 },
    upstreamFor: (port) => ({ host: "127.0.0.1", port }),
    inspector: { socketPath: inspectorSocket() },
  });
  const listeners = listenersWithInlineRoutes(config).map(
    (l) => toJson(ListenerSchema, l, { registry }) as JsonObject,
  );
  const base = engineBootstrap({
    adminPort: ports.admin,
    probePort: ports.probe,
    metricsPort: ports.metrics,
    listenAddress: "127.0.0.1",
  }) as JsonObject;
  const statics = base.static_resources as { listeners: JsonValue[]; clusters: JsonObject[] };
  delete base.dynamic_resources;
  return {
    ...base,
    static_resources: {
      listeners: [...statics.listeners, ...listeners],
      clusters: [
        ...statics.clusters.filter((c) => c.name !== "xds_cluster"),
        ...config.clusters.map((c) => toJson(ClusterSchema, c, { registry })),
      ],
    },
  };
}

let workDir = "";
let app: ReturnType<typeof Bun.serve> | undefined;
let envoy: ReturnType<typeof Bun.spawn> | undefined;
let inspector: InspectorServer | undefined;
const logLines: string[] = [];
let ingress = 0;
let metricsPort = 0;

/** The inspector's socket, in the test's temporary folder. */
function inspectorSocket(): string {
  return join(workDir, "inspector.sock");
}

beforeAll(async () => {
  envoyBinary();
  workDir = await mkdtemp(join(tmpdir(), "telemetry-headers-"));
  const engine = inspectorEngine();
  warmUp(engine);
  inspector = await startInspectorServer({ engine, listen: { socketPath: inspectorSocket() } });
  // The application: echoes the request headers it got and sets headers that leak its stack.
  app = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const headers = new Headers({
        server: "nginx/1.25",
        "x-powered-by": "PHP/8.3",
        "x-custom-leak": "1",
        "x-kept": "yes",
      });
      // Two challenges: the default HeaderRewrites remove Negotiate (inspector) and keep Bearer.
      headers.append("www-authenticate", "Negotiate YIIGhgYJKoZIhvcSAQICAQBuggZ1");
      headers.append("www-authenticate", 'Bearer realm="shop"');
      return Response.json(Object.fromEntries(req.headers), { headers });
    },
  });
  const ports = { admin: freePort(), probe: freePort(), metrics: freePort() };
  metricsPort = ports.metrics;
  const path = join(workDir, "bootstrap.json");
  await Bun.write(path, JSON.stringify(bootstrap(app.port as number, ports)));
  envoy = Bun.spawn(
    [
      envoyBinary(),
      "-c",
      path,
      "--disable-hot-restart",
      "--concurrency",
      "1",
      "-l",
      "error",
      // Access logs are written to stdout every this many ms (default 10 s).
      "--file-flush-interval-msec",
      "50",
    ],
    {
      stdout: "pipe",
      stderr: "inherit",
    },
  );
  void collectLines(envoy.stdout as ReadableStream<Uint8Array>);
  await waitFor("Envoy's ingress listener", async () => {
    const res = await fetch(`http://127.0.0.1:${ports.admin}/listeners?format=json`);
    const body = (await res.json()) as {
      listener_statuses: { name: string; local_address: { socket_address: { port_value: number } } }[];
    };
    ingress =
      body.listener_statuses.find((l) => l.name === "ingress")?.local_address.socket_address.port_value ?? 0;
    return ingress !== 0;
  });
}, 30_000);

afterAll(async () => {
  envoy?.kill();
  await envoy?.exited;
  app?.stop(true);
  await inspector?.close();
  await rm(workDir, { recursive: true, force: true });
});

async function collectLines(stream: ReadableStream<Uint8Array>): Promise<void> {
  let buffered = "";
  for await (const chunk of stream) {
    buffered += new TextDecoder().decode(chunk);
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    logLines.push(...lines);
  }
}

/** The access log entry (our test format) of the request to `path`, once Envoy has written it. */
async function logEntryFor(path: string): Promise<Record<string, unknown>> {
  let entry: Record<string, unknown> | undefined;
  await waitFor(`the access log line of ${path}`, () => {
    entry = logLines
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e.marker === "mgw-test" && e.path === path);
    return entry !== undefined;
  });
  return entry as Record<string, unknown>;
}

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${ingress}${path}`, { headers });
}

describe("HeaderRewrites on a real Envoy", () => {
  test("secured route: security headers added, leaking headers removed, request headers rewritten", async () => {
    const res = await get("/page", {
      "X-Forwarded-Host": "evil.example",
      "X-Real-IP": "1.2.3.4",
      "X-Protected-By": "client",
    });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Record<string, string>;
    expect(seen["x-forwarded-host"]).toBeUndefined();
    expect(seen["x-real-ip"]).toBeUndefined();
    expect(seen["x-protected-by"]).toBe("microgateway");
    expect(res.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains; preload");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(res.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(res.headers.get("server")).toBeNull();
    expect(res.headers.get("x-powered-by")).toBeNull();
    expect(res.headers.get("x-custom-leak")).toBeNull();
    expect(res.headers.get("x-envoy-upstream-service-time")).toBeNull();
    expect(res.headers.get("x-kept")).toBe("yes");
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="shop"');
  }, 30_000);

  test("the inspector's share: a request allow list, and Negotiate challenges removed from responses", async () => {
    const res = await get("/allow/page", { Accept: "text/html", "X-App-Token": "t-1", "X-Debug": "1" });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Record<string, string>;
    expect(seen["x-app-token"]).toBe("t-1");
    expect(seen.accept).toBe("text/html");
    expect(seen["x-debug"]).toBeUndefined();
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="shop"');
    // Also when the inspector reads the body before deciding (a JSON body goes to its parser).
    const posted = await fetch(`http://127.0.0.1:${ingress}/allow/form`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-App-Token": "t-2", "X-Debug": "1" },
      body: JSON.stringify({ name: "shoe" }),
    });
    expect(posted.status).toBe(200);
    const postedSeen = (await posted.json()) as Record<string, string>;
    expect(postedSeen["x-app-token"]).toBe("t-2");
    expect(postedSeen["x-debug"]).toBeUndefined();
    expect(posted.headers.get("www-authenticate")).toBe('Bearer realm="shop"');
    // Without an allow list (route "/"), X-Debug reaches the application.
    const open = (await (await get("/page", { "X-Debug": "1" })).json()) as Record<string, string>;
    expect(open["x-debug"]).toBe("1");
  }, 30_000);

  test("unsecured route: no header rewrites, but the correlation id still reaches the application", async () => {
    const res = await get("/health", { "X-Forwarded-Host": "lb.example", "X-Debug": "1" });
    const seen = (await res.json()) as Record<string, string>;
    expect(seen["x-forwarded-host"]).toBe("lb.example");
    expect(seen["x-debug"]).toBe("1");
    expect(res.headers.get("www-authenticate")).toContain("Negotiate");
    expect(seen["x-request-correlation"]).toBe(seen["x-request-id"] as string);
    expect(res.headers.get("server")).toBe("nginx/1.25");
    expect(res.headers.get("strict-transport-security")).toBeNull();
  }, 30_000);
});

describe("Telemetry on a real Envoy", () => {
  test("the correlation id: the client's header if sent, else the request id; in the log and upstream", async () => {
    const own = (await (await get("/corr-own", { "X-Request-Correlation": "corr-42" })).json()) as Record<
      string,
      string
    >;
    expect(own["x-request-correlation"]).toBe("corr-42");
    expect((await logEntryFor("/corr-own")).correlation).toBe("corr-42");

    const generated = (await (await get("/corr-generated")).json()) as Record<string, string>;
    const id = generated["x-request-id"] as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated["x-request-correlation"]).toBe(id);
    const entry = await logEntryFor("/corr-generated");
    expect(entry.correlation).toBe(id);
    expect(entry.request_id).toBe(id);
  }, 30_000);

  test("a client's x-request-id is replaced (allowDownstreamRequestID defaults to false)", async () => {
    const seen = (await (await get("/rid", { "X-Request-Id": "client-chosen" })).json()) as Record<
      string,
      string
    >;
    expect(seen["x-request-id"]).not.toBe("client-chosen");
  }, 30_000);

  test("a blocked request: 400, logged with action and rule key, counted on /metrics by block type and subtype", async () => {
    const sqlInjection = "/attack?id=1%27%20UNION%20SELECT%20password%20FROM%20users--";
    const res = await get(sqlInjection, { "X-Request-Correlation": "corr-blocked" });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(BLOCKED_BODY);
    const entry = await logEntryFor(sqlInjection);
    expect(entry).toMatchObject({
      status: 400,
      correlation: "corr-blocked",
      airlock: { summary: { action: "block" } },
    });
    expect(String((entry.airlock as Record<string, unknown>).rule_key)).toStartWith("SQL_");
    // XSS is LogOnly on this route: the request passes, and the log names the rule.
    const xss = "/suspicious?q=%3Cscript%3Ealert(1)%3C/script%3E";
    const logged = await get(xss);
    expect(logged.status).toBe(200);
    const loggedEntry = await logEntryFor(xss);
    expect(loggedEntry).toMatchObject({ status: 200, airlock: { summary: { action: "log_only" } } });
    expect(String((loggedEntry.airlock as Record<string, unknown>).log_only)).toStartWith("XSS_");

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain("# TYPE microgateway_http_downstream_rq_threats_blocked_total counter");
    expect(metrics).toContain(
      'microgateway_http_downstream_rq_threats_blocked_total{block_type="deny_rules",block_subtype="SQL"} 1\n',
    );
    expect(metrics).toContain(
      'microgateway_http_downstream_rq_threats_logged_total{block_type="deny_rules",block_subtype="XSS"} 1\n',
    );
    expect(metrics).not.toContain("envoy_microgateway_");
    // Allowed requests are counted by neither.
    expect(metrics).not.toMatch(/threats_(blocked|logged)_total\{[^}]*block_subtype=""/);
  }, 30_000);
});

describe("Envoy validates the translated telemetry", () => {
  test("the default access log (no Telemetry) and the block counters load", async () => {
    const path = join(workDir, "default.json");
    const ports = { admin: freePort(), probe: freePort(), metrics: freePort() };
    await Bun.write(path, JSON.stringify(bootstrap(8080, ports, false)));
    const result = await validateEnvoyConfig(path);
    expect(result.output).not.toContain("error");
    expect(result.exitCode).toBe(0);
  }, 30_000);

  test("every operator parse accepts (Envoy's and the Airlock ones) is one Envoy accepts", async () => {
    const withArgs: Record<string, string> = {
      START_TIME: "%START_TIME(%s.%3f)%",
      START_TIME_LOCAL: "%START_TIME_LOCAL(%Y)%",
      EMIT_TIME: "%EMIT_TIME(%s)%",
      REQ: "%REQ(:AUTHORITY)%",
      RESP: "%RESP(CONTENT-TYPE):64%",
      TRAILER: "%TRAILER(GRPC-STATUS)%",
      DYNAMIC_METADATA: "%DYNAMIC_METADATA(microgateway:rule_key)%",
      CLUSTER_METADATA: "%CLUSTER_METADATA(microgateway:team)%",
      UPSTREAM_METADATA: "%UPSTREAM_METADATA(microgateway:team)%",
      FILTER_STATE: "%FILTER_STATE(some.key:PLAIN)%",
      ENVIRONMENT: "%ENVIRONMENT(HOME)%",
      COMMON_DURATION: "%COMMON_DURATION(DS_RX_BEG:DS_RX_END:ms)%",
    };
    const format = Object.fromEntries([
      ...ENVOY_LOG_OPERATORS.map((op) => [op.toLowerCase(), withArgs[op] ?? `%${op}%`]),
      ...Object.keys(AIRLOCK_LOG_OPERATORS).map((op) => [`airlock_${op.toLowerCase()}`, `%${op}%`]),
      ["mixed", "%REQ(:METHOD)% %REQ(:PATH)% 100%% done"],
    ]);
    const path = join(workDir, "operators.json");
    const ports = { admin: freePort(), probe: freePort(), metrics: freePort() };
    await Bun.write(path, JSON.stringify(bootstrap(8080, ports, true, format)));
    const result = await validateEnvoyConfig(path);
    expect(result.output).not.toContain("error");
    expect(result.exitCode).toBe(0);
  }, 30_000);

  test("every header value operator parse accepts is one Envoy accepts on a route", async () => {
    const withArgs: Record<string, string> = {
      REQ: "%REQ(user-agent)%",
      RESP: "%RESP(content-type)%",
      ENVIRONMENT: "%ENVIRONMENT(HOME)%",
      START_TIME: "%START_TIME(%s)%",
    };
    const adds = [
      {
        name: "every operator",
        headers: HEADER_VALUE_OPERATORS.map((op) => ({
          name: `x-op-${op.toLowerCase().replaceAll("_", "-")}`,
          value: withArgs[op] ?? `%${op}%`,
        })),
      },
    ];
    const path = join(workDir, "header-operators.json");
    const ports = { admin: freePort(), probe: freePort(), metrics: freePort() };
    await Bun.write(path, JSON.stringify(bootstrap(8080, ports, true, undefined, adds)));
    const result = await validateEnvoyConfig(path);
    expect(result.output).not.toContain("error");
    expect(result.exitCode).toBe(0);
  }, 30_000);
});
