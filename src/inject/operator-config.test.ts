import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { isMicrogatewayError } from "../errors.ts";
import { DEFAULT_OPERATOR_CONFIG, parseOperatorConfig } from "./operator-config.ts";

const FILE = "/etc/microgateway/operator-config.yaml";
const HEADER = "apiVersion: microgateway.airlock.com/v1alpha1\nkind: OperatorConfig\n";

function config(body = "") {
  return parseOperatorConfig(HEADER + body, FILE);
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (!isMicrogatewayError(e)) throw e;
    expect(e.code).toBe("InvalidArgument");
    return e.message;
  }
  throw new Error("expected an error");
}

describe("parseOperatorConfig", () => {
  test("an empty configuration gets every default", () => {
    expect(config()).toEqual({
      operatorNamespace: "airlock-microgateway-system",
      webhook: {
        port: 9443,
        serviceName: "airlock-microgateway-operator-webhook",
        configurationName: "airlock-microgateway-sidecar-injector",
        extraSANs: [],
      },
      xds: {
        port: 13377,
        host: "airlock-microgateway-operator-xds-headless.airlock-microgateway-system.svc.cluster.local",
        extraSANs: [],
      },
      health: { port: 8081 },
      metrics: { port: 8080 },
      certificates: { renewalPeriodMs: 48 * 3600_000, leafValidityMs: 168 * 3600_000 },
      sidecar: {
        nativeSidecars: "auto",
        securityContextUid: 13378,
        engine: {
          image: "docker.io/envoyproxy/envoy:distroless-v1.40.0",
          logLevel: "info",
          concurrency: 2,
          resources: { requests: { cpu: "100m", memory: "256Mi" } },
        },
        sessionAgent: { image: "ghcr.io/microgateway/microgateway:0.1.0", resources: {} },
        engineContainerTemplate: {},
        sessionAgentContainerTemplate: {},
      },
      watch: { mode: "all" },
      leaderElection: { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
    });
    expect(DEFAULT_OPERATOR_CONFIG).toEqual(config());
  });

  test("the commented example in examples/ is exactly the defaults", async () => {
    const path = join(import.meta.dir, "../../examples/operator-config.yaml");
    expect(parseOperatorConfig(await Bun.file(path).text(), path)).toEqual(DEFAULT_OPERATOR_CONFIG);
  });

  test("the xDS host defaults to the headless Service of the operator's namespace", () => {
    expect(config("operatorNamespace: mgw").xds.host).toBe(
      "airlock-microgateway-operator-xds-headless.mgw.svc.cluster.local",
    );
    expect(() => config('webhook: { extraSANs: ["a b"] }')).toThrow(/webhook.extraSANs\[0\]/);
  });

  test("every field can be set", () => {
    const c = config(`
operatorNamespace: mgw
webhook: { port: 10443, serviceName: hook, configurationName: mgw-injector, extraSANs: [127.0.0.1, hook.local] }
xds: { port: 15000, host: 127.0.0.1, extraSANs: [::1] }
health: { port: 9081 }
metrics: { port: 9080 }
certificates: { renewalPeriod: 1h30m, leafValidity: 24h }
sidecar:
  nativeSidecars: false
  securityContextUid: null
  engine:
    image: registry.example/envoy:1.40
    logLevel: warn
    concurrency: 0
    resources: { requests: { cpu: 0.5, memory: 1Gi }, limits: { cpu: 1, memory: 1Gi, ephemeral-storage: 1Gi } }
  sessionAgent:
    image: registry.example/session-agent:1.0
    resources: { limits: { memory: 64Mi } }
  engineContainerTemplate:
    imagePullPolicy: Always
  sessionAgentContainerTemplate:
    env: [{ name: REDIS_TIMEOUT, value: "5s" }]
watch: { namespaces: [shop, blog] }
leaderElection: { leaseDuration: 3s, renewDeadline: 2s, retryPeriod: 500ms }
`);
    expect(c.operatorNamespace).toBe("mgw");
    expect([c.webhook.port, c.xds.port, c.health.port, c.metrics.port]).toEqual([10443, 15000, 9081, 9080]);
    expect(c.webhook).toEqual({
      port: 10443,
      serviceName: "hook",
      configurationName: "mgw-injector",
      extraSANs: ["127.0.0.1", "hook.local"],
    });
    expect(c.xds).toEqual({ port: 15000, host: "127.0.0.1", extraSANs: ["::1"] });
    expect(c.certificates).toEqual({ renewalPeriodMs: 5400_000, leafValidityMs: 24 * 3600_000 });
    expect(c.sidecar.nativeSidecars).toBe("false");
    expect(c.sidecar.securityContextUid).toBeNull();
    expect(c.sidecar.engine).toEqual({
      image: "registry.example/envoy:1.40",
      logLevel: "warn",
      concurrency: 0,
      resources: {
        requests: { cpu: "0.5", memory: "1Gi" },
        limits: { cpu: "1", memory: "1Gi", "ephemeral-storage": "1Gi" },
      },
    });
    expect(c.sidecar.sessionAgent).toEqual({
      image: "registry.example/session-agent:1.0",
      resources: { limits: { memory: "64Mi" } },
    });
    expect(c.sidecar.engineContainerTemplate).toEqual({ imagePullPolicy: "Always" });
    expect(c.sidecar.sessionAgentContainerTemplate).toEqual({
      env: [{ name: "REDIS_TIMEOUT", value: "5s" }],
    });
    expect(c.watch).toEqual({ mode: "namespaces", namespaces: ["shop", "blog"] });
    expect(c.leaderElection).toEqual({ leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 });
  });

  test("watch: a namespace selector with labels and expressions (YAML scalars read as label strings)", () => {
    const c = config(`
watch:
  namespaceSelector:
    matchLabels: { microgateway.airlock.com/watch: true, tier: 1 }
    matchExpressions:
      - { key: env, operator: In, values: [prod, staging] }
      - { key: legacy, operator: DoesNotExist }
`);
    expect(c.watch).toEqual({
      mode: "selector",
      selector: {
        matchLabels: { "microgateway.airlock.com/watch": "true", tier: "1" },
        matchExpressions: [
          { key: "env", operator: "In", values: ["prod", "staging"] },
          { key: "legacy", operator: "DoesNotExist", values: [] },
        ],
      },
    });
    expect(config("watch: {}").watch).toEqual({ mode: "all" });
    expect(config("watch: { namespaces: null }").watch).toEqual({ mode: "all" });
  });

  test("resources replace the default as a whole, like a container's resources stanza", () => {
    expect(
      config("sidecar: { engine: { resources: { limits: { memory: 512Mi } } } }").sidecar.engine.resources,
    ).toEqual({
      limits: { memory: "512Mi" },
    });
    expect(config("sidecar: { engine: { resources: {} } }").sidecar.engine.resources).toEqual({});
  });

  test("nativeSidecars accepts the quoted and the YAML boolean spelling", () => {
    expect(config('sidecar: { nativeSidecars: "true" }').sidecar.nativeSidecars).toBe("true");
    expect(config("sidecar: { nativeSidecars: true }").sidecar.nativeSidecars).toBe("true");
    expect(config("sidecar: { nativeSidecars: auto }").sidecar.nativeSidecars).toBe("auto");
  });

  test("the result is frozen, so no caller can change the configuration of later injections", () => {
    const c = config();
    expect(Object.isFrozen(c.sidecar.engine.resources.requests)).toBe(true);
    expect(Object.isFrozen(c.sidecar.engineContainerTemplate)).toBe(true);
  });

  test.each([
    [
      "",
      "apiVersion: v1\nkind: OperatorConfig\n",
      'apiVersion "v1" must be microgateway.airlock.com/v1alpha1',
    ],
    ["", "apiVersion: microgateway.airlock.com/v1alpha1\n", "kind (absent) must be OperatorConfig"],
    ["", "- a\n", "the file must be a mapping"],
    ["", "apiVersion: [\n", "not valid YAML"],
    ["", `${HEADER}kind: OperatorConfig\n`, "not valid YAML"],
    [
      "operatorNamespace: Airlock_System\n",
      "",
      'operatorNamespace "Airlock_System" must be a namespace name',
    ],
    ["webhook: { port: 0 }\n", "", "webhook.port 0 must be a port (1-65535)"],
    ["xds: { port: 9443 }\n", "", "xds.port 9443 is also webhook.port"],
    ["xds: { prot: 1 }\n", "", "xds.prot is not a known field (known: port, host, extraSANs)"],
    ["certificate: {}\n", "", "certificate is not a known field (known: apiVersion, kind,"],
    [
      "certificates: { renewalPeriod: 2d }\n",
      "",
      'certificates.renewalPeriod "2d" must be a duration such as 48h',
    ],
    ["certificates: { renewalPeriod: 0s }\n", "", 'certificates.renewalPeriod "0s" must be longer than zero'],
    [
      "certificates: { leafValidity: 48h }\n",
      "",
      'certificates.leafValidity "48h" must be longer than certificates.renewalPeriod',
    ],
    [
      "sidecar: { nativeSidecars: yes }\n",
      "",
      'sidecar.nativeSidecars "yes" must be one of auto, true, false',
    ],
    ["sidecar: { securityContextUid: 0 }\n", "", "sidecar.securityContextUid 0 must be a non-root UID"],
    ["sidecar: { securityContextUid: 1.5 }\n", "", "sidecar.securityContextUid 1.5 must be a non-root UID"],
    [
      "sidecar: { engine: { imgae: x } }\n",
      "",
      "sidecar.engine.imgae is not a known field (known: image, logLevel, concurrency, resources)",
    ],
    ["sidecar: { engine: { image: '' } }\n", "", 'sidecar.engine.image "" must be an image reference'],
    [
      "sidecar: { engine: { logLevel: warning } }\n",
      "",
      'sidecar.engine.logLevel "warning" must be one of trace, debug, info, warn',
    ],
    [
      "sidecar: { engine: { concurrency: -1 } }\n",
      "",
      "sidecar.engine.concurrency -1 must be an integer 0-1024",
    ],
    [
      "sidecar: { engine: { resources: { requests: { cpu: 1cpu } } } }\n",
      "",
      'sidecar.engine.resources.requests.cpu "1cpu" must be a non-negative Kubernetes quantity',
    ],
    [
      "sidecar: { engine: { resources: { limits: { memory: -1 } } } }\n",
      "",
      "sidecar.engine.resources.limits.memory -1 must be a non-negative",
    ],
    [
      "sidecar: { engine: { resources: { request: {} } } }\n",
      "",
      "sidecar.engine.resources.request is not a known field",
    ],
    [
      "sidecar: { engine: { resources: { requests: { cpu: 100m }, limits: { cpu: 50m } } } }\n",
      "",
      'sidecar.engine.resources.requests.cpu "100m" must not be above sidecar.engine.resources.limits.cpu "50m"',
    ],
    [
      "sidecar: { sessionAgent: { image: 3 } }\n",
      "",
      "sidecar.sessionAgent.image 3 must be an image reference, or empty",
    ],
    [
      "sidecar: { engineContainerTemplate: [] }\n",
      "",
      "sidecar.engineContainerTemplate must be a partial Container",
    ],
    [
      "watch: { namespaces: [a], namespaceSelector: { matchLabels: { a: b } } }\n",
      "",
      "watch may set namespaces or namespaceSelector, not both",
    ],
    [
      "watch: { namespace: [a] }\n",
      "",
      "watch.namespace is not a known field (known: namespaces, namespaceSelector)",
    ],
    ["watch: { namespaces: shop }\n", "", 'watch.namespaces must be a list of namespace names, got "shop"'],
    ["watch: { namespaces: [] }\n", "", "watch.namespaces must name at least one namespace"],
    ["watch: { namespaces: [shop, Shop] }\n", "", 'watch.namespaces[1] "Shop" must be a namespace name'],
    ["watch: { namespaces: [shop, shop] }\n", "", 'watch.namespaces[1] "shop" is listed twice'],
    [
      "watch: { namespaceSelector: {} }\n",
      "",
      "watch.namespaceSelector must have matchLabels or matchExpressions",
    ],
    [
      "watch: { namespaceSelector: { matchLabel: { a: b } } }\n",
      "",
      "watch.namespaceSelector.matchLabel is not a known field",
    ],
    [
      "watch: { namespaceSelector: { matchLabels: { 'a b': c } } }\n",
      "",
      'watch.namespaceSelector.matchLabels "a b" must be a label key',
    ],
    [
      "watch: { namespaceSelector: { matchLabels: { a: 'b c' } } }\n",
      "",
      'watch.namespaceSelector.matchLabels.a "b c" must be a label value',
    ],
    [
      "watch: { namespaceSelector: { matchExpressions: [{ key: a, operator: Equals, values: [b] }] } }\n",
      "",
      'watch.namespaceSelector.matchExpressions[0].operator "Equals" must be one of In, NotIn, Exists, DoesNotExist',
    ],
    [
      "watch: { namespaceSelector: { matchExpressions: [{ key: a, operator: In }] } }\n",
      "",
      "watch.namespaceSelector.matchExpressions[0].values must not be empty for operator In",
    ],
    [
      "watch: { namespaceSelector: { matchExpressions: [{ key: a, operator: Exists, values: [b] }] } }\n",
      "",
      "watch.namespaceSelector.matchExpressions[0].values must be empty for operator Exists",
    ],
    [
      "leaderElection: { leaseDuration: 1500ms }\n",
      "",
      'leaderElection.leaseDuration "1500ms" must be whole seconds',
    ],
    [
      "leaderElection: { leaseDuration: 5s }\n",
      "",
      'leaderElection.renewDeadline "10s" must be shorter than leaseDuration',
    ],
    [
      "leaderElection: { retryPeriod: 10s }\n",
      "",
      'leaderElection.retryPeriod "10s" must be shorter than renewDeadline',
    ],
    ["leaderElection: { leaseDuration: 15 }\n", "", "leaderElection.leaseDuration 15 must be a duration"],
  ])("%s%s is refused naming the file and the field", (body, whole, expected) => {
    const message = errorOf(() => (whole ? parseOperatorConfig(whole + body, FILE) : config(body)));
    expect(message).toStartWith(`${FILE}: `);
    expect(message).toContain(expected);
  });

  test.each([
    [
      "name: x",
      "sidecar.engineContainerTemplate.name cannot be set in a container template (the sidecar's name is public API)",
    ],
    [
      "image: x",
      "sidecar.engineContainerTemplate.image cannot be set in a container template (set sidecar.engine.image instead)",
    ],
    ["args: []", "sidecar.engineContainerTemplate.args cannot be set"],
    ["ports: []", "sidecar.engineContainerTemplate.ports cannot be set"],
    ["volumeMounts: []", "sidecar.engineContainerTemplate.volumeMounts cannot be set"],
    ["restartPolicy: Always", "sidecar.engineContainerTemplate.restartPolicy cannot be set"],
    ["resources: {}", "(set sidecar.engine.resources instead)"],
    [
      "readinessProbe: { httpGet: { path: /x, port: 1 } }",
      "sidecar.engineContainerTemplate.readinessProbe.httpGet cannot be set",
    ],
    [
      "livenessProbe: { exec: { command: [true] } }",
      "sidecar.engineContainerTemplate.livenessProbe.exec cannot be set",
    ],
    [
      "startupProbe: 3",
      "sidecar.engineContainerTemplate.startupProbe must be a mapping (probe timings) or null",
    ],
    ["env: { A: b }", "sidecar.engineContainerTemplate.env must be a list of env variables"],
    ["env: [{ value: b }]", "sidecar.engineContainerTemplate.env[0] must be an env variable with a name"],
    [
      "env: [{ name: POD_IP, value: b }]",
      'sidecar.engineContainerTemplate.env[0].name "POD_IP" cannot be redefined',
    ],
    ["env: [{ name: A }, { name: A }]", 'sidecar.engineContainerTemplate.env[1].name "A" is defined twice'],
    ["env: null", "sidecar.engineContainerTemplate.env must be a list"],
  ])("engine template %p is refused", (template, expected) => {
    const message = errorOf(() => config(`sidecar:\n  engineContainerTemplate: { ${template} }\n`));
    expect(message).toBe(`${FILE}: ${message.slice(FILE.length + 2)}`);
    expect(message).toContain(expected);
  });

  test("the session agent template names its own fields and fixed env", () => {
    expect(errorOf(() => config("sidecar:\n  sessionAgentContainerTemplate: { image: x }\n"))).toContain(
      "sidecar.sessionAgentContainerTemplate.image cannot be set in a container template (set sidecar.sessionAgent.image instead)",
    );
    expect(
      errorOf(() =>
        config("sidecar:\n  sessionAgentContainerTemplate: { env: [{ name: POD_NAMESPACE }] }\n"),
      ),
    ).toContain("(the sidecar sets POD_NAME, POD_NAMESPACE)");
    // The session agent does not set POD_IP, so a template may.
    expect(
      config("sidecar:\n  sessionAgentContainerTemplate: { env: [{ name: POD_IP }] }\n").sidecar
        .sessionAgentContainerTemplate,
    ).toEqual({
      env: [{ name: "POD_IP" }],
    });
  });
});
