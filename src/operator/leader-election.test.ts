import { describe, expect, test } from "bun:test";
import { isMicrogatewayError } from "../errors.ts";
import {
  CONFLICT,
  type LeaderElection,
  type LeaderElectionOptions,
  type LeaseApi,
  type LeaseRecord,
  leaderIdentity,
  type ObservedLease,
  observedLease,
  startLeaderElection,
} from "./leader-election.ts";

/** Wall-clock time at fake time 0, so written timestamps are recognisable. */
const EPOCH = Date.UTC(2030, 0, 1);
const NS = "mgw-system";
const NAME = "airlock-microgateway-operator-leader";

/** Lets every promise chain started so far run to its end (the fake API answers without I/O). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A clock and timers that move only when told to. */
class FakeClock {
  private t = 0;
  private seq = 0;
  private timers: { at: number; seq: number; fn: () => void }[] = [];

  readonly now = () => this.t;
  readonly wallClock = () => EPOCH + this.t;
  readonly setTimeout = (fn: () => void, ms: number) => {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  };

  /** Moves time forward by `ms`, firing due timers in order and letting their work finish. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const at = Math.min(...this.timers.map((x) => x.at));
      if (!(at <= end)) break;
      // Everything due at one instant starts before any of it finishes, as with separate processes.
      const due = this.timers.filter((x) => x.at === at).sort((a, b) => a.seq - b.seq);
      this.timers = this.timers.filter((x) => x.at !== at);
      this.t = at;
      for (const timer of due) timer.fn();
      await settle();
    }
    this.t = end;
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}

type Op = "get" | "create" | "update";
/** What a failing call does: reject with an error, or never answer. */
type Failure = "error" | "hang";

/** An in-memory Lease with the API server's semantics: 404, 409 on create and on a stale resourceVersion. */
class FakeLeases implements LeaseApi {
  lease: ObservedLease | undefined;
  private version = 0;
  readonly calls: Op[] = [];
  /** Makes calls fail while set. */
  failing: Failure | undefined;

  async get(namespace: string, name: string): Promise<ObservedLease | undefined> {
    await this.gate("get", namespace, name);
    return this.lease;
  }

  async create(
    namespace: string,
    name: string,
    record: LeaseRecord,
  ): Promise<ObservedLease | typeof CONFLICT> {
    await this.gate("create", namespace, name);
    if (this.lease) return CONFLICT;
    return this.store(record);
  }

  async update(
    namespace: string,
    name: string,
    record: LeaseRecord,
    resourceVersion: string,
  ): Promise<ObservedLease | typeof CONFLICT> {
    await this.gate("update", namespace, name);
    if (this.lease?.resourceVersion !== resourceVersion) return CONFLICT;
    return this.store(record);
  }

  /** Writes the lease as another party would (a replica elsewhere, kubectl). */
  store(record: LeaseRecord): ObservedLease {
    this.lease = { record, resourceVersion: String(++this.version) };
    return this.lease;
  }

  get record(): LeaseRecord | undefined {
    return this.lease?.record;
  }

  private gate(op: Op, namespace: string, name: string): Promise<void> {
    this.calls.push(op);
    expect(`${namespace}/${name}`).toBe(`${NS}/${NAME}`);
    if (this.failing === "error") return Promise.reject(new Error(`${op}: connection refused`));
    if (this.failing === "hang") return new Promise(() => {});
    return Promise.resolve();
  }
}

interface Elector {
  readonly election: LeaderElection;
  /** The callbacks in order, with the fake time each came at. */
  readonly events: string[];
  readonly lines: string[];
}

function elector(
  api: LeaseApi,
  clock: FakeClock,
  identity: string,
  extra: Partial<LeaderElectionOptions> = {},
): Elector {
  const events: string[] = [];
  const lines: string[] = [];
  const election = startLeaderElection({
    api,
    namespace: NS,
    identity,
    onStartedLeading: () => events.push(`started@${clock.now()}`),
    onStoppedLeading: () => events.push(`stopped@${clock.now()}`),
    log: (line) => lines.push(line),
    now: clock.now,
    wallClock: clock.wallClock,
    setTimeout: clock.setTimeout,
    ...extra,
  });
  return { election, events, lines };
}

/** A lease another replica holds, last written at fake time `atMs`. */
function heldBy(holderIdentity: string, atMs: number, leaseTransitions = 3): LeaseRecord {
  return {
    holderIdentity,
    leaseDurationSeconds: 15,
    acquireTimeMs: EPOCH,
    renewTimeMs: EPOCH + atMs,
    leaseTransitions,
  };
}

describe("startLeaderElection", () => {
  test("acquires an absent lease at once, writing who, when and for how long", async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    const a = elector(api, clock, "a");
    expect(a.events).toEqual([]); // never called synchronously from start
    await clock.advance(0);
    expect(a.election.isLeader()).toBe(true);
    expect(a.events).toEqual(["started@0"]);
    expect(api.record).toEqual({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      acquireTimeMs: EPOCH,
      renewTimeMs: EPOCH,
      leaseTransitions: 0,
    });
    await a.election.stop();
  });

  test("renews every retry period with one update, keeping acquire time and transitions", async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    const a = elector(api, clock, "a");
    await clock.advance(0);
    api.calls.length = 0;
    await clock.advance(10_000);
    expect(api.calls).toEqual(["update", "update", "update", "update", "update"]);
    expect(api.record).toMatchObject({
      acquireTimeMs: EPOCH,
      renewTimeMs: EPOCH + 10_000,
      leaseTransitions: 0,
    });
    expect(a.events).toEqual(["started@0"]);
    await a.election.stop();
  });

  test("a lease held by itself (its own earlier write) is taken without a new transition", async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    api.store(heldBy("a", 0, 7));
    const a = elector(api, clock, "a");
    await clock.advance(0);
    expect(a.election.isLeader()).toBe(true);
    expect(api.record).toMatchObject({ holderIdentity: "a", acquireTimeMs: EPOCH, leaseTransitions: 7 });
    await a.election.stop();
  });

  test("takes over a lease whose holder went silent, one lease duration after it last saw it change", async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    // Written long "ago" by the holder's clock: expiry goes by when this replica saw it, not by renewTime.
    api.store(heldBy("dead", -60_000));
    const b = elector(api, clock, "b");
    await clock.advance(14_999);
    expect(b.election.isLeader()).toBe(false);
    await clock.advance(1);
    expect(b.events).toEqual(["started@15000"]);
    expect(api.record).toEqual({
      holderIdentity: "b",
      leaseDurationSeconds: 15,
      acquireTimeMs: EPOCH + 15_000,
      renewTimeMs: EPOCH + 15_000,
      leaseTransitions: 4,
    });
    expect(b.lines.some((l) => l.includes("of dead unchanged for 15 s"))).toBe(true);
    await b.election.stop();
  });

  test("never takes a lease its holder keeps renewing", async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    api.store(heldBy("alive", 0));
    const b = elector(api, clock, "b");
    for (let t = 5_000; t <= 60_000; t += 5_000) {
      await clock.advance(5_000);
      api.store(heldBy("alive", t));
    }
    expect(b.election.isLeader()).toBe(false);
    expect(b.events).toEqual([]);
    expect(api.calls.filter((c) => c !== "get")).toEqual([]);
    await b.election.stop();
  });

  test("of two electors racing for an absent lease exactly one wins; the other re-reads and waits", async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    const a = elector(api, clock, "a");
    const b = elector(api, clock, "b");
    await clock.advance(0);
    // Both saw no lease and both tried to create it: the second create got the 409.
    expect(api.calls.slice(0, 4)).toEqual(["get", "get", "create", "create"]);
    for (let i = 0; i < 30; i++) {
      await clock.advance(1_000);
      expect([a.election.isLeader(), b.election.isLeader()]).toEqual([true, false]);
    }
    expect(b.events).toEqual([]);
    await Promise.all([a.election.stop(), b.election.stop()]);
  });

  test("a candidate whose takeover write loses the race (409) does not lead", async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    api.store(heldBy("dead", 0));
    const b = elector(api, clock, "b");
    await clock.advance(14_000);
    // Between b's read at 15 s and its write, another replica takes the lease over.
    const realGet = api.get.bind(api);
    api.get = async (ns, name) => {
      const seen = await realGet(ns, name);
      api.store(heldBy("c", 15_000, 4));
      api.get = realGet;
      return seen;
    };
    await clock.advance(1_000);
    expect(b.election.isLeader()).toBe(false);
    expect(api.record?.holderIdentity).toBe("c");
    // c goes silent too: b takes over one lease duration after it saw c's write.
    await clock.advance(14_999);
    expect(b.election.isLeader()).toBe(false);
    await clock.advance(2_001);
    expect(b.election.isLeader()).toBe(true);
    expect(api.record?.leaseTransitions).toBe(5);
    await b.election.stop();
  });

  test("a leader whose renewal conflicts re-reads and keeps leading if the lease is still its own", async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    const a = elector(api, clock, "a");
    await clock.advance(0);
    const current = api.record;
    if (!current) throw new Error("no lease");
    api.store(current); // e.g. someone labelled it: same record, new resourceVersion
    api.calls.length = 0;
    await clock.advance(2_000);
    expect(api.calls).toEqual(["update", "get", "update"]);
    expect(a.election.isLeader()).toBe(true);
    expect(a.events).toEqual(["started@0"]);
    await a.election.stop();
  });

  test("a leader that finds another holder after a conflict stops leading at once", async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    const a = elector(api, clock, "a");
    await clock.advance(0);
    api.store(heldBy("usurper", 1_000));
    await clock.advance(2_000);
    expect(a.election.isLeader()).toBe(false);
    expect(a.events).toEqual(["started@0", "stopped@2000"]);
    expect(api.record?.holderIdentity).toBe("usurper");
    await a.election.stop();
  });

  for (const failure of ["error", "hang"] as const) {
    test(`steps down when it cannot renew within the renew deadline (API calls ${failure === "error" ? "fail" : "hang"}), before others may take over`, async () => {
      const clock = new FakeClock();
      const api = new FakeLeases();
      const a = elector(api, clock, "a");
      const b = elector(api, clock, "b");
      await clock.advance(4_000); // a acquired at 0 and renewed at 2 s and 4 s
      const lastRenewal = 4_000;
      api.failing = failure;
      await clock.advance(9_999);
      expect(a.election.isLeader()).toBe(true);
      await clock.advance(1);
      expect(a.events).toEqual(["started@0", `stopped@${lastRenewal + 10_000}`]);
      // b saw a's last renewal at 4 s and cannot take over before 4 s + lease duration.
      api.failing = undefined;
      // a itself may take the lease back at once: it is still the holder and nobody else could write.
      await clock.advance(30_000);
      expect([a.election.isLeader(), b.election.isLeader()]).toEqual([true, false]);
      expect(a.events).toEqual(["started@0", "stopped@14000", expect.stringMatching(/^started@/)]);
      await Promise.all([a.election.stop(), b.election.stop()]);
    });
  }

  test("a frozen leader's lease passes to a candidate after the lease duration, never while the leader still leads", async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    // a's own view of the API: once frozen, its calls never come back (a hung node, a partition).
    let frozen = false;
    const hangWhenFrozen =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      (...args: A): Promise<R> =>
        frozen ? new Promise<R>(() => {}) : call(...args);
    const aApi: LeaseApi = {
      get: hangWhenFrozen(api.get.bind(api)),
      create: hangWhenFrozen(api.create.bind(api)),
      update: hangWhenFrozen(api.update.bind(api)),
    };
    const a = elector(aApi, clock, "a");
    const b = elector(api, clock, "b");
    await clock.advance(4_000); // a renewed at 4 s; b read that renewal at 4 s
    frozen = true;
    for (let t = 4_000; t < 30_000; t += 250) {
      await clock.advance(250);
      expect(a.election.isLeader() && b.election.isLeader()).toBe(false);
    }
    // a gives up 10 s after its last confirmed renewal; b waits 15 s from when it saw that renewal.
    expect(a.events).toEqual(["started@0", "stopped@14000"]);
    expect(b.events).toEqual(["started@19000"]);
    expect(api.record).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    // a's stop() gives its hung renewal one renew deadline, then its hung release another.
    const stopped = Promise.all([a.election.stop(), b.election.stop()]);
    await clock.advance(20_000);
    await stopped;
    expect(a.lines.at(-1)).toContain("could not release");
    expect(api.record?.holderIdentity).toBe("");
  });

  test("stop() releases a held lease so a candidate takes over within one retry period", async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    const a = elector(api, clock, "a");
    const b = elector(api, clock, "b");
    await clock.advance(5_000);
    expect([a.election.isLeader(), b.election.isLeader()]).toEqual([true, false]);
    await a.election.stop();
    expect(a.events).toEqual(["started@0", "stopped@5000"]);
    expect(a.election.isLeader()).toBe(false);
    expect(api.record).toEqual({
      holderIdentity: "",
      leaseDurationSeconds: 1,
      acquireTimeMs: EPOCH + 5_000,
      renewTimeMs: EPOCH + 5_000,
      leaseTransitions: 0,
    });
    await clock.advance(2_000);
    expect(b.election.isLeader()).toBe(true);
    expect(api.record).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    await b.election.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  test("stop() of a candidate leaves the lease alone, and stop() is idempotent", async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    const a = elector(api, clock, "a");
    const b = elector(api, clock, "b");
    await clock.advance(1_000);
    const before = api.lease;
    await Promise.all([b.election.stop(), b.election.stop()]);
    expect(api.lease).toBe(before);
    expect(b.events).toEqual([]);
    await a.election.stop();
    await a.election.stop();
    expect(a.events).toEqual(["started@0", "stopped@1000"]);
  });

  test("stop() during a renewal in flight releases the lease that renewal wrote", async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    const a = elector(api, clock, "a");
    await clock.advance(0);
    // The next renewal is answered only after stop() has begun.
    let answer: () => void = () => {};
    const realUpdate = api.update.bind(api);
    api.update = (ns, name, record, rv) => {
      api.update = realUpdate;
      return new Promise((resolve) => {
        answer = () => resolve(realUpdate(ns, name, record, rv));
      });
    };
    await clock.advance(2_000);
    const stopped = a.election.stop();
    expect(a.events).toEqual(["started@0", "stopped@2000"]);
    answer();
    await stopped;
    expect(api.record?.holderIdentity).toBe("");
    expect(a.election.isLeader()).toBe(false);
  });

  test("a release that fails is logged, not thrown", async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    const a = elector(api, clock, "a");
    await clock.advance(0);
    api.failing = "error";
    await a.election.stop();
    expect(a.lines.some((l) => l.includes("could not release"))).toBe(true);
    expect(api.record?.holderIdentity).toBe("a");
  });

  test("callbacks that throw do not stop the elector", async () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    const a = elector(api, clock, "a", {
      onStartedLeading: () => {
        throw new Error("boom");
      },
    });
    await clock.advance(4_000);
    expect(a.election.isLeader()).toBe(true);
    expect(a.lines.some((l) => l.includes("onStartedLeading of a threw: boom"))).toBe(true);
    await a.election.stop();
  });

  test("rejects timings that could let two replicas lead at once", () => {
    const clock = new FakeClock();
    const api = new FakeLeases();
    const bad: [Partial<LeaderElectionOptions>, string][] = [
      [{ leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }, "leaseDurationMs 10000 must be greater than"],
      [{ leaseDurationMs: 15_500 }, "whole number of seconds"],
      [{ retryPeriodMs: 10_000 }, "renewDeadlineMs 10000 must be greater than retryPeriodMs 10000"],
      [{ retryPeriodMs: 0 }, "retryPeriodMs 0 must be positive"],
      [{ identity: "" }, "identity must not be empty"],
    ];
    for (const [opts, message] of bad) {
      let error: unknown;
      try {
        elector(api, clock, "a", opts);
      } catch (e) {
        error = e;
      }
      expect(isMicrogatewayError(error) && error.code === "InvalidArgument").toBe(true);
      expect(String(error)).toContain(`leader election on Lease ${NS}/${NAME}: `);
      expect(String(error)).toContain(message);
    }
    expect(clock.pendingTimers).toBe(0);
  });
});

describe("observedLease", () => {
  test("reads MicroTime fields as the client hands them over (strings), and missing fields as zero", () => {
    expect(
      observedLease({
        metadata: { resourceVersion: "42" },
        spec: {
          holderIdentity: "x",
          leaseDurationSeconds: 15,
          // The client's deserializer leaves V1MicroTime fields as the JSON strings.
          acquireTime: "2030-01-01T00:00:00.123456Z" as unknown as Date,
          renewTime: new Date(EPOCH + 1),
          leaseTransitions: 2,
        },
      }),
    ).toEqual({
      resourceVersion: "42",
      record: {
        holderIdentity: "x",
        leaseDurationSeconds: 15,
        acquireTimeMs: EPOCH + 123,
        renewTimeMs: EPOCH + 1,
        leaseTransitions: 2,
      },
    });
    expect(observedLease({}).record).toEqual({
      holderIdentity: "",
      leaseDurationSeconds: 0,
      acquireTimeMs: 0,
      renewTimeMs: 0,
      leaseTransitions: 0,
    });
  });
});

test("leaderIdentity is the pod name plus a random suffix", () => {
  const a = leaderIdentity("operator-7d9f-abcde");
  expect(a).toMatch(/^operator-7d9f-abcde_[0-9a-f-]{36}$/);
  expect(leaderIdentity("operator-7d9f-abcde")).not.toBe(a);
});
