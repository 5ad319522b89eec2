/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics, so that of several
 * operator replicas exactly one issues and rotates certificates and writes shared objects (see the
 * "Scale model" in ARCHITECTURE.md). Every replica keeps serving xDS; only the leader-only work follows
 * `onStartedLeading` / `onStoppedLeading`.
 *
 * The rules, as in client-go's `leaderelection` package:
 * - A candidate takes the lease when it is absent, released (empty holder), held by itself, or expired:
 *   not changed for `leaseDurationSeconds` by the candidate's own clock since it last saw it change.
 *   client-go measures expiry from that local observation, not from the holder's `renewTime`, so clock
 *   skew between nodes cannot make two replicas lead at once; the price is that a candidate that
 *   starts next to a dead holder's lease waits one full lease duration.
 * - The leader renews every retry period and steps down if no renewal was confirmed within the renew
 *   deadline, counted from when the last confirmed renewal was sent. That write reached the API server
 *   after it was sent and others saw it later still, so with renewDeadline < leaseDuration the leader
 *   stops before any other replica can consider the lease expired.
 * - Every write carries the resourceVersion last seen; a 409 means someone else wrote first, and the
 *   elector re-reads instead of overwriting. `leaseTransitions` counts changes of holder.
 * - `stop()` releases a held lease (empty holder), so a successor takes over within one retry period.
 *
 * RBAC: the elector needs this Role in the operator namespace (bound to the operator's
 * ServiceAccount). `create` cannot be narrowed by resourceNames, `get` and `update` can:
 *
 * ```yaml
 * apiVersion: rbac.authorization.k8s.io/v1
 * kind: Role
 * metadata:
 *   name: airlock-microgateway-operator-leader-election
 *   namespace: airlock-microgateway-system
 * rules:
 *   - apiGroups: [coordination.k8s.io]
 *     resources: [leases]
 *     verbs: [create]
 *   - apiGroups: [coordination.k8s.io]
 *     resources: [leases]
 *     resourceNames: [airlock-microgateway-operator-leader]
 *     verbs: [get, update]
 * ```
 */
import { hostname } from "node:os";
import { ApiException, type CoordinationV1Api, type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import { errorMessage, MicrogatewayError } from "../errors.ts";

/** The Lease the operator replicas compete for (in the operator namespace). */
export const OPERATOR_LEADER_LEASE = "airlock-microgateway-operator-leader";

/** What a Lease says about its holder; times are milliseconds since the epoch. */
export interface LeaseRecord {
  /** Empty when nobody holds the lease (it was released). */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTimeMs: number;
  readonly renewTimeMs: number;
  readonly leaseTransitions: number;
}

/** A Lease as read from or written to the API: its record and the version a write must name. */
export interface ObservedLease {
  readonly record: LeaseRecord;
  readonly resourceVersion: string;
}

/** The answer to a write that lost an optimistic-concurrency race (HTTP 409). */
export const CONFLICT = "conflict";

/** The Lease calls the elector makes; Kubernetes in production, a map in unit tests. */
export interface LeaseApi {
  /** The lease, or undefined if it does not exist. */
  get(namespace: string, name: string): Promise<ObservedLease | undefined>;
  /** Creates the lease; {@link CONFLICT} if it exists already (another replica created it first). */
  create(namespace: string, name: string, record: LeaseRecord): Promise<ObservedLease | typeof CONFLICT>;
  /** Replaces the lease if it is still at `resourceVersion`, else {@link CONFLICT}. */
  update(
    namespace: string,
    name: string,
    record: LeaseRecord,
    resourceVersion: string,
  ): Promise<ObservedLease | typeof CONFLICT>;
}

/** Options of {@link startLeaderElection}. */
export interface LeaderElectionOptions {
  readonly api: LeaseApi;
  /** Namespace of the Lease (the operator namespace). */
  readonly namespace: string;
  /** Name of the Lease (default {@link OPERATOR_LEADER_LEASE}). */
  readonly name?: string;
  /** Unique per process, e.g. from {@link leaderIdentity}: a restarted pod must not pass for its old self. */
  readonly identity: string;
  /** How long others wait for a silent holder; whole seconds, as the Lease stores it (default 15 s). */
  readonly leaseDurationMs?: number;
  /** The leader steps down if it could not renew for this long; less than the lease duration (default 10 s). */
  readonly renewDeadlineMs?: number;
  /** Time between renewals and between acquisition attempts (default 2 s). */
  readonly retryPeriodMs?: number;
  /** This replica now leads: start the leader-only work. Called again after each `onStoppedLeading`. */
  onStartedLeading(): void;
  /** This replica no longer leads (lost, could not renew, or stopping): stop the leader-only work now. */
  onStoppedLeading(): void;
  readonly log?: (line: string) => void;
  /** Monotonic milliseconds for all local timing (default `performance.now`). */
  readonly now?: () => number;
  /** Milliseconds since the epoch, written as the Lease's acquire and renew times (default `Date.now`). */
  readonly wallClock?: () => number;
  /** Runs `fn` after `ms`; returns a function that cancels it (default: the global setTimeout). */
  readonly setTimeout?: (fn: () => void, ms: number) => () => void;
}

/** A running elector. */
export interface LeaderElection {
  /** Whether this replica leads now (between `onStartedLeading` and `onStoppedLeading`). */
  isLeader(): boolean;
  /** Stops competing; if leading, calls `onStoppedLeading` and then releases the lease. Never rejects. */
  stop(): Promise<void>;
}

/** A unique elector identity: the pod name plus a random suffix, as client-go users build it. */
export function leaderIdentity(podName: string = process.env.POD_NAME ?? hostname()): string {
  return `${podName}_${crypto.randomUUID()}`;
}

/**
 * Starts competing for the Lease `namespace/name`. The first attempt runs right after this returns;
 * the callbacks are never called synchronously from here.
 *
 * @example
 * const election = startLeaderElection({
 *   api: kubeLeaseApi(kubeConfig.makeApiClient(CoordinationV1Api)),
 *   namespace: "airlock-microgateway-system",
 *   identity: leaderIdentity(),
 *   onStartedLeading: () => rotation.start(),
 *   onStoppedLeading: () => rotation.stop(),
 * });
 */
export function startLeaderElection(opts: LeaderElectionOptions): LeaderElection {
  const { api, namespace, identity } = opts;
  const name = opts.name ?? OPERATOR_LEADER_LEASE;
  const lease = `Lease ${namespace}/${name}`;
  const leaseDurationMs = opts.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = opts.retryPeriodMs ?? 2_000;
  validate(lease, identity, leaseDurationMs, renewDeadlineMs, retryPeriodMs);
  const log = opts.log ?? ((line: string) => console.log(line));
  const now = opts.now ?? (() => performance.now());
  const wallClock = opts.wallClock ?? Date.now;
  const schedule =
    opts.setTimeout ??
    ((fn: () => void, ms: number) => {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    });

  let leading = false;
  let stopped = false;
  /** The lease as last read or written, and when (local clock) it was first seen at that version. */
  let observed: { lease: ObservedLease; sinceMs: number } | undefined;
  let cancelNext: (() => void) | undefined;
  let cancelDeadline: (() => void) | undefined;
  let attempt: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  const observe = (l: ObservedLease) => {
    if (observed?.lease.resourceVersion !== l.resourceVersion) observed = { lease: l, sinceMs: now() };
  };

  /** A hung request must not stall the loop; one abandoned but landing later is caught by resourceVersion. */
  const bounded = <T>(what: string, call: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const cancel = schedule(
        () => reject(new Error(`${what} ${lease}: no answer within ${renewDeadlineMs} ms`)),
        renewDeadlineMs,
      );
      call.then(
        (v) => {
          cancel();
          resolve(v);
        },
        (e: unknown) => {
          cancel();
          reject(e);
        },
      );
    });

  const callback = (which: "onStartedLeading" | "onStoppedLeading") => {
    try {
      opts[which]();
    } catch (e) {
      log(`leader election: ${which} of ${identity} threw: ${errorMessage(e)}`);
    }
  };

  const stepDown = (why: string) => {
    if (!leading) return;
    leading = false;
    cancelDeadline?.();
    cancelDeadline = undefined;
    log(`leader election: ${identity} stopped leading ${lease}: ${why}`);
    callback("onStoppedLeading");
  };

  /** A write sent at `sentMs` was confirmed: lead (again) until `sentMs + renewDeadline`. */
  const confirmed = (sentMs: number) => {
    const remaining = sentMs + renewDeadlineMs - now();
    // A confirmation that arrives after its own deadline proves nothing about the time ahead.
    if (stopped || remaining <= 0) return;
    cancelDeadline?.();
    cancelDeadline = schedule(
      () => stepDown(`no renewal confirmed within the renew deadline (${renewDeadlineMs} ms)`),
      remaining,
    );
    if (!leading) {
      leading = true;
      log(
        `leader election: ${identity} leads ${lease} (transitions ${observed?.lease.record.leaseTransitions ?? 0})`,
      );
      callback("onStartedLeading");
    }
  };

  const record = (sentWallMs: number, acquireTimeMs: number, leaseTransitions: number): LeaseRecord => ({
    holderIdentity: identity,
    leaseDurationSeconds: leaseDurationMs / 1000,
    acquireTimeMs,
    renewTimeMs: sentWallMs,
    leaseTransitions,
  });

  /** One client-go `tryAcquireOrRenew`: true if this replica holds the lease afterwards. */
  const tryAcquireOrRenew = async (): Promise<boolean> => {
    const sentMs = now();
    const wallMs = wallClock();
    // Fast path: the leader assumes nobody else wrote since its own last write.
    if (leading && observed) {
      const prev = observed.lease;
      const r = await bounded(
        "renewing",
        api.update(
          namespace,
          name,
          record(wallMs, prev.record.acquireTimeMs, prev.record.leaseTransitions),
          prev.resourceVersion,
        ),
      );
      if (r !== CONFLICT) {
        observe(r);
        confirmed(sentMs);
        return true;
      }
      log(`leader election: ${lease} changed since ${identity} last wrote it; re-reading`);
    }

    const current = await bounded("reading", api.get(namespace, name));
    if (!current) {
      const created = await bounded("creating", api.create(namespace, name, record(wallMs, wallMs, 0)));
      if (created === CONFLICT) return false;
      observe(created);
      confirmed(sentMs);
      return true;
    }
    observe(current);
    const holder = current.record.holderIdentity;
    if (holder !== "" && holder !== identity) {
      if (leading) {
        stepDown(`${holder} holds it now`);
        return false;
      }
      const since = observed?.sinceMs ?? now();
      if (since + current.record.leaseDurationSeconds * 1000 > now()) return false;
      log(
        `leader election: ${lease} of ${holder} unchanged for ${current.record.leaseDurationSeconds} s; ${identity} takes it over`,
      );
    }
    const ours = holder === identity;
    const next = ours
      ? record(wallMs, current.record.acquireTimeMs, current.record.leaseTransitions)
      : record(wallMs, wallMs, current.record.leaseTransitions + 1);
    const updated = await bounded("updating", api.update(namespace, name, next, current.resourceVersion));
    if (updated === CONFLICT) return false;
    observe(updated);
    confirmed(sentMs);
    return true;
  };

  /** When to try next: a candidate facing a live holder wakes exactly when that lease would expire. */
  const nextDelay = (): number => {
    const l = observed?.lease.record;
    if (leading || !observed || !l || l.holderIdentity === "" || l.holderIdentity === identity)
      return retryPeriodMs;
    const expiresIn = observed.sinceMs + l.leaseDurationSeconds * 1000 - now();
    return Math.max(0, Math.min(retryPeriodMs, expiresIn));
  };

  const run = () => {
    cancelNext = undefined;
    if (stopped) return;
    attempt = tryAcquireOrRenew()
      .then(
        () => {},
        (e: unknown) => log(`leader election: ${identity} on ${lease}: ${errorMessage(e)}`),
      )
      .finally(() => {
        attempt = undefined;
        if (!stopped) cancelNext = schedule(run, nextDelay());
      });
  };

  const release = async () => {
    for (let tries = 0; tries < 2 && observed?.lease.record.holderIdentity === identity; tries++) {
      const prev = observed.lease;
      const wallMs = wallClock();
      const released: LeaseRecord = {
        holderIdentity: "",
        // What client-go writes on release: 1 s, so readers that still go by duration move on fast.
        leaseDurationSeconds: 1,
        acquireTimeMs: wallMs,
        renewTimeMs: wallMs,
        leaseTransitions: prev.record.leaseTransitions,
      };
      const r = await bounded("releasing", api.update(namespace, name, released, prev.resourceVersion));
      if (r !== CONFLICT) {
        observe(r);
        log(`leader election: ${identity} released ${lease}`);
        return;
      }
      const current = await bounded("reading", api.get(namespace, name));
      if (!current) return;
      observe(current);
    }
  };

  cancelNext = schedule(run, 0);

  return {
    isLeader: () => leading,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        cancelNext?.();
        stepDown("stopping");
        // An attempt in flight may still land: release against whatever it left behind, but do not let
        // an unreachable API server hold up the shutdown for several request timeouts.
        const inFlight = attempt;
        if (inFlight) {
          await new Promise<void>((resolve) => {
            const cancel = schedule(resolve, renewDeadlineMs);
            void inFlight.then(() => {
              cancel();
              resolve();
            });
          });
        }
        cancelDeadline?.();
        try {
          await release();
        } catch (e) {
          log(
            `leader election: ${identity} could not release ${lease} (others take over after it expires): ${errorMessage(e)}`,
          );
        }
      })();
      return stopping;
    },
  };
}

function validate(
  lease: string,
  identity: string,
  leaseDurationMs: number,
  renewDeadlineMs: number,
  retryPeriodMs: number,
): void {
  const fail = (message: string) => {
    throw new MicrogatewayError("InvalidArgument", `leader election on ${lease}: ${message}`);
  };
  if (identity === "") fail("identity must not be empty");
  if (!Number.isInteger(leaseDurationMs / 1000) || leaseDurationMs < 1000)
    fail(`leaseDurationMs ${leaseDurationMs} must be a whole number of seconds (the Lease stores seconds)`);
  if (!(retryPeriodMs > 0)) fail(`retryPeriodMs ${retryPeriodMs} must be positive`);
  if (!(renewDeadlineMs > retryPeriodMs))
    fail(`renewDeadlineMs ${renewDeadlineMs} must be greater than retryPeriodMs ${retryPeriodMs}`);
  if (!(leaseDurationMs > renewDeadlineMs))
    fail(`leaseDurationMs ${leaseDurationMs} must be greater than renewDeadlineMs ${renewDeadlineMs}`);
}

/**
 * A {@link LeaseApi} on the Kubernetes API. Writes replace the whole Lease: labels or annotations put
 * on it by hand do not survive the next renewal.
 */
export function kubeLeaseApi(coordination: CoordinationV1Api): LeaseApi {
  const body = (namespace: string, name: string, r: LeaseRecord, resourceVersion?: string): V1Lease => ({
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name, namespace, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
    spec: {
      holderIdentity: r.holderIdentity,
      leaseDurationSeconds: r.leaseDurationSeconds,
      leaseTransitions: r.leaseTransitions,
      // MicroTime must have exactly six fractional digits; a plain Date serializes three and the API
      // server answers 400. V1MicroTime's toISOString pads to six.
      acquireTime: new V1MicroTime(r.acquireTimeMs),
      renewTime: new V1MicroTime(r.renewTimeMs),
    },
  });
  const conflictAsValue = (e: unknown): typeof CONFLICT => {
    if (e instanceof ApiException && e.code === 409) return CONFLICT;
    throw e;
  };
  return {
    async get(namespace, name) {
      try {
        return observedLease(await coordination.readNamespacedLease({ namespace, name }));
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) return undefined;
        throw e;
      }
    },
    async create(namespace, name, record) {
      try {
        return observedLease(
          await coordination.createNamespacedLease({ namespace, body: body(namespace, name, record) }),
        );
      } catch (e) {
        return conflictAsValue(e);
      }
    },
    async update(namespace, name, record, resourceVersion) {
      try {
        return observedLease(
          await coordination.replaceNamespacedLease({
            namespace,
            name,
            body: body(namespace, name, record, resourceVersion),
          }),
        );
      } catch (e) {
        return conflictAsValue(e);
      }
    },
  };
}

/** The record of a Lease from the API (missing fields read as client-go reads them: zero, empty). */
export function observedLease(l: V1Lease): ObservedLease {
  const s = l.spec ?? {};
  return {
    resourceVersion: l.metadata?.resourceVersion ?? "",
    record: {
      holderIdentity: s.holderIdentity ?? "",
      leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
      acquireTimeMs: microTimeMs(s.acquireTime),
      renewTimeMs: microTimeMs(s.renewTime),
      leaseTransitions: s.leaseTransitions ?? 0,
    },
  };
}

/**
 * Milliseconds of a MicroTime field. The client's types say V1MicroTime (a Date), but its deserializer
 * has no case for that type and hands over the JSON string unchanged.
 */
function microTimeMs(v: Date | string | undefined): number {
  if (v === undefined) return 0;
  const ms = v instanceof Date ? v.getTime() : Date.parse(v);
  return Number.isNaN(ms) ? 0 : ms;
}
