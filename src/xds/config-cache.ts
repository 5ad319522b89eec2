import { MicrogatewayError } from "../errors.ts";
import { type CachedResource, ResourceInterner } from "./cached-resource.ts";

/** Called with the set of type URLs whose resources changed for a watched node. */
export type ConfigWatcher = (changedTypes: ReadonlySet<string>) => void;

const EMPTY: ReadonlyMap<string, CachedResource> = new Map();
const NO_TYPES: ReadonlyMap<string, ReadonlyMap<string, CachedResource>> = new Map();

/**
 * The desired configuration of every engine, by node id: for each type URL, the named resources
 * that node should have. The xDS layer knows nothing else about the node (no pods, no policies).
 *
 * Contract: the maps returned by `resources` must not be altered by callers, and a node's maps are
 * replaced, never mutated, when its configuration changes, so a stream may keep a reference while
 * computing a response.
 */
export class ConfigCache {
  private readonly nodes = new Map<string, Map<string, ReadonlyMap<string, CachedResource>>>();
  private readonly watchers = new Map<string, Set<ConfigWatcher>>();
  /** Resources of a frozen input array grouped by type and name, shared by the nodes set from it. */
  private readonly groups = new WeakMap<
    readonly CachedResource[],
    Map<string, ReadonlyMap<string, CachedResource>>
  >();
  /** Deleted nodes that still had open streams: known to have nothing until those streams close. */
  private readonly deleted = new Set<string>();
  private readonly interner = new ResourceInterner();

  /**
   * Replaces the whole configuration of `nodeId` and notifies its watchers with the types that
   * changed. Returns those types (empty if nothing changed: no push happens then).
   * Throws if two resources of one type share a name (clients would NACK such a response).
   * A frozen array is taken to be immutable and may be shared between nodes (PodConfigEncoder's
   * output is): the maps stored for it are shared.
   */
  setNode(nodeId: string, resources: Iterable<CachedResource>): ReadonlySet<string> {
    // A frozen array is the encoder's output, shared by every pod of a gateway version: it is
    // grouped once, and every node set from it stores the same maps (so setting it again finds
    // every type's map unchanged by identity).
    const shared = Array.isArray(resources) && Object.isFrozen(resources) ? resources : undefined;
    let next = shared && this.groups.get(shared);
    if (!next) {
      next = groupByType(nodeId, resources);
      if (shared) this.groups.set(shared, next);
    }
    const known = this.hasNode(nodeId);
    const prev = this.nodes.get(nodeId) ?? new Map<string, ReadonlyMap<string, CachedResource>>();
    const changed = new Set<string>();
    const stored = new Map<string, ReadonlyMap<string, CachedResource>>();
    for (const typeUrl of new Set([...prev.keys(), ...next.keys()])) {
      const before = prev.get(typeUrl) ?? EMPTY;
      const after = next.get(typeUrl) ?? EMPTY;
      if (before === after || sameVersions(before, after)) {
        if (before.size > 0) stored.set(typeUrl, before);
        continue;
      }
      changed.add(typeUrl);
      let kept: ReadonlyMap<string, CachedResource> = after;
      if (shared) {
        for (const r of after.values()) this.interner.intern(r); // counted; the map is shared as is
      } else {
        const interned = new Map<string, CachedResource>();
        for (const [name, r] of after) interned.set(name, this.interner.intern(r));
        kept = interned;
      }
      for (const r of before.values()) this.interner.release(r);
      if (kept.size > 0) stored.set(typeUrl, kept);
    }
    this.nodes.set(nodeId, stored);
    this.deleted.delete(nodeId);
    // A node that becomes known is news to its waiting streams even if its configuration is empty.
    if (changed.size > 0 || !known) this.notify(nodeId, changed);
    return changed;
  }

  /**
   * Forgets a node (its pod is gone, or no longer ours). Its open streams see an empty
   * configuration (their engines drop what they had); once they have closed, the node is unknown
   * again, and a stream of an unknown node is answered only when the node is set (see
   * DeltaSession.nextResponse).
   */
  deleteNode(nodeId: string): void {
    const prev = this.nodes.get(nodeId);
    if (!prev) return;
    this.nodes.delete(nodeId);
    if (this.watchers.has(nodeId)) this.deleted.add(nodeId);
    for (const byName of prev.values()) for (const r of byName.values()) this.interner.release(r);
    this.notify(nodeId, new Set(prev.keys()));
  }

  /**
   * A node's resources by type, or undefined when the cache does not know the node (see hasNode);
   * a deleted node with open streams has none. One lookup for callers that look at several types.
   * Do not mutate; a type absent from the map has no resources.
   */
  nodeTypes(nodeId: string): ReadonlyMap<string, ReadonlyMap<string, CachedResource>> | undefined {
    const node = this.nodes.get(nodeId);
    if (node !== undefined) return node;
    return this.deleted.has(nodeId) ? NO_TYPES : undefined;
  }

  /** The resources of one type for a node; an empty map if there are none. Do not mutate. */
  resources(nodeId: string, typeUrl: string): ReadonlyMap<string, CachedResource> {
    return this.nodes.get(nodeId)?.get(typeUrl) ?? EMPTY;
  }

  /**
   * Whether the node has a configuration (possibly empty) set, or was deleted while its streams
   * were open. Streams of other nodes wait: the cache does not know what they should have.
   */
  hasNode(nodeId: string): boolean {
    return this.nodes.has(nodeId) || this.deleted.has(nodeId);
  }

  /** Node ids with a configuration. */
  nodeIds(): IterableIterator<string> {
    return this.nodes.keys();
  }

  /** Number of distinct encoded resources held in memory (shared ones count once). */
  get distinctResources(): number {
    return this.interner.size;
  }

  /** Calls `watcher` whenever the node's configuration changes; returns the unsubscribe function. */
  watch(nodeId: string, watcher: ConfigWatcher): () => void {
    let set = this.watchers.get(nodeId);
    if (!set) {
      set = new Set();
      this.watchers.set(nodeId, set);
    }
    set.add(watcher);
    return () => {
      const s = this.watchers.get(nodeId);
      if (!s) return;
      s.delete(watcher);
      if (s.size === 0) {
        this.watchers.delete(nodeId);
        this.deleted.delete(nodeId);
      }
    };
  }

  private notify(nodeId: string, changed: ReadonlySet<string>): void {
    const set = this.watchers.get(nodeId);
    if (!set) return;
    for (const w of [...set]) w(changed);
  }
}

/** Resources by type, then name; throws on a duplicate name (clients would NACK the response). */
function groupByType(
  nodeId: string,
  resources: Iterable<CachedResource>,
): Map<string, ReadonlyMap<string, CachedResource>> {
  const next = new Map<string, Map<string, CachedResource>>();
  for (const r of resources) {
    let byName = next.get(r.typeUrl);
    if (!byName) {
      byName = new Map();
      next.set(r.typeUrl, byName);
    }
    if (byName.has(r.name)) {
      throw new MicrogatewayError("Internal", `node ${nodeId}: two ${r.typeUrl} resources named "${r.name}"`);
    }
    byName.set(r.name, r);
  }
  return next;
}

function sameVersions(
  a: ReadonlyMap<string, CachedResource>,
  b: ReadonlyMap<string, CachedResource>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [name, r] of a) if (b.get(name)?.version !== r.version) return false;
  return true;
}
