/**
 * SidecarGateway settings end to end with a real Envoy (local mode, delta xDS): TLS termination with
 * a Secret from the manifests (delivered over SDS), the client IP from X-Forwarded-For, the headers
 * size limit, raw EnvoyHTTPFilters before and after the WAF, and an EnvoyCluster an ext_authz filter
 * calls. Nothing is mocked; Envoy missing is a failure.
 */
import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { createAuthority } from "../src/certs/authority.ts";
import { issueClientCertificate, issueServerCertificate } from "../src/certs/issue.ts";
import { findEnvoy } from "../src/local/envoy-process.ts";
import { type LocalMode, startLocalMode } from "../src/local/local-mode.ts";
import { TypeUrl } from "../src/xds/resource-types.ts";
import { freePort, waitFor } from "./support/net.ts";

const NS = "shop";
const SQLI = "/search?q=1%27%20OR%201%3D1--";

/** Upstream that echoes the headers it received; an ext_authz service denying /forbidden paths. */
function startServers() {
  const app = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => Response.json({ headers: Object.fromEntries(req.headers) }),
  });
  const authz = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) =>
      new URL(req.url).pathname.startsWith("/forbidden")
        ? new Response("denied by authz", { status: 401 })
        : new Response(null, { status: 200 }),
  });
  return { app, authz };
}

/** A Lua filter that answers requests to /lua-<where> itself and marks every response it sees. */
function luaFilter(where: "before" | "after"): string {
  return [
    "function envoy_on_request(h)",
    `  if string.find(h:headers():get(":path"), "^/lua%-${where}") then`,
    `    h:respond({[":status"] = "200"}, "answered ${where} the WAF")`,
    "  end",
    "end",
    "function envoy_on_response(h)",
    `  h:headers():add("x-lua-${where}", "ran")`,
    where === "before"
      ? '  h:headers():add("x-remote-address", h:streamInfo():downstreamRemoteAddress())'
      : "",
    "end",
  ].join("\n");
}

function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

function manifests(opts: {
  certPem: string;
  keyPem: string;
  caPem: string;
  authzPort: number;
  mtls?: boolean;
}): string {
  const meta = (name: string) => ({ name, namespace: NS });
  const docs = [
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: meta("shop-tls"),
      type: "kubernetes.io/tls",
      data: { "tls.crt": b64(opts.certPem), "tls.key": b64(opts.keyPem) },
    },
    { apiVersion: "v1", kind: "Secret", metadata: meta("client-ca"), stringData: { "ca.crt": opts.caPem } },
    {
      apiVersion: "microgateway.airlock.com/v1alpha1",
      kind: "EnvoyHTTPFilter",
      metadata: meta("lua-before"),
      spec: {
        value: {
          name: "envoy.filters.http.lua",
          typed_config: {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
            default_source_code: {
              inline_string: luaFilter("before"),
            },
          },
        },
      },
    },
    {
      apiVersion: "microgateway.airlock.com/v1alpha1",
      kind: "EnvoyHTTPFilter",
      metadata: meta("lua-after"),
      spec: {
        value: {
          name: "lua-after",
          typed_config: {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
            default_source_code: {
              inline_string: luaFilter("after"),
            },
          },
        },
      },
    },
    {
      apiVersion: "microgateway.airlock.com/v1alpha1",
      kind: "EnvoyHTTPFilter",
      metadata: meta("authz"),
      spec: {
        value: {
          name: "envoy.filters.http.ext_authz",
          typed_config: {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
            http_service: {
              server_uri: { uri: "http://authz", cluster: "envoycluster/shop/authz", timeout: "1s" },
            },
          },
        },
      },
    },
    {
      apiVersion: "microgateway.airlock.com/v1alpha1",
      kind: "EnvoyCluster",
      metadata: meta("authz"),
      spec: {
        value: {
          name: "envoycluster/shop/authz",
          type: "STATIC",
          connect_timeout: "1s",
          load_assignment: {
            cluster_name: "envoycluster/shop/authz",
            endpoints: [
              {
                lb_endpoints: [
                  {
                    endpoint: {
                      address: { socket_address: { address: "127.0.0.1", port_value: opts.authzPort } },
                    },
                  },
                ],
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: "microgateway.airlock.com/v1alpha1",
      kind: "SidecarGateway",
      metadata: meta("shop"),
      spec: {
        podSelector: { matchLabels: { app: "shop" } },
        envoyClusterRefs: [{ name: "authz" }],
        applications: [
          {
            containerPort: 8080,
            downstream: {
              remoteIP: { xff: { numTrustedHops: 1 } },
              restrictions: { http: { headersLength: "2Ki" } },
              tls: {
                enable: true,
                secretRef: { name: "shop-tls" },
                protocol: { minimum: "TLSv1_2" },
                ...(opts.mtls
                  ? {
                      clientCertificate: {
                        required: {
                          trustedCA: { certificates: [{ secretRef: { name: "client-ca" } }] },
                          allowedSANs: [{ sanType: "URI", matcher: { prefix: "spiffe://shop/" } }],
                        },
                      },
                      xfcc: "SanitizeAndSet",
                    }
                  : {}),
              },
            },
            envoyHTTPFilterRefs: {
              prepend: [{ name: "lua-before" }, { name: "authz" }],
              append: [{ name: "lua-after" }],
            },
          },
        ],
      },
    },
  ];
  return docs.map((d) => stringify(d)).join("---\n");
}

test("Envoy is installed (the gateway settings tests need it)", () => {
  expect(findEnvoy()).toBeString();
});

describe("gateway settings with a real Envoy", () => {
  let dir: string;
  let local: LocalMode;
  let servers: ReturnType<typeof startServers>;
  let caPem: string;
  let manifestOptions: Parameters<typeof manifests>[0];
  const clients: Record<"shop" | "other" | "foreign", { cert: string; key: string }> = {} as never;
  let base: string;

  const get = async (
    path: string,
    headers: Record<string, string> = {},
    client?: { cert: string; key: string },
  ) => {
    const res = await fetch(base + path, { headers, tls: { ca: caPem, ...client }, keepalive: false });
    return { status: res.status, headers: res.headers, body: await res.text() };
  };

  beforeAll(async () => {
    servers = startServers();
    const ca = await createAuthority({ commonName: "gateway settings test CA" });
    caPem = ca.certificatePem;
    const server = await issueServerCertificate(ca, {
      commonName: "shop",
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
    });
    manifestOptions = {
      certPem: server.chainPem,
      keyPem: server.privateKeyPem,
      caPem,
      authzPort: servers.authz.port!,
    };
    const foreignCa = await createAuthority({ commonName: "another CA" });
    for (const [who, issuer, uri] of [
      ["shop", ca, "spiffe://shop/client"],
      ["other", ca, "spiffe://other/client"],
      ["foreign", foreignCa, "spiffe://shop/client"],
    ] as const) {
      const c = await issueClientCertificate(issuer, { commonName: who, uris: [uri] });
      clients[who] = { cert: c.chainPem, key: c.privateKeyPem };
    }
    dir = mkdtempSync(join(tmpdir(), "mgw-settings-"));
    writeFileSync(join(dir, "shop.yaml"), manifests(manifestOptions));
    local = await startLocalMode({
      files: [dir],
      upstream: `http://127.0.0.1:${servers.app.port}`,
      enginePort: freePort(),
      adminPort: freePort(),
      probePort: freePort(),
      metricsPort: freePort(),
      log: () => {},
      watchDebounceMs: 50,
    });
    base = local.url.replace("http://", "https://");
    await waitFor("TLS to be served", async () => (await get("/")).status === 200, 15_000);
  }, 60_000);

  afterAll(async () => {
    await local?.stop();
    servers?.app.stop(true);
    servers?.authz.stop(true);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the engine terminates TLS with the Secret's certificate, delivered as an SDS secret", async () => {
    const res = await get("/hello");
    expect(res.status).toBe(200);
    const secrets = local.status.get(local.nodeId)?.types.get(TypeUrl.Secret);
    expect(secrets?.state).toBe("Accepted");
    expect([...(secrets?.accepted.keys() ?? [])]).toEqual(["tls/shop/shop-tls"]);
    // Plain HTTP on the TLS port is refused.
    const plain = await fetch(`${local.url}/hello`).then(
      (r) => r.status,
      () => 0,
    );
    expect(plain).not.toBe(200);
  });

  test("X-Forwarded-For with one trusted hop: the rightmost address is the client", async () => {
    const res = await get("/ip", { "x-forwarded-for": "198.51.100.1, 203.0.113.7" });
    const seen = (JSON.parse(res.body) as { headers: Record<string, string> }).headers;
    expect(seen["x-envoy-external-address"]).toBe("203.0.113.7");
    // Envoy appended the connection's peer after the addresses the client sent.
    expect(seen["x-forwarded-for"]).toStartWith("198.51.100.1, 203.0.113.7,");
  });

  test("X-Forwarded-For with trusted CIDR ranges: the rightmost address outside them is the client", async () => {
    const file = join(dir, "shop.yaml");
    const good = readFileSync(file, "utf8");
    const xff = "198.51.100.1, 203.0.113.7";
    const remote = async () => (await get("/ip", { "x-forwarded-for": xff })).headers.get("x-remote-address");
    expect(await remote()).toBe("203.0.113.7:0");
    writeFileSync(
      file,
      good.replace(
        /( *)numTrustedHops: 1/,
        "$1numTrustedHops: 1\n$1trustedCIDRRanges: [127.0.0.0/8, 203.0.113.0/24]",
      ),
    );
    try {
      await waitFor(
        "the trusted ranges to apply",
        async () => (await remote())?.startsWith("198.51.100.1") === true,
        5000,
      );
    } finally {
      writeFileSync(file, good);
    }
    await waitFor("the hop count to apply again", async () => (await remote()) === "203.0.113.7:0", 5000);
  }, 15_000);

  test("request headers above headersLength (2Ki) get 431", async () => {
    expect((await get("/small", { "x-pad": "a".repeat(1000) })).status).toBe(200);
    expect((await get("/big", { "x-pad": "a".repeat(3000) })).status).toBe(431);
  });

  test("a prepended filter runs before the WAF, an appended one after it", async () => {
    const ok = await get("/hello");
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-lua-before")).toBe("ran");
    expect(ok.headers.get("x-lua-after")).toBe("ran");
    // Each Lua filter answers its own path: an attack there reaches the prepended one before the
    // WAF sees it, but is blocked before it reaches the appended one.
    const attack = SQLI.replace("/search", "");
    const before = await get(`/lua-before${attack}`);
    expect([before.status, before.body]).toEqual([200, "answered before the WAF"]);
    expect((await get(`/lua-after${attack}`)).status).toBe(400);
    const after = await get("/lua-after/benign");
    expect([after.status, after.body]).toEqual([200, "answered after the WAF"]);
  });

  test("an ext_authz filter calls the service of an EnvoyCluster", async () => {
    const denied = await get("/forbidden/x");
    expect(denied.status).toBe(401);
    expect(denied.body).toContain("denied by authz");
    expect((await get("/allowed")).status).toBe(200);
  });

  test("required client certificates: the CA and SANs are checked, the certificate is forwarded in XFCC", async () => {
    const file = join(dir, "shop.yaml");
    const statusWith = (client?: { cert: string; key: string }) =>
      get("/mtls", {}, client).then(
        (r) => r.status,
        () => 0,
      );
    writeFileSync(file, manifests({ ...manifestOptions, mtls: true }));
    try {
      await waitFor("client certificates to be required", async () => (await statusWith()) === 0, 5000);
      const ok = await get("/mtls", { "x-forwarded-client-cert": "By=forged" }, clients.shop);
      expect(ok.status).toBe(200);
      const xfcc = (JSON.parse(ok.body) as { headers: Record<string, string> }).headers[
        "x-forwarded-client-cert"
      ];
      expect(xfcc).toContain("URI=spiffe://shop/client");
      expect(xfcc).not.toContain("forged");
      expect(await statusWith(clients.other)).toBe(0); // SAN outside spiffe://shop/
      expect(await statusWith(clients.foreign)).toBe(0); // issued by another CA
    } finally {
      writeFileSync(file, manifests(manifestOptions));
    }
    await waitFor("client certificates to be optional again", async () => (await statusWith()) === 200, 5000);
  }, 20_000);

  test("a Secret edited to an invalid key is refused and the last good certificate keeps serving", async () => {
    const file = join(dir, "shop.yaml");
    const good = readFileSync(file, "utf8");
    const rejected = local.loads.rejected;
    writeFileSync(file, good.replace(/tls\.key: .*/, `tls.key: ${b64("not a key")}`));
    try {
      await waitFor("the broken Secret to be refused", () => local.loads.rejected > rejected, 5000);
      expect((await get("/hello")).status).toBe(200);
    } finally {
      writeFileSync(file, good);
    }
  }, 15_000);
});

test("local mode refuses a SidecarGateway whose TLS Secret is not of type kubernetes.io/tls", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mgw-settings-bad-"));
  try {
    writeFileSync(
      join(dir, "bad.yaml"),
      [
        stringify({
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "plain", namespace: NS },
          stringData: { "tls.crt": "x", "tls.key": "y" },
        }),
        stringify({
          apiVersion: "microgateway.airlock.com/v1alpha1",
          kind: "SidecarGateway",
          metadata: { name: "shop", namespace: NS },
          spec: {
            podSelector: { matchLabels: { app: "shop" } },
            applications: [{ downstream: { tls: { enable: true, secretRef: { name: "plain" } } } }],
          },
        }),
      ].join("---\n"),
    );
    await expect(startLocalMode({ files: [dir], log: () => {} })).rejects.toThrow(
      'SidecarGateway shop/shop: spec.applications[0].downstream.tls.secretRef: Secret shop/plain has type "Opaque", must be kubernetes.io/tls',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
