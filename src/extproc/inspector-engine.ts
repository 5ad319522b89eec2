/**
 * Binds the ext_proc server to the inspection engine (src/inspect/): the one place where the
 * protocol's view of a request (headers, then maybe the buffered body) meets the engine's
 * (parseHead, bodyNeeded, headerPhaseLimits, withBody, inspect).
 */
import { inspect } from "../inspect/engine.ts";
import { headerPhaseLimits } from "../inspect/limits.ts";
import { parseHead, withBody } from "../inspect/parse-request.ts";
import { bodyNeeded } from "../inspect/parser-selection.ts";
import { type CompiledPolicy, compiledPolicyFor, encodePolicy, routePolicy } from "../inspect/policy.ts";
import type { Finding, Verdict } from "../inspect/types.ts";
import { DEFAULT_DENY_RULES_SPEC } from "../model/types.ts";
import type { InspectionEngine } from "./engine.ts";

/**
 * The engine the inspector serves with: policies compiled once per distinct wire string (an LRU
 * cache in src/inspect/policy.ts), each request parsed once.
 *
 * @example startInspectorServer({ engine: inspectorEngine(), listen: { socketPath } })
 */
export function inspectorEngine(): InspectionEngine<CompiledPolicy> {
  return {
    policyFor: compiledPolicyFor,
    onHeaders(policy, request, hasBody) {
      const head = parseHead(request);
      // A declared Content-Length above a limit is refused before any body is buffered; a body
      // no parser reads is only ever limited by its declared length.
      const early = headerPhaseLimits(policy, head);
      if (early.block !== undefined) return { kind: "final", verdict: early };
      const parser = bodyNeeded(policy, head, hasBody);
      if (parser === undefined) return { kind: "final", verdict: merged(early, inspect(policy, head)) };
      return {
        kind: "needsBody",
        withBody: (body) => merged(early, inspect(policy, withBody(head, body, parser))),
      };
    },
  };
}

/**
 * Compiles the policy of a route that uses every default, before the first request: it is the
 * most common policy, and the first compilation also loads RE2's WebAssembly module. Compiling
 * takes long enough (hundreds of ms, more on a loaded machine) that Envoy's message timeout
 * could otherwise fail the first requests.
 */
export function warmUp(engine: InspectionEngine<CompiledPolicy>): void {
  engine.policyFor(encodePolicy(routePolicy({ denyRules: DEFAULT_DENY_RULES_SPEC })));
}

/** `later` plus the LogOnly findings of `early` it does not repeat (the path length is checked by both). */
function merged(early: Verdict, later: Verdict): Verdict {
  if (early.logged.length === 0) return later;
  const key = (f: Finding) => `${f.blockType}/${f.ruleKey}`;
  const seen = new Set(later.logged.map(key));
  if (later.block) seen.add(key(later.block));
  const logged = [...early.logged.filter((f) => !seen.has(key(f))), ...later.logged];
  return later.block ? { block: later.block, logged } : { logged };
}
