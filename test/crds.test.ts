/**
 * The generated CRDs (chart/microgateway/crds/) against a real kube-apiserver: they install, accept
 * every example, reject malformed objects with an error naming the field, apply their defaults, are
 * documented for `kubectl explain`, and have a status subresource where the operator writes status.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { API_VERSION } from "../src/api/crd.ts";
import { API_KINDS } from "../src/api/kinds.ts";
import { REFERENCE_EXAMPLES } from "../src/api/testing/reference-examples.ts";
import { parseResource } from "../src/model/parse.ts";
import { type KubeCluster, startKubeCluster } from "./support/kube-cluster.ts";

const ROOT = join(import.meta.dir, "..");
const CRD_DIR = join(ROOT, "chart/microgateway/crds");
const OUR_KINDS = new Set(API_KINDS.map((k) => k.kind));

let cluster: KubeCluster;
let namespaces = 0;

beforeAll(async () => {
  cluster = await startKubeCluster();
  // Client-side apply, as users install them: this also proves every CRD fits the 256 KiB
  // last-applied-configuration annotation.
  const applied = await cluster.kubectl(["apply", "-f", CRD_DIR]);
  if (applied.code !== 0) throw new Error(`applying the CRDs failed: ${applied.stderr}`);
  const established = await cluster.kubectl([
    "wait",
    "--for=condition=Established",
    "crd",
    "-l",
    "app.kubernetes.io/name=microgateway",
    "--timeout=60s",
  ]);
  if (established.code !== 0) throw new Error(`CRDs not established: ${established.stderr}`);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
}, 30_000);

/** A fresh namespace per test, so examples with equal names never meet. */
async function freshNamespace(): Promise<string> {
  const ns = `t${++namespaces}`;
  const r = await cluster.kubectl(["create", "namespace", ns]);
  if (r.code !== 0) throw new Error(r.stderr);
  return ns;
}

/** The documents of a manifest that are objects of our kinds, without namespace (the test picks it). */
function ourObjects(yaml: string): Record<string, unknown>[] {
  return parseAllDocuments(yaml)
    .map((doc) => doc.toJS() as Record<string, unknown>)
    .filter((obj) => obj?.apiVersion === API_VERSION && OUR_KINDS.has(String(obj.kind)))
    .map((obj) => {
      const { namespace: _namespace, ...metadata } = obj.metadata as Record<string, unknown>;
      return { ...obj, metadata };
    });
}

function manifest(objects: readonly unknown[]): string {
  return objects.map((o) => stringify(o)).join("---\n");
}

async function create(ns: string, yaml: string) {
  return cluster.kubectl(["create", "-n", ns, "-f", "-", "-o", "json"], { stdin: yaml });
}

async function getJson(ns: string, resource: string, name: string): Promise<Record<string, unknown>> {
  const r = await cluster.kubectl(["get", "-n", ns, resource, name, "-o", "json"]);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe("installing", () => {
  test("every CRD is established with its names accepted and a structural schema", async () => {
    const r = await cluster.kubectl([
      "get",
      "crd",
      "-l",
      "app.kubernetes.io/name=microgateway",
      "-o",
      "json",
    ]);
    const items = (
      JSON.parse(r.stdout) as {
        items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[];
      }
    ).items;
    const files = readdirSync(CRD_DIR).map((f) => f.replace(/\.yaml$/, ""));
    expect(items.map((i) => i.metadata.name).sort()).toEqual(files.sort());
    expect(items).toHaveLength(API_KINDS.length);
    for (const item of items) {
      const conditions: Record<string, string> = Object.fromEntries(
        item.status.conditions.map((c) => [c.type, c.status]),
      );
      // NonStructuralSchema would appear for a schema the server only tolerates (v1 refuses them outright).
      // The name rides along so that a failure says which CRD.
      expect([item.metadata.name, conditions]).toEqual([
        item.metadata.name,
        { NamesAccepted: "True", Established: "True" },
      ]);
    }
  });
});

describe("examples are accepted", () => {
  const examplesDir = join(ROOT, "examples");
  const files = readdirSync(examplesDir, { recursive: true, encoding: "utf8" }).filter((f) =>
    f.endsWith(".yaml"),
  );
  const cases = [
    ...files.map((f) => [`examples/${f}`, readFileSync(join(examplesDir, f), "utf8")] as const),
    ...REFERENCE_EXAMPLES.map((e) => [e.title, e.yaml] as const),
  ];
  test.each(cases)(
    "%s",
    async (_title, yaml) => {
      const objects = ourObjects(yaml);
      if (objects.length === 0) return; // e.g. examples/operator-config.yaml: not a kind of ours
      const ns = await freshNamespace();
      const r = await create(ns, manifest(objects));
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    },
    30_000,
  );
});

const gateway = (applications: unknown) => ({
  apiVersion: API_VERSION,
  kind: "SidecarGateway",
  metadata: { name: "bad" },
  spec: { podSelector: { matchLabels: { app: "shop" } }, applications },
});
const denyRules = (request: unknown) => ({
  apiVersion: API_VERSION,
  kind: "DenyRules",
  metadata: { name: "bad" },
  spec: { request },
});

/** [what, object, the error's field path, a phrase of the error]. */
const MALFORMED: readonly (readonly [string, unknown, string, string])[] = [
  [
    'level "Max"',
    denyRules({ builtIn: { settings: { level: "Max" } } }),
    "spec.request.builtIn.settings.level",
    'Unsupported value: "Max"',
  ],
  [
    "containerPort 70000",
    gateway([{ containerPort: 70000 }]),
    "spec.applications[0].containerPort",
    "less than or equal to 65535",
  ],
  [
    'ruleKey "lower"',
    denyRules({
      custom: { rules: [{ ruleKey: "lower", blockData: { path: { matcher: { prefix: "/x" } } } }] },
    }),
    "spec.request.custom.rules[0].ruleKey",
    "should match '^[A-Z][A-Z0-9_]*$'",
  ],
  [
    "a route both secured and unsecured",
    gateway([{ routes: [{ pathPrefix: "/", secured: {}, unsecured: {} }] }]),
    "spec.applications[0].routes[0]",
    "at most one of secured, unsecured may be set",
  ],
  [
    "17 applications",
    gateway(Array.from({ length: 17 }, (_, i) => ({ containerPort: 8000 + i }))),
    "spec.applications",
    "must have at most 16 items",
  ],
  [
    "a StringMatcher with two matchers",
    denyRules({
      custom: {
        rules: [{ ruleKey: "TWO", blockData: { path: { matcher: { exact: "/a", prefix: "/b" } } } }],
      },
    }),
    "spec.request.custom.rules[0].blockData.path.matcher",
    "exactly one of exact, prefix, suffix, contains, regex must be set",
  ],
  [
    "blockData with two kinds of data",
    denyRules({
      custom: {
        rules: [
          {
            ruleKey: "TWO",
            blockData: { path: { matcher: { exact: "/a" } }, header: { name: { matcher: { exact: "x" } } } },
          },
        ],
      },
    }),
    "spec.request.custom.rules[0].blockData",
    "exactly one of header, parameter, path, pathSegment, json, graphQL must be set",
  ],
  [
    "two custom rules with one ruleKey",
    denyRules({
      custom: {
        rules: [
          { ruleKey: "SAME", blockData: { path: { matcher: { exact: "/a" } } } },
          { ruleKey: "SAME", blockData: { path: { matcher: { exact: "/b" } } } },
        ],
      },
    }),
    "spec.request.custom.rules[1]",
    "Duplicate value",
  ],
  [
    "two applications on one port",
    gateway([{ containerPort: 8080 }, {}]),
    "spec.applications[1]",
    "Duplicate value",
  ],
  [
    "TLS enabled without a certificate",
    gateway([{ downstream: { tls: { enable: true } } }]),
    "spec.applications[0].downstream.tls",
    "enable: true requires secretRef",
  ],
  [
    "a pathPrefix not starting with /",
    gateway([{ routes: [{ pathPrefix: "api" }] }]),
    "spec.applications[0].routes[0].pathPrefix",
    "should match '^/'",
  ],
  [
    "an EnvoyCluster not named envoycluster/<namespace>/<name>",
    {
      apiVersion: API_VERSION,
      kind: "EnvoyCluster",
      metadata: { name: "bad" },
      spec: { value: { name: "opa" } },
    },
    "spec.value.name",
    "should match",
  ],
];

describe("malformed objects are rejected by the API server, naming the field", () => {
  test.each(MALFORMED)(
    "%s",
    async (_what, obj, field, phrase) => {
      const ns = await freshNamespace();
      const r = await cluster.kubectl(["create", "-n", ns, "--dry-run=server", "-f", "-"], {
        stdin: stringify(obj),
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`${field}:`);
      expect(r.stderr).toContain(phrase);
    },
    30_000,
  );
});

describe("defaults are applied by the API server, as the parser applies them to files", () => {
  test("a DenyRules without spec stores level Standard and mode Block", async () => {
    const ns = await freshNamespace();
    const written = { apiVersion: API_VERSION, kind: "DenyRules", metadata: { name: "minimal" } };
    expect((await create(ns, stringify(written))).code).toBe(0);
    const stored = await getJson(ns, "denyrules", "minimal");
    expect(stored.spec).toEqual({
      request: { builtIn: { settings: { level: "Standard", threatHandlingMode: "Block" } } },
    });
    const printed = await cluster.kubectl(["get", "-n", ns, "denyrules", "minimal"]);
    expect(printed.stdout).toMatch(/NAME\s+LEVEL\s+MODE\s+AGE\nminimal\s+Standard\s+Block\s/);
    // Local mode (files) and cluster mode (API server) must see the same object.
    const fromFile = parseResource({ ...written, metadata: { name: "minimal", namespace: ns } });
    const fromServer = parseResource(stored);
    expect(fromServer && "spec" in fromServer ? fromServer.spec : undefined).toEqual(
      fromFile && "spec" in fromFile ? fromFile.spec : undefined,
    );
  }, 30_000);

  test("a SidecarGateway application without a port gets 8080, a route without a prefix gets /", async () => {
    const ns = await freshNamespace();
    const written = gateway([{}, { containerPort: 9090, routes: [{ unsecured: {} }] }]);
    expect((await create(ns, stringify(written))).code).toBe(0);
    const stored = await getJson(ns, "sidecargateway", "bad");
    const apps = (stored.spec as { applications: Record<string, unknown>[] }).applications;
    expect(apps[0]).toEqual({ containerPort: 8080 });
    expect(apps[1]).toEqual({ containerPort: 9090, routes: [{ pathPrefix: "/", unsecured: {} }] });
  }, 30_000);
});

describe("kubectl explain", () => {
  test("documents sidecargateway.spec.applications.routes field by field", async () => {
    // The server publishes a new CRD's OpenAPI a moment after it is established.
    let out = "";
    for (let attempt = 0; attempt < 60 && !out.includes("FIELDS"); attempt++) {
      const r = await cluster.kubectl(["explain", "sidecargateway.spec.applications.routes"]);
      out = r.stdout;
      if (!out.includes("FIELDS")) await Bun.sleep(500);
    }
    expect(out).toContain("Routes by path prefix, first match wins.");
    expect(out).toMatch(/pathPrefix\s+<string>/);
    expect(out).toContain('Path prefix this route applies to; must start with "/". Default: /.');
    expect(out).toMatch(/secured\s+<Object>/);
    expect(out).toContain("Protect the route with the WAF");
    expect(out).toMatch(/unsecured\s+<Object>/);
    expect(out).toContain("Forward the route without any WAF processing.");
  }, 60_000);
});

describe("status subresource", () => {
  test("the operator's status of a SidecarGateway is written through status only, and printed", async () => {
    const ns = await freshNamespace();
    expect((await create(ns, stringify(gateway([{}])))).code).toBe(0);
    const status = { status: "Active", pods: [{ name: "shop-1", envoyConfig: "shop-1" }] };
    const patched = await cluster.kubectl([
      "patch",
      "-n",
      ns,
      "sidecargateway",
      "bad",
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status }),
    ]);
    expect(patched.stderr).toBe("");
    expect((await getJson(ns, "sidecargateway", "bad")).status).toEqual(status);
    // Through the main resource, status is ignored (and spec through the subresource).
    await cluster.kubectl([
      "patch",
      "-n",
      ns,
      "sidecargateway",
      "bad",
      "--type=merge",
      "-p",
      '{"status":{"status":"Error"}}',
    ]);
    expect((await getJson(ns, "sidecargateway", "bad")).status).toEqual(status);
    const printed = await cluster.kubectl(["get", "-n", ns, "sidecargateway", "bad"]);
    expect(printed.stdout).toMatch(/NAME\s+STATUS\s+AGE\nbad\s+Active\s/);
    const invalid = await cluster.kubectl([
      "patch",
      "-n",
      ns,
      "sidecargateway",
      "bad",
      "--subresource=status",
      "--type=merge",
      "-p",
      '{"status":{"status":"Fine"}}',
    ]);
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain('status.status: Unsupported value: "Fine"');
  }, 30_000);

  test("an EnvoyConfiguration records the engine's ACK and NACK per resource type", async () => {
    const ns = await freshNamespace();
    const config = {
      apiVersion: API_VERSION,
      kind: "EnvoyConfiguration",
      metadata: { name: "shop-1" },
      spec: {
        envoyResourcesRaw: Buffer.from("not really zstd").toString("base64"),
        envoyResources: { "type.googleapis.com/envoy.config.listener.v3.Listener": ["inbound"] },
      },
    };
    expect((await create(ns, stringify(config))).code).toBe(0);
    const listener = "type.googleapis.com/envoy.config.listener.v3.Listener";
    const cluster_ = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    const status = {
      status: "Warning",
      xds: {
        version: 7,
        resourceTypes: {
          [listener]: { status: "Accepted", version: "7", resources: { inbound: { version: "7" } } },
          [cluster_]: { status: "Rejected", version: "7", errorMessage: "bad cluster", resources: {} },
        },
      },
    };
    const patched = await cluster.kubectl([
      "patch",
      "-n",
      ns,
      "envoyconfiguration",
      "shop-1",
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status }),
    ]);
    expect(patched.stderr).toBe("");
    expect((await getJson(ns, "envoyconfiguration", "shop-1")).status).toEqual(status);
  }, 30_000);
});
