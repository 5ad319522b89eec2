/**
 * Whatever arrives, parsing and inspection answer with a verdict: random bytes as bodies of every
 * parser, random request targets, headers and huge nesting never throw (a deterministic generator,
 * so a failure reproduces).
 */
import { expect, test } from "bun:test";
import { DEFAULT_DENY_RULES_SPEC, DEFAULT_LIMIT_VALUES } from "../model/types.ts";
import { inspect } from "./engine.ts";
import { headerPhaseLimits } from "./limits.ts";
import { parseHead, withBody } from "./parse-request.ts";
import { bodyNeeded } from "./parser-selection.ts";
import { compilePolicy, routePolicy } from "./policy.ts";

/** xorshift32: the same sequence on every run. */
function generator(seed: number) {
  let x = seed;
  return (below: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % below;
  };
}

const ALPHABET = `%+&=;/?#[]{}"':,\\\n\r\t<>-_.~ !*()$@aZ09é\u0000\uffff`;

function randomText(next: (below: number) => number, length: number): string {
  let text = "";
  for (let i = 0; i < length; i++) text += ALPHABET[next(ALPHABET.length)];
  return text;
}

const policy = compilePolicy(
  routePolicy({
    denyRules: {
      request: {
        builtIn: {
          settings: DEFAULT_DENY_RULES_SPEC.request.builtIn.settings,
          exceptions: [
            { blockedData: { kind: "json", jsonPath: "$.a[*]" } },
            { blockedData: { kind: "header", name: { kind: "regex", value: "x-.*", ignoreCase: true } } },
          ],
        },
      },
    },
    limits: {
      threatHandlingMode: "LogOnly",
      limited: { ...DEFAULT_LIMIT_VALUES, exceptions: [{ length: { kind: "json", jsonPath: "$.*" } }] },
    },
  }),
);

test("random targets, headers and bodies for every parser never throw", () => {
  const next = generator(0x5eed);
  const types = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=b",
    "text/plain",
  ];
  for (let i = 0; i < 200; i++) {
    const body = new Uint8Array(next(300)).map(() => next(256));
    const head = parseHead({
      method: ["GET", "POST", "PUT"][next(3)] as string,
      rawTarget: `/${randomText(next, next(40))}`,
      headers: [
        ["content-type", types[next(types.length)] as string],
        ["content-length", String(body.length)],
        ["cookie", randomText(next, next(30))],
        [randomText(next, 5).toLowerCase(), randomText(next, next(30))],
      ],
      remoteIp: next(2) === 0 ? "10.0.0.1" : randomText(next, 5),
    });
    expect(() => headerPhaseLimits(policy, head)).not.toThrow();
    const parser = bodyNeeded(policy, head);
    const verdict = inspect(policy, withBody(head, body, parser));
    expect(verdict.logged).toBeArray();
  }
}, 30_000);

test("random JSON-like and multipart-like bodies never throw", () => {
  const next = generator(42);
  const pieces = [
    '{"',
    '":',
    '"',
    "[",
    "]",
    "{",
    "}",
    ",",
    "1",
    "\\u00",
    "--b",
    "\r\n",
    "Content-Disposition: form-data; name=",
    "\r\n\r\n",
  ];
  for (let i = 0; i < 400; i++) {
    let text = "";
    for (let j = next(60); j > 0; j--) text += pieces[next(pieces.length)];
    const bytes = new TextEncoder().encode(text);
    for (const [type, parser] of [
      ["application/json", "json"],
      ["multipart/form-data; boundary=b", "multipart"],
    ] as const) {
      const head = parseHead({ method: "POST", rawTarget: "/", headers: [["content-type", type]] });
      expect(inspect(policy, withBody(head, bytes, parser)).logged).toBeArray();
    }
  }
}, 30_000);

test("a JSON body nested 100,000 deep is a nesting depth finding, not a crash", () => {
  const head = parseHead({ method: "POST", rawTarget: "/", headers: [["content-type", "application/json"]] });
  const deep = new TextEncoder().encode(`${'{"a":['.repeat(50_000)}"x"${"]}".repeat(50_000)}`);
  const verdict = inspect(policy, withBody(head, deep, "json"));
  expect(verdict.logged.map((f) => f.blockSubtype)).toContain("json_nesting_depth");
}, 30_000);
