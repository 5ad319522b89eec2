/**
 * Which parser reads a request's body (reference §3.8): the Parser's custom rules first (the first
 * whose request conditions match decides: parse with one parser, or skip), then the enabled
 * built-in parsers in the order form, JSON, multipart, the first whose mediaTypePattern (RE2,
 * case-insensitive) matches the whole Content-Type (`defaultContentType` when the request has
 * none). `bodyNeeded` says whether the plumbing should ask Envoy for the body at all.
 */
import type { BodyParserKind, ParserSpec } from "../model/types.ts";
import { type Condition, compileConditions, type Programs } from "./matchers.ts";
import { headerValue } from "./parse-request.ts";
import type { CompiledPolicy } from "./policy.ts";
import { compileRe2, type Re2 } from "./re2.ts";
import type { ParsedRequest } from "./types.ts";

/** The Parser of a policy, compiled. */
export interface CompiledParser {
  readonly defaultContentType: string;
  readonly custom: readonly { readonly condition: Condition; readonly action: BodyParserKind | "skip" }[];
  readonly builtIn: readonly { readonly kind: BodyParserKind; readonly pattern: Re2 }[];
}

const ORDER: readonly BodyParserKind[] = ["form", "json", "multipart"];

/** Compiles the Parser of a policy. */
export function compileParser(spec: ParserSpec, programs: Programs): CompiledParser {
  const builtIn = ORDER.flatMap((kind) => {
    const parser = spec.parsers[kind];
    if (!parser.enable) return [];
    const pattern = compileRe2(`^(?:${parser.mediaTypePattern})$`, { ignoreCase: true });
    programs.push(pattern);
    return [{ kind, pattern }];
  });
  const custom = spec.custom.map((rule) => ({
    condition: compileConditions(rule.requestConditions, programs),
    action: rule.action,
  }));
  return { defaultContentType: spec.defaultContentType, custom, builtIn };
}

/**
 * The parser for `request` (its head is enough), or undefined when no parser reads the body.
 *
 * @example selectParser(compiled.parser, parseHead({method: "POST", rawTarget: "/", headers: [["content-type", "application/json"]]})) // "json"
 */
export function selectParser(parser: CompiledParser, request: ParsedRequest): BodyParserKind | undefined {
  for (const rule of parser.custom) {
    if (rule.condition(request)) return rule.action === "skip" ? undefined : rule.action;
  }
  const contentType = headerValue(request.headers, "content-type") ?? parser.defaultContentType;
  for (const { kind, pattern } of parser.builtIn) if (pattern.test(contentType)) return kind;
  return undefined;
}

/**
 * The parser that will read the body of `head` (from `parseHead`), or undefined when the body
 * need not be read: no parser is selected, or the request has no body. `hasBody` is what Envoy
 * says (ext_proc's `end_of_stream` on the headers is false); without it, a Content-Length above 0
 * or a Transfer-Encoding means a body (HTTP/2 may send a body with neither: pass `hasBody`).
 *
 * @example bodyNeeded(compiled, head, !headers.endOfStream) // "json": ask Envoy for the body, then inspect(compiled, withBody(head, body, "json"))
 */
export function bodyNeeded(
  compiled: CompiledPolicy,
  head: ParsedRequest,
  hasBody?: boolean,
): BodyParserKind | undefined {
  if (hasBody === false) return undefined;
  if (hasBody === undefined) {
    const length = headerValue(head.headers, "content-length");
    const chunked = headerValue(head.headers, "transfer-encoding") !== undefined;
    if (!chunked && (length === undefined || length.trim() === "0")) return undefined;
  }
  return selectParser(compiled.parser, head);
}
