/**
 * Every kind of our API, in the order the CRDs are documented (reference §3.1).
 */
import { contentSecurityKind } from "./content-security.ts";
import type { KindDefinition } from "./crd.ts";
import { denyRulesKind } from "./deny-rules.ts";
import { envoyClusterKind } from "./envoy-cluster.ts";
import { envoyConfigurationKind } from "./envoy-configuration.ts";
import { envoyHTTPFilterKind } from "./envoy-http-filter.ts";
import { headerRewritesKind } from "./header-rewrites.ts";
import { limitsKind } from "./limits.ts";
import { parserKind } from "./parser.ts";
import { sidecarGatewayKind } from "./sidecar-gateway.ts";
import { telemetryKind } from "./telemetry.ts";

/** The kinds scripts/gen-crds.ts writes a CRD for. */
export const API_KINDS: readonly KindDefinition[] = [
  sidecarGatewayKind,
  contentSecurityKind,
  denyRulesKind,
  headerRewritesKind,
  limitsKind,
  parserKind,
  telemetryKind,
  envoyClusterKind,
  envoyHTTPFilterKind,
  envoyConfigurationKind,
];
