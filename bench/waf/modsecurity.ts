/**
 * WAF comparison: the corpus (test/corpus/) through Microgateway in local mode (real Envoy, our
 * deny rules) and through nginx + ModSecurity v3 + OWASP CRS 3.3 from Debian's packages, at CRS
 * paranoia levels 1 and 2 (blocking, default anomaly thresholds). Prints per-family block rates
 * and the benign pass rate side by side, as a table and as Markdown, and writes
 * bench/results/waf-modsecurity-<date>.json.
 *
 * Needs: scripts/setup-waf-bench.sh (nginx, libnginx-mod-http-modsecurity, modsecurity-crs).
 *
 *   bun run bench/waf/modsecurity.ts [--levels Basic,Standard,Strict] [--paranoia 1,2]
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DENY_RULE_LEVELS, type DenyRuleLevel, RULE_FAMILIES } from "../../src/api/deny-rules.ts";
import { loadCorpus } from "../../test/corpus/corpus.ts";
import { BARE_PREFIX, startCorpusGateway } from "../../test/corpus/gateway.ts";
import { type SendResult, sendCorpus } from "../../test/corpus/send.ts";
import { percent, type TallyRow, tally } from "../../test/corpus/tally.ts";
import { startCorpusUpstream } from "../../test/corpus/upstream.ts";
import { freePort } from "../../test/support/net.ts";
import { machineInfo } from "../support/machine.ts";
import { DEBIAN_PATHS } from "./modsecurity-config.ts";
import { startModsecurityNginx } from "./nginx-process.ts";

/** dpkg-query's format for a package's version (dpkg's own ${...} syntax, not a template). */
const DPKG_VERSION = "-f=$" + "{Version}";

/** CRS tx.allowed_methods for the comparison. */
const ALLOWED_METHODS = ["GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"];

/** One WAF configuration's run over the corpus. */
interface Contender {
  readonly name: string;
  readonly rows: TallyRow[];
  /** Same server, route/location without rules: what the HTTP stack refuses by itself. */
  readonly bareRows: TallyRow[];
  /** SQL and XSS attacks in the path and the query only: what the RBAC rules on main can see. */
  readonly pathQueryRows: TallyRow[];
}

const { values: args } = parseArgs({
  options: {
    levels: { type: "string", default: "Basic,Standard,Strict" },
    paranoia: { type: "string", default: "1,2" },
  },
});
const levels = args.levels.split(",").map((l) => {
  if (!(DENY_RULE_LEVELS as readonly string[]).includes(l)) throw new Error(`--levels: unknown level ${l}`);
  return l as DenyRuleLevel;
});
const paranoia = args.paranoia.split(",").map((p) => {
  const n = Number(p);
  if (![1, 2, 3, 4].includes(n)) throw new Error(`--paranoia: ${p} is not 1-4`);
  return n as 1 | 2 | 3 | 4;
});

for (const [what, path] of Object.entries(DEBIAN_PATHS)) {
  if (!existsSync(path)) {
    console.error(`missing ${what} (${path}): run \`bash scripts/setup-waf-bench.sh\` first`);
    process.exit(1);
  }
}

const corpus = loadCorpus();
const all = [...corpus.attacks, ...corpus.benign];
const contenders: Contender[] = [];

function summarize(name: string, results: SendResult[], bare: SendResult[]): Contender {
  const pathQuery = results.filter(
    (r) =>
      (r.request.family === "SQL" || r.request.family === "XSS") &&
      (r.request.location === "path" || r.request.location === "query"),
  );
  const c = { name, rows: tally(results), bareRows: tally(bare), pathQueryRows: tally(pathQuery) };
  const benign = c.rows.find((r) => r.family === "benign");
  const attacks = results.filter((r) => r.request.family !== null);
  const blocked = attacks.filter((r) => r.outcome === "blocked").length;
  console.error(
    `${name}: attacks blocked ${blocked}/${attacks.length}, benign passed ${benign?.passed}/${benign?.total}, errors ${results.filter((r) => r.outcome === "error").length}`,
  );
  return c;
}

for (const level of levels) {
  const gw = await startCorpusGateway({ level, mode: "Block" });
  try {
    const results = await sendCorpus(gw.port, all);
    const bare = await sendCorpus(gw.port, all, { pathPrefix: BARE_PREFIX });
    contenders.push(summarize(`Microgateway ${level}`, results, bare));
  } finally {
    await gw.stop();
  }
}

const upstream = startCorpusUpstream();
try {
  for (const pl of paranoia) {
    const nginx = await startModsecurityNginx({
      port: freePort(),
      upstreamPort: upstream.port,
      paranoiaLevel: pl,
      barePrefix: BARE_PREFIX,
      // As anyone running the CRS in front of a REST API would: the CRS default allows only
      // GET HEAD POST OPTIONS, and the benign corpus uses PUT and PATCH.
      allowedMethods: ALLOWED_METHODS,
    });
    try {
      const results = await sendCorpus(nginx.port, all);
      const bare = await sendCorpus(nginx.port, all, { pathPrefix: BARE_PREFIX });
      contenders.push(summarize(`ModSecurity CRS PL${pl}`, results, bare));
    } finally {
      await nginx.stop();
    }
  }
} finally {
  upstream.stop();
}

const families = [...RULE_FAMILIES, "benign" as const];
const cell = (c: Contender, f: string) => {
  const r = c.rows.find((x) => x.family === f);
  return r ? percent(r.rate) : "-";
};
const markdown = [
  `| family | requests | ${contenders.map((c) => c.name).join(" | ")} |`,
  `| --- | ---: | ${contenders.map(() => "---:").join(" | ")} |`,
  ...families.map((f) => {
    const total = contenders[0]?.rows.find((x) => x.family === f)?.total ?? 0;
    return `| ${f === "benign" ? "**benign pass rate**" : f} | ${total} | ${contenders.map((c) => cell(c, f)).join(" | ")} |`;
  }),
  ...(["SQL", "XSS"] as const).map((f) => {
    const of = (c: Contender) => c.pathQueryRows.find((x) => x.family === f);
    const total = contenders[0] ? (of(contenders[0])?.total ?? 0) : 0;
    return `| ${f} in path and query only | ${total} | ${contenders.map((c) => percent(of(c)?.rate ?? 0)).join(" | ")} |`;
  }),
  `| attacks refused with no rules (HTTP stack) | ${corpus.attacks.length} | ${contenders
    .map((c) => {
      const blocked = c.bareRows.filter((r) => r.family !== "benign").reduce((s, r) => s + r.blocked, 0);
      return percent(blocked / corpus.attacks.length);
    })
    .join(" | ")} |`,
].join("\n");
console.log(markdown);

const machine = machineInfo();
const nginxVersion = Bun.spawnSync([DEBIAN_PATHS.nginx, "-v"]).stderr.toString().trim();
const crsVersion = Bun.spawnSync(["dpkg-query", "-W", DPKG_VERSION, "modsecurity-crs"]).stdout.toString();
const modsecVersion = Bun.spawnSync(["dpkg-query", "-W", DPKG_VERSION, "libmodsecurity3"]).stdout.toString();
const out = {
  kind: "waf-modsecurity",
  date: new Date().toISOString(),
  machine,
  versions: { nginx: nginxVersion, libmodsecurity3: modsecVersion, modsecurityCrs: crsVersion },
  modsecurity: {
    allowedMethods: ALLOWED_METHODS,
    anomalyThresholds: "CRS defaults (inbound 5, outbound 4)",
    mode: "blocking",
  },
  corpus: { attacks: corpus.attacks.length, benign: corpus.benign.length },
  command: `bun run bench/waf/modsecurity.ts --levels ${levels.join(",")} --paranoia ${paranoia.join(",")}`,
  contenders: contenders.map((c) => ({
    name: c.name,
    rows: c.rows,
    pathQueryRows: c.pathQueryRows,
    refusedWithoutRules: Object.fromEntries(
      c.bareRows.map((r) => [r.family, r.family === "benign" ? r.total - r.passed : r.blocked]),
    ),
  })),
};
const dir = join(import.meta.dir, "../results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `waf-modsecurity-${out.date.slice(0, 19).replace(/:/g, "-")}.json`);
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
console.error(`wrote ${file}`);
