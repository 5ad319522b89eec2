import { describe, expect, test } from "bun:test";
import { spareRealisticValues } from "./realistic-values.ts";
import { checkValueRules, ruleRegExp } from "./rule-checks.ts";
import { SSRF_RULES } from "./ssrf.ts";

checkValueRules(SSRF_RULES);
spareRealisticValues(SSRF_RULES);

/** Keys of the rules below Strict that catch `value` as a parameter. */
function caught(value: string): string[] {
  return SSRF_RULES.filter((r) => r.level !== "Strict")
    .filter((r) => r.targets === undefined || r.targets.includes("Parameter"))
    .filter((r) => ruleRegExp(r).test(value))
    .map((r) => r.key);
}

describe("SSRF", () => {
  // 127.0.0.1 in every spelling inet_aton and URL parsers accept.
  test.each([
    "http://127.0.0.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0000.0000.0001/",
    "http://0x7f.0x0.0x0.0x1/",
    "http://127.1/",
    "http://127.0.1/",
    "http://localhost./",
    "http://[::1]/",
    "http://[::ffff:7f00:1]/",
    "http://evil.example@127.0.0.1/",
    "HTTP://LOCALHOST/",
    "http:\\\\127.0.0.1\\",
  ])("loopback spelled %p is caught below Strict", (url) => {
    expect(caught(url)).not.toEqual([]);
  });

  test("loopback URLs are looked for in parameters and JSON only, where applications take URLs to fetch", () => {
    const loopback = SSRF_RULES.find((r) => r.key === "SSRF_LOOPBACK_URL");
    expect(loopback?.targets).toEqual(["Parameter", "JSON"]);
  });

  test("the metadata address is caught in every target, headers included", () => {
    const metadata = SSRF_RULES.find((r) => r.key === "SSRF_CLOUD_METADATA");
    expect(metadata?.targets).toBeUndefined();
    expect(metadata?.level).toBe("Basic");
  });
});
