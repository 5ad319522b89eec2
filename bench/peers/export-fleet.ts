/**
 * Writes what our xDS benchmark server would serve, so that a peer control plane can serve the
 * identical bytes to the identical engines: the encoded resources of every pod for both DenyRules
 * modes, the node list, and the certificates (same CA, same engine client certificate as
 * bench/xds/server.ts, plus the server certificate and key, which our server keeps in memory).
 *
 *   bun run bench/peers/export-fleet.ts --pods 1000 --out /tmp/dir
 *
 * The resources come from the same pipeline as bench/xds/server.ts (`pushFleet` into a
 * `ConfigCache`), read back per node. All benchmark pods get identical resources, so each distinct
 * resource is written once (by content version) and the manifest lists the node ids; the export
 * refuses a fleet whose pods differ rather than writing something the peer would serve wrongly.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createAuthority } from "../../src/certs/authority.ts";
import { engineSpiffeId } from "../../src/certs/identity.ts";
import { issueClientCertificate, issueServerCertificate } from "../../src/certs/issue.ts";
import { nodeIdOf, type ThreatHandlingMode } from "../../src/model/types.ts";
import { PodConfigEncoder } from "../../src/translate/pod-config-encoder.ts";
import type { CachedResource } from "../../src/xds/cached-resource.ts";
import { ConfigCache } from "../../src/xds/config-cache.ts";
import { TYPE_ORDER } from "../../src/xds/resource-types.ts";
import { BENCH_NAMESPACE, type BenchFleet, loadBenchFleet, pushFleet } from "../xds/fleet.ts";
import { CERT_FILES, EXPORT_FILES } from "../xds/messages.ts";

export { EXPORT_FILES } from "../xds/messages.ts";

/** The mode the benchmark server starts in (the example DenyRules' own); `change` flips it. */
export const INITIAL_MODE: ThreatHandlingMode = "Block";
const MODES: readonly ThreatHandlingMode[] = ["Block", "LogOnly"];

/** One resource as our server encodes it. `file` is relative to the export directory. */
export interface ExportedResource {
  readonly typeUrl: string;
  readonly name: string;
  /** Our content version (the peer computes its own from the bytes). */
  readonly version: string;
  readonly size: number;
  readonly file: string;
}

/** `fleet.json`: what every node gets in each mode. */
export interface ExportedFleet {
  /** Node ids `bench-<i>.bench`, in pod order. */
  readonly nodes: readonly string[];
  readonly initialMode: ThreatHandlingMode;
  /** Per mode, the resources of every node (identical for all nodes), in push order. */
  readonly modes: Readonly<Record<ThreatHandlingMode, readonly ExportedResource[]>>;
}

/** Encodes the fleet of `pods` pods in both modes and writes it, with certificates, to `dir`. */
export async function exportFleet(dir: string, pods: number, manifestDir: string): Promise<ExportedFleet> {
  const fleet = loadBenchFleet(pods, manifestDir);
  mkdirSync(join(dir, EXPORT_FILES.resourceDir), { recursive: true });
  const modes = {} as Record<ThreatHandlingMode, readonly ExportedResource[]>;
  for (const mode of MODES) modes[mode] = writeMode(dir, fleet, mode);
  const exported: ExportedFleet = {
    nodes: fleet.pods.map((p) => nodeIdOf(p.metadata)),
    initialMode: INITIAL_MODE,
    modes,
  };
  writeFileSync(join(dir, EXPORT_FILES.manifest), `${JSON.stringify(exported)}\n`);
  await writeCertificates(dir);
  return exported;
}

/** Runs the operator's pipeline for `mode` and writes the one resource set all pods share. */
function writeMode(dir: string, fleet: BenchFleet, mode: ThreatHandlingMode): ExportedResource[] {
  const cache = new ConfigCache();
  pushFleet(cache, new PodConfigEncoder(), fleet, mode);
  const [first, ...rest] = fleet.pods.map((p) => resourcesOf(cache, nodeIdOf(p.metadata)));
  if (!first) throw new Error("export: the fleet has no pods");
  const signature = (rs: readonly CachedResource[]) => rs.map((r) => `${r.typeUrl}\0${r.name}\0${r.version}`);
  const expected = signature(first).join("\n");
  if (rest.some((rs) => signature(rs).join("\n") !== expected)) {
    throw new Error(`export: pods differ in mode ${mode}; this export writes one resource set for all pods`);
  }
  return first.map((r) => {
    // Content-addressed: a resource both modes share (the cluster) is written once.
    const file = join(EXPORT_FILES.resourceDir, `${r.version}.pb`);
    writeFileSync(join(dir, file), r.any.value);
    return { typeUrl: r.typeUrl, name: r.name, version: r.version, size: r.size, file };
  });
}

function resourcesOf(cache: ConfigCache, nodeId: string): CachedResource[] {
  return TYPE_ORDER.flatMap((t) => [...cache.resources(nodeId, t).values()]);
}

/** The same certificates bench/xds/server.ts makes, written out whole (server key included). */
export async function writeCertificates(dir: string): Promise<void> {
  const ca = await createAuthority({ commonName: "microgateway bench CA" });
  const server = await issueServerCertificate(ca, {
    commonName: "microgateway bench xds",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  const engine = await issueClientCertificate(ca, {
    commonName: "bench engine",
    uris: [engineSpiffeId(BENCH_NAMESPACE)],
  });
  writeFileSync(join(dir, CERT_FILES.ca), ca.certificatePem);
  writeFileSync(join(dir, CERT_FILES.cert), engine.chainPem);
  writeFileSync(join(dir, CERT_FILES.key), engine.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, EXPORT_FILES.serverCert), server.chainPem);
  writeFileSync(join(dir, EXPORT_FILES.serverKey), server.privateKeyPem, { mode: 0o600 });
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      pods: { type: "string" },
      out: { type: "string" },
      manifests: { type: "string", default: "examples/local" },
    },
  });
  const pods = Number(values.pods);
  if (!Number.isInteger(pods) || pods < 1)
    throw new Error(`--pods ${values.pods}: expected a positive integer`);
  if (!values.out) throw new Error("--out <dir> is required");
  const exported = await exportFleet(values.out, pods, values.manifests);
  const summary = Object.entries(exported.modes).map(
    ([mode, rs]) => `${mode}: ${rs.map((r) => `${r.name} ${r.size} B`).join(", ")}`,
  );
  process.stderr.write(`export: ${exported.nodes.length} nodes; ${summary.join("; ")}\n`);
}
