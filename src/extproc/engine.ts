/**
 * What the ext_proc server needs from the inspection engine (src/inspect/): the server speaks
 * Envoy's protocol, the engine decides. Kept as an interface so the protocol is tested without
 * the rule catalogue, and so the one place that binds the two (`inspectorEngine`) is easy to find.
 */
import type { Finding, Verdict } from "../inspect/types.ts";

/** A request as it reaches the inspector: pseudo-headers split off, names lower case. */
export interface RequestHead {
  readonly method: string;
  /** `:path` as sent: path and query, percent-encoding intact. */
  readonly rawTarget: string;
  /** Regular headers in arrival order (lower-case names), repeated names kept. */
  readonly headers: readonly (readonly [string, string])[];
  /** The client's address (Envoy's `source.address` attribute without the port), when Envoy sent it. */
  readonly remoteIp?: string;
}

/** The engine as the server sees it; `P` is the engine's compiled policy. */
export interface InspectionEngine<P> {
  /**
   * The compiled policy of a route from its wire form (gRPC initial metadata). Throws on a
   * malformed or unknown policy; the server then fails the stream (Envoy answers 500).
   */
  policyFor(wire: string): P;
  /**
   * Decides on the headers alone, before any body is read: a limit that the headers already
   * break (`Content-Length` above a body size limit) or, when no parser needs the body, the whole
   * inspection. Otherwise the body must be read, and `withBody` gives the final verdict.
   */
  onHeaders(policy: P, head: RequestHead, hasBody: boolean): HeaderDecision;
}

/** The engine's answer to the headers. */
export type HeaderDecision =
  | { readonly kind: "final"; readonly verdict: Verdict }
  | { readonly kind: "needsBody"; readonly withBody: (body: Uint8Array) => Verdict };

/**
 * The HTTP status of a blocked request: 413 for body size limits, 400 for everything else, as
 * the API promises.
 */
export function blockStatus(finding: Finding): 400 | 413 {
  return finding.blockType === "limits" && finding.blockSubtype.endsWith("body_size") ? 413 : 400;
}
