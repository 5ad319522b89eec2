/**
 * Parser `spec` (reference §3.8) -> ParserSpec, defaults filled in; every mediaTypePattern is
 * compiled by RE2 so a bad one names its field here.
 */
import {
  type At,
  asList,
  asRecord,
  asString,
  child,
  fail,
  optionalRecord,
  present,
  required,
  show,
} from "./fields.ts";
import { parseRequestConditions } from "./parse-matchers.ts";
import { re2SyntaxError } from "./re2.ts";
import { type BodyParserKind, DEFAULT_PARSER_SPEC, type ParserSpec } from "./types.ts";

const MAX_RULES = 4096;
const KINDS: readonly BodyParserKind[] = ["form", "json", "multipart"];

/** Parses a Parser `spec`; `at` is its path. */
export function parseParserSpec(at: At, raw: unknown): ParserSpec {
  const spec = optionalRecord(at, raw);
  const requestAt = child(at, "request");
  const request = optionalRecord(requestAt, spec.request);
  const typeAt = child(requestAt, "defaultContentType");
  const rawType = present(request.defaultContentType);
  const defaultContentType =
    rawType === undefined ? DEFAULT_PARSER_SPEC.defaultContentType : asString(typeAt, rawType);
  if (defaultContentType.length > 256)
    fail(typeAt, `has ${defaultContentType.length} characters, must have at most 256`);
  const parsersAt = child(requestAt, "parsers");
  const parsers = optionalRecord(parsersAt, request.parsers);
  const builtIn = Object.fromEntries(
    KINDS.map((kind) => {
      const pAt = child(parsersAt, kind);
      const p = optionalRecord(pAt, parsers[kind]);
      const defaults = DEFAULT_PARSER_SPEC.parsers[kind];
      const enable = present(p.enable);
      if (enable !== undefined && typeof enable !== "boolean")
        fail(child(pAt, "enable"), `${show(enable)} must be a boolean`);
      const patternAt = child(pAt, "mediaTypePattern");
      const rawPattern = present(p.mediaTypePattern);
      const pattern = rawPattern === undefined ? defaults.mediaTypePattern : asString(patternAt, rawPattern);
      if (pattern.length < 1 || pattern.length > 1024)
        fail(patternAt, `has ${pattern.length} characters, must have 1 to 1024`);
      const error = re2SyntaxError(pattern);
      if (error !== undefined) fail(patternAt, `${show(pattern)} is not a valid RE2 regex: ${error}`);
      return [kind, { enable: enable ?? defaults.enable, mediaTypePattern: pattern }];
    }),
  ) as ParserSpec["parsers"];
  const customAt = child(requestAt, "custom");
  const custom = optionalRecord(customAt, request.custom);
  const rulesAt = child(customAt, "rules");
  const rawRules = present(custom.rules);
  const rules =
    rawRules === undefined
      ? []
      : asList(rulesAt, rawRules, 0, MAX_RULES).map((r, i) => {
          const ruleAt = child(rulesAt, i);
          const rule = asRecord(ruleAt, r);
          const condAt = child(ruleAt, "requestConditions");
          const actionAt = child(ruleAt, "action");
          const action = asRecord(actionAt, required(actionAt, rule.action));
          return {
            requestConditions: parseRequestConditions(condAt, required(condAt, rule.requestConditions)),
            action: parseAction(actionAt, action),
          };
        });
  return { defaultContentType, parsers: builtIn, custom: rules };
}

function parseAction(at: At, action: Record<string, unknown>): BodyParserKind | "skip" {
  const set = ["parse", "skip"].filter((k) => present(action[k]) !== undefined);
  if (set.length !== 1)
    fail(at, `must have exactly one of parse, skip (${set.length === 0 ? "none" : set.join(", ")} set)`);
  if (set[0] === "skip") return "skip";
  const parseAt = child(at, "parse");
  const parse = asRecord(parseAt, action.parse);
  const kinds = KINDS.filter((k) => present(parse[k]) !== undefined);
  if (kinds.length !== 1 || kinds[0] === undefined) {
    fail(
      parseAt,
      `must have exactly one of form, json, multipart (${kinds.length === 0 ? "none" : kinds.join(", ")} set)`,
    );
  }
  return kinds[0];
}
