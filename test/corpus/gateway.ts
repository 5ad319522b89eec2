/**
 * Microgateway in local mode (real Envoy) in front of the corpus upstream, with one DenyRules at a
 * level and mode, plus a route without any rules (`/__bare`) on the same Envoy for baselines.
 *
 * @example
 * const gw = await startCorpusGateway({ level: "Standard" });
 * await sendCorpus(gw.port, corpus.attacks);                            // through the deny rules
 * await sendCorpus(gw.port, corpus.attacks, { pathPrefix: BARE_PREFIX }); // same Envoy, no rules
 * await gw.stop();
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DenyRuleLevel } from "../../src/api/deny-rules.ts";
import { type LocalMode, startLocalMode } from "../../src/local/local-mode.ts";
import { freePort } from "../support/net.ts";
import { type CorpusUpstream, startCorpusUpstream } from "./upstream.ts";

/** Path prefix of the unsecured route: the same Envoy and upstream, no deny rules. */
export const BARE_PREFIX = "/__bare";

/** Options of {@link startCorpusGateway}. */
export interface CorpusGatewayOptions {
  readonly level: DenyRuleLevel;
  /** Threat handling mode of the DenyRules and of the Limits (default Block). */
  readonly mode?: "Block" | "LogOnly";
  /** Receives local mode's log lines (default: dropped). */
  readonly log?: (line: string) => void;
}

/** A running gateway and its upstream. */
export interface CorpusGateway {
  /** Envoy's HTTP port on 127.0.0.1. */
  readonly port: number;
  readonly local: LocalMode;
  readonly upstream: CorpusUpstream;
  stop(): Promise<void>;
}

/**
 * The manifests: a SidecarGateway with the unsecured baseline route first, a ContentSecurity, the
 * DenyRules and a Limits with the default limits. Both take `mode`: the inspector blocks bodies its
 * parser cannot read and values over a limit in the Limits' mode, so LogOnly means the whole filter
 * only logs.
 */
export function corpusManifests(level: DenyRuleLevel, mode: "Block" | "LogOnly"): string {
  return `apiVersion: microgateway.airlock.com/v1alpha1
kind: SidecarGateway
metadata: { name: corpus, namespace: corpus }
spec:
  podSelector: { matchLabels: { app: corpus } }
  applications:
    - containerPort: 8080
      routes:
        - pathPrefix: ${BARE_PREFIX}
          unsecured: {}
        - pathPrefix: /
          secured:
            contentSecurityRef: { name: corpus }
---
apiVersion: microgateway.airlock.com/v1alpha1
kind: ContentSecurity
metadata: { name: corpus, namespace: corpus }
spec:
  filter:
    denyRulesRef: { name: corpus }
  limitsRef: { name: corpus }
---
apiVersion: microgateway.airlock.com/v1alpha1
kind: Limits
metadata: { name: corpus, namespace: corpus }
spec:
  settings:
    threatHandlingMode: ${mode}
---
apiVersion: microgateway.airlock.com/v1alpha1
kind: DenyRules
metadata: { name: corpus, namespace: corpus }
spec:
  request:
    builtIn:
      settings:
        level: ${level}
        threatHandlingMode: ${mode}
`;
}

/** Starts the upstream, then local mode with the manifests in a temporary folder (removed by stop). */
export async function startCorpusGateway(opts: CorpusGatewayOptions): Promise<CorpusGateway> {
  const dir = mkdtempSync(join(tmpdir(), "mgw-corpus-"));
  writeFileSync(join(dir, "corpus.yaml"), corpusManifests(opts.level, opts.mode ?? "Block"));
  const upstream = startCorpusUpstream();
  const port = freePort();
  let local: LocalMode;
  try {
    local = await startLocalMode({
      files: [dir],
      upstream: `http://127.0.0.1:${upstream.port}`,
      enginePort: port,
      adminPort: freePort(),
      probePort: freePort(),
      metricsPort: freePort(),
      log: opts.log ?? (() => {}),
    });
  } catch (e) {
    upstream.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    port,
    local,
    upstream,
    async stop() {
      await local.stop();
      upstream.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
