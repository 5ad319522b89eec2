import { expect, test } from "bun:test";
import { formParameters } from "./form.ts";

test("pairs in order, names and values decoded with + as space, raw kept", () => {
  expect(formParameters("q=a+b&x=%3Cb%3E&flag&&empty=", "Post")).toEqual([
    { target: "Parameter", name: "q", source: "Post", raw: "a+b", decoded: "a b" },
    { target: "Parameter", name: "x", source: "Post", raw: "%3Cb%3E", decoded: "<b>" },
    { target: "Parameter", name: "flag", source: "Post", raw: "", decoded: "" },
    { target: "Parameter", name: "empty", source: "Post", raw: "", decoded: "" },
  ]);
});

test("encoded names are decoded; a value keeps every further =", () => {
  expect(formParameters("user%5Bname%5D=a=b", "Query")).toEqual([
    { target: "Parameter", name: "user[name]", source: "Query", raw: "a=b", decoded: "a=b" },
  ]);
});

test("an empty string has no parameters", () => {
  expect(formParameters("", "Query")).toEqual([]);
});
