import { describe, expect, test } from "bun:test";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { ExtProcPerRouteSchema } from "../../gen/envoy/extensions/filters/http/ext_proc/v3/ext_proc_pb.js";
import {
  ProcessingMode_BodySendMode,
  ProcessingMode_HeaderSendMode,
} from "../../gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb.js";
import { HttpConnectionManagerSchema } from "../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js";
import {
  HEADER_REWRITES_METADATA_KEY,
  POD_INSPECTOR_SOCKET,
  POLICY_METADATA_KEY,
} from "../extproc/contract.ts";
import { decodeHeaderRewritePlan } from "../inspect/header-rewrite-wire.ts";
import { decodePolicy } from "../inspect/policy.ts";
import { buildModel } from "../model/model.ts";
import { parseResource } from "../model/parse.ts";
import type { CustomResource, PodInfo } from "../model/types.ts";
import { INSPECTOR_CLUSTER, INSPECTOR_FILTER } from "./names.ts";
import { translatePod } from "./translate-pod.ts";

const objects = [
  {
    apiVersion: "microgateway.airlock.com/v1alpha1",
    kind: "SidecarGateway",
    metadata: { name: "gw", namespace: "shop" },
    spec: {
      podSelector: { matchLabels: { app: "web" } },
      applications: [
        {
          containerPort: 8080,
          routes: [
            { pathPrefix: "/healthz", unsecured: {} },
            { pathPrefix: "/", secured: { contentSecurityRef: { name: "cs" } } },
          ],
        },
      ],
    },
  },
  {
    apiVersion: "microgateway.airlock.com/v1alpha1",
    kind: "ContentSecurity",
    metadata: { name: "cs", namespace: "shop" },
    spec: { filter: { denyRulesRef: { name: "dr" } } },
  },
  {
    apiVersion: "microgateway.airlock.com/v1alpha1",
    kind: "DenyRules",
    metadata: { name: "dr", namespace: "shop" },
    spec: { request: { builtIn: { settings: { level: "Strict", threatHandlingMode: "LogOnly" } } } },
  },
];
const model = buildModel(objects.map((o) => parseResource(o, "test") as CustomResource));
const pod: PodInfo = { metadata: { name: "web-1", namespace: "shop", labels: { app: "web" } } };

function routesOf(config: ReturnType<typeof translatePod>) {
  const chain = config.listeners[0]!.filterChains[0]!;
  const filter = chain.filters[0]!.configType;
  if (filter.case !== "typedConfig") throw new Error("the listener's filter has no typed config");
  const hcm = anyUnpack(filter.value, HttpConnectionManagerSchema)!;
  // The listener names its routes; they are served over RDS (a policy edit leaves the listener alone).
  const rds = hcm.routeSpecifier.case === "rds" ? hcm.routeSpecifier.value : undefined;
  expect(rds?.configSource?.configSourceSpecifier.case).toBe("ads");
  const routeConfig = config.routes.find((r) => r.name === rds?.routeConfigName);
  return { hcm, routes: routeConfig!.virtualHosts[0]!.routes };
}

describe("translatePod and the inspector", () => {
  test("every application's connection manager asks the inspector before routing", () => {
    const { hcm } = routesOf(translatePod(model, pod));
    expect(hcm.httpFilters.map((f) => f.name)).toEqual([INSPECTOR_FILTER, "envoy.filters.http.router"]);
  });

  test("a secured route hands the inspector its resolved deny rules; an unsecured one turns it off", () => {
    const { routes } = routesOf(translatePod(model, pod));
    const perRoute = (i: number) =>
      anyUnpack(routes[i]!.typedPerFilterConfig[INSPECTOR_FILTER]!, ExtProcPerRouteSchema)!;
    expect(perRoute(0).override).toEqual({ case: "disabled", value: true });
    const secured = perRoute(1).override;
    expect(secured.case).toBe("overrides");
    const metadata = secured.case === "overrides" ? secured.value.grpcInitialMetadata : [];
    expect(metadata.map((m) => m.key)).toEqual([POLICY_METADATA_KEY, HEADER_REWRITES_METADATA_KEY]);
    const policy = decodePolicy(metadata[0]!.value);
    expect(policy.denyRules.request.builtIn.settings).toEqual({
      level: "Strict",
      threatHandlingMode: "LogOnly",
    });
    // The default HeaderRewrites remove Negotiate/NTLM challenges and permissive CORS from
    // responses: the inspector gets the plan and the route sends it the response headers.
    const plan = decodeHeaderRewritePlan(metadata[1]!.value);
    expect(plan.response.removeAuthSchemes).toEqual(["negotiate", "ntlm"]);
    expect(plan.response.removePermissiveCors).toBe(true);
    const mode = secured.case === "overrides" ? secured.value.processingMode : undefined;
    expect(mode?.responseHeaderMode).toBe(ProcessingMode_HeaderSendMode.SEND);
    expect(mode?.requestBodyMode).toBe(ProcessingMode_BodySendMode.NONE);
  });

  test("a route whose header rewrites Envoy does alone sends no plan and skips the response", () => {
    const plain = buildModel(
      [
        ...objects.slice(0, 1),
        {
          ...objects[1]!,
          spec: { filter: { denyRulesRef: { name: "dr" } }, headerRewritesRef: { name: "hr" } },
        },
        objects[2]!,
        {
          apiVersion: "microgateway.airlock.com/v1alpha1",
          kind: "HeaderRewrites",
          metadata: { name: "hr", namespace: "shop" },
          spec: {
            response: {
              remove: { builtIn: { auth: { negotiate: false, ntlm: false }, permissiveCors: false } },
            },
          },
        },
      ].map((o) => parseResource(o, "test") as CustomResource),
    );
    const { routes } = routesOf(translatePod(plain, pod));
    const secured = anyUnpack(
      routes[1]!.typedPerFilterConfig[INSPECTOR_FILTER]!,
      ExtProcPerRouteSchema,
    )!.override;
    expect(secured.case).toBe("overrides");
    if (secured.case !== "overrides") return;
    expect(secured.value.grpcInitialMetadata.map((m) => m.key)).toEqual([POLICY_METADATA_KEY]);
    expect(secured.value.processingMode).toBeUndefined();
  });

  test("the inspector cluster reaches the pod's shared socket, or the address local mode gives", () => {
    const address = (config: ReturnType<typeof translatePod>) =>
      config.clusters.find((c) => c.name === INSPECTOR_CLUSTER)!.loadAssignment!.endpoints[0]!.lbEndpoints[0]!
        .hostIdentifier.value;
    expect(address(translatePod(model, pod))).toMatchObject({
      address: { address: { case: "pipe", value: { path: POD_INSPECTOR_SOCKET } } },
    });
    expect(
      address(translatePod(model, pod, { inspector: { socketPath: "/tmp/run/inspector.sock" } })),
    ).toMatchObject({ address: { address: { case: "pipe", value: { path: "/tmp/run/inspector.sock" } } } });
  });
});
