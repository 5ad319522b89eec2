import { describe, expect, test } from "bun:test";
import {
  type CustomRule,
  DEFAULT_DENY_RULES_SPEC,
  DEFAULT_PARSER_SPEC,
  type DenyRulesException,
  type DenyRulesOverride,
  type DenyRulesSpec,
  type LimitsSpec,
  type StringMatch,
} from "../model/types.ts";
import { compileDenyRules, effectiveSettings, inspect } from "./engine.ts";
import { MAX_DETAIL } from "./findings.ts";
import { compileLimits } from "./limits.ts";
import { parseRequest, type RequestInput } from "./parse-request.ts";
import { compileParser } from "./parser-selection.ts";
import { type CompiledPolicy, compiledPolicyFor, encodePolicy, routePolicy } from "./policy.ts";
import type { RequestRule, ValueRule } from "./types.ts";

const RULES: ValueRule[] = [
  {
    key: "SQL_T",
    family: "SQL",
    level: "Basic",
    regex: "union select",
    description: "t",
    examples: ["union select"],
  },
  {
    key: "XSS_T",
    family: "XSS",
    level: "Standard",
    regex: "<script",
    description: "t",
    examples: ["<script"],
  },
  { key: "XSS_STRICT_T", family: "XSS", level: "Strict", regex: "<b>", description: "t", examples: ["<b>"] },
  {
    key: "PROTOCOL_T",
    family: "PROTOCOL",
    level: "Basic",
    targets: ["Header"],
    names: ["x-evil"],
    regex: "bad",
    description: "t",
    examples: ["bad"],
  },
  {
    key: "ENCODING_T",
    family: "ENCODING",
    level: "Basic",
    input: "raw",
    regex: "%25",
    description: "t",
    examples: ["%25"],
  },
  { key: "SANITY_END_T", family: "SANITY", level: "Basic", regex: "zz$", description: "t", examples: ["zz"] },
];

const REQUEST_RULES: RequestRule[] = [
  {
    key: "HPP_T",
    family: "HPP",
    level: "Basic",
    description: "t",
    check: (r) => {
      const names = r.values.filter((v) => v.target === "Parameter").map((v) => v.name);
      const dup = names.find((n, i) => names.indexOf(n) !== i);
      return dup === undefined ? undefined : `parameter "${dup}" given twice`;
    },
  },
];

const UNLIMITED: LimitsSpec = { threatHandlingMode: "Block" };

function spec(
  level: DenyRulesSpec["request"]["builtIn"]["settings"]["level"] = "Standard",
  more: {
    mode?: "Block" | "LogOnly";
    overrides?: DenyRulesOverride[];
    exceptions?: DenyRulesException[];
    custom?: CustomRule[];
  } = {},
): DenyRulesSpec {
  return {
    request: {
      builtIn: {
        settings: { level, threatHandlingMode: more.mode ?? "Block" },
        ...(more.overrides ? { overrides: more.overrides } : {}),
        ...(more.exceptions ? { exceptions: more.exceptions } : {}),
      },
      ...(more.custom ? { custom: { rules: more.custom } } : {}),
    },
  };
}

function compiled(deny: DenyRulesSpec, limits: LimitsSpec = UNLIMITED): CompiledPolicy {
  return {
    policy: routePolicy({ denyRules: deny, limits }),
    denyRules: compileDenyRules(deny, [], RULES, REQUEST_RULES),
    limits: compileLimits(limits, []),
    parser: compileParser(DEFAULT_PARSER_SPEC, []),
  };
}

function get(rawTarget: string, headers: [string, string][] = [], more: Partial<RequestInput> = {}) {
  return parseRequest({ method: "GET", rawTarget, headers, ...more });
}

function json(body: string, rawTarget = "/api") {
  return parseRequest(
    {
      method: "POST",
      rawTarget,
      headers: [["content-type", "application/json"]],
      body: new TextEncoder().encode(body),
    },
    "json",
  );
}

const m = (kind: StringMatch["kind"], value: string, ignoreCase = false): StringMatch => ({
  kind,
  value,
  ignoreCase,
});

describe("built-in rules", () => {
  test("the level decides which rules apply; Unfiltered none", () => {
    const attack = get("/x?a=union+select&b=%3Cscript&c=%3Cb%3E");
    expect(inspect(compiled(spec("Basic")), attack).block?.ruleKey).toBe("SQL_T");
    expect(inspect(compiled(spec("Basic")), get("/x?b=%3Cscript"))).toEqual({ logged: [] });
    expect(inspect(compiled(spec("Standard")), get("/x?b=%3Cscript")).block?.ruleKey).toBe("XSS_T");
    expect(inspect(compiled(spec("Standard")), get("/x?c=%3Cb%3E")).block).toBeUndefined();
    expect(inspect(compiled(spec("Strict")), get("/x?c=%3Cb%3E")).block?.ruleKey).toBe("XSS_STRICT_T");
    expect(inspect(compiled(spec("Unfiltered")), attack)).toEqual({ logged: [] });
  });

  test("a finding names family, rule, target and value name, with the matched excerpt", () => {
    expect(inspect(compiled(spec()), get("/x?q=1+UNION+SELECT+2")).block).toEqual({
      blockType: "deny_rules",
      blockSubtype: "SQL",
      ruleKey: "SQL_T",
      mode: "Block",
      target: "Parameter",
      name: "q",
      detail: "UNION SELECT",
    });
  });

  test("LogOnly findings are all collected and the request passes", () => {
    const verdict = inspect(
      compiled(spec("Standard", { mode: "LogOnly" })),
      get("/x?a=union+select&b=%3Cscript"),
    );
    expect(verdict.block).toBeUndefined();
    expect(verdict.logged.map((f) => [f.ruleKey, f.name, f.mode])).toEqual([
      ["SQL_T", "a", "LogOnly"],
      ["XSS_T", "b", "LogOnly"],
    ]);
  });

  test("the first Block decides; LogOnly findings before it are kept", () => {
    const deny = spec("Standard", { overrides: [{ ruleKeys: ["SQL"], threatHandlingMode: "LogOnly" }] });
    const verdict = inspect(compiled(deny), get("/x?a=union+select&b=%3Cscript"));
    expect(verdict.block?.ruleKey).toBe("XSS_T");
    expect(verdict.logged.map((f) => f.ruleKey)).toEqual(["SQL_T"]);
  });

  test("every target is inspected: path, segment, header, cookie, JSON key and value", () => {
    const c = compiled(spec());
    expect(inspect(c, get("/a/%3Cscript%3E")).block?.target).toBe("Path");
    expect(inspect(c, get("/x", [["referer", "<script>"]])).block).toMatchObject({
      target: "Header",
      name: "referer",
    });
    expect(inspect(c, get("/x", [["cookie", "a=1; b=%3Cscript"]])).block).toMatchObject({
      target: "Cookie",
      name: "b",
    });
    expect(inspect(c, json('{"a":["ok","<script>"]}')).block).toMatchObject({
      target: "JSON",
      name: "$.a[1]",
    });
    expect(inspect(c, json('{"<script>":1}')).block).toMatchObject({ target: "JSON", name: "$['<script>']" });
  });

  test("a match in the 50th of many values is found, and nothing matches across two values", () => {
    const c = compiled(spec());
    const many = Array.from({ length: 60 }, (_, i) => `p${i}=${i === 49 ? "%3Cscript" : "fine"}`).join("&");
    expect(inspect(c, get(`/x?${many}`)).block).toMatchObject({ ruleKey: "XSS_T", name: "p49" });
    // Positions in RE2 count code points: emoji (two UTF-16 units each) before the attack, in
    // earlier values and in the same one, do not shift which value is judged.
    const emoji = Array.from({ length: 30 }, (_, i) => `e${i}=${"%F0%9F%98%80".repeat(i)}`).join("&");
    expect(inspect(c, get(`/x?${emoji}&z=%F0%9F%98%80%3Cscript`)).block).toMatchObject({ name: "z" });
    expect(inspect(c, json('{"a":"\\ud83d","b":"😀😀","c":"<script>"}')).block).toMatchObject({
      name: "$.c",
    });
    // "union" ends one value and "select" starts the next: joined by "\n" for the prefilter only.
    expect(inspect(c, get("/x?a=union&b=select")).block).toBeUndefined();
    // `$` is the end of a value, also in the middle of the joined text.
    expect(inspect(c, get("/x?a=fizz&b=ok")).block).toMatchObject({ ruleKey: "SANITY_END_T", name: "a" });
    expect(inspect(c, get("/x?a=zzz1")).block).toBeUndefined();
  });

  test("a rule with targets and names sees only those; a raw rule sees the value as sent", () => {
    const c = compiled(spec());
    expect(inspect(c, get("/x", [["x-evil", "bad"]])).block?.ruleKey).toBe("PROTOCOL_T");
    expect(inspect(c, get("/x", [["x-good", "bad"]])).block).toBeUndefined();
    expect(inspect(c, get("/x?x-evil=bad")).block).toBeUndefined();
    // Decoded, "%2541" is "A": only the raw value holds "%25".
    expect(inspect(c, get("/x?a=%2541")).block?.ruleKey).toBe("ENCODING_T");
  });

  test("detail is at most 64 characters, control characters escaped", () => {
    const deny = spec("Standard", {
      custom: [
        {
          ruleKey: "LONG",
          threatHandlingMode: "Block",
          blockData: { kind: "header", name: m("exact", "x-long") },
        },
      ],
    });
    const detail = inspect(compiled(deny), get("/x", [["x-long", `a\u0001b\\c${"d".repeat(100)}`]])).block
      ?.detail;
    expect(detail).toStartWith("a\\x01b\\\\cd");
    expect(detail?.length).toBe(MAX_DETAIL);
  });
});

describe("overrides", () => {
  test("level and mode per family and type; later overrides replace what they set", () => {
    const deny = spec("Standard", {
      overrides: [
        { ruleKeys: ["XSS"], level: "Strict" },
        { types: ["Header"], threatHandlingMode: "LogOnly" },
        { ruleKeys: ["SQL"], types: ["Path"], level: "Unfiltered" },
      ],
    });
    expect(effectiveSettings(deny, "XSS", "Parameter")).toEqual({ level: "Strict", mode: "Block" });
    expect(effectiveSettings(deny, "XSS", "Header")).toEqual({ level: "Strict", mode: "LogOnly" });
    expect(effectiveSettings(deny, "SQL", "Path")).toEqual({ level: "Unfiltered", mode: "Block" });
    expect(effectiveSettings(deny, "SQL", undefined)).toEqual({ level: "Standard", mode: "Block" });
    const c = compiled(deny);
    expect(inspect(c, get("/x?c=%3Cb%3E")).block?.ruleKey).toBe("XSS_STRICT_T");
    const header = inspect(c, get("/x", [["referer", "union select"]]));
    expect(header.block).toBeUndefined();
    expect(header.logged.map((f) => f.ruleKey)).toEqual(["SQL_T"]);
    // A cookie is a header for overrides.
    expect(inspect(c, get("/x", [["cookie", "a=union select"]])).block).toBeUndefined();
    expect(inspect(c, get("/union%20select")).block?.target).toBe("PathSegment");
  });
});

describe("exceptions", () => {
  test("an exception for parameter q does not exempt the same attack in parameter p", () => {
    const deny = spec("Standard", {
      exceptions: [
        { ruleKeys: ["SQL"], blockedData: { kind: "parameter", name: m("exact", "q"), source: "Query" } },
      ],
    });
    const c = compiled(deny);
    expect(inspect(c, get("/search?q=union+select"))).toEqual({ logged: [] });
    expect(inspect(c, get("/search?p=union+select")).block).toMatchObject({ ruleKey: "SQL_T", name: "p" });
    // The same text in q and p is searched once, and still judged per value.
    expect(inspect(c, get("/search?q=union+select&p=union+select")).block).toMatchObject({ name: "p" });
    // Only the SQL family is exempt in q.
    expect(inspect(c, get("/search?q=%3Cscript")).block?.ruleKey).toBe("XSS_T");
    // source Query: the same name in a form body is not exempt.
    const form = parseRequest(
      { method: "POST", rawTarget: "/search", headers: [], body: new TextEncoder().encode("q=union+select") },
      "form",
    );
    expect(inspect(c, form).block).toMatchObject({ ruleKey: "SQL_T", name: "q" });
  });

  test("request conditions narrow an exception; conditions alone exempt the whole request", () => {
    const c = compiled(
      spec("Standard", {
        exceptions: [
          {
            blockedData: { kind: "parameter", name: m("exact", "q"), source: "Any" },
            requestConditions: { path: m("prefix", "/search"), method: ["GET"] },
          },
          { ruleKeys: ["XSS"], requestConditions: { path: m("prefix", "/cms") } },
        ],
      }),
    );
    expect(inspect(c, get("/search?q=union+select")).block).toBeUndefined();
    expect(inspect(c, get("/other?q=union+select")).block?.ruleKey).toBe("SQL_T");
    expect(inspect(c, get("/cms/page?body=%3Cscript")).block).toBeUndefined();
    expect(inspect(c, get("/cms/page?body=union+select")).block?.ruleKey).toBe("SQL_T");
  });

  test("header, cookie, path, segment and JSON data", () => {
    const c = compiled(
      spec("Standard", {
        exceptions: [
          { blockedData: { kind: "header", name: m("exact", "Referer") } },
          { blockedData: { kind: "header", name: m("exact", "cookie"), value: m("prefix", "<script") } },
          { blockedData: { kind: "pathSegment", index: 1, value: m("contains", "script") } },
          { blockedData: { kind: "json", jsonPath: "$.items[*].html" } },
          { blockedData: { kind: "json", key: m("prefix", "<script") } },
        ],
      }),
    );
    expect(inspect(c, get("/x", [["referer", "<script>"]])).block).toBeUndefined();
    expect(inspect(c, get("/x", [["user-agent", "<script>"]])).block?.name).toBe("user-agent");
    expect(inspect(c, get("/x", [["cookie", "a=%3Cscript"]])).block).toBeUndefined();
    expect(inspect(c, get("/x", [["cookie", "a=x%3Cscript"]])).block?.target).toBe("Cookie");
    // Segment 1 is exempt, but the Path itself still shows the attack.
    expect(inspect(c, get("/a/%3Cscript")).block?.target).toBe("Path");
    expect(inspect(c, json('{"items":[{"html":"<script>"}]}')).block).toBeUndefined();
    expect(inspect(c, json('{"items":[{"text":"<script>"}]}')).block?.name).toBe("$.items[0].text");
    expect(inspect(c, json('{"<script>":"ok"}')).block).toBeUndefined();
    expect(inspect(c, json('{"k":"<script>"}')).block?.name).toBe("$.k");
  });
});

describe("custom rules", () => {
  const custom = (blockData: CustomRule["blockData"], more: Partial<CustomRule> = {}): CompiledPolicy =>
    compiled(
      spec("Unfiltered", { custom: [{ ruleKey: "MINE", threatHandlingMode: "Block", blockData, ...more }] }),
    );

  test("every data kind blocks what it names and nothing else", () => {
    const cases: [CustomRule["blockData"], ReturnType<typeof get>, ReturnType<typeof get>][] = [
      [{ kind: "path", path: m("prefix", "/admin") }, get("/admin/x"), get("/public")],
      [
        { kind: "header", name: m("prefix", "x-internal-") },
        get("/", [["x-internal-a", "1"]]),
        get("/", [["x-a", "1"]]),
      ],
      [
        { kind: "header", name: m("exact", "cookie"), value: m("contains", "debug=1") },
        get("/", [["cookie", "debug=1"]]),
        get("/", [["cookie", "debug=0"]]),
      ],
      [{ kind: "parameter", name: m("exact", "debug"), source: "Any" }, get("/?debug=1"), get("/?debugx=1")],
      [
        { kind: "parameter", value: m("regex", "[0-9]{16}"), source: "Query" },
        get("/?card=4111111111111111"),
        get("/?card=41111"),
      ],
      [
        { kind: "pathSegment", index: 0, value: m("exact", "internal") },
        get("/internal/x"),
        get("/x/internal"),
      ],
      [
        { kind: "json", jsonPath: "$.user.role", value: m("exact", "admin") },
        json('{"user":{"role":"admin"}}'),
        json('{"role":"admin"}'),
      ],
      [{ kind: "json", key: m("exact", "__proto__") }, json('{"a":{"__proto__":{}}}'), json('{"proto":1}')],
    ];
    for (const [data, blocked, passed] of cases) {
      const c = custom(data);
      expect({ data, verdict: inspect(c, blocked).block?.ruleKey }).toEqual({ data, verdict: "MINE" });
      expect({ data, verdict: inspect(c, passed).block?.ruleKey }).toEqual({ data, verdict: undefined });
    }
  });

  test("request conditions, LogOnly, and exceptions do not exempt custom rules", () => {
    const c = compiled(
      spec("Unfiltered", {
        custom: [
          {
            ruleKey: "ADMIN_OUTSIDE",
            threatHandlingMode: "Block",
            blockData: { kind: "path", path: m("prefix", "/admin") },
            requestConditions: { remoteIP: { cidrRanges: ["10.0.0.0/8"], invert: true } },
          },
          {
            ruleKey: "WATCH",
            threatHandlingMode: "LogOnly",
            blockData: { kind: "path", path: m("prefix", "/") },
          },
        ],
        exceptions: [{ requestConditions: { path: m("prefix", "/admin") } }],
      }),
    );
    expect(inspect(c, get("/admin", [], { remoteIp: "10.0.0.1" }))).toMatchObject({
      logged: [{ ruleKey: "WATCH", blockSubtype: "CUSTOM" }],
    });
    expect(inspect(c, get("/admin", [], { remoteIp: "203.0.113.9" })).block).toMatchObject({
      ruleKey: "ADMIN_OUTSIDE",
      blockType: "deny_rules",
      blockSubtype: "CUSTOM",
      target: "Path",
    });
  });
});

describe("request rules", () => {
  test("checked at their family's level and mode; exempted by a conditions-only exception", () => {
    expect(inspect(compiled(spec("Basic")), get("/x?a=1&a=2")).block).toMatchObject({
      blockSubtype: "HPP",
      ruleKey: "HPP_T",
      detail: 'parameter "a" given twice',
    });
    const logOnly = spec("Basic", { overrides: [{ ruleKeys: ["HPP"], threatHandlingMode: "LogOnly" }] });
    expect(inspect(compiled(logOnly), get("/x?a=1&a=2")).logged.map((f) => f.ruleKey)).toEqual(["HPP_T"]);
    const typed = spec("Basic", {
      overrides: [{ ruleKeys: ["HPP"], types: ["Parameter"], level: "Unfiltered" }],
    });
    expect(inspect(compiled(typed), get("/x?a=1&a=2")).block?.ruleKey).toBe("HPP_T");
    const exempt = spec("Basic", {
      exceptions: [{ ruleKeys: ["HPP"], requestConditions: { path: m("exact", "/x") } }],
    });
    expect(inspect(compiled(exempt), get("/x?a=1&a=2")).block).toBeUndefined();
  });
});

describe("parser findings", () => {
  test("a body its parser cannot read is a parser finding in the Limits' mode", () => {
    expect(inspect(compiled(spec()), json("{")).block).toMatchObject({
      blockType: "parser",
      blockSubtype: "json",
      ruleKey: "PARSER_JSON",
      mode: "Block",
    });
    const logOnly = inspect(compiled(spec(), { threatHandlingMode: "LogOnly" }), json("{"));
    expect(logOnly.block).toBeUndefined();
    expect(logOnly.logged[0]?.blockType).toBe("parser");
  });
});

describe("with the rule catalog", () => {
  test("the helm test's request is blocked by the default policy, a benign one passes", () => {
    const c = compiledPolicyFor(encodePolicy(routePolicy({ denyRules: DEFAULT_DENY_RULES_SPEC })));
    expect(inspect(c, get("/?token=%27%20UnION%20all%20select%20A")).block?.blockSubtype).toBe("SQL");
    expect(
      inspect(
        c,
        get("/catalog?color=blue&q=O%27Brien", [
          ["user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"],
        ]),
      ),
    ).toEqual({
      logged: [],
    });
  });
});
