/**
 * The inspection engine: judges a parsed request against a compiled route policy.
 *
 * Order: limits, then a body the parser could not read (a `parser` finding in the Limits' mode:
 * Block unless the Limits say LogOnly), then the custom rules, the built-in value rules and the
 * built-in request rules. The first finding in Block mode decides (the request is
 * answered 400, 413 for body size limits); LogOnly findings before it are all collected.
 *
 * Built-in rules: for every (target, input form) the rules of the effective level, with the mode
 * that applies to them, are compiled into one RE2 alternation, the prefilter; targets with the same
 * rules share one. It is searched once over the distinct texts of those targets joined by `\n` (in
 * multiline mode, so `^` and `$` still mean the start and end of a value, and `.` never crosses
 * into the next value); only a text it matches is searched rule by rule. A benign request so costs
 * one RE2 search per group (usually two: decoded and raw).
 *
 * Effective level and mode per (family, target): the DenyRules settings, then every override whose
 * `ruleKeys` (families; absent: all) and `types` (absent: all; a Cookie counts as a Header) match,
 * in order, each replacing what it sets. Request rules see only overrides without `types`.
 * Exceptions remove one finding (a rule's family on one value) when their families, data and
 * request conditions all match; they do not apply to custom rules.
 */
import type {
  DenyRuleLevel,
  DenyRulesSpec,
  RuleFamily,
  RuleTargetType,
  ThreatHandlingMode,
} from "../model/types.ts";
import { compileData, type DataMatcher, findData } from "./data.ts";
import { excerpt } from "./findings.ts";
import { checkLimits } from "./limits.ts";
import { type Condition, compileConditions, type Programs } from "./matchers.ts";
import type { CompiledPolicy } from "./policy.ts";
import { compileRe2, type Re2, sharedRe2 } from "./re2.ts";
import { REQUEST_RULES, VALUE_RULES } from "./rules/catalog.ts";
import {
  ALL_TARGETS,
  type Finding,
  type InspectedValue,
  type InspectTarget,
  type ParsedRequest,
  type RequestRule,
  type ValueRule,
  type Verdict,
} from "./types.ts";

const LEVEL_RANK: Readonly<Record<DenyRuleLevel, number>> = {
  Unfiltered: 0,
  Basic: 1,
  Standard: 2,
  Strict: 3,
};

interface ActiveRule {
  readonly rule: ValueRule;
  readonly mode: ThreatHandlingMode;
  readonly names?: ReadonlySet<string>;
}

interface RuleGroup {
  /** The targets whose values the group inspects: all those with exactly these rules and modes. */
  readonly targets: ReadonlySet<InspectTarget>;
  readonly input: "decoded" | "raw";
  readonly prefilter: Re2;
  readonly rules: readonly ActiveRule[];
}

interface CompiledException {
  readonly families?: ReadonlySet<RuleFamily>;
  readonly data?: DataMatcher;
  readonly condition?: Condition;
}

interface CompiledCustomRule {
  readonly ruleKey: string;
  readonly mode: ThreatHandlingMode;
  readonly data: Parameters<typeof findData>[0];
  readonly matcher: DataMatcher;
  readonly condition?: Condition;
}

/** The deny rules of a policy, compiled. */
export interface CompiledDenyRules {
  readonly groups: readonly RuleGroup[];
  readonly requestRules: readonly { readonly rule: RequestRule; readonly mode: ThreatHandlingMode }[];
  readonly exceptions: readonly CompiledException[];
  readonly custom: readonly CompiledCustomRule[];
}

// A built-in rule's own program is the same for every policy: compiled once per process, when a
// prefilter first matches (benign traffic never needs it, and compiling every rule up front would
// double the time to compile the first policy).
const rulePrograms = new Map<string, Re2>();

function ruleProgram(rule: ValueRule): Re2 {
  let re = rulePrograms.get(rule.regex);
  if (re === undefined) {
    re = compileRe2(rule.regex, { ignoreCase: true });
    rulePrograms.set(rule.regex, re);
  }
  return re;
}

function typeOf(target: InspectTarget): RuleTargetType {
  return target === "Cookie" ? "Header" : target;
}

/** The level and mode that apply to `family` at `type` (undefined: request rules, no type). */
export function effectiveSettings(
  spec: DenyRulesSpec,
  family: RuleFamily,
  type: RuleTargetType | undefined,
): { level: DenyRuleLevel; mode: ThreatHandlingMode } {
  let { level, threatHandlingMode: mode } = spec.request.builtIn.settings;
  for (const o of spec.request.builtIn.overrides ?? []) {
    if (o.ruleKeys !== undefined && !o.ruleKeys.includes(family)) continue;
    if (o.types !== undefined && (type === undefined || !o.types.includes(type))) continue;
    if (o.level !== undefined) level = o.level;
    if (o.threatHandlingMode !== undefined) mode = o.threatHandlingMode;
  }
  return { level, mode };
}

function included(ruleLevel: ValueRule["level"], level: DenyRuleLevel): boolean {
  return LEVEL_RANK[ruleLevel] <= LEVEL_RANK[level];
}

/**
 * Compiles the deny rules of a policy against the rule catalog. `valueRules` and `requestRules`
 * replace the catalog (for tests).
 */
export function compileDenyRules(
  spec: DenyRulesSpec,
  programs: Programs,
  valueRules: readonly ValueRule[] = VALUE_RULES,
  requestRules: readonly RequestRule[] = REQUEST_RULES,
): CompiledDenyRules {
  // Targets with the same rules (and modes) share one group, so a request without overrides costs
  // one prefilter search per input form, whatever its number of targets.
  const groups: RuleGroup[] = [];
  const bySignature = new Map<
    string,
    { targets: Set<InspectTarget>; input: "decoded" | "raw"; rules: ActiveRule[] }
  >();
  for (const target of ALL_TARGETS) {
    for (const input of ["decoded", "raw"] as const) {
      const rules: ActiveRule[] = [];
      for (const rule of valueRules) {
        if ((rule.input ?? "decoded") !== input) continue;
        if (rule.targets !== undefined && !rule.targets.includes(target)) continue;
        const { level, mode } = effectiveSettings(spec, rule.family, typeOf(target));
        if (!included(rule.level, level)) continue;
        rules.push({
          rule,
          mode,
          ...(rule.names === undefined ? {} : { names: new Set(rule.names) }),
        });
      }
      if (rules.length === 0) continue;
      const signature = `${input} ${rules.map((r) => `${r.rule.key}:${r.mode}`).join(",")}`;
      const same = bySignature.get(signature);
      if (same !== undefined) same.targets.add(target);
      else bySignature.set(signature, { targets: new Set([target]), input, rules });
    }
  }
  for (const { targets, input, rules } of bySignature.values()) {
    groups.push({ targets, input, prefilter: chunkedPrefilter(rules.map((r) => r.rule.regex)), rules });
  }
  const activeRequestRules = requestRules.flatMap((rule) => {
    const { level, mode } = effectiveSettings(spec, rule.family, undefined);
    return included(rule.level, level) ? [{ rule, mode }] : [];
  });
  const exceptions = (spec.request.builtIn.exceptions ?? []).map(
    (e): CompiledException => ({
      ...(e.ruleKeys === undefined ? {} : { families: new Set(e.ruleKeys) }),
      ...(e.blockedData === undefined ? {} : { data: compileData(e.blockedData, programs) }),
      ...(e.requestConditions === undefined
        ? {}
        : { condition: compileConditions(e.requestConditions, programs) }),
    }),
  );
  const custom = (spec.request.custom?.rules ?? []).map(
    (r): CompiledCustomRule => ({
      ruleKey: r.ruleKey,
      mode: r.threatHandlingMode,
      data: r.blockData,
      matcher: compileData(r.blockData, programs),
      ...(r.requestConditions === undefined
        ? {}
        : { condition: compileConditions(r.requestConditions, programs) }),
    }),
  );
  return { groups, requestRules: activeRequestRules, exceptions, custom };
}

/** Collects findings until the first Block. */
class Collector {
  readonly logged: Finding[] = [];
  block: Finding | undefined;
  /** Records `finding`; true when it blocks (stop inspecting). */
  add(finding: Finding): boolean {
    if (finding.mode === "Block") {
      this.block = finding;
      return true;
    }
    this.logged.push(finding);
    return false;
  }
  verdict(): Verdict {
    return this.block === undefined ? { logged: this.logged } : { block: this.block, logged: this.logged };
  }
}

/**
 * Judges `request` against `compiled`: limits, parser, custom rules, built-in rules (see the file
 * comment). Never throws for any request.
 *
 * @example inspect(compiledPolicyFor(wire), parseRequest(input, bodyNeeded(compiled, ...)))
 */
export function inspect(compiled: CompiledPolicy, request: ParsedRequest): Verdict {
  const out = new Collector();
  for (const finding of checkLimits(compiled.limits, request)) if (out.add(finding)) return out.verdict();
  if (request.bodyError !== undefined) {
    const finding: Finding = {
      blockType: "parser",
      blockSubtype: request.bodyParser ?? "body",
      ruleKey: `PARSER_${(request.bodyParser ?? "body").toUpperCase()}`,
      mode: compiled.limits.mode,
      detail: excerpt(request.bodyError),
    };
    if (out.add(finding)) return out.verdict();
  }
  const deny = compiled.denyRules;
  for (const rule of deny.custom) {
    if (rule.condition !== undefined && !rule.condition(request)) continue;
    const value = findData(rule.data, rule.matcher, request);
    if (value === undefined) continue;
    const finding: Finding = {
      blockType: "deny_rules",
      blockSubtype: "CUSTOM",
      ruleKey: rule.ruleKey,
      mode: rule.mode,
      target: value.target,
      ...(value.name === undefined ? {} : { name: value.name }),
      detail: excerpt(value.decoded),
    };
    if (out.add(finding)) return out.verdict();
  }
  const exempt = exemption(deny.exceptions, request);
  for (const group of deny.groups) {
    if (inspectGroup(group, request, exempt, out)) return out.verdict();
  }
  for (const { rule, mode } of deny.requestRules) {
    const problem = rule.check(request);
    if (problem === undefined || exempt(rule.family, undefined)) continue;
    const finding: Finding = {
      blockType: "deny_rules",
      blockSubtype: rule.family,
      ruleKey: rule.key,
      mode,
      detail: excerpt(problem),
    };
    if (out.add(finding)) return out.verdict();
  }
  return out.verdict();
}

/** Whether an exception removes a finding of `family` on `value` (undefined: a request rule). */
function exemption(
  exceptions: readonly CompiledException[],
  request: ParsedRequest,
): (family: RuleFamily, value: InspectedValue | undefined) => boolean {
  if (exceptions.length === 0) return () => false;
  const conditionHolds = new Map<CompiledException, boolean>();
  const holds = (e: CompiledException): boolean => {
    if (e.condition === undefined) return true;
    let result = conditionHolds.get(e);
    if (result === undefined) {
      result = e.condition(request);
      conditionHolds.set(e, result);
    }
    return result;
  };
  return (family, value) =>
    exceptions.some(
      (e) =>
        (e.families === undefined || e.families.has(family)) &&
        (e.data === undefined || (value !== undefined && e.data(value))) &&
        holds(e),
    );
}

/**
 * Runs one rule group over the request's values of its targets; true when a Block was found. Equal
 * texts (JSON keys repeated in every array element, the same value in several places) are searched
 * once; a rule that matches such a text is a finding for each value that has it.
 */
function inspectGroup(
  group: RuleGroup,
  request: ParsedRequest,
  exempt: (family: RuleFamily, value: InspectedValue) => boolean,
  out: Collector,
): boolean {
  const texts: string[] = [];
  const owners: InspectedValue[][] = [];
  const known = new Map<string, number>();
  for (const value of request.values) {
    if (!group.targets.has(value.target)) continue;
    const original = group.input === "raw" ? value.raw : value.decoded;
    // Lone surrogates (a JSON "\ud800") would not survive the trip into RE2's UTF-8 intact.
    const text = original.isWellFormed() ? original : original.toWellFormed();
    const k = known.get(text);
    if (k === undefined) {
      known.set(text, texts.length);
      texts.push(text);
      owners.push([value]);
    } else (owners[k] as InspectedValue[]).push(value);
  }
  if (texts.length === 0) return false;
  const joined = texts.length === 1 ? (texts[0] as string) : texts.join("\n");
  let hit = group.prefilter.search(joined);
  if (hit === undefined) return false;
  // Start offsets of each text in `joined`, in code points: re2-wasm counts positions in code
  // points, not in JavaScript's UTF-16 units (an emoji is one, not two).
  const starts: number[] = [];
  let offset = 0;
  for (const t of texts) {
    starts.push(offset);
    offset += codePointLength(t) + 1;
  }
  let i = 0;
  while (hit !== undefined) {
    while (i + 1 < starts.length && (starts[i + 1] as number) <= hit.index) i++;
    const text = texts[i] as string;
    // A pattern with `\s` or a negated class can match across the `\n` between two values. Such a
    // hit says nothing about either value; searching this value alone (one search) instead of every
    // rule on it (one search per rule) keeps benign requests cheap.
    const next = starts[i + 1];
    if (next !== undefined && hit.index + codePointLength(hit.match) >= next && !group.prefilter.test(text)) {
      i++;
      hit = group.prefilter.search(joined, next);
      continue;
    }
    for (const active of group.rules) {
      const match = ruleProgram(active.rule).search(text);
      if (match === undefined) continue;
      for (const value of owners[i] as InspectedValue[]) {
        if (active.names !== undefined && !active.names.has(value.name ?? "")) continue;
        if (exempt(active.rule.family, value)) continue;
        const finding: Finding = {
          blockType: "deny_rules",
          blockSubtype: active.rule.family,
          ruleKey: active.rule.key,
          mode: active.mode,
          target: value.target,
          ...(value.name === undefined ? {} : { name: value.name }),
          detail: excerpt(match.match === "" ? text : match.match),
        };
        if (out.add(finding)) return true;
      }
    }
    i++;
    if (i >= starts.length) break;
    hit = group.prefilter.search(joined, starts[i]);
  }
  return false;
}

/**
 * Pattern characters per prefilter program. One alternation of all of a level's rules (140 at
 * Standard) overflows RE2's DFA memory budget (8 MiB per program): RE2 then falls back to its NFA,
 * and a search of a 150-character text took 12-14 ms instead of tens of microseconds. Alternations
 * of at most this many pattern characters stay in the DFA (measured 2026-11-26: 6 programs, about
 * 160-190 µs for 2.4 KB of text, against 12 ms for 150 characters in one).
 */
const PREFILTER_CHUNK_CHARS = 5000;

/**
 * One Re2 over `patterns` that answers the leftmost match of any of them: the alternation split
 * into programs of at most PREFILTER_CHUNK_CHARS pattern characters (a longer pattern alone).
 *
 * @example chunkedPrefilter(["union.+select", "<script"]).search("a <script>") // { index: 2, ... }
 */
function chunkedPrefilter(patterns: readonly string[]): Re2 {
  const chunks: string[][] = [];
  let length = 0;
  for (const p of patterns) {
    const last = chunks.at(-1);
    if (last === undefined || (length > 0 && length + p.length > PREFILTER_CHUNK_CHARS)) {
      chunks.push([p]);
      length = p.length;
    } else {
      last.push(p);
      length += p.length;
    }
  }
  const programs = chunks.map((c) =>
    sharedRe2(c.map((p) => `(?:${p})`).join("|"), { ignoreCase: true, multiline: true }),
  );
  if (programs.length === 1) return programs[0] as Re2;
  const search = (text: string, from = 0) => {
    let best: { readonly index: number; readonly match: string } | undefined;
    for (const program of programs) {
      const hit = program.search(text, from);
      if (hit !== undefined && (best === undefined || hit.index < best.index)) best = hit;
    }
    return best;
  };
  return {
    search,
    test: (text) => search(text) !== undefined,
    free() {
      // Shared programs: freed by their registry once nothing holds them.
    },
  };
}

const SURROGATE = /[\ud800-\udfff]/;

/** The number of code points of a well-formed string. */
function codePointLength(text: string): number {
  if (!SURROGATE.test(text)) return text.length;
  let n = 0;
  for (const _ of text) n++;
  return n;
}
