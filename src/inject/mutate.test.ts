import { describe, expect, test } from "bun:test";
import { isMicrogatewayError } from "../errors.ts";
import { ANNOTATIONS } from "./annotations.ts";
import { patchFor } from "./json-patch.ts";
import { isInjected, mutate, nativeSidecarsFor, parseKubernetesVersion, shouldInject } from "./mutate.ts";
import { INJECT_LABEL, INJECTED_ANNOTATION, MANAGED_BY_LABEL } from "./names.ts";
import { DEFAULT_OPERATOR_CONFIG, type OperatorConfig, operatorConfigFrom } from "./operator-config.ts";
import type { Container, Pod } from "./pod.ts";
import { appPod, deepFreeze } from "./testing/pods.ts";

const ENGINE = "airlock-microgateway-engine";
const AGENT = "airlock-microgateway-session-agent";
const REGULAR = { nativeSidecars: false } as const;
const NATIVE = { nativeSidecars: true } as const;

function withConfig(sidecar: Record<string, unknown>, rest: Record<string, unknown> = {}): OperatorConfig {
  return operatorConfigFrom(
    { apiVersion: "microgateway.airlock.com/v1alpha1", kind: "OperatorConfig", ...rest, sidecar },
    "test-config.yaml",
  );
}

const WITH_AGENT = withConfig({ sessionAgent: { image: "registry.example/session-agent:1.0" } });

function container(pod: Pod, name: string): Container {
  const found = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
    (c) => c.name === name,
  );
  if (!found) throw new Error(`no container ${name}`);
  return found;
}

function withAnnotations(annotations: Record<string, string>): Pod {
  const pod = appPod();
  pod.metadata!.annotations = { ...pod.metadata!.annotations, ...annotations };
  return pod;
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

describe("which pods are injected", () => {
  test('only a pod labelled inject: "true" is changed; any other comes back as the same object', () => {
    for (const value of [undefined, "false", "True", "yes", ""]) {
      const pod = appPod();
      if (value === undefined) delete pod.metadata!.labels![INJECT_LABEL];
      else pod.metadata!.labels![INJECT_LABEL] = value;
      expect(shouldInject(pod)).toBe(false);
      expect(mutate(pod, DEFAULT_OPERATOR_CONFIG, REGULAR)).toBe(pod);
    }
    expect(shouldInject(appPod())).toBe(true);
  });

  test("a pod without the label is not validated: a bad annotation does not matter", () => {
    const pod = withAnnotations({ [ANNOTATIONS.engineLogLevel]: "loud" });
    delete pod.metadata!.labels![INJECT_LABEL];
    expect(mutate(pod, DEFAULT_OPERATOR_CONFIG, REGULAR)).toBe(pod);
  });

  test("injection is idempotent: a pod that has the engine, in either list, comes back unchanged", () => {
    for (const opts of [REGULAR, NATIVE]) {
      const once = mutate(appPod(), WITH_AGENT, opts);
      expect(isInjected(once)).toBe(true);
      expect(mutate(once, WITH_AGENT, opts)).toBe(once);
      expect(mutate(once, WITH_AGENT, { nativeSidecars: !opts.nativeSidecars })).toBe(once);
      expect(patchFor(once, mutate(once, WITH_AGENT, opts))).toEqual([]);
      // Also after a round trip through JSON, as on a reinvocation by the API server.
      const decoded = JSON.parse(JSON.stringify(once)) as Pod;
      expect(mutate(decoded, WITH_AGENT, opts)).toBe(decoded);
    }
  });

  test("the input pod is never modified", () => {
    const pod = deepFreeze(appPod());
    const copy = structuredClone(pod);
    mutate(pod, WITH_AGENT, REGULAR);
    mutate(pod, WITH_AGENT, NATIVE);
    expect(pod).toEqual(copy);
  });
});

describe("the injected pod", () => {
  test("regular sidecars: the session agent and the engine are appended to the containers with the API's defaults", () => {
    const pod = appPod();
    const out = mutate(pod, DEFAULT_OPERATOR_CONFIG, REGULAR);
    expect(out.spec?.containers?.map((c) => c.name)).toEqual(["shop", AGENT, ENGINE]);
    expect(out.spec?.containers?.[0]).toBe(pod.spec!.containers![0]!);
    expect(out.spec?.initContainers).toBeUndefined();
    expect(container(out, ENGINE)).toEqual({
      name: ENGINE,
      image: "docker.io/envoyproxy/envoy:distroless-v1.40.0",
      args: [
        "--config-path",
        "/app/config/bootstrap_config.yaml",
        "--base-id",
        "13378",
        "--file-flush-interval-msec",
        "1000",
        "--drain-time-s",
        "60",
        "--service-node",
        "$(POD_NAME).$(POD_NAMESPACE)",
        "--service-cluster",
        "shop.$(POD_NAMESPACE)",
        "--log-path",
        "/dev/stdout",
        "--log-level",
        "info",
        "--concurrency",
        "2",
      ],
      env: [
        { name: "POD_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
        {
          name: "POD_NAMESPACE",
          valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } },
        },
        { name: "POD_IP", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "status.podIP" } } },
      ],
      ports: [
        { name: "mgw-engine", containerPort: 13378, protocol: "TCP" },
        { name: "mgw-probe", containerPort: 19001, protocol: "TCP" },
        { name: "mgw-metrics", containerPort: 19002, protocol: "TCP" },
      ],
      resources: { requests: { cpu: "100m", memory: "256Mi" } },
      volumeMounts: [
        { name: "airlock-microgateway-bootstrap-secret-volume", mountPath: "/app/config/", readOnly: true },
        { name: "airlock-microgateway-inspector-socket", mountPath: "/var/run/microgateway" },
      ],
      startupProbe: { httpGet: { path: "/ready", port: 19001 }, periodSeconds: 1, failureThreshold: 30 },
      readinessProbe: { httpGet: { path: "/ready", port: 19001 }, periodSeconds: 5, failureThreshold: 3 },
      livenessProbe: {
        httpGet: { path: "/ready", port: 19001 },
        periodSeconds: 10,
        failureThreshold: 3,
        timeoutSeconds: 2,
      },
      securityContext: {
        allowPrivilegeEscalation: false,
        privileged: false,
        runAsNonRoot: true,
        runAsUser: 13378,
        runAsGroup: 13378,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      },
    });
    expect(out.spec?.volumes).toEqual([
      { name: "data", emptyDir: {} },
      {
        name: "airlock-microgateway-bootstrap-secret-volume",
        secret: { secretName: "airlock-microgateway-bootstrap-secret" },
      },
      { name: "airlock-microgateway-inspector-socket", emptyDir: {} },
      {
        name: "airlock-microgateway-session-agent-volume",
        secret: { secretName: "airlock-microgateway-session-agent-shop-7d9f8b6c4", optional: true },
      },
    ]);
  });

  test("label and annotation are added; the user's are kept, in order", () => {
    const out = mutate(appPod(), DEFAULT_OPERATOR_CONFIG, REGULAR);
    expect(out.metadata?.labels).toEqual({
      app: "shop",
      "pod-template-hash": "7d9f8b6c4",
      [INJECT_LABEL]: "true",
      [MANAGED_BY_LABEL]: "airlock-microgateway-system",
    });
    expect(Object.keys(out.metadata?.labels ?? {})).toEqual([
      "app",
      "pod-template-hash",
      INJECT_LABEL,
      MANAGED_BY_LABEL,
    ]);
    expect(out.metadata?.annotations).toEqual({
      "kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z",
      [INJECTED_ANNOTATION]: "docker.io/envoyproxy/envoy:distroless-v1.40.0",
    });
  });

  test("a pod without annotations or volumes gets them created", () => {
    const pod: Pod = {
      metadata: { name: "solo", labels: { [INJECT_LABEL]: "true" } },
      spec: { containers: [{ name: "a" }] },
    };
    const out = mutate(pod, DEFAULT_OPERATOR_CONFIG, REGULAR);
    expect(out.metadata?.annotations).toEqual({
      [INJECTED_ANNOTATION]: "docker.io/envoyproxy/envoy:distroless-v1.40.0",
    });
    expect(out.spec?.volumes?.map((v) => v.name)).toEqual([
      "airlock-microgateway-bootstrap-secret-volume",
      "airlock-microgateway-inspector-socket",
      "airlock-microgateway-session-agent-volume",
    ]);
  });

  test("native sidecars go first in initContainers with restartPolicy Always, the agent before the engine; containers stay as they were", () => {
    const pod = appPod();
    pod.spec!.initContainers = [{ name: "migrate", image: "registry.example/migrate:1" }];
    const out = mutate(pod, WITH_AGENT, NATIVE);
    // The engine starts once the inspector it asks is up (native sidecars start in order).
    expect(out.spec?.initContainers?.map((c) => c.name)).toEqual([AGENT, ENGINE, "migrate"]);
    expect(out.spec?.containers).toBe(pod.spec!.containers!);
    expect(container(out, ENGINE).restartPolicy).toBe("Always");
    expect(container(out, AGENT).restartPolicy).toBe("Always");
    const regular = mutate(pod, WITH_AGENT, REGULAR);
    expect(regular.spec?.containers?.map((c) => c.name)).toEqual(["shop", AGENT, ENGINE]);
    expect(regular.spec?.initContainers).toBe(pod.spec!.initContainers!);
    expect(container(regular, ENGINE).restartPolicy).toBeUndefined();
  });

  test("every pod gets the session agent: it serves the inspector on the socket both sidecars share", () => {
    const defaults = mutate(appPod(), DEFAULT_OPERATOR_CONFIG, REGULAR);
    expect(container(defaults, AGENT).image).toBe("ghcr.io/microgateway/microgateway:0.1.0");
    const out = mutate(appPod(), WITH_AGENT, REGULAR);
    const agent = container(out, AGENT);
    expect(agent.image).toBe("registry.example/session-agent:1.0");
    expect(agent.args).toEqual([
      "agent",
      "--socket",
      "/var/run/microgateway/inspector.sock",
      "--health-port",
      "19004",
    ]);
    expect(agent.env?.map((e) => e.name)).toEqual(["POD_NAME", "POD_NAMESPACE"]);
    expect(agent.ports?.map((p) => p.containerPort)).toEqual([19004]);
    const probe = { httpGet: { path: "/healthz", port: 19004 } };
    expect(agent.startupProbe).toEqual({ ...probe, periodSeconds: 1, failureThreshold: 30 });
    expect(agent.readinessProbe).toEqual({ ...probe, periodSeconds: 5, failureThreshold: 3 });
    expect(agent.livenessProbe).toEqual({
      ...probe,
      periodSeconds: 10,
      failureThreshold: 3,
      timeoutSeconds: 2,
    });
    const socketMount = { name: "airlock-microgateway-inspector-socket", mountPath: "/var/run/microgateway" };
    expect(agent.volumeMounts).toEqual([
      { name: "airlock-microgateway-session-agent-volume", mountPath: "/app/config/", readOnly: true },
      socketMount,
    ]);
    expect(container(out, ENGINE).volumeMounts).toContainEqual(socketMount);
    expect(out.spec?.volumes).toContainEqual({ name: "airlock-microgateway-inspector-socket", emptyDir: {} });
    expect(agent.resources).toBeUndefined();
    expect(agent.securityContext).toEqual(container(out, ENGINE).securityContext);
    expect(out.spec?.volumes?.at(-1)).toEqual({
      name: "airlock-microgateway-session-agent-volume",
      secret: { secretName: "airlock-microgateway-session-agent-shop-7d9f8b6c4", optional: true },
    });
  });

  test("the session agent secret is per pod when the pod has a name, and always a valid Secret name", () => {
    const named = appPod();
    named.metadata!.name = "web-0";
    const secretOf = (p: Pod) =>
      (mutate(p, WITH_AGENT, REGULAR).spec?.volumes?.at(-1)?.secret as { secretName: string }).secretName;
    expect(secretOf(named)).toBe("airlock-microgateway-session-agent-web-0");
    const long = appPod();
    long.metadata!.generateName = `${"a".repeat(240)}-`;
    const name = secretOf(long);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(/^airlock-microgateway-session-agent-a+-[0-9a-f]{8}$/);
    const other = appPod();
    other.metadata!.generateName = `${"a".repeat(239)}b-`;
    expect(secretOf(other)).not.toBe(name);
  });

  test("the service cluster names the application: app labels, else the Deployment, else the pod", () => {
    const cluster = (meta: Pod["metadata"]) => {
      const args = container(
        mutate({ metadata: meta, spec: { containers: [] } }, DEFAULT_OPERATOR_CONFIG, REGULAR),
        ENGINE,
      ).args as string[];
      return args[args.indexOf("--service-cluster") + 1];
    };
    const inject = { [INJECT_LABEL]: "true" };
    expect(
      cluster({ name: "p", labels: { ...inject, "app.kubernetes.io/name": "shop", app: "legacy" } }),
    ).toBe("shop.$(POD_NAMESPACE)");
    expect(cluster({ name: "p", labels: { ...inject, app: "legacy" } })).toBe("legacy.$(POD_NAMESPACE)");
    expect(
      cluster({ generateName: "web-5f6d7c-", labels: { ...inject, "pod-template-hash": "5f6d7c" } }),
    ).toBe("web.$(POD_NAMESPACE)");
    expect(cluster({ generateName: "job-x-", labels: inject })).toBe("job-x.$(POD_NAMESPACE)");
    expect(cluster({ name: "web-0", labels: { ...inject, app: "" } })).toBe("web-0.$(POD_NAMESPACE)");
  });

  test("the operator namespace comes from the options over the configuration", () => {
    const config = withConfig({}, { operatorNamespace: "mgw" });
    expect(mutate(appPod(), config, REGULAR).metadata?.labels?.[MANAGED_BY_LABEL]).toBe("mgw");
    expect(
      mutate(appPod(), config, { ...REGULAR, operatorNamespace: "other" }).metadata?.labels?.[
        MANAGED_BY_LABEL
      ],
    ).toBe("other");
  });

  test("concurrency 0 leaves Envoy's default; securityContextUid null leaves the UID to the platform", () => {
    const out = mutate(
      appPod(),
      withConfig({ securityContextUid: null, engine: { concurrency: 0 } }),
      REGULAR,
    );
    const engine = container(out, ENGINE);
    expect(engine.args).not.toContain("--concurrency");
    expect(engine.securityContext).not.toHaveProperty("runAsUser");
    expect(engine.securityContext).not.toHaveProperty("runAsGroup");
    expect(engine.securityContext).toHaveProperty("runAsNonRoot", true);
  });
});

describe("annotations win over the configuration", () => {
  const config = withConfig({
    engine: {
      logLevel: "debug",
      resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
    },
  });

  test("log level: the annotation's, with warn spelled as Envoy's warning", () => {
    const level = (pod: Pod) => {
      const args = container(mutate(pod, config, REGULAR), ENGINE).args as string[];
      return args[args.indexOf("--log-level") + 1];
    };
    expect(level(appPod())).toBe("debug");
    expect(level(withAnnotations({ [ANNOTATIONS.engineLogLevel]: "warn" }))).toBe("warning");
    expect(level(withAnnotations({ [ANNOTATIONS.engineLogLevel]: "off" }))).toBe("off");
  });

  test("resources: each annotation replaces one value, the rest stays configured", () => {
    const out = mutate(
      withAnnotations({ [ANNOTATIONS.engineCpuRequests]: "250m", [ANNOTATIONS.engineCpuLimits]: "2" }),
      config,
      REGULAR,
    );
    expect(container(out, ENGINE).resources).toEqual({
      requests: { cpu: "250m", memory: "256Mi" },
      limits: { memory: "1Gi", cpu: "2" },
    });
    const memory = mutate(
      withAnnotations({
        [ANNOTATIONS.engineMemoryRequests]: "64Mi",
        [ANNOTATIONS.engineMemoryLimits]: "128Mi",
      }),
      config,
      REGULAR,
    );
    expect(container(memory, ENGINE).resources).toEqual({
      requests: { cpu: "100m", memory: "64Mi" },
      limits: { memory: "128Mi" },
    });
  });

  test("a request above its limit names both, wherever each came from", () => {
    expect(
      errorOf(() =>
        mutate(
          withAnnotations({ [ANNOTATIONS.engineCpuRequests]: "2", [ANNOTATIONS.engineCpuLimits]: "1500m" }),
          config,
          REGULAR,
        ),
      ),
    ).toBe(
      `Pod shop/shop-7d9f8b6c4-*: annotation ${ANNOTATIONS.engineCpuRequests} "2" must not be above the engine's cpu limit "1500m" (annotation ${ANNOTATIONS.engineCpuLimits})`,
    );
    expect(
      errorOf(() => mutate(withAnnotations({ [ANNOTATIONS.engineMemoryRequests]: "2Gi" }), config, REGULAR)),
    ).toBe(
      `Pod shop/shop-7d9f8b6c4-*: annotation ${ANNOTATIONS.engineMemoryRequests} "2Gi" must not be above the engine's memory limit "1Gi" (operator configuration sidecar.engine.resources.limits.memory)`,
    );
    expect(
      errorOf(() => mutate(withAnnotations({ [ANNOTATIONS.engineCpuLimits]: "50m" }), config, REGULAR)),
    ).toBe(
      `Pod shop/shop-7d9f8b6c4-*: annotation ${ANNOTATIONS.engineCpuLimits} "50m" must not be below the engine's cpu request "100m" (operator configuration sidecar.engine.resources.requests.cpu); set annotation ${ANNOTATIONS.engineCpuRequests} as well`,
    );
    // Equal is fine, and so is the same value in another unit.
    expect(() =>
      mutate(
        withAnnotations({ [ANNOTATIONS.engineCpuRequests]: "1", [ANNOTATIONS.engineCpuLimits]: "1000m" }),
        config,
        REGULAR,
      ),
    ).not.toThrow();
  });

  test("an invalid annotation rejects the pod, naming the pod, annotation, value and accepted values", () => {
    const pod = withAnnotations({ [ANNOTATIONS.serviceMesh]: "consul" });
    expect(errorOf(() => mutate(pod, config, { ...REGULAR, namespace: "ignored" }))).toBe(
      `Pod shop/shop-7d9f8b6c4-*: annotation ${ANNOTATIONS.serviceMesh} "consul" must be one of none, istio`,
    );
    delete pod.metadata!.namespace;
    expect(errorOf(() => mutate(pod, config, { ...REGULAR, namespace: "from-request" }))).toStartWith(
      "Pod from-request/shop-7d9f8b6c4-*: annotation",
    );
  });
});

describe("conflicts with the pod are errors naming what clashes", () => {
  test("a container of the sidecars' names that is not ours", () => {
    const pod = appPod();
    pod.spec!.containers!.push({ name: AGENT, image: "x" });
    expect(errorOf(() => mutate(pod, WITH_AGENT, REGULAR))).toBe(
      `Pod shop/shop-7d9f8b6c4-*: a container named ${AGENT} already exists; the sidecar injection adds a container of that name`,
    );
  });

  test("a volume of the sidecars' names", () => {
    const pod = appPod();
    pod.spec!.volumes!.push({ name: "airlock-microgateway-bootstrap-secret-volume", emptyDir: {} });
    expect(errorOf(() => mutate(pod, DEFAULT_OPERATOR_CONFIG, NATIVE))).toContain(
      "a volume named airlock-microgateway-bootstrap-secret-volume already exists",
    );
  });

  test("an application port the sidecars listen on (TCP only)", () => {
    const pod = appPod();
    pod.spec!.containers![0]!.ports!.push({ containerPort: 19002 });
    expect(errorOf(() => mutate(pod, DEFAULT_OPERATOR_CONFIG, REGULAR))).toBe(
      `Pod shop/shop-7d9f8b6c4-*: container shop uses port 19002, which ${ENGINE} listens on; the sidecar ports 19004, 13378, 19001, 19002 must be free`,
    );
    pod.spec!.containers![0]!.ports![1] = { containerPort: 19002, protocol: "UDP" };
    expect(() => mutate(pod, DEFAULT_OPERATOR_CONFIG, REGULAR)).not.toThrow();
  });

  test("a managedBy label of another operator instance; the same value is fine", () => {
    const pod = appPod();
    pod.metadata!.labels![MANAGED_BY_LABEL] = "other-operator";
    expect(errorOf(() => mutate(pod, DEFAULT_OPERATOR_CONFIG, REGULAR))).toContain(
      `label ${MANAGED_BY_LABEL} "other-operator" names another operator instance; this one is "airlock-microgateway-system"`,
    );
    pod.metadata!.labels![MANAGED_BY_LABEL] = "airlock-microgateway-system";
    const out = mutate(pod, DEFAULT_OPERATOR_CONFIG, REGULAR);
    expect(out.metadata?.labels).toBe(pod.metadata!.labels!);
  });

  test("an injected annotation on a pod without the engine", () => {
    const pod = withAnnotations({ [INJECTED_ANNOTATION]: "old-image" });
    expect(errorOf(() => mutate(pod, DEFAULT_OPERATOR_CONFIG, REGULAR))).toContain(
      `annotation ${INJECTED_ANNOTATION} "old-image" is written by the sidecar injection`,
    );
  });

  test("a hostNetwork pod", () => {
    const pod = appPod();
    pod.spec!.hostNetwork = true;
    expect(errorOf(() => mutate(pod, DEFAULT_OPERATOR_CONFIG, REGULAR))).toContain(
      "spec.hostNetwork pods cannot",
    );
  });

  test("a malformed pod from a caller other than the API server", () => {
    const pod = appPod();
    (pod.spec as Record<string, unknown>).containers = { name: "x" };
    expect(errorOf(() => mutate(pod, DEFAULT_OPERATOR_CONFIG, REGULAR))).toContain(
      "spec.containers must be a list",
    );
  });
});

describe("container templates", () => {
  const config = withConfig({
    sessionAgent: { image: "registry.example/session-agent:1.0" },
    engineContainerTemplate: {
      imagePullPolicy: "Always",
      env: [{ name: "EXTRA", value: "1" }],
      livenessProbe: { periodSeconds: 30, timeoutSeconds: 5 },
      startupProbe: null,
      securityContext: { seLinuxOptions: { type: "spc_t" }, runAsUser: 2000 },
      lifecycle: { preStop: { sleep: { seconds: 5 } } },
    },
    sessionAgentContainerTemplate: { env: [{ name: "REDIS_TIMEOUT", value: "5s" }] },
  });
  const out = mutate(appPod(), config, NATIVE);
  const engine = container(out, ENGINE);

  test("maps merge, scalars replace, null removes; our probe endpoint stays", () => {
    expect(engine.imagePullPolicy).toBe("Always");
    expect(engine.livenessProbe).toEqual({
      httpGet: { path: "/ready", port: 19001 },
      periodSeconds: 30,
      failureThreshold: 3,
      timeoutSeconds: 5,
    });
    expect(engine).not.toHaveProperty("startupProbe");
    expect(engine.readinessProbe).toEqual({
      httpGet: { path: "/ready", port: 19001 },
      periodSeconds: 5,
      failureThreshold: 3,
    });
    expect(engine.securityContext).toMatchObject({
      runAsUser: 2000,
      runAsGroup: 13378,
      seLinuxOptions: { type: "spc_t" },
      capabilities: { drop: ["ALL"] },
    });
    expect(engine.lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
  });

  test("env is appended after ours; names, ports, mounts and restartPolicy are ours", () => {
    expect(engine.env?.map((e) => e.name)).toEqual(["POD_NAME", "POD_NAMESPACE", "POD_IP", "EXTRA"]);
    expect(engine.name).toBe(ENGINE);
    expect(engine.ports?.map((p) => p.containerPort)).toEqual([13378, 19001, 19002]);
    expect(engine.restartPolicy).toBe("Always");
    expect(container(out, AGENT).env?.map((e) => e.name)).toEqual([
      "POD_NAME",
      "POD_NAMESPACE",
      "REDIS_TIMEOUT",
    ]);
  });

  test("injected pods do not alias the configuration", () => {
    (engine.lifecycle as { preStop: { sleep: { seconds: number } } }).preStop.sleep.seconds = 99;
    expect(container(mutate(appPod(), config, NATIVE), ENGINE).lifecycle).toEqual({
      preStop: { sleep: { seconds: 5 } },
    });
  });
});

describe("nativeSidecarsFor", () => {
  test("auto: from Kubernetes 1.29, where SidecarContainers is on by default", () => {
    expect(nativeSidecarsFor("auto", { major: 1, minor: 28 })).toBe(false);
    expect(nativeSidecarsFor("auto", { major: 1, minor: 29 })).toBe(true);
    expect(nativeSidecarsFor("auto", { major: 1, minor: 33 })).toBe(true);
    expect(nativeSidecarsFor("auto", { major: 2, minor: 0 })).toBe(true);
  });

  test("auto also waits for the oldest kubelet when it is known", () => {
    expect(nativeSidecarsFor("auto", { major: 1, minor: 31 }, { major: 1, minor: 28 })).toBe(false);
    expect(nativeSidecarsFor("auto", { major: 1, minor: 31 }, { major: 1, minor: 29 })).toBe(true);
  });

  test("true and false are forced", () => {
    expect(nativeSidecarsFor("true", { major: 1, minor: 25 })).toBe(true);
    expect(nativeSidecarsFor("false", { major: 1, minor: 33 })).toBe(false);
  });

  test("parseKubernetesVersion reads /version and kubelet versions", () => {
    expect(parseKubernetesVersion({ major: "1", minor: "29+" })).toEqual({ major: 1, minor: 29 });
    expect(parseKubernetesVersion("v1.31.2-eks-7f9249a")).toEqual({ major: 1, minor: 31 });
    expect(parseKubernetesVersion("1.28")).toEqual({ major: 1, minor: 28 });
    expect(errorOf(() => parseKubernetesVersion({ major: "", minor: "29" }))).toContain(
      "must look like v1.29.3",
    );
    expect(errorOf(() => parseKubernetesVersion("latest"))).toContain('"latest"');
  });
});
