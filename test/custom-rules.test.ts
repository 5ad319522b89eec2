/**
 * End to end in local mode with a real Envoy: a DenyRules custom rule blocks what it names, and a
 * custom rule with a regex RE2 refuses is rejected before it reaches the engine, which keeps
 * enforcing the last good rules.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalMode, startLocalMode } from "../src/local/local-mode.ts";
import { freePort, statusOf, waitFor } from "./support/net.ts";

const CUSTOM_RULES = `
    custom:
      rules:
        - ruleKey: BLOCK_ADMIN
          blockData:
            path:
              matcher:
                prefix: /admin
`;

describe("custom deny rules in local mode with a real Envoy", () => {
  let dir: string;
  let local: LocalMode;
  let denyRulesFile: string;
  const logged: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mgw-custom-rules-"));
    cpSync(join(import.meta.dir, "../examples/local"), dir, { recursive: true });
    denyRulesFile = join(dir, "deny-rules.yaml");
    writeFileSync(denyRulesFile, readFileSync(denyRulesFile, "utf8").trimEnd() + CUSTOM_RULES);
    local = await startLocalMode({
      files: [dir],
      upstream: `http://127.0.0.1:${freePort()}`,
      demoApp: true,
      enginePort: freePort(),
      adminPort: freePort(),
      probePort: freePort(),
      metricsPort: freePort(),
      log: (line) => logged.push(line),
      watchDebounceMs: 50,
    });
  }, 60_000);
  afterAll(async () => {
    await local?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("BLOCK_ADMIN blocks /admin with 400 and lets /public through to the app", async () => {
    const before = local.demoApp!.received;
    expect(await statusOf(`${local.url}/admin`)).toBe(400);
    expect(await statusOf(`${local.url}/admin/users?x=1`)).toBe(400);
    expect(local.demoApp!.received).toBe(before);
    expect(await statusOf(`${local.url}/public`)).toBe(200);
    expect(local.demoApp!.received).toBe(before + 1);
  });

  test("a custom rule with a lookahead is refused at load; /admin stays blocked", async () => {
    const rejectedBefore = local.loads.rejected;
    const good = readFileSync(denyRulesFile, "utf8");
    writeFileSync(denyRulesFile, good.replace("prefix: /admin", 'regex: "/admin(?!/public)"'));
    await waitFor("the broken regex to be refused", () => local.loads.rejected > rejectedBefore, 5000);
    expect(logged.filter((l) => l.startsWith("error:")).join("\n")).toContain(
      'deny-rules.yaml#1: DenyRules default/demo: spec.request.custom.rules[0].blockData.path.matcher.regex "/admin(?!/public)" is not a valid RE2 regex: invalid perl operator: (?!',
    );
    expect(await statusOf(`${local.url}/admin`)).toBe(400);
    expect(await statusOf(`${local.url}/public`)).toBe(200);
    writeFileSync(denyRulesFile, good);
  }, 15_000);
});
