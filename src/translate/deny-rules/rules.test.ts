import { describe, expect, test } from "bun:test";
import { RULE_FAMILIES } from "../../model/types.ts";
import { type BuiltInRule, locationRegex, type RuleLocation } from "./built-in-rule.ts";
import { BUILT_IN_RULES, RE2_MAX_PROGRAM_SIZE, rulesAtLevel } from "./catalog.ts";
import { fullMatchRegExp, re2Incompatibilities } from "./testing/re2-in-js.ts";

/** The value Envoy matches for a rule at `location` when `wireValue` stands in that place. */
function valueAt(location: RuleLocation, wireValue: string): string {
  return location === "path" ? `/search/${wireValue}` : `/search?q=${wireValue}`;
}

function matches(rule: BuiltInRule, location: RuleLocation, wireValue: string): boolean {
  return fullMatchRegExp(locationRegex(rule, location)).test(valueAt(location, wireValue));
}

describe("built-in rules", () => {
  test("keys are unique, well-formed and prefixed with their family", () => {
    const keys = BUILT_IN_RULES.map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const rule of BUILT_IN_RULES) {
      expect(rule.key).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(rule.key.startsWith(`${rule.family}_`)).toBe(true);
      expect(RULE_FAMILIES).toContain(rule.family);
      expect(rule.locations.length).toBeGreaterThan(0);
      expect(rule.examples.length).toBeGreaterThan(0);
    }
  });

  test("no rule uses syntax that RE2 rejects or JavaScript reads differently", () => {
    for (const rule of BUILT_IN_RULES) {
      expect({ key: rule.key, problems: re2Incompatibilities(rule.regex) }).toEqual({
        key: rule.key,
        problems: [],
      });
    }
  });

  test("the syntax check rejects lookaround, backreferences and possessive quantifiers", () => {
    for (const bad of [
      "a(?=b)",
      "a(?!b)",
      "(?<=a)b",
      "(?<!a)b",
      "(a)\\1",
      "(?<n>a)\\k<n>",
      "a*+",
      "a++",
      "a?+",
      "a{2}+",
    ]) {
      expect(re2Incompatibilities(bad)).not.toEqual([]);
    }
    for (const bad of ["\\s", "(?i)a", "(?>a)", "[[:alpha:]]", "\\pL", "\\Qa\\E", "\\z", "\\x{41}"]) {
      expect(re2Incompatibilities(bad)).not.toEqual([]);
    }
    for (const fine of ["(?:a|b)+?", "[+*?]+", "\\++", "a{2,3}", "[^0-9a-z_-]", "\\x60", "(?:^|x)$"]) {
      expect(re2Incompatibilities(fine)).toEqual([]);
    }
  });

  for (const rule of BUILT_IN_RULES) {
    describe(rule.key, () => {
      for (const location of rule.locations) {
        test(`catches every example in the ${location}`, () => {
          const missed = rule.examples.filter((e) => !matches(rule, location, e));
          expect(missed).toEqual([]);
        });
        test(`lets every benign value through in the ${location}`, () => {
          const caught = (rule.benign ?? []).filter((b) => matches(rule, location, b));
          expect(caught).toEqual([]);
        });
      }
      test("examples and benign values are wire values (no raw `?`, `#` or space where the path is matched)", () => {
        for (const value of [...rule.examples, ...(rule.benign ?? [])]) {
          expect(value).not.toMatch(/[?#]/);
        }
      });
    });
  }

  test("the query regex looks only after the `?`", () => {
    const union = BUILT_IN_RULES.find((r) => r.key === "SQL_UNION_SELECT")!;
    const query = fullMatchRegExp(locationRegex(union, "query"));
    expect(query.test("/1%20union%20select%201")).toBe(false);
    expect(query.test("/1%20union%20select%201?x=1")).toBe(false);
    expect(query.test("/x?id=1%20union%20select%201")).toBe(true);
    expect(query.test("/x?a=1&id=1%20union%20select%201")).toBe(true);
  });
});

describe("rulesAtLevel", () => {
  test("is cumulative: Unfiltered ⊂ Basic ⊂ Standard ⊂ Strict = all rules", () => {
    const keys = (level: Parameters<typeof rulesAtLevel>[0]) => rulesAtLevel(level).map((r) => r.key);
    expect(keys("Unfiltered")).toEqual([]);
    expect(keys("Basic").length).toBeGreaterThan(0);
    for (const key of keys("Basic")) expect(keys("Standard")).toContain(key);
    for (const key of keys("Standard")) expect(keys("Strict")).toContain(key);
    expect(keys("Standard").length).toBeGreaterThan(keys("Basic").length);
    expect(keys("Strict")).toEqual(BUILT_IN_RULES.map((r) => r.key));
  });

  test("each level holds exactly the rules of that level and below", () => {
    expect(rulesAtLevel("Basic").every((r) => r.level === "Basic")).toBe(true);
    expect(rulesAtLevel("Standard").every((r) => r.level !== "Strict")).toBe(true);
  });

  test("every family has rules at every level", () => {
    for (const family of ["SQL", "XSS"] as const) {
      for (const level of ["Basic", "Standard", "Strict"] as const) {
        expect(BUILT_IN_RULES.some((r) => r.family === family && r.level === level)).toBe(true);
      }
    }
  });

  test("rejects a level the model would not have let through", () => {
    expect(() => rulesAtLevel("Maximum" as "Strict")).toThrow(/level "Maximum"/);
  });
});

describe("docs/deny-rules.md", () => {
  test("lists exactly the built-in rules and the current RE2_MAX_PROGRAM_SIZE", async () => {
    const doc = await Bun.file(new URL("../../../docs/deny-rules.md", import.meta.url)).text();
    const documented = [...doc.matchAll(/^\| `((?:SQL|XSS)_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(BUILT_IN_RULES.map((r) => r.key));
    expect(doc).toContain(`currently ${RE2_MAX_PROGRAM_SIZE}`);
  });
});
