import { expect, test } from "bun:test";
import { ruleRegExp } from "./rule-checks.ts";

test("ruleRegExp reads `.` as RE2 does: any character but a newline, and a literal inside a class", () => {
  const dot = ruleRegExp({ regex: "a.b" });
  expect(dot.test("axb")).toBe(true);
  expect(dot.test("a\nb")).toBe(false);
  const inClass = ruleRegExp({ regex: "[0-9.]+x" });
  expect(inClass.test("1.5x")).toBe(true);
  expect(inClass.test("ax")).toBe(false);
  expect(ruleRegExp({ regex: "a\\.b" }).test("axb")).toBe(false);
  expect(ruleRegExp({ regex: "[^.]z" }).test(".z")).toBe(false);
});
