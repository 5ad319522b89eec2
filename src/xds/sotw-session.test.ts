import { describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { NodeSchema } from "../../gen/envoy/config/core/v3/base_pb.js";
import { DiscoveryRequestSchema } from "../../gen/envoy/service/discovery/v3/discovery_pb.js";
import { fromBytes } from "./cached-resource.ts";
import { ConfigCache } from "./config-cache.ts";
import { EngineStatusStore } from "./engine-status.ts";
import { TypeUrl } from "./resource-types.ts";
import { SotwSession } from "./sotw-session.ts";

const NODE = "shop-1.shop";
const LDS = TypeUrl.Listener;

describe("SotwSession", () => {
  test("a node the cache does not know yet gets no (empty) answer until it is set", () => {
    const cache = new ConfigCache();
    const status = new EngineStatusStore();
    const session = new SotwSession(cache, status);
    session.handle(
      create(DiscoveryRequestSchema, {
        typeUrl: LDS,
        node: create(NodeSchema, { id: NODE }),
        versionInfo: "",
      }),
    );
    // An empty state-of-the-world answer would make the engine drop every listener it has.
    expect(session.next()).toBeUndefined();
    expect(status.counters.responses).toBe(0);
    const l = fromBytes(LDS, "ingress", new TextEncoder().encode("x"));
    cache.setNode(NODE, [l]);
    const r = session.next()!;
    expect(r.resources).toHaveLength(1);
    expect(r.versionInfo).not.toBe("");
  });
});
