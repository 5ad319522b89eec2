import { describe, expect, test } from "bun:test";
import { expressionInName, OGNL_REQUEST_RULES, OGNL_RULES } from "./ognl.ts";
import { spareRealisticValues } from "./realistic-values.ts";
import { requestOf } from "./request-fixture.ts";
import { checkValueRules } from "./rule-checks.ts";

checkValueRules(OGNL_RULES);
spareRealisticValues(OGNL_RULES);

const [parameterName] = OGNL_REQUEST_RULES;

describe("OGNL_PARAMETER_NAME", () => {
  test.each([
    "('\\u0023_memberAccess[\\'allowStaticMethodAccess\\']')(meh)",
    "(#context['xwork.MethodAccessor.denyMethodExecution']=false)(x)",
    "top['foo'](0)",
    "x[(#a=@java.lang.Runtime@getRuntime())]",
  ])("%p is refused", (name) => {
    const request = requestOf({ method: "POST", post: [[name, "1"]] });
    expect(parameterName?.check(request)).toContain(`name "${name.slice(0, 64)}"`);
  });

  test.each(["user.name", "items[0].price", "filter[status]", "sort(desc)", "class", "className", "q"])(
    "%p passes",
    (name) => {
      expect(expressionInName(name)).toBeUndefined();
      expect(parameterName?.check(requestOf({ query: [[name, "x"]] }))).toBeUndefined();
    },
  );

  test("class-loader paths without expression syntax are left to EXPLOIT_CLASSLOADER_NAME", () => {
    expect(
      expressionInName("class.module.classLoader.resources.context.parent.pipeline.first.pattern"),
    ).toBeUndefined();
  });

  test("header names are not read", () => {
    expect(parameterName?.check(requestOf({ headers: [["x-classloader", "1"]] }))).toBeUndefined();
  });
});
