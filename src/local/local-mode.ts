import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import "reflect-metadata";
import { BOOTSTRAP_FILES, engineBootstrapYaml, sdsSecretFiles } from "../bootstrap/engine-bootstrap.ts";
import { createAuthority } from "../certs/authority.ts";
import { engineSpiffeId } from "../certs/identity.ts";
import { issueClientCertificate, issueServerCertificate } from "../certs/issue.ts";
import { errorMessage, MicrogatewayError } from "../errors.ts";
import { inspectorEngine, warmUp } from "../extproc/inspector-engine.ts";
import { type InspectorServer, startInspectorServer } from "../extproc/server.ts";
import { buildModel, objectKey, validateModel } from "../model/model.ts";
import { nodeIdOf, type PodInfo } from "../model/types.ts";
import { loadManifests, type ManifestLoad, type ManifestWatch, watchManifests } from "../source/files.ts";
import { ENGINE_PORT } from "../translate/names.ts";
import { PodConfigEncoder } from "../translate/pod-config-encoder.ts";
import { ConfigCache } from "../xds/config-cache.ts";
import { EngineStatusStore } from "../xds/engine-status.ts";
import { shortTypeName } from "../xds/resource-types.ts";
import { startXdsServer, type XdsServer, type XdsServerTls } from "../xds/server.ts";
import { type DemoApp, startDemoApp } from "./demo-app.ts";
import { type EnvoyProcess, startEnvoy } from "./envoy-process.ts";

/** Options of {@link startLocalMode}. */
export interface LocalModeOptions {
  /** Manifest files or directories (SidecarGateway, ContentSecurity, DenyRules, optionally a Pod). */
  readonly files: readonly string[];
  /** Where the application listens, e.g. `http://127.0.0.1:3000`. Default 127.0.0.1:<containerPort>. */
  readonly upstream?: string;
  /** Start the built-in demo application on the upstream address. */
  readonly demoApp?: boolean;
  /** The engine's port (default 13378), admin/probe/metrics ports (default 19000-19002), xDS port (default: any free). */
  readonly enginePort?: number;
  readonly adminPort?: number;
  readonly probePort?: number;
  readonly metricsPort?: number;
  readonly xdsPort?: number;
  /** ADS flavour Envoy uses: DELTA_GRPC (default) or GRPC (state of the world). */
  readonly apiType?: "DELTA_GRPC" | "GRPC";
  /** Which Pod of the manifests the engine protects, when there are several. */
  readonly pod?: string;
  readonly envoyLogLevel?: string;
  /** Receives Envoy's own log lines (default: dropped; they are in <workDir>/envoy.log too). */
  readonly onEnvoyLog?: (line: string) => void;
  /** Receives our log lines (default: stdout). */
  readonly log?: (line: string) => void;
  /** Debounce of the manifest watcher in ms (default 100). */
  readonly watchDebounceMs?: number;
}

/** A running local mode: xDS server, real Envoy, optional demo app, watched manifests. */
export interface LocalMode {
  readonly nodeId: string;
  readonly url: string;
  readonly workDir: string;
  readonly cache: ConfigCache;
  readonly status: EngineStatusStore;
  readonly envoy: EnvoyProcess;
  readonly demoApp: DemoApp | undefined;
  /** The request inspector Envoy asks about every request of a secured route (in this process). */
  readonly inspector: InspectorServer;
  /** The TLS material of the xDS server (to restart it in tests). */
  readonly xdsTls: XdsServerTls;
  readonly xdsPort: number;
  /** The xDS server currently running. */
  readonly xds: XdsServer;
  /**
   * Replaces the running xDS server by a new one on the same port with the same cache (as after an
   * operator restart). With `cache`, the new server serves that cache instead (tests: an operator
   * that restarted and has not synced yet); manifest edits keep going to the original cache.
   */
  restartXds(opts?: { readonly cache?: ConfigCache }): Promise<void>;
  /** Counts manifest loads applied (ok) or refused (rejected). */
  readonly loads: { applied: number; rejected: number };
  /** Reloads the manifests now (the watcher does this on every edit). */
  reload(): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Runs the whole data path on one machine: issues certificates into a temporary folder, serves
 * xDS over mTLS, starts a real Envoy with the engine bootstrap in front of the application, and
 * pushes every edit of the manifests as a delta update. A broken edit is reported and the last
 * good configuration keeps serving.
 */
export async function startLocalMode(opts: LocalModeOptions): Promise<LocalMode> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const first = await loadManifests(opts.files);
  if (first.errors.length > 0) {
    throw new MicrogatewayError(
      "InvalidManifest",
      `the manifests have errors:\n${first.errors.map((e) => `  ${e.message}`).join("\n")}`,
    );
  }
  const firstModel = buildModel(first.objects);
  const problems = validateModel(firstModel);
  if (problems.length > 0) {
    throw new MicrogatewayError("InvalidResource", problems.map((e) => e.message).join("\n"));
  }
  const firstGateway = [...firstModel.gateways.values()][0];
  const pods = [...firstModel.pods.values()];
  let podKey: string | undefined;
  if (opts.pod) {
    const p = pods.find((x) => x.metadata.name === opts.pod || objectKey(x.metadata) === opts.pod);
    if (!p) throw new MicrogatewayError("InvalidArgument", `--pod ${opts.pod}: no such Pod in the manifests`);
    podKey = objectKey(p.metadata);
  } else if (pods.length === 1) podKey = objectKey(pods[0]!.metadata);
  else if (pods.length > 1) {
    throw new MicrogatewayError(
      "InvalidArgument",
      `the manifests define ${pods.length} Pods: choose one with --pod`,
    );
  }
  if (!podKey && !firstGateway) {
    throw new MicrogatewayError(
      "InvalidManifest",
      "the manifests define no SidecarGateway (nothing to protect)",
    );
  }
  const namespace = podKey ? podKey.split("/")[0]! : firstGateway!.metadata.namespace;
  const podName = podKey ? podKey.split("/")[1]! : "local";
  const nodeId = nodeIdOf({ name: podName, namespace });

  // Without a Pod manifest, the engine protects a pod that the first gateway of its namespace selects.
  const podOf = (model: typeof firstModel): PodInfo => {
    if (podKey) {
      const p = model.pods.get(podKey);
      if (p) return p;
    }
    const gw = [...model.gateways.values()].find((g) => g.metadata.namespace === namespace);
    return {
      metadata: { name: podName, namespace, labels: { ...(gw?.spec.podSelector.matchLabels ?? {}) } },
    };
  };

  const upstream = opts.upstream ? parseUpstream(opts.upstream) : undefined;
  const firstApp = firstGateway?.spec.applications[0];
  let demoApp: DemoApp | undefined;
  if (opts.demoApp) {
    const port = upstream?.port ?? firstApp?.containerPort ?? 8080;
    try {
      demoApp = startDemoApp(port);
    } catch (e) {
      throw new MicrogatewayError(
        "Internal",
        `cannot start the demo app on 127.0.0.1:${port}: ${errorMessage(e)}`,
      );
    }
    log(`demo app listening on http://127.0.0.1:${demoApp.port}`);
  }

  const workDir = mkdtempSync(join(tmpdir(), "microgateway-local-"));
  const cache = new ConfigCache();
  const status = new EngineStatusStore();
  const enginePort = opts.enginePort ?? ENGINE_PORT;
  // The inspector runs in this process; Envoy reaches it on a socket in the work folder.
  const inspectorAt = { socketPath: join(workDir, "inspector.sock") };
  const translateOptions = {
    listen: { host: "127.0.0.1", port: enginePort },
    upstreamFor: upstream ? () => upstream : undefined,
    inspector: inspectorAt,
  };

  const encoder = new PodConfigEncoder(translateOptions);
  const loads = { applied: 0, rejected: 0 };
  const apply = (load: ManifestLoad): boolean => {
    const reject = (messages: string[]) => {
      loads.rejected++;
      for (const m of messages) log(`error: ${m}`);
      log("keeping the last good configuration");
      return false;
    };
    if (load.errors.length > 0) return reject(load.errors.map((e) => e.message));
    try {
      const model = buildModel(load.objects);
      const invalid = validateModel(model);
      if (invalid.length > 0) return reject(invalid.map((e) => e.message));
      const config = encoder.encode(model, podOf(model));
      const changed = cache.setNode(nodeId, config.resources);
      loads.applied++;
      if (changed.size > 0) {
        log(
          `configuration updated (${[...changed].map(shortTypeName).join(", ")})${config.gateway ? ` from SidecarGateway ${config.gateway}` : ": no SidecarGateway selects the pod, the engine forwards nothing"}`,
        );
      }
      return true;
    } catch (e) {
      return reject([errorMessage(e)]);
    }
  };

  let envoy: EnvoyProcess | undefined;
  let xds: XdsServer | undefined;
  let inspector: InspectorServer | undefined;
  let watch: ManifestWatch | undefined;
  let unsubscribe: (() => void) | undefined;
  try {
    if (!apply(first)) throw new MicrogatewayError("InvalidManifest", "the first configuration is invalid");
    const engine = inspectorEngine();
    warmUp(engine);
    inspector = await startInspectorServer({ engine, listen: inspectorAt, log });

    const ca = await createAuthority({ commonName: "microgateway local CA" });
    const server = await issueServerCertificate(ca, {
      commonName: "microgateway xds",
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
    });
    const client = await issueClientCertificate(ca, {
      commonName: nodeId,
      uris: [engineSpiffeId(namespace)],
    });
    const xdsTls: XdsServerTls = {
      certificatePem: server.chainPem,
      privateKeyPem: server.privateKeyPem,
      caPem: ca.certificatePem,
    };
    const xdsLog = (line: string) => {
      if (!line.includes("stream opened") && !line.includes("closed")) log(line);
    };
    xds = await startXdsServer({
      cache,
      status,
      tls: xdsTls,
      host: "127.0.0.1",
      port: opts.xdsPort ?? 0,
      log: xdsLog,
    });
    const xdsPort = xds.port;

    const certPath = join(workDir, BOOTSTRAP_FILES.certificate);
    const keyPath = join(workDir, BOOTSTRAP_FILES.privateKey);
    const caPath = join(workDir, BOOTSTRAP_FILES.ca);
    writeFileSync(certPath, client.chainPem);
    writeFileSync(keyPath, client.privateKeyPem, { mode: 0o600 });
    writeFileSync(caPath, ca.certificatePem);
    for (const [file, text] of Object.entries(sdsSecretFiles({ certPath, keyPath, caPath }))) {
      writeFileSync(join(workDir, file), text);
    }
    const adminPort = opts.adminPort ?? 19000;
    const bootstrapPath = join(workDir, BOOTSTRAP_FILES.bootstrap);
    writeFileSync(
      bootstrapPath,
      engineBootstrapYaml({
        xdsHost: "127.0.0.1",
        xdsPort,
        configDir: workDir,
        adminPort,
        probePort: opts.probePort ?? 19001,
        metricsPort: opts.metricsPort ?? 19002,
        listenAddress: "127.0.0.1",
        apiType: opts.apiType,
        node: { id: nodeId, cluster: `local.${namespace}` },
      }),
    );

    unsubscribe = logEngineStatus(status, nodeId, log);
    const envoyLogPath = join(workDir, "envoy.log");
    const envoyLog = Bun.file(envoyLogPath).writer();
    envoy = startEnvoy({
      configPath: bootstrapPath,
      adminPort,
      logLevel: opts.envoyLogLevel ?? "info",
      onLog: (line) => {
        envoyLog.write(`${line}\n`);
        opts.onEnvoyLog?.(line);
      },
    });
    await envoy.waitReady(30_000);

    watch = watchManifests(opts.files, apply, { debounceMs: opts.watchDebounceMs ?? 100 });
    const url = `http://127.0.0.1:${enginePort}`;
    const self: LocalMode = {
      nodeId,
      url,
      workDir,
      cache,
      status,
      envoy,
      demoApp,
      inspector,
      xdsTls,
      xdsPort,
      get xds() {
        return xds!;
      },
      async restartXds(restart) {
        await xds?.close();
        xds = await startXdsServer({
          cache: restart?.cache ?? cache,
          status,
          tls: xdsTls,
          host: "127.0.0.1",
          port: xdsPort,
          log: xdsLog,
        });
      },
      loads,
      async reload() {
        return apply(await loadManifests(opts.files));
      },
      async stop() {
        watch?.close();
        unsubscribe?.();
        await envoy?.stop();
        await envoyLog.end();
        await xds?.close();
        await inspector?.close();
        demoApp?.stop();
        rmSync(workDir, { recursive: true, force: true });
      },
    };
    return self;
  } catch (e) {
    watch?.close();
    unsubscribe?.();
    await envoy?.stop();
    await xds?.close();
    await inspector?.close();
    demoApp?.stop();
    rmSync(workDir, { recursive: true, force: true });
    throw e;
  }
}

function parseUpstream(upstream: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(upstream);
  } catch {
    throw new MicrogatewayError(
      "InvalidArgument",
      `--upstream ${upstream}: expected a URL like http://127.0.0.1:3000`,
    );
  }
  if (url.protocol !== "http:" || !url.port || (url.pathname !== "/" && url.pathname !== "")) {
    throw new MicrogatewayError("InvalidArgument", `--upstream ${upstream}: expected http://<host>:<port>`);
  }
  return { host: url.hostname, port: Number(url.port) };
}

/** Logs each ACK and NACK of the engine once. */
function logEngineStatus(status: EngineStatusStore, nodeId: string, log: (line: string) => void): () => void {
  const seen = new Map<string, string>();
  return status.subscribe((engine) => {
    if (engine.nodeId !== nodeId) return;
    for (const [typeUrl, t] of engine.types) {
      const key =
        t.state === "Rejected"
          ? `Rejected:${t.lastError?.at.getTime()}`
          : `${t.state}:${[...t.accepted.values()].join(",")}`;
      if (seen.get(typeUrl) === key || (t.state !== "Accepted" && t.state !== "Rejected")) continue;
      seen.set(typeUrl, key);
      if (t.state === "Accepted")
        log(`engine accepted ${shortTypeName(typeUrl)} (${t.accepted.size} resources)`);
      else
        log(
          `engine REJECTED ${shortTypeName(typeUrl)}: ${t.lastError?.message} (it keeps serving the last good configuration)`,
        );
    }
  });
}
