import { describe, expect, test } from "bun:test";
import {
  ALL_NAMESPACES,
  describeWatchScope,
  type LabelSelector,
  matchesLabelSelector,
  namespaceInScope,
  type WatchScope,
} from "./watch-scope.ts";

const selector: LabelSelector = {
  matchLabels: { "microgateway.airlock.com/watch": "true" },
  matchExpressions: [
    { key: "env", operator: "In", values: ["prod", "staging"] },
    { key: "tier", operator: "NotIn", values: ["test"] },
    { key: "team", operator: "Exists", values: [] },
    { key: "legacy", operator: "DoesNotExist", values: [] },
  ],
};
const matching = { "microgateway.airlock.com/watch": "true", env: "prod", team: "shop" };

describe("matchesLabelSelector", () => {
  test("every label and every requirement must hold", () => {
    expect(matchesLabelSelector(selector, matching)).toBe(true);
    expect(matchesLabelSelector(selector, { ...matching, tier: "web" })).toBe(true);
    expect(matchesLabelSelector(selector, { ...matching, "microgateway.airlock.com/watch": "false" })).toBe(
      false,
    );
    expect(matchesLabelSelector(selector, { ...matching, env: "dev" })).toBe(false);
    expect(matchesLabelSelector(selector, { ...matching, tier: "test" })).toBe(false);
    expect(matchesLabelSelector(selector, { ...matching, legacy: "" })).toBe(false);
    const { team: _, ...withoutTeam } = matching;
    expect(matchesLabelSelector(selector, withoutTeam)).toBe(false);
    const { env: __, ...withoutEnv } = matching;
    expect(matchesLabelSelector(selector, withoutEnv)).toBe(false);
  });

  test("In matches an empty value only when the label is present", () => {
    const s: LabelSelector = {
      matchLabels: {},
      matchExpressions: [{ key: "a", operator: "In", values: [""] }],
    };
    expect(matchesLabelSelector(s, { a: "" })).toBe(true);
    expect(matchesLabelSelector(s, {})).toBe(false);
  });
});

describe("namespaceInScope", () => {
  const labels = async (ns: string) => (ns === "shop" ? matching : ns === "blog" ? {} : undefined);

  test("all namespaces and a list need no read", async () => {
    const never = async () => {
      throw new Error("must not read");
    };
    expect(await namespaceInScope(ALL_NAMESPACES, "anything", never)).toBe(true);
    const list: WatchScope = { mode: "namespaces", namespaces: ["shop"] };
    expect(await namespaceInScope(list, "shop", never)).toBe(true);
    expect(await namespaceInScope(list, "blog", never)).toBe(false);
  });

  test("a selector reads the namespace's labels; a missing namespace is out of scope", async () => {
    const scope: WatchScope = { mode: "selector", selector };
    expect(await namespaceInScope(scope, "shop", labels)).toBe(true);
    expect(await namespaceInScope(scope, "blog", labels)).toBe(false);
    expect(await namespaceInScope(scope, "gone", labels)).toBe(false);
  });
});

test("describeWatchScope says which namespaces, in kubectl's selector syntax", () => {
  expect(describeWatchScope(ALL_NAMESPACES)).toBe("all namespaces");
  expect(describeWatchScope({ mode: "namespaces", namespaces: ["shop", "blog"] })).toBe(
    "namespaces shop, blog",
  );
  expect(describeWatchScope({ mode: "selector", selector })).toBe(
    "namespaces matching microgateway.airlock.com/watch=true,env in (prod,staging),tier notin (test),team,!legacy",
  );
});
