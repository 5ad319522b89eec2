/**
 * Leader election against a real kube-apiserver, with only the RBAC documented in
 * src/operator/leader-election.ts: electors in this process and in separate `bun` processes compete
 * for one Lease; exactly one leads; a leader killed with SIGKILL is replaced within the lease duration,
 * one that stops gracefully within a retry period. Timings are shortened (3 s lease) to keep the run
 * short; the bounds asserted are the ones the design promises, the measured times are printed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CoordinationV1Api, KubeConfig } from "@kubernetes/client-node";
import type { Subprocess } from "bun";
import {
  kubeLeaseApi,
  type LeaderElection,
  leaderIdentity,
  OPERATOR_LEADER_LEASE,
  startLeaderElection,
} from "../src/operator/leader-election.ts";
import { type KubeCluster, startKubeCluster } from "./support/kube-cluster.ts";
import { waitFor } from "./support/net.ts";

const TIMING = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 } as const;
/** Room for API round trips and process scheduling on a busy machine. */
const MARGIN_MS = 1_000;
const MODULE = join(import.meta.dir, "../src/operator/leader-election.ts");
const ROOT = join(import.meta.dir, "..");

let cluster: KubeCluster;
/** A user holding nothing but the documented Role (in each test namespace). */
let electorKubeconfig: string;

/** The Role YAML from the module's doc comment, so the test fails if the documented RBAC is not enough. */
function documentedRole(namespace: string): string {
  const source = readFileSync(MODULE, "utf8");
  const block = /```yaml\n([\s\S]*?)\n\s*\* ```/.exec(source)?.[1];
  if (!block) throw new Error(`${MODULE}: no yaml block in the doc comment`);
  const yaml = block
    .split("\n")
    .map((line) => line.replace(/^\s*\* ?/, ""))
    .join("\n");
  return yaml.replace(/namespace: \S+/, `namespace: ${namespace}`);
}

beforeAll(async () => {
  cluster = await startKubeCluster();
  for (const ns of ["le-in-process", "le-processes"]) {
    await cluster.apply(`apiVersion: v1
kind: Namespace
metadata: { name: ${ns} }
---
${documentedRole(ns)}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: leader-election, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: airlock-microgateway-operator-leader-election }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: mgw-operator }]
`);
  }
  electorKubeconfig = await cluster.kubeconfigFor({ user: "mgw-operator" });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

/** An elector in this process; `startedAt` is when its onStartedLeading ran (performance.now). */
interface LocalElector {
  readonly identity: string;
  readonly election: LeaderElection;
  startedAt?: number;
}

function localElector(namespace: string, pod: string): LocalElector {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(electorKubeconfig);
  const identity = leaderIdentity(pod);
  const self: { identity: string; election?: LeaderElection; startedAt?: number } = { identity };
  self.election = startLeaderElection({
    api: kubeLeaseApi(kubeConfig.makeApiClient(CoordinationV1Api)),
    namespace,
    identity,
    ...TIMING,
    onStartedLeading: () => {
      self.startedAt = performance.now();
    },
    onStoppedLeading: () => {},
    log: (line) => console.log(`  [${pod}] ${line}`),
  });
  return self as LocalElector;
}

/** An elector in its own `bun` process; it prints one JSON line per callback. */
interface ChildElector {
  readonly identity: string;
  readonly proc: Subprocess<"ignore", "pipe", "inherit">;
  /** When each event line arrived (performance.now). */
  readonly events: { event: string; at: number }[];
}

const CHILD = `
const { CoordinationV1Api, KubeConfig } = await import("@kubernetes/client-node");
const { kubeLeaseApi, startLeaderElection } = await import(process.env.MODULE);
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(process.env.KUBECONFIG);
const say = (event) => console.log(JSON.stringify({ event }));
const election = startLeaderElection({
  api: kubeLeaseApi(kubeConfig.makeApiClient(CoordinationV1Api)),
  namespace: process.env.NAMESPACE,
  identity: process.env.IDENTITY,
  ...JSON.parse(process.env.TIMING),
  onStartedLeading: () => say("started"),
  onStoppedLeading: () => say("stopped"),
  log: (line) => console.error("  [" + process.env.IDENTITY.split("_")[0] + "] " + line),
});
process.on("SIGTERM", async () => {
  await election.stop();
  say("released");
  process.exit(0);
});
`;

function childElector(namespace: string, pod: string): ChildElector {
  const identity = leaderIdentity(pod);
  const proc = Bun.spawn(["bun", "--eval", CHILD], {
    cwd: ROOT,
    env: {
      ...process.env,
      MODULE,
      KUBECONFIG: electorKubeconfig,
      NAMESPACE: namespace,
      IDENTITY: identity,
      TIMING: JSON.stringify(TIMING),
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  const events: { event: string; at: number }[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of proc.stdout) {
      const at = performance.now();
      buffered += decoder.decode(chunk, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) events.push({ event: (JSON.parse(line) as { event: string }).event, at });
    }
  })();
  return { identity, proc, events };
}

const eventAt = (c: ChildElector, event: string) => c.events.find((e) => e.event === event)?.at;
const childLeads = (c: ChildElector) => c.events.at(-1)?.event === "started";

interface LeaseJson {
  spec: {
    holderIdentity?: string;
    leaseTransitions?: number;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
  };
}

/** The Lease as kubectl shows it (YAML for the log, JSON for the assertions). */
async function kubectlLease(namespace: string): Promise<LeaseJson> {
  const args = ["get", "lease", "-n", namespace, OPERATOR_LEADER_LEASE];
  const yaml = await cluster.kubectl([...args, "-o", "yaml"]);
  expect(yaml.code).toBe(0);
  console.log(`kubectl get lease -n ${namespace} ${OPERATOR_LEADER_LEASE} -o yaml\n${yaml.stdout}`);
  const json = await cluster.kubectl([...args, "-o", "json"]);
  return JSON.parse(json.stdout) as LeaseJson;
}

/** Samples for `ms`: exactly one of `leads` is true each time, and always the same one. */
async function expectOneSteadyLeader(leads: (() => boolean)[], ms: number): Promise<void> {
  const first = leads.findIndex((l) => l());
  for (const start = performance.now(); performance.now() - start < ms; await Bun.sleep(50)) {
    expect(leads.map((l) => l())).toEqual(leads.map((_, i) => i === first));
  }
}

describe("leader election on a real API server", () => {
  test("two electors in one process: one leads; after a graceful stop the other takes over within one retry period", async () => {
    const ns = "le-in-process";
    const a = localElector(ns, "operator-a");
    const b = localElector(ns, "operator-b");
    try {
      await waitFor("a leader", () => a.election.isLeader() || b.election.isLeader(), 10_000);
      await expectOneSteadyLeader([a.election.isLeader, b.election.isLeader], 4 * TIMING.retryPeriodMs);
      const [leader, follower] = a.election.isLeader() ? [a, b] : [b, a];

      const held = await kubectlLease(ns);
      expect(held.spec).toMatchObject({
        holderIdentity: leader.identity,
        leaseDurationSeconds: 3,
        leaseTransitions: 0,
      });
      // MicroTime as the API server stores it: exactly six fractional digits.
      expect(held.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(held.spec.acquireTime).toMatch(/\.\d{6}Z$/);

      const stopAt = performance.now();
      await leader.election.stop();
      expect(leader.election.isLeader()).toBe(false);
      await waitFor("the follower to lead", follower.election.isLeader, 10_000, 10);
      const handover = (follower.startedAt ?? Number.NaN) - stopAt;
      console.log(`graceful handover (in-process): ${handover.toFixed(0)} ms`);
      expect(handover).toBeLessThan(TIMING.retryPeriodMs + MARGIN_MS);

      expect((await kubectlLease(ns)).spec).toMatchObject({
        holderIdentity: follower.identity,
        leaseTransitions: 1,
      });
    } finally {
      await Promise.all([a.election.stop(), b.election.stop()]);
    }
    // The last one released it: held by nobody.
    expect((await kubectlLease(ns)).spec.holderIdentity ?? "").toBe("");
  }, 60_000);

  test("a leader in another process killed with SIGKILL is replaced within the lease duration; a graceful stop hands over within one retry period", async () => {
    const ns = "le-processes";
    const crashing = childElector(ns, "operator-crashing");
    let local: LocalElector | undefined;
    let successor: ChildElector | undefined;
    try {
      await waitFor("the child process to lead", () => eventAt(crashing, "started") !== undefined, 15_000);
      local = localElector(ns, "operator-local");
      const l = local;
      await expectOneSteadyLeader(
        [() => childLeads(crashing), l.election.isLeader],
        4 * TIMING.retryPeriodMs,
      );
      expect((await kubectlLease(ns)).spec.holderIdentity).toBe(crashing.identity);

      const killedAt = performance.now();
      crashing.proc.kill("SIGKILL");
      await crashing.proc.exited;
      const bound = TIMING.leaseDurationMs + TIMING.retryPeriodMs + MARGIN_MS;
      await waitFor("the surviving elector to lead", l.election.isLeader, bound + 5_000, 10);
      const takeover = (l.startedAt ?? Number.NaN) - killedAt;
      console.log(
        `handover after SIGKILL of the leader: ${takeover.toFixed(0)} ms (lease ${TIMING.leaseDurationMs} ms, retry ${TIMING.retryPeriodMs} ms)`,
      );
      expect(takeover).toBeLessThan(bound);
      expect((await kubectlLease(ns)).spec).toMatchObject({
        holderIdentity: l.identity,
        leaseTransitions: 1,
      });

      // The other way round: the in-process leader stops gracefully, a child process takes over.
      successor = childElector(ns, "operator-successor");
      await Bun.sleep(2 * TIMING.retryPeriodMs); // let it start and see the lease held
      expect(eventAt(successor, "started")).toBeUndefined();
      const stopAt = performance.now();
      await l.election.stop();
      const s = successor;
      await waitFor("the child process to take over", () => eventAt(s, "started") !== undefined, 10_000, 10);
      const handover = (eventAt(s, "started") ?? Number.NaN) - stopAt;
      console.log(`graceful handover (to another process): ${handover.toFixed(0)} ms`);
      expect(handover).toBeLessThan(TIMING.retryPeriodMs + MARGIN_MS);
      expect((await kubectlLease(ns)).spec).toMatchObject({
        holderIdentity: s.identity,
        leaseTransitions: 2,
      });

      // SIGTERM: the child stops and releases; kubectl shows no holder.
      s.proc.kill("SIGTERM");
      expect(await s.proc.exited).toBe(0);
      expect(s.events.map((e) => e.event)).toEqual(["started", "stopped", "released"]);
      expect((await kubectlLease(ns)).spec.holderIdentity ?? "").toBe("");
    } finally {
      crashing.proc.kill("SIGKILL");
      successor?.proc.kill("SIGKILL");
      await local?.election.stop();
    }
  }, 90_000);
});
