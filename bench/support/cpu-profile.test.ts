import { describe, expect, test } from "bun:test";
import { profileSummary } from "./cpu-profile.ts";

describe("profileSummary", () => {
  const frame = (functionName: string) => ({ functionName, url: "/x/src/a.ts", lineNumber: 0 });
  // root -> main -> encode, and root -> main -> write
  const profile = {
    nodes: [
      { id: 1, callFrame: frame("(root)"), children: [2] },
      { id: 2, callFrame: frame("main"), children: [3, 4] },
      { id: 3, callFrame: frame("encode") },
      { id: 4, callFrame: frame("write") },
    ],
    samples: [3, 3, 4, 2],
  };

  test("counts self samples at the top of the stack and inclusive samples once per stack", () => {
    const rows = new Map(profileSummary(profile).map((r) => [r.name.split(" ")[0], r]));
    expect(rows.get("encode")).toMatchObject({ self: 0.5, inclusive: 0.5 });
    expect(rows.get("write")).toMatchObject({ self: 0.25, inclusive: 0.25 });
    expect(rows.get("main")).toMatchObject({ self: 0.25, inclusive: 1 });
  });

  test("names functions with their file relative to src/", () => {
    expect(profileSummary(profile)[0]!.name).toContain("(src/a.ts:1)");
  });
});
