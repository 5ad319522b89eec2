import { describe, expect, test } from "bun:test";
import { type CachedResource, fromBytes } from "./cached-resource.ts";
import { ConfigCache } from "./config-cache.ts";
import { TypeUrl } from "./resource-types.ts";

const res = (typeUrl: string, name: string, content: string): CachedResource =>
  fromBytes(typeUrl, name, new TextEncoder().encode(content));

describe("ConfigCache", () => {
  test("nodes set from one frozen array share its maps; setting it again changes and notifies nothing", () => {
    const cache = new ConfigCache();
    const shared = Object.freeze([res(TypeUrl.Cluster, "c", "1"), res(TypeUrl.Listener, "l", "1")]);
    expect([...cache.setNode("a.ns", shared)].sort()).toEqual([TypeUrl.Cluster, TypeUrl.Listener]);
    cache.setNode("b.ns", shared);
    expect(cache.resources("a.ns", TypeUrl.Listener)).toBe(cache.resources("b.ns", TypeUrl.Listener));
    let notified = 0;
    cache.watch("a.ns", () => notified++);
    expect(cache.setNode("a.ns", shared).size).toBe(0);
    expect(notified).toBe(0);
    expect(cache.distinctResources).toBe(2);

    const next = Object.freeze([shared[0]!, res(TypeUrl.Listener, "l", "2")]);
    expect([...cache.setNode("a.ns", next)]).toEqual([TypeUrl.Listener]);
    expect(notified).toBe(1);
    expect(cache.resources("a.ns", TypeUrl.Listener).get("l")?.version).toBe(next[1]!.version);
    expect(cache.resources("b.ns", TypeUrl.Listener).get("l")?.version).toBe(shared[1]!.version);
    expect(cache.distinctResources).toBe(3);
    cache.setNode("b.ns", next);
    expect(cache.distinctResources).toBe(2); // the old listener is no longer used by any node
  });

  test("an array that is not frozen is compared by content, and duplicate names are refused either way", () => {
    const cache = new ConfigCache();
    const list = [res(TypeUrl.Listener, "l", "1")];
    cache.setNode("a.ns", list);
    expect(cache.setNode("a.ns", [res(TypeUrl.Listener, "l", "1")]).size).toBe(0);
    const dup = [res(TypeUrl.Listener, "l", "1"), res(TypeUrl.Listener, "l", "2")];
    expect(() => cache.setNode("a.ns", dup)).toThrow(/two .*Listener resources named "l"/);
    expect(() => cache.setNode("a.ns", Object.freeze(dup))).toThrow(/named "l"/);
  });
});
