import { expect, test } from "bun:test";
import { isMicrogatewayError } from "../errors.ts";
import { jsonPathMatches, parseJsonPath, tryParseJsonPath } from "./json-path.ts";

test("steps of dotted, bracketed, indexed and wildcard paths", () => {
  expect(parseJsonPath("$")).toEqual([]);
  expect(parseJsonPath("$.user.name")).toEqual([{ key: "user" }, { key: "name" }]);
  expect(parseJsonPath("$.items[2]['a b'][*].*")).toEqual([
    { key: "items" },
    { index: 2 },
    { key: "a b" },
    { any: true },
    { any: true },
  ]);
  expect(parseJsonPath(`$["it's"]`)).toEqual([{ key: "it's" }]);
});

test("exact paths and wildcards match concrete paths of the same length only", () => {
  const match = (pattern: string, path: string) =>
    jsonPathMatches(parseJsonPath(pattern), parseJsonPath(path));
  expect(match("$.user.name", "$.user.name")).toBe(true);
  expect(match("$.user.name", "$.user.names")).toBe(false);
  expect(match("$.items[*].name", "$.items[7].name")).toBe(true);
  expect(match("$.items.*", "$.items[0]")).toBe(true);
  expect(match("$.items[1]", "$.items[2]")).toBe(false);
  expect(match("$.items", "$.items[0]")).toBe(false);
  expect(match("$.a", "$['a']")).toBe(true);
});

test("unsupported syntax is refused with the reason", () => {
  expect(tryParseJsonPath("user.name")).toBe("must start with $");
  expect(tryParseJsonPath("$..name")).toBe("uses recursive descent (..), which is not supported");
  expect(tryParseJsonPath("$.a[?(@.b)]")).toBe(
    "has an unsupported selector at character 4 (only [n], [*] and ['key'])",
  );
  expect(tryParseJsonPath("$.a[0:2]")).toContain("unsupported selector");
  try {
    parseJsonPath("$x");
    throw new Error("expected a throw");
  } catch (e) {
    expect(isMicrogatewayError(e) && e.code).toBe("InvalidArgument");
  }
});
