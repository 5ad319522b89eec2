/**
 * A real Kubernetes control plane for end-to-end tests: etcd, kube-apiserver and optionally
 * kube-controller-manager on 127.0.0.1, with a fresh PKI, random ports and throwaway state. There is
 * no scheduler and no kubelet: Pods are stored and validated but stay Pending.
 *
 * The binaries come from `bash scripts/setup-cluster.sh` (versions pinned in test/cluster/tools/go.mod).
 */
import "reflect-metadata";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Subprocess } from "bun";
import { type Authority, createAuthority } from "../../src/certs/authority.ts";
import { issueServerCertificate } from "../../src/certs/issue.ts";
import { generateKeyPair, privateKeyToPem } from "../../src/certs/keys.ts";
import {
  issueUserCertificate,
  publicKeyToPem,
  type UserCertificate,
  writeKubeconfig,
} from "./kube-credentials.ts";
import { freePort } from "./net.ts";

/** Options of {@link startKubeCluster}. */
export interface KubeClusterOptions {
  /**
   * Also run kube-controller-manager: Deployments create Pods, the garbage collector deletes owned
   * objects, and namespaces get their `default` ServiceAccount. Without it the ServiceAccount admission
   * plugin refuses every Pod until the test creates that ServiceAccount itself. Default false.
   */
  controllerManager?: boolean;
  /**
   * Where process output goes (`etcd.log`, `kube-apiserver.log`, `kube-controller-manager.log`), kept
   * after stop; one directory per cluster. Default: inside the cluster's temp dir, removed on stop (a
   * failed start still reports the end of the failing process's log in its error).
   */
  logDir?: string;
}

/** What a kubectl run returned. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link KubeCluster.kubectl}. */
export interface KubectlOptions {
  /** Written to kubectl's stdin (for `-f -`). */
  stdin?: string;
  /** Run as another user, e.g. a path from {@link KubeCluster.kubeconfigFor}. Default: the admin kubeconfig. */
  kubeconfigPath?: string;
}

/** A user of the cluster, authenticated by a client certificate signed by the cluster CA. */
export interface KubeUser {
  /** The user name (certificate CN), e.g. `jane`. */
  user: string;
  /** Groups (certificate O), e.g. `["dev"]`; every authenticated user is also in `system:authenticated`. */
  groups?: readonly string[];
}

/** A running test cluster. */
export interface KubeCluster {
  /** Kubeconfig of the admin user (group `system:masters`), current context namespace `default`. */
  readonly kubeconfigPath: string;
  /** The API server URL, e.g. `https://127.0.0.1:40123`. */
  readonly server: string;
  /** The cluster CA (signs the serving certificate and every client certificate). */
  readonly caPem: string;
  /** The admin client certificate and key (PEM). */
  readonly adminCertPem: string;
  readonly adminKeyPem: string;
  /** Where the process logs are. */
  readonly logDir: string;
  /** How long startup took, until `/readyz` (and the controller manager) were ready. */
  readonly startupMs: number;
  /** Runs kubectl against this cluster; never throws for a non-zero exit. */
  kubectl(args: readonly string[], opts?: KubectlOptions): Promise<KubectlResult>;
  /** `kubectl apply -f -` as admin; returns kubectl's output, throws with its stderr on failure. */
  apply(yaml: string): Promise<string>;
  /** Writes a kubeconfig for a user with the given groups (client certificate) and returns its path. */
  kubeconfigFor(user: KubeUser): Promise<string>;
  /** Kills the kube-apiserver as a crash would and starts it again on the same port (etcd keeps the data). */
  restartApiServer(): Promise<void>;
  /** Kills every process and removes the temp dir (idempotent). */
  stop(): Promise<void>;
}

const SERVICE_CIDR = "10.0.0.0/24";
/** The `kubernetes` Service's address: the first of {@link SERVICE_CIDR}, a SAN in-cluster clients verify. */
const KUBERNETES_SERVICE_IP = "10.0.0.1";
const READY_TIMEOUT_MS = 120_000;
/** Port collisions between `freePort()` and the bind are rare; a few fresh tries make them harmless. */
const PORT_ATTEMPTS = 3;

/** Where scripts/setup-cluster.sh puts the binaries of the pinned version (one source: the tools go.mod). */
export function kubeBinDir(): string {
  const goMod = fileURLToPath(new URL("../cluster/tools/go.mod", import.meta.url));
  const version = /^\s*(?:require\s+)?k8s\.io\/kubernetes\s+(v\S+)/m.exec(readFileSync(goMod, "utf8"))?.[1];
  if (!version) throw new Error(`${goMod}: no "k8s.io/kubernetes vX.Y.Z" requirement`);
  const cache = process.env.MICROGATEWAY_CACHE ?? join(homedir(), ".cache", "microgateway");
  return join(cache, "kube", version);
}

/** Starts etcd, kube-apiserver and optionally kube-controller-manager; throws if a binary is missing. */
export async function startKubeCluster(opts: KubeClusterOptions = {}): Promise<KubeCluster> {
  const started = performance.now();
  const bin = findBinaries(opts.controllerManager ?? false);
  const dir = await mkdtemp(join(tmpdir(), "mgw-kube-"));
  const logDir = opts.logDir ?? join(dir, "logs");
  mkdirSync(logDir, { recursive: true });
  const procs: Subprocess[] = [];
  const cleanup = () => {
    for (const p of procs) p.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  running.add(cleanup);
  try {
    const pki = await createPki(dir);
    const etcdUrl = await startEtcd(bin.etcd, dir, logDir, procs);
    const server = await startApiServer(bin.apiServer, pki, etcdUrl, dir, logDir, procs);
    const kubeconfigPath = join(dir, "admin.kubeconfig");
    await writeKubeconfig(kubeconfigPath, server, pki.ca.certificatePem, "admin", pki.admin);
    const kubectlBin = bin.kubectl;
    const cacheDir = join(dir, "kubectl-cache");
    const kubectl = (args: readonly string[], kopts: KubectlOptions = {}) =>
      runKubectl(kubectlBin, cacheDir, kopts.kubeconfigPath ?? kubeconfigPath, args, kopts.stdin);
    if (bin.controllerManager) {
      const kcmKubeconfig = join(dir, "kube-controller-manager.kubeconfig");
      // Every controller acts with this identity (see controllerManagerArgs), so it needs every right.
      const kcmCert = await issueUserCertificate(pki.ca, "system:kube-controller-manager", [
        "system:masters",
      ]);
      await writeKubeconfig(kcmKubeconfig, server, pki.ca.certificatePem, "kcm", kcmCert);
      const kcm = spawnLogged(
        bin.controllerManager,
        controllerManagerArgs(dir, kcmKubeconfig),
        logDir,
        procs,
      );
      // The ServiceAccount controller's first act; Pods are refused in a namespace without one.
      await waitForProcess(
        kcm,
        "the controller manager to create ServiceAccount default/default",
        async () => {
          const r = await kubectl(["get", "serviceaccount", "default", "-n", "default", "-o", "name"]);
          return r.code === 0;
        },
      );
    }
    let stopped = false;
    return {
      kubeconfigPath,
      server,
      caPem: pki.ca.certificatePem,
      adminCertPem: pki.admin.certificatePem,
      adminKeyPem: pki.admin.privateKeyPem,
      logDir,
      startupMs: Math.round(performance.now() - started),
      kubectl,
      async apply(yaml) {
        const r = await kubectl(["apply", "-f", "-"], { stdin: yaml });
        if (r.code !== 0) throw new Error(`kubectl apply failed (exit ${r.code}): ${r.stderr.trim()}`);
        return r.stdout;
      },
      async kubeconfigFor(u) {
        const cert = await issueUserCertificate(pki.ca, u.user, u.groups ?? []);
        const path = join(dir, `user-${crypto.randomUUID()}.kubeconfig`);
        await writeKubeconfig(path, server, pki.ca.certificatePem, u.user, cert);
        return path;
      },
      restartApiServer: () =>
        restartApiServer(server, {
          ca: pki.ca.certificatePem,
          cert: pki.admin.certificatePem,
          key: pki.admin.privateKeyPem,
        }),
      async stop() {
        if (stopped) return;
        stopped = true;
        apiServerLaunches.delete(server);
        await Promise.all(procs.map(kill));
        cleanup();
        running.delete(cleanup);
      },
    };
  } catch (e) {
    cleanup();
    running.delete(cleanup);
    throw e;
  }
}

interface Binaries {
  etcd: string;
  apiServer: string;
  controllerManager?: string;
  kubectl: string;
}

function findBinaries(controllerManager: boolean): Binaries {
  const dir = kubeBinDir();
  const need = ["etcd", "kube-apiserver", ...(controllerManager ? ["kube-controller-manager"] : [])];
  const missing = need.filter((name) => !existsSync(join(dir, name)));
  if (missing.length > 0) {
    throw new Error(
      `Kubernetes test binaries missing in ${dir}: ${missing.join(", ")}. Run \`bash scripts/setup-cluster.sh\` (a cold build takes several minutes).`,
    );
  }
  // setup-cluster.sh builds kubectl only on machines without one.
  const kubectl = existsSync(join(dir, "kubectl")) ? join(dir, "kubectl") : Bun.which("kubectl");
  if (!kubectl)
    throw new Error("kubectl not found on PATH nor in the cache: run `bash scripts/setup-cluster.sh`");
  return {
    etcd: join(dir, "etcd"),
    apiServer: join(dir, "kube-apiserver"),
    controllerManager: controllerManager ? join(dir, "kube-controller-manager") : undefined,
    kubectl,
  };
}

interface Pki {
  ca: Authority;
  admin: UserCertificate;
  files: { ca: string; caKey: string; serving: string; servingKey: string; saKey: string; saPub: string };
}

async function createPki(dir: string): Promise<Pki> {
  const ca = await createAuthority({ commonName: "microgateway-test-kube-ca", validityDays: 2 });
  const [serving, admin, sa] = await Promise.all([
    issueServerCertificate(ca, {
      commonName: "kube-apiserver",
      dnsNames: [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
      ],
      ipAddresses: ["127.0.0.1", KUBERNETES_SERVICE_IP],
    }),
    issueUserCertificate(ca, "microgateway-test-admin", ["system:masters"]),
    generateKeyPair(),
  ]);
  const files = {
    ca: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    serving: join(dir, "apiserver.crt"),
    servingKey: join(dir, "apiserver.key"),
    saKey: join(dir, "sa.key"),
    saPub: join(dir, "sa.pub"),
  };
  await Promise.all([
    writeFile(files.ca, ca.certificatePem),
    writeFile(files.caKey, ca.privateKeyPem, { mode: 0o600 }),
    writeFile(files.serving, serving.chainPem),
    writeFile(files.servingKey, serving.privateKeyPem, { mode: 0o600 }),
    writeFile(files.saKey, await privateKeyToPem(sa.privateKey), { mode: 0o600 }),
    writeFile(files.saPub, await publicKeyToPem(sa.publicKey)),
  ]);
  return { ca, admin, files };
}

async function startEtcd(binary: string, dir: string, logDir: string, procs: Subprocess[]): Promise<string> {
  return withFreshPorts("etcd", async () => {
    const client = `http://127.0.0.1:${freePort()}`;
    const peer = `http://127.0.0.1:${freePort()}`;
    const args = [
      "--name=test",
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=test=${peer}`,
      "--log-level=warn",
      // Throwaway data: durability buys nothing and fsync dominates write latency on small disks.
      "--unsafe-no-fsync",
    ];
    rmSync(join(dir, "etcd"), { recursive: true, force: true });
    const proc = spawnLogged(binary, args, logDir, procs);
    await waitForProcess(proc, `etcd /health at ${client}`, async () => {
      const res = await fetch(`${client}/health`);
      return res.ok && ((await res.json()) as { health?: string }).health === "true";
    });
    return client;
  });
}

/** How each running kube-apiserver was started, by URL, so a test can restart it in place. */
const apiServerLaunches = new Map<
  string,
  { binary: string; args: string[]; logDir: string; procs: Subprocess[]; proc: Subprocess }
>();

/**
 * Kills the kube-apiserver (SIGKILL, as a crash) and starts it again on the same port with the same
 * etcd, so clients see their watches break and must reconnect. Resolves when /readyz answers.
 */
async function restartApiServer(
  server: string,
  tls: { ca: string; cert: string; key: string },
): Promise<void> {
  const launch = apiServerLaunches.get(server);
  if (!launch) throw new Error(`no kube-apiserver started at ${server}`);
  launch.proc.kill("SIGKILL");
  await launch.proc.exited;
  const proc = spawnLogged(launch.binary, launch.args, launch.logDir, launch.procs);
  launch.proc = proc;
  await waitForProcess(proc, `kube-apiserver ${server}/readyz after a restart`, async () => {
    const res = await fetch(`${server}/readyz`, { tls });
    await res.arrayBuffer();
    return res.ok;
  });
}

async function startApiServer(
  binary: string,
  pki: Pki,
  etcdUrl: string,
  dir: string,
  logDir: string,
  procs: Subprocess[],
): Promise<string> {
  return withFreshPorts("kube-apiserver", async () => {
    const port = freePort();
    const f = pki.files;
    const args = [
      `--etcd-servers=${etcdUrl}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${port}`,
      `--cert-dir=${join(dir, "apiserver-certs")}`,
      `--tls-cert-file=${f.serving}`,
      `--tls-private-key-file=${f.servingKey}`,
      `--client-ca-file=${f.ca}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${f.saPub}`,
      `--service-account-signing-key-file=${f.saKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--authorization-mode=Node,RBAC",
      // The engine's init container needs NET_ADMIN; a cluster refusing privileged Pods would hide that.
      "--allow-privileged=true",
      "--profiling=false",
      // The `kubernetes` Service cannot point at 127.0.0.1 (loopback endpoints are invalid), and nothing
      // runs in-cluster to use it: without this the reconciler logs an error every 10 s.
      "--endpoint-reconciler-type=none",
    ];
    const proc = spawnLogged(binary, args, logDir, procs);
    const server = `https://127.0.0.1:${port}`;
    apiServerLaunches.set(server, { binary, args, logDir, procs, proc });
    const tls = { ca: pki.ca.certificatePem, cert: pki.admin.certificatePem, key: pki.admin.privateKeyPem };
    await waitForProcess(proc, `kube-apiserver ${server}/readyz`, async () => {
      const res = await fetch(`${server}/readyz`, { tls });
      await res.arrayBuffer();
      return res.ok;
    });
    // /readyz does not cover the namespaces a controller creates just after start; tests expect them.
    await waitForProcess(proc, "namespaces default and kube-system", async () => {
      for (const ns of ["default", "kube-system"]) {
        const res = await fetch(`${server}/api/v1/namespaces/${ns}`, { tls });
        await res.arrayBuffer();
        if (!res.ok) return false;
      }
      return true;
    });
    return server;
  });
}

function controllerManagerArgs(dir: string, kubeconfig: string): string[] {
  const f = { ca: join(dir, "ca.crt"), caKey: join(dir, "ca.key"), saKey: join(dir, "sa.key") };
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    // No health endpoint needed (and no port to collide); readiness is observed through the API.
    "--secure-port=0",
    "--leader-elect=false",
    // Controllers act as the controller manager itself (group system:masters) rather than one
    // ServiceAccount each, as kubeadm sets up: minting ~40 accounts and tokens adds 4-5 s to every start,
    // and the controllers' own RBAC is Kubernetes' concern, not ours.
    "--use-service-account-credentials=false",
    `--service-account-private-key-file=${f.saKey}`,
    `--root-ca-file=${f.ca}`,
    `--cluster-signing-cert-file=${f.ca}`,
    `--cluster-signing-key-file=${f.caKey}`,
    "--cluster-name=microgateway-test",
  ];
}

/** Runs `start`, again with new ports when a process lost the race for a port `freePort()` chose. */
async function withFreshPorts<T>(what: string, start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (e) {
      const portTaken = e instanceof Error && e.message.includes("address already in use");
      if (!portTaken || attempt >= PORT_ATTEMPTS) throw e;
      console.warn(`${what}: port taken, retrying with new ports (${attempt}/${PORT_ATTEMPTS})`);
    }
  }
}

function spawnLogged(binary: string, args: string[], logDir: string, procs: Subprocess[]): Subprocess {
  const name = binary.slice(binary.lastIndexOf("/") + 1);
  const logPath = join(logDir, `${name}.log`);
  // One append-mode descriptor for both streams, so stdout and stderr interleave instead of overwriting.
  const fd = openSync(logPath, "a");
  try {
    const proc = Bun.spawn([binary, ...args], { stdin: "ignore", stdout: fd, stderr: fd });
    procs.push(proc);
    logPaths.set(proc, logPath);
    return proc;
  } finally {
    closeSync(fd);
  }
}

const logPaths = new WeakMap<Subprocess, string>();

/**
 * Polls `check` until it returns true. Fails at once if the process exits (with the end of its log,
 * which is where the reason is), or after {@link READY_TIMEOUT_MS}.
 */
async function waitForProcess(proc: Subprocess, what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  let lastError = "";
  while (performance.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(
        `waiting for ${what}: process exited (${proc.exitCode ?? proc.signalCode})\n${logTail(proc)}`,
      );
    }
    try {
      if (await check()) return;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    await Bun.sleep(100);
  }
  throw new Error(
    `timed out after ${READY_TIMEOUT_MS} ms waiting for ${what} (last error: ${lastError})\n${logTail(proc)}`,
  );
}

function logTail(proc: Subprocess, lines = 30): string {
  const path = logPaths.get(proc);
  if (!path) return "";
  try {
    const text = readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    return `--- last lines of ${path}:\n${text}`;
  } catch {
    return `(no log at ${path})`;
  }
}

/**
 * SIGKILL: the cluster's state is thrown away, so a graceful shutdown protects nothing and would cost
 * the API server about a second of draining per cluster.
 */
async function kill(proc: Subprocess): Promise<void> {
  proc.kill("SIGKILL");
  await proc.exited;
}

async function runKubectl(
  kubectl: string,
  cacheDir: string,
  kubeconfigPath: string,
  args: readonly string[],
  stdin: string | undefined,
): Promise<KubectlResult> {
  const proc = Bun.spawn(
    // A per-cluster discovery cache: clusters reuse ports, and a stale cache hides newly created CRDs.
    [kubectl, `--kubeconfig=${kubeconfigPath}`, `--cache-dir=${cacheDir}`, "--request-timeout=30s", ...args],
    {
      stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** Cleanups of clusters not stopped yet, run on exit so a failed test run leaves no etcd behind. */
const running = new Set<() => void>();
process.on("exit", () => {
  for (const cleanup of running) cleanup();
});
