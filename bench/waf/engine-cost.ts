/**
 * CPU cost of the inspection engine without a socket: parse + inspect of one request against the
 * default route policy (Standard deny rules with every built-in rule of the catalog, default
 * limits and parsers), for a benign GET, a benign 10 KB JSON POST (~200 string values and keys),
 * and an attack. What ext_proc adds on top (gRPC, protobuf) is measured by the plumbing's bench.
 *
 *   bun bench/waf/engine-cost.ts
 *
 * Prints one JSON line per case: microseconds per operation of this process's CPU time (user +
 * system, from process.cpuUsage: on a shared machine, time spent waiting for a core is not ours)
 * and of wall-clock time, and the operations per second one core would do at that CPU cost; each
 * the best of BATCHES batches after a warm-up batch (the best, because other work only ever adds
 * time). Also the number of rules and the verdict, so a number is never reported for a case that
 * did not do what it says.
 */
import { cpus, loadavg } from "node:os";
import { inspect } from "../../src/inspect/engine.ts";
import { parseHead, withBody } from "../../src/inspect/parse-request.ts";
import { bodyNeeded } from "../../src/inspect/parser-selection.ts";
import { compiledPolicyFor, encodePolicy, routePolicy } from "../../src/inspect/policy.ts";
import { REQUEST_RULES, VALUE_RULES } from "../../src/inspect/rules/catalog.ts";
import { DEFAULT_DENY_RULES_SPEC } from "../../src/model/types.ts";

const CALLS = 2_000;
const BATCHES = 5;

const headers: [string, string][] = [
  ["host", "shop.example.com"],
  ["user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"],
  ["accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"],
  ["accept-language", "en-US,en;q=0.5"],
  ["accept-encoding", "gzip, deflate, br"],
  ["referer", "https://shop.example.com/catalog/shoes?color=blue&size=42"],
  ["cookie", "session=4f9c2a7b1e8d4c3a9b0e7f6d5c4b3a29; theme=dark; consent=analytics%3Dno"],
  ["x-request-id", "a3f1c9e2-7b4d-4e8a-9c1f-2d3b4a5c6d7e"],
];

/** A 10 KB JSON order: nested objects and arrays of realistic strings. */
function benignJson(): string {
  const items = [];
  for (let i = 0; items.length < 40; i++) {
    items.push({
      sku: `SKU-${100000 + i}`,
      name: `Trail running shoe model ${i}, breathable mesh upper`,
      color: ["blue", "black", "red", "grey"][i % 4],
      note: i % 3 === 0 ? "Please gift-wrap; it's for my brother's birthday (he's 30)." : "",
      qty: 1 + (i % 3),
    });
  }
  const body = JSON.stringify({
    customer: { name: "Jane O'Brien", email: "jane@example.com", phone: "+41 44 123 45 67" },
    shipping: { street: "Bahnhofstrasse 1", city: "Zürich", zip: "8001", country: "CH" },
    items,
    comment: "Leave at the door if nobody answers. Thanks!",
  });
  return body.length >= 10_000 ? body : body + " ".repeat(10_000 - body.length);
}

const policy = compiledPolicyFor(encodePolicy(routePolicy({ denyRules: DEFAULT_DENY_RULES_SPEC })));
const json = new TextEncoder().encode(benignJson());

const cases: { name: string; run: () => ReturnType<typeof inspect> }[] = [
  {
    name: "benign GET (path, 2 query parameters, 8 headers, 3 cookies)",
    run: () =>
      inspect(
        policy,
        parseHead({ method: "GET", rawTarget: "/catalog/shoes/trail?color=blue&size=42", headers }),
      ),
  },
  {
    name: `benign JSON POST (${json.byteLength} bytes)`,
    run: () => {
      const head = parseHead({
        method: "POST",
        rawTarget: "/api/orders",
        headers: [
          ...headers,
          ["content-type", "application/json"],
          ["content-length", String(json.byteLength)],
        ],
      });
      return inspect(policy, withBody(head, json, bodyNeeded(policy, head)));
    },
  },
  {
    name: "attack GET (SQL injection in a query parameter)",
    run: () =>
      inspect(
        policy,
        parseHead({
          method: "GET",
          rawTarget: "/search?q=%27%20UnION%20all%20select%20password%20from%20users--",
          headers,
        }),
      ),
  },
];

const values = (() => {
  const head = parseHead({
    method: "POST",
    rawTarget: "/api/orders",
    headers: [...headers, ["content-type", "application/json"], ["content-length", String(json.byteLength)]],
  });
  return withBody(head, json, "json").values.length;
})();
process.stdout.write(
  `${JSON.stringify({
    runtime: `bun ${process.versions.bun}`,
    cores: cpus().length,
    // On a shared machine the load says how much the numbers below are inflated.
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 10) / 10,
    valueRules: VALUE_RULES.length,
    requestRules: REQUEST_RULES.length,
    jsonPostValues: values,
  })}\n`,
);
for (const { name, run } of cases) {
  let bestCpu = Number.POSITIVE_INFINITY;
  let bestWall = Number.POSITIVE_INFINITY;
  let verdict: ReturnType<typeof inspect> = { logged: [] };
  for (let b = 0; b <= BATCHES; b++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < CALLS; i++) verdict = run();
    const wall = ((performance.now() - start) * 1000) / CALLS;
    const used = process.cpuUsage(cpu);
    // Batch 0 warms the JIT up and is not counted.
    if (b > 0) {
      bestCpu = Math.min(bestCpu, (used.user + used.system) / CALLS);
      bestWall = Math.min(bestWall, wall);
    }
  }
  process.stdout.write(
    `${JSON.stringify({
      case: name,
      cpuUsPerOp: Math.round(bestCpu * 10) / 10,
      opsPerCoreSecond: Math.round(1e6 / bestCpu),
      wallUsPerOp: Math.round(bestWall * 10) / 10,
      verdict: verdict.block?.ruleKey ?? "allow",
    })}\n`,
  );
}
