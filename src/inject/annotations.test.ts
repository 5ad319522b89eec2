import { describe, expect, test } from "bun:test";
import { isMicrogatewayError } from "../errors.ts";
import { ANNOTATIONS, envoyLogLevel, parseSidecarAnnotations } from "./annotations.ts";

const POD = "Pod shop/web-*";

function parse(annotations: Record<string, string>) {
  return parseSidecarAnnotations(annotations, POD);
}

/** The error of `f`, checked to be the project's InvalidArgument error. */
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

describe("parseSidecarAnnotations", () => {
  test("a pod without annotations gets the API defaults", () => {
    expect(parseSidecarAnnotations(undefined, POD)).toEqual({ excludeInboundPorts: [], serviceMesh: "none" });
    expect(parse({ unrelated: "x" })).toEqual({ excludeInboundPorts: [], serviceMesh: "none" });
  });

  test("excludeInboundPorts: comma-separated, spaces allowed, order kept, empty means none", () => {
    expect(parse({ [ANNOTATIONS.excludeInboundPorts]: "8081, 9090 ,1" }).excludeInboundPorts).toEqual([
      8081, 9090, 1,
    ]);
    expect(parse({ [ANNOTATIONS.excludeInboundPorts]: "65535" }).excludeInboundPorts).toEqual([65535]);
    expect(parse({ [ANNOTATIONS.excludeInboundPorts]: "" }).excludeInboundPorts).toEqual([]);
    expect(parse({ [ANNOTATIONS.excludeInboundPorts]: "  " }).excludeInboundPorts).toEqual([]);
  });

  test("excludeInboundPorts may list the probe, metrics and session agent ports (always excluded anyway)", () => {
    expect(
      parse({ [ANNOTATIONS.excludeInboundPorts]: "19001,19002,19004,19005" }).excludeInboundPorts,
    ).toEqual([19001, 19002, 19004, 19005]);
  });

  test.each([
    ["0", '"0" is not a port'],
    ["65536", '"65536" is not a port'],
    ["http", '"http" is not a port'],
    ["80,,90", '"" is not a port'],
    ["80,", '"" is not a port'],
    ["-1", '"-1" is not a port'],
    ["08080", '"08080" is not a port'],
    ["80 90", '"80 90" is not a port'],
    ["8080, 8080", "8080 is listed twice"],
    ["13378", "other than the engine's port 13378"],
  ])("excludeInboundPorts %p is refused", (value, reason) => {
    const message = errorOf(() => parse({ [ANNOTATIONS.excludeInboundPorts]: value }));
    expect(message).toStartWith(
      `${POD}: annotation ${ANNOTATIONS.excludeInboundPorts} ${JSON.stringify(value)} must be`,
    );
    expect(message).toContain("a comma-separated list of distinct ports 1-65535");
    expect(message).toContain(reason);
  });

  test("serviceMesh: none or istio", () => {
    expect(parse({ [ANNOTATIONS.serviceMesh]: "istio" }).serviceMesh).toBe("istio");
    expect(parse({ [ANNOTATIONS.serviceMesh]: "none" }).serviceMesh).toBe("none");
    expect(errorOf(() => parse({ [ANNOTATIONS.serviceMesh]: "linkerd" }))).toBe(
      `${POD}: annotation ${ANNOTATIONS.serviceMesh} "linkerd" must be one of none, istio`,
    );
    expect(errorOf(() => parse({ [ANNOTATIONS.serviceMesh]: "Istio" }))).toContain(
      "must be one of none, istio",
    );
  });

  test("engineLogLevel: the API's names; warn is Envoy's warning", () => {
    for (const level of ["trace", "debug", "info", "warn", "error", "critical", "off"] as const) {
      expect(parse({ [ANNOTATIONS.engineLogLevel]: level }).engineLogLevel).toBe(level);
    }
    expect(envoyLogLevel("warn")).toBe("warning");
    expect(envoyLogLevel("debug")).toBe("debug");
    expect(errorOf(() => parse({ [ANNOTATIONS.engineLogLevel]: "warning" }))).toBe(
      `${POD}: annotation ${ANNOTATIONS.engineLogLevel} "warning" must be one of trace, debug, info, warn, error, critical, off`,
    );
  });

  test("engine resources keep the text as written", () => {
    const parsed = parse({
      [ANNOTATIONS.engineCpuRequests]: "250m",
      [ANNOTATIONS.engineCpuLimits]: "1",
      [ANNOTATIONS.engineMemoryRequests]: "128Mi",
      [ANNOTATIONS.engineMemoryLimits]: "1e9",
    });
    expect(parsed.engineCpuRequests?.text).toBe("250m");
    expect(parsed.engineCpuLimits?.text).toBe("1");
    expect(parsed.engineMemoryRequests?.text).toBe("128Mi");
    expect(parsed.engineMemoryLimits?.text).toBe("1e9");
  });

  test.each([
    [ANNOTATIONS.engineCpuRequests, "abc"],
    [ANNOTATIONS.engineCpuLimits, "1 core"],
    [ANNOTATIONS.engineMemoryRequests, "256MB"],
    [ANNOTATIONS.engineMemoryLimits, "-1Gi"],
    [ANNOTATIONS.engineCpuRequests, "-100m"],
  ])("%s %p is refused", (name, value) => {
    const message = errorOf(() => parse({ [name]: value }));
    expect(message).toStartWith(
      `${POD}: annotation ${name} ${JSON.stringify(value)} must be a non-negative Kubernetes quantity`,
    );
    expect(message).toContain("Ki, Mi, Gi");
  });
});
