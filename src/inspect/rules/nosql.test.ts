import { describe, expect, test } from "bun:test";
import type { InspectedValue } from "../types.ts";
import { NOSQL_REQUEST_RULES, NOSQL_RULES, operatorKeys } from "./nosql.ts";
import { spareRealisticValues } from "./realistic-values.ts";
import { requestOf } from "./request-fixture.ts";
import { checkValueRules } from "./rule-checks.ts";

checkValueRules(NOSQL_RULES);
spareRealisticValues(NOSQL_RULES);

function rule(key: string) {
  const found = NOSQL_REQUEST_RULES.find((r) => r.key === key);
  if (found === undefined) throw new Error(`no rule ${key}`);
  return found;
}

function json(name: string, value = "x"): InspectedValue {
  return { target: "JSON", name, raw: value, decoded: value };
}

/** The first request rule at or below `level` that objects, as `key: detail`. */
function verdict(request: ReturnType<typeof requestOf>, level: "Basic" | "Standard" | "Strict") {
  const order = ["Basic", "Standard", "Strict"];
  for (const r of NOSQL_REQUEST_RULES.filter((x) => order.indexOf(x.level) <= order.indexOf(level))) {
    const detail = r.check(request);
    if (detail !== undefined) return `${r.key}: ${detail}`;
  }
  return undefined;
}

describe("operatorKeys", () => {
  test.each([
    ["user[$ne]", "Parameter", ["ne"]],
    ["user[password][$regex]", "Parameter", ["regex"]],
    ["$where", "Parameter", ["where"]],
    ["user.$gt", "Parameter", ["gt"]],
    ["$.user.$ne", "JSON", ["ne"]],
    ["$['user']['$in']", "JSON", ["in"]],
    ['$["a"]["$Or"]', "JSON", ["or"]],
    ["$.price", "JSON", []],
    ["$", "JSON", []],
    ["total$", "Parameter", []],
    ["a[$]", "Parameter", []],
    ["$filter", "Parameter", ["filter"]],
  ] as const)("%p (%s) has the keys %p", (name, target, keys) => {
    expect(operatorKeys(name, target)).toEqual([...keys]);
  });
});

describe("NOSQL request rules", () => {
  test("a login with user[$ne] is refused at Basic and the log names the parameter", () => {
    const request = requestOf({
      method: "POST",
      post: [
        ["user", "admin"],
        ["password[$ne]", "x"],
      ],
    });
    expect(verdict(request, "Basic")).toBe(
      'NOSQL_OPERATOR_NAME: Parameter "password[$ne]" uses the operator $ne',
    );
  });

  test("a JSON body with an operator object is refused at Basic", () => {
    const request = requestOf({
      method: "POST",
      values: [json("$.username", "admin"), json("$.password.$gt", "")],
    });
    expect(verdict(request, "Basic")).toContain("$gt");
  });

  test("a cookie name with an operator is refused", () => {
    const request = requestOf({
      values: [{ target: "Cookie", name: "session[$exists]", raw: "1", decoded: "1" }],
    });
    expect(rule("NOSQL_OPERATOR_NAME").check(request)).toContain("$exists");
  });

  test("operators that are words wait for Standard, unknown $ keys for Strict", () => {
    const or = requestOf({ values: [json("$.$or[0].user", "a")] });
    expect(verdict(or, "Basic")).toBeUndefined();
    expect(verdict(or, "Standard")).toContain("NOSQL_OPERATOR_NAME_WORD");
    const other = requestOf({ values: [json("$.$foo", "a")] });
    expect(verdict(other, "Standard")).toBeUndefined();
    expect(verdict(other, "Strict")).toContain("NOSQL_OPERATOR_NAME_ANY");
  });

  test("OData options, JSON Schema keywords and $ in values pass at every level", () => {
    const request = requestOf({
      query: [
        ["$filter", "Price gt 5"],
        ["$top", "10"],
        ["q", "$ne is MongoDB's operator"],
      ],
      headers: [["x-total", "$5"]],
      values: [
        json("$.$schema", "https://json-schema.org/draft/2020-12/schema"),
        json("$.items.$ref", "#/$defs/x"),
      ],
    });
    expect(verdict(request, "Strict")).toBeUndefined();
  });

  test("header names are not inspected for operators", () => {
    expect(verdict(requestOf({ headers: [["x-$where", "1"]] }), "Strict")).toBeUndefined();
  });
});
