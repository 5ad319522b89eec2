import { describe, expect, test } from "bun:test";
import { ALL_TARGETS } from "../types.ts";
import { REQUEST_RULES, VALUE_RULES } from "./catalog.ts";

describe("catalog", () => {
  test("rule keys are unique across all families and both kinds of rule", () => {
    const keys = [...VALUE_RULES, ...REQUEST_RULES].map((r) => r.key);
    const repeated = keys.filter((key, i) => keys.indexOf(key) !== i);
    expect(repeated).toEqual([]);
  });

  test("value rules name only known targets and lower-case names", () => {
    for (const rule of VALUE_RULES) {
      for (const target of rule.targets ?? [])
        expect({ key: rule.key, target, known: ALL_TARGETS.includes(target) }).toEqual({
          key: rule.key,
          target,
          known: true,
        });
      for (const name of rule.names ?? [])
        expect({ key: rule.key, name }).toEqual({ key: rule.key, name: name.toLowerCase() });
    }
  });

  test("request rules are prefixed with their family", () => {
    for (const rule of REQUEST_RULES)
      expect({ key: rule.key, prefixed: rule.key.startsWith(`${rule.family}_`) }).toEqual({
        key: rule.key,
        prefixed: true,
      });
  });
});
