import { describe, expect, test } from "bun:test";
import { re2SyntaxError } from "./re2.ts";

describe("re2SyntaxError (Google's RE2)", () => {
  test("accepts RE2 syntax, including what JavaScript lacks", () => {
    for (const ok of [
      "^/admin(/.*)?$",
      "(?i)select.*from",
      "\\p{Greek}+",
      "(?P<id>[0-9]+)",
      "\\Qa.b\\E",
      "[[:alpha:]]",
    ]) {
      expect(re2SyntaxError(ok)).toBeUndefined();
    }
  });

  test("reports a syntax error with RE2's message", () => {
    expect(re2SyntaxError("/admin(")).toBe("missing ): /admin(");
    expect(re2SyntaxError("[z-a]")).toBe("invalid character class range: z-a");
  });

  test("refuses what RE2 does not support: lookaround and backreferences", () => {
    expect(re2SyntaxError("a(?=b)")).toBe("invalid perl operator: (?=");
    expect(re2SyntaxError("(?<!a)b")).toContain("invalid");
    expect(re2SyntaxError("(a)\\1")).toBe("invalid escape sequence: \\1");
  });

  test("refuses a repetition count above RE2's 1000", () => {
    expect(re2SyntaxError("a{1001}")).toBe("invalid repetition size: {1001}");
  });
});
