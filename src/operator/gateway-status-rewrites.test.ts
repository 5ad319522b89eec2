import { describe, expect, test } from "bun:test";
import { isMicrogatewayError, type MicrogatewayError } from "../errors.ts";
import { buildModel } from "../model/model.ts";
import { parseResource } from "../model/parse.ts";
import { API_VERSION, type CustomResource, type PodInfo } from "../model/types.ts";
import { desiredGatewayStatus, gatewayFindings } from "./gateway-status.ts";

// HeaderRewrites (through ContentSecurity) and Telemetry (through the application) in the
// gateway's status, the way gateway-status.test.ts covers ContentSecurity and DenyRules.

const obj = (kind: string, name: string, spec: unknown) => ({
  apiVersion: API_VERSION,
  kind,
  metadata: { name, namespace: "shop" },
  spec,
});
const gateway = obj("SidecarGateway", "gw", {
  podSelector: { matchLabels: { app: "web" } },
  applications: [
    { telemetryRef: { name: "tel" }, routes: [{ secured: { contentSecurityRef: { name: "cs" } } }] },
  ],
});
const cs = obj("ContentSecurity", "cs", { headerRewritesRef: { name: "hr" } });

function validCondition(raw: unknown[]) {
  const objects: (CustomResource | PodInfo)[] = [];
  const invalid = new Map<string, MicrogatewayError>();
  for (const o of raw) {
    const r = o as { kind: string; metadata: { name: string } };
    const id = `${r.kind} shop/${r.metadata.name}`;
    try {
      objects.push(parseResource(o, id) as CustomResource);
    } catch (e) {
      if (!isMicrogatewayError(e)) throw e;
      invalid.set(id, e);
    }
  }
  const status = desiredGatewayStatus(gatewayFindings(buildModel(objects), invalid), "shop/gw", {
    state: () => undefined,
    engine: () => undefined,
  });
  return { status: status?.status, valid: status?.conditions.find((c) => c.type === "Valid") };
}

describe("gateway status: HeaderRewrites and Telemetry", () => {
  test("missing ones are Errors naming the reference", () => {
    const { status, valid } = validCondition([gateway, cs]);
    expect(status).toBe("Error");
    expect(valid?.message).toContain(
      'ContentSecurity shop/cs: spec.headerRewritesRef "hr": HeaderRewrites shop/hr does not exist',
    );
    expect(valid?.message).toContain(
      'SidecarGateway shop/gw: spec.applications[0].telemetryRef "tel": Telemetry shop/tel does not exist',
    );
  });

  test("invalid ones are named with the field that is wrong, not called missing", () => {
    const badHr = obj("HeaderRewrites", "hr", {
      request: { allow: { allHeaders: {}, matchingHeaders: {} } },
    });
    const badTel = obj("Telemetry", "tel", { logging: { accessLog: { format: { json: { a: "%NOPE%" } } } } });
    const { status, valid } = validCondition([gateway, cs, badHr, badTel]);
    expect(status).toBe("Error");
    expect(valid?.message).toContain(
      "spec.headerRewritesRef names HeaderRewrites shop/hr, which is invalid: HeaderRewrites shop/hr: spec.request.allow",
    );
    expect(valid?.message).toContain(
      "spec.applications[0].telemetryRef names Telemetry shop/tel, which is invalid: Telemetry shop/tel: spec.logging.accessLog.format.json.a",
    );
    expect(valid?.message).not.toContain("does not exist");
  });

  test("present and valid: Active", () => {
    const { status } = validCondition([
      gateway,
      cs,
      obj("HeaderRewrites", "hr", {}),
      obj("Telemetry", "tel", {}),
    ]);
    expect(status).toBe("Active");
  });
});
