import { describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { NodeSchema } from "../../gen/envoy/config/core/v3/base_pb.js";
import {
  type DeltaDiscoveryRequest,
  DeltaDiscoveryRequestSchema,
  type DeltaDiscoveryResponse,
} from "../../gen/envoy/service/discovery/v3/discovery_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { type CachedResource, fromBytes } from "./cached-resource.ts";
import { ConfigCache } from "./config-cache.ts";
import { DeltaSession } from "./delta-session.ts";
import { EngineStatusStore } from "./engine-status.ts";
import { TypeUrl } from "./resource-types.ts";

const NODE = "shop-1.shop";
const CDS = TypeUrl.Cluster;
const LDS = TypeUrl.Listener;
const RDS = TypeUrl.RouteConfiguration;

function res(typeUrl: string, name: string, content: string): CachedResource {
  return fromBytes(typeUrl, name, new TextEncoder().encode(content));
}

function req(init: Partial<Omit<DeltaDiscoveryRequest, "$typeName" | "node">> & { withNode?: boolean }) {
  const { withNode = true, ...rest } = init;
  return create(DeltaDiscoveryRequestSchema, {
    ...rest,
    node: withNode ? create(NodeSchema, { id: NODE }) : undefined,
  });
}

function setup(initial: CachedResource[] = []) {
  const cache = new ConfigCache();
  const status = new EngineStatusStore();
  cache.setNode(NODE, initial);
  const session = new DeltaSession(cache, status);
  return { cache, status, session };
}

function names(r: DeltaDiscoveryResponse | undefined): string[] {
  return (r?.resources ?? []).map((x) => `${x.name}@${x.version.slice(0, 4)}`).sort();
}

function ack(r: DeltaDiscoveryResponse) {
  return req({ typeUrl: r.typeUrl, responseNonce: r.nonce, withNode: false });
}

describe("DeltaSession", () => {
  test("a wildcard subscription gets every resource, then nothing until an ACK", () => {
    const c1 = res(CDS, "upstream_8080", "a");
    const c2 = res(CDS, "upstream_9090", "b");
    const { session, status } = setup([c1, c2]);
    session.handle(req({ typeUrl: CDS }));
    const r = session.next();
    expect(r?.typeUrl).toBe(CDS);
    expect(r?.resources.map((x) => x.name).sort()).toEqual(["upstream_8080", "upstream_9090"]);
    expect(r?.resources[0]?.version).toBe(r?.resources[0]?.name === c1.name ? c1.version : c2.version);
    expect(r?.nonce).not.toBe("");
    expect(session.next()).toBeUndefined();
    session.handle(ack(r!));
    expect(session.next()).toBeUndefined();
    expect(status.get(NODE)?.types.get(CDS)?.state).toBe("Accepted");
    expect([...status.get(NODE)!.types.get(CDS)!.accepted.keys()].sort()).toEqual([
      "upstream_8080",
      "upstream_9090",
    ]);
  });

  test("the first request of a type with no resources gets an empty answer so Envoy can initialise", () => {
    const { session } = setup([]);
    session.handle(req({ typeUrl: LDS }));
    const r = session.next();
    expect(r).toBeDefined();
    expect(r?.resources).toHaveLength(0);
    expect(r?.removedResources).toHaveLength(0);
  });

  test("a change sends only the changed resource; an identical set sends nothing", () => {
    const a = res(CDS, "a", "1");
    const b = res(CDS, "b", "1");
    const { session, cache } = setup([a, b]);
    session.handle(req({ typeUrl: CDS }));
    session.handle(ack(session.next()!));

    expect(cache.setNode(NODE, [res(CDS, "a", "1"), res(CDS, "b", "1")]).size).toBe(0);
    expect(session.next()).toBeUndefined();

    const b2 = res(CDS, "b", "2");
    cache.setNode(NODE, [a, b2]);
    const r = session.next();
    expect(r?.resources.map((x) => [x.name, x.version])).toEqual([["b", b2.version]]);
    expect(r?.removedResources).toEqual([]);
  });

  test("a reconnect with initial_resource_versions re-sends nothing unchanged and removes what should not be there", () => {
    const keep = res(CDS, "keep", "1");
    const changed = res(CDS, "changed", "2");
    const { session, status } = setup([keep, changed]);
    session.handle(
      req({
        typeUrl: CDS,
        initialResourceVersions: { keep: keep.version, changed: "old-version", stale: "whatever" },
      }),
    );
    const r1 = session.next()!;
    // Updates first; the removal of a cluster waits for the pass after listeners and routes.
    expect(r1.resources.map((x) => x.name)).toEqual(["changed"]);
    expect(r1.removedResources).toEqual([]);
    session.handle(ack(r1));
    const r2 = session.next()!;
    expect(r2.resources).toHaveLength(0);
    expect(r2.removedResources).toEqual(["stale"]);
    session.handle(ack(r2));
    expect(session.next()).toBeUndefined();
    expect(status.counters.resourcesSent).toBe(1);
  });

  test("a reconnect where nothing changed sends nothing at all", () => {
    const l = res(LDS, "ingress", "1");
    const { session, status } = setup([l]);
    session.handle(req({ typeUrl: LDS, initialResourceVersions: { ingress: l.version } }));
    expect(session.next()).toBeUndefined();
    expect(status.counters.responses).toBe(0);
  });

  test("a node the cache does not know yet is answered only once it is set: a reconnect loses nothing", () => {
    // An operator that just restarted: the engine reconnects with what it runs before the
    // controller's first sync has set its node. Answering then would remove its listener.
    const cache = new ConfigCache();
    const status = new EngineStatusStore();
    const session = new DeltaSession(cache, status);
    cache.watch(NODE, () => {});
    const l = res(LDS, "ingress", "1");
    session.handle(req({ typeUrl: LDS, initialResourceVersions: { ingress: l.version, stale: "v0" } }));
    expect(session.next()).toBeUndefined();
    expect(status.counters.responses).toBe(0);
    cache.setNode(NODE, [l]);
    const r = session.next()!;
    expect(r.resources).toHaveLength(0);
    expect(r.removedResources).toEqual(["stale"]);
  });

  test("a reconnect that subscribes its routes by name with their versions gets nothing unchanged", () => {
    const route = res(RDS, "app_8080", "r1");
    const { session, status } = setup([route]);
    session.handle(
      req({
        typeUrl: RDS,
        resourceNamesSubscribe: ["app_8080"],
        initialResourceVersions: { app_8080: route.version },
      }),
    );
    expect(session.next()).toBeUndefined();
    expect(status.counters.responses).toBe(0);
  });

  test("a deleted node's open stream is told it has nothing; a node deleted without streams is unknown", () => {
    const l = res(LDS, "ingress", "1");
    const { session, cache } = setup([l]);
    const unwatch = cache.watch(NODE, () => {});
    session.handle(req({ typeUrl: LDS }));
    session.handle(ack(session.next()!));
    cache.deleteNode(NODE);
    expect(session.next()?.removedResources).toEqual(["ingress"]);
    unwatch();
    expect(cache.hasNode(NODE)).toBe(false);
  });

  test("a fresh engine of a node not set yet gets its first answer when the node is set", () => {
    const cache = new ConfigCache();
    const session = new DeltaSession(cache, new EngineStatusStore());
    session.handle(req({ typeUrl: CDS }));
    expect(session.next()).toBeUndefined();
    cache.setNode(NODE, []);
    const r = session.next()!;
    expect(r.resources).toHaveLength(0);
    expect(r.removedResources).toHaveLength(0);
  });

  test("an explicitly subscribed name that does not exist is answered as removed, and sent when it appears", () => {
    const { session, cache } = setup([]);
    session.handle(req({ typeUrl: RDS, resourceNamesSubscribe: ["routes_8080"] }));
    const r1 = session.next()!;
    expect(r1.removedResources).toEqual(["routes_8080"]);
    session.handle(ack(r1));
    expect(session.next()).toBeUndefined();
    const route = res(RDS, "routes_8080", "x");
    cache.setNode(NODE, [route, res(RDS, "not_subscribed", "y")]);
    const r2 = session.next()!;
    expect(r2.resources.map((x) => x.name)).toEqual(["routes_8080"]);
  });

  test("a name subscribed again is sent again even if the client should have it", () => {
    const route = res(RDS, "r", "x");
    const { session } = setup([route]);
    session.handle(req({ typeUrl: RDS, resourceNamesSubscribe: ["r"] }));
    session.handle(ack(session.next()!));
    session.handle(req({ typeUrl: RDS, resourceNamesUnsubscribe: ["r"], withNode: false }));
    expect(session.next()).toBeUndefined();
    session.handle(req({ typeUrl: RDS, resourceNamesSubscribe: ["r"], withNode: false }));
    expect(session.next()?.resources.map((x) => x.name)).toEqual(["r"]);
  });

  test("a NACKed version is recorded and never pushed again; the next version is", () => {
    const good = res(LDS, "ingress", "good");
    const { session, cache, status } = setup([good]);
    session.handle(req({ typeUrl: LDS }));
    session.handle(ack(session.next()!));

    const bad = res(LDS, "ingress", "bad");
    cache.setNode(NODE, [bad]);
    const r = session.next()!;
    expect(r.resources[0]?.version).toBe(bad.version);
    session.handle(
      req({
        typeUrl: LDS,
        responseNonce: r.nonce,
        errorDetail: create(StatusSchema, { code: 3, message: "invalid regex" }),
        withNode: false,
      }),
    );
    const t = status.get(NODE)!.types.get(LDS)!;
    expect(t.state).toBe("Rejected");
    expect(t.lastError?.message).toBe("invalid regex");
    expect(t.accepted.get("ingress")).toBe(good.version);
    expect(session.next()).toBeUndefined();

    // Unrelated changes elsewhere do not bring the bad version back.
    cache.setNode(NODE, [bad, res(CDS, "c", "1")]);
    expect(session.next()).toBeUndefined();
    // A new version is pushed.
    const fixed = res(LDS, "ingress", "fixed");
    cache.setNode(NODE, [fixed]);
    const r2 = session.next()!;
    expect(r2.resources[0]?.version).toBe(fixed.version);
    session.handle(ack(r2));
    expect(status.get(NODE)!.types.get(LDS)!.state).toBe("Accepted");
    expect(status.get(NODE)!.types.get(LDS)!.lastError).toBeUndefined();
    expect(status.counters.nacks).toBe(1);
  });

  test("going back to the last good version after a NACK reports the type as accepted again", () => {
    const good = res(LDS, "ingress", "good");
    const bad = res(LDS, "ingress", "bad");
    const { session, cache, status } = setup([good]);
    session.handle(req({ typeUrl: LDS }));
    session.handle(ack(session.next()!));
    cache.setNode(NODE, [bad]);
    const r = session.next()!;
    session.handle(
      req({
        typeUrl: LDS,
        responseNonce: r.nonce,
        errorDetail: create(StatusSchema, { message: "no" }),
        withNode: false,
      }),
    );
    expect(status.get(NODE)!.types.get(LDS)!.state).toBe("Rejected");
    cache.setNode(NODE, [good]);
    // Nothing to send: the engine still runs the good listener.
    expect(session.next()).toBeUndefined();
    expect(status.get(NODE)!.types.get(LDS)!.state).toBe("Accepted");
    expect(status.get(NODE)!.types.get(LDS)!.lastError).toBeUndefined();
  });

  test("the rejection outlives the stream: a reconnecting engine is not sent the bad version", () => {
    const good = res(LDS, "ingress", "good");
    const bad = res(LDS, "ingress", "bad");
    const { session, cache, status } = setup([good]);
    session.handle(req({ typeUrl: LDS }));
    session.handle(ack(session.next()!));
    cache.setNode(NODE, [bad]);
    const r = session.next()!;
    session.handle(
      req({
        typeUrl: LDS,
        responseNonce: r.nonce,
        errorDetail: create(StatusSchema, { message: "no" }),
        withNode: false,
      }),
    );
    const again = new DeltaSession(cache, status);
    again.handle(req({ typeUrl: LDS, initialResourceVersions: { ingress: good.version } }));
    expect(again.next()).toBeUndefined();
  });

  test("make-before-break: clusters, then listeners after the cluster ACK, then cluster removals", () => {
    const oldCluster = res(CDS, "upstream_8080", "old");
    const oldListener = res(LDS, "ingress", "to-8080");
    const { session, cache } = setup([oldCluster, oldListener]);
    session.handle(req({ typeUrl: CDS }));
    session.handle(ack(session.next()!));
    session.handle(req({ typeUrl: LDS, withNode: false }));
    session.handle(ack(session.next()!));

    cache.setNode(NODE, [res(CDS, "upstream_9090", "new"), res(LDS, "ingress", "to-9090")]);
    const r1 = session.next()!;
    expect(r1.typeUrl).toBe(CDS);
    expect(r1.resources.map((x) => x.name)).toEqual(["upstream_9090"]);
    expect(r1.removedResources).toEqual([]);
    expect(session.next()).toBeUndefined();
    session.handle(ack(r1));
    const r2 = session.next()!;
    expect(r2.typeUrl).toBe(LDS);
    session.handle(ack(r2));
    const r3 = session.next()!;
    expect(r3.typeUrl).toBe(CDS);
    expect(r3.resources).toHaveLength(0);
    expect(r3.removedResources).toEqual(["upstream_8080"]);
    session.handle(ack(r3));
    expect(session.next()).toBeUndefined();
  });

  test("subscription changes are honoured even with a stale nonce", () => {
    const r1 = res(RDS, "a", "1");
    const r2 = res(RDS, "b", "1");
    const { session, status } = setup([r1, r2]);
    session.handle(req({ typeUrl: RDS, resourceNamesSubscribe: ["a"] }));
    const first = session.next()!;
    session.handle(
      req({ typeUrl: RDS, responseNonce: "999", resourceNamesSubscribe: ["b"], withNode: false }),
    );
    expect(status.counters.staleNonces).toBe(1);
    session.handle(ack(first));
    expect(names(session.next())).toEqual([`b@${r2.version.slice(0, 4)}`]);
  });

  test("dropping an explicit name while subscribed by wildcard re-sends it", () => {
    const a = res(CDS, "a", "1");
    const { session } = setup([a]);
    session.handle(req({ typeUrl: CDS, resourceNamesSubscribe: ["*", "a"] }));
    session.handle(ack(session.next()!));
    session.handle(req({ typeUrl: CDS, resourceNamesUnsubscribe: ["a"], withNode: false }));
    expect(session.next()?.resources.map((x) => x.name)).toEqual(["a"]);
  });

  test("removing all of a node's resources removes them from the engine", () => {
    const l = res(LDS, "ingress", "1");
    const { session, cache } = setup([l]);
    session.handle(req({ typeUrl: LDS }));
    session.handle(ack(session.next()!));
    cache.setNode(NODE, []);
    expect(session.next()?.removedResources).toEqual(["ingress"]);
  });

  test("protocol violations are errors that name the problem", () => {
    const { session } = setup([]);
    expect(() => session.handle(req({ typeUrl: CDS, withNode: false }))).toThrow(/must carry node.id/);
    session.handle(req({ typeUrl: CDS }));
    const other = create(DeltaDiscoveryRequestSchema, {
      typeUrl: CDS,
      node: create(NodeSchema, { id: "x.y" }),
    });
    expect(() => session.handle(other)).toThrow(/node.id changed/);
    expect(() => session.handle(req({ typeUrl: "", withNode: false }))).toThrow(/type_url is empty/);
  });

  test("authorization is checked with the node id of the first request", () => {
    const cache = new ConfigCache();
    const seen: string[] = [];
    const s = new DeltaSession(cache, new EngineStatusStore(), (id) => {
      seen.push(id);
      throw new Error("denied");
    });
    expect(() => s.handle(req({ typeUrl: CDS }))).toThrow("denied");
    expect(seen).toEqual([NODE]);
    expect(s.node).toBeUndefined();
  });
});
