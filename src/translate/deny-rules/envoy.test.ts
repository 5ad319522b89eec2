import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DENY_RULE_LEVELS,
  type DenyRuleLevel,
  THREAT_HANDLING_MODES,
  type ThreatHandlingMode,
} from "../../model/types.ts";
import { RE2_MAX_PROGRAM_SIZE } from "./catalog.ts";
import { type DenyRulesHost, denyRulesTestBootstrap, STAT_PREFIX } from "./testing/envoy-config.ts";
import { type RunningEnvoy, startEnvoy, validateEnvoyConfig } from "./testing/envoy-process.ts";
import { mapLimit, type RawResponse, rawGet } from "./testing/raw-http.ts";
import { ATTACKS, BENIGN, STRICT_ONLY } from "./testing/requests.ts";

// Real Envoy, real RE2: proves every pattern compiles under RE2_MAX_PROGRAM_SIZE and that the
// RBAC filter enforces (Block) or only counts (LogOnly) what the string-level tests promise.

const hostOf = (level: DenyRuleLevel, mode: ThreatHandlingMode): string =>
  `${level}-${mode}.test`.toLowerCase();

const HOSTS: DenyRulesHost[] = DENY_RULE_LEVELS.flatMap((level) =>
  THREAT_HANDLING_MODES.map((threatHandlingMode) => ({
    host: hostOf(level, threatHandlingMode),
    spec: { request: { builtIn: { settings: { level, threatHandlingMode } } } },
  })),
);

const SHADOW_DENIED = `http.${STAT_PREFIX}.rbac.shadow_denied`;
const DENIED_DETAILS = "rbac_access_denied_matched_policy[";

let workDir = "";
async function writeBootstrap(name: string, re2MaxProgramSize: number): Promise<string> {
  const path = join(workDir, name);
  await Bun.write(path, JSON.stringify(denyRulesTestBootstrap(HOSTS, re2MaxProgramSize)));
  return path;
}

let envoy: Promise<RunningEnvoy> | undefined;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "deny-rules-envoy-"));
  envoy = writeBootstrap("bootstrap.json", RE2_MAX_PROGRAM_SIZE).then((path) => startEnvoy(path, workDir));
  // A failed start is reported by each test that awaits it, not as an unhandled rejection here.
  envoy.catch(() => {});
});

afterAll(async () => {
  await envoy?.then((e) => e.stop()).catch(() => {});
  await rm(workDir, { recursive: true, force: true });
});

async function send(host: string, targets: readonly string[]): Promise<RawResponse[]> {
  const { listenerPort } = await envoy!;
  return mapLimit(targets, 32, (target) => rawGet(listenerPort, host, target));
}

/** The targets whose responses do not have `status`, with what came back instead. */
function unexpected(targets: readonly string[], responses: RawResponse[], status: number): string[] {
  return targets.flatMap((t, i) => {
    const r = responses[i]!;
    return r.status === status ? [] : [`${t} -> ${r.status} ${r.body.trim()}`];
  });
}

describe("Envoy validates the deny rules", () => {
  test(`every level and mode compiles with re2.max_program_size.error_level ${RE2_MAX_PROGRAM_SIZE}`, async () => {
    const result = await validateEnvoyConfig(await writeBootstrap("validate.json", RE2_MAX_PROGRAM_SIZE));
    expect(result.output).not.toContain("error initializing configuration");
    expect(result.exitCode).toBe(0);
  });

  test("RE2_MAX_PROGRAM_SIZE is tight: one less rejects the largest rule", async () => {
    const result = await validateEnvoyConfig(
      await writeBootstrap("too-small.json", RE2_MAX_PROGRAM_SIZE - 1),
    );
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toContain(`RE2 program size of ${RE2_MAX_PROGRAM_SIZE} >`);
  });
});

describe("a running Envoy enforces the deny rules", () => {
  for (const level of ["Basic", "Standard", "Strict"] as const) {
    test(`${level}/Block answers 403 with the matched policy to every ${level === "Basic" ? "Basic" : "Basic and Standard"} attack`, async () => {
      const targets = ATTACKS.filter((a) => level !== "Basic" || a.level === "Basic").map((a) => a.target);
      const responses = await send(hostOf(level, "Block"), targets);
      expect(unexpected(targets, responses, 403)).toEqual([]);
      for (const r of responses) expect(r.body).toContain(DENIED_DETAILS);
    });
  }

  test("the 403 names the rule and the location that matched", async () => {
    const [inPath, inQuery] = await send(hostOf("Basic", "Block"), [
      "/items/1%20union%20select%201",
      "/items?id=1%20union%20select%201",
    ]);
    expect(inPath?.body).toContain(`${DENIED_DETAILS}SQL_UNION_SELECT/path]`);
    expect(inQuery?.body).toContain(`${DENIED_DETAILS}SQL_UNION_SELECT/query]`);
  });

  for (const level of ["Unfiltered", "Basic", "Standard"] as const) {
    test(`${level}/Block lets benign requests through`, async () => {
      const responses = await send(hostOf(level, "Block"), BENIGN);
      expect(unexpected(BENIGN, responses, 200)).toEqual([]);
    });
  }

  test("Strict blocks what Standard lets through", async () => {
    expect(unexpected(STRICT_ONLY, await send(hostOf("Standard", "Block"), STRICT_ONLY), 200)).toEqual([]);
    expect(unexpected(STRICT_ONLY, await send(hostOf("Strict", "Block"), STRICT_ONLY), 403)).toEqual([]);
  });

  test("Unfiltered lets attacks through in either mode", async () => {
    const targets = ATTACKS.map((a) => a.target);
    for (const mode of THREAT_HANDLING_MODES) {
      expect(unexpected(targets, await send(hostOf("Unfiltered", mode), targets), 200)).toEqual([]);
    }
  });

  test("LogOnly lets attacks through and counts each as a shadow denial; benign requests are not counted", async () => {
    const running = await envoy!;
    const targets = ATTACKS.map((a) => a.target);
    const before = await running.counter(SHADOW_DENIED);
    expect(unexpected(targets, await send(hostOf("Standard", "LogOnly"), targets), 200)).toEqual([]);
    const afterAttacks = await running.counter(SHADOW_DENIED);
    expect(afterAttacks - before).toBe(targets.length);
    expect(unexpected(BENIGN, await send(hostOf("Standard", "LogOnly"), BENIGN), 200)).toEqual([]);
    expect(await running.counter(SHADOW_DENIED)).toBe(afterAttacks);
  });
});
