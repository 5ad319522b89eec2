/**
 * RE2 (re2-wasm, Google's C++ RE2 compiled to WebAssembly) as the inspector uses it: compile once,
 * search many times, in time linear in the input whatever the pattern. Compiled programs live in
 * WASM memory, which JavaScript's garbage collector does not see: `free` releases one, and
 * `freeWhenCollected` ties a set of them to the lifetime of the object that uses them.
 */

import { MicrogatewayError } from "../errors.ts";
import { re2Wasm } from "../re2/wasm.ts";

interface Wrapped {
  ok(): boolean;
  error(): string;
  match(
    input: string | Uint8Array,
    start: number,
    getCapturingGroups: boolean,
  ): { match: string; index: number };
  delete?(): void;
}

/** A compiled RE2 program. */
export interface Re2 {
  /**
   * The leftmost match in `text` starting at or after `from`, or undefined. Positions (`from` and
   * `index`) count code points, not UTF-16 units: an emoji is one position.
   */
  search(text: string, from?: number): { readonly index: number; readonly match: string } | undefined;
  test(text: string): boolean;
  /** Releases the program's WASM memory; the Re2 must not be used afterwards. */
  free(): void;
}

/** The RE2 program for `pattern`, or MicrogatewayError `InvalidArgument` with RE2's message. */
function compileWrapped(pattern: string, options: { ignoreCase?: boolean; multiline?: boolean }): Wrapped {
  // The wrapper's multiline flag is only read by re2-wasm's JavaScript layer, which adds `(?m)`.
  const wrapped: Wrapped = new (re2Wasm().WrappedRE2)(
    options.multiline === true ? `(?m)${pattern}` : pattern,
    options.ignoreCase ?? false,
    options.multiline ?? false,
    false,
  );
  if (!wrapped.ok()) {
    const error = wrapped.error();
    wrapped.delete?.();
    throw new MicrogatewayError(
      "InvalidArgument",
      `regex ${JSON.stringify(pattern)} does not compile in RE2: ${error}`,
    );
  }
  return wrapped;
}

/**
 * Compiles `pattern` (searched, not anchored). `multiline`: `^` and `$` also match at line breaks.
 * `.` never matches a line break. Throws MicrogatewayError `InvalidArgument` with RE2's message.
 *
 * @example compileRe2("union.+select", { ignoreCase: true }).test("UNION all SELECT") // true
 */
export function compileRe2(
  pattern: string,
  options: { ignoreCase?: boolean; multiline?: boolean } = {},
): Re2 {
  const wrapped = compileWrapped(pattern, options);
  return {
    search: (text, from = 0) => search(wrapped, text, from),
    test: (text) => search(wrapped, text, 0) !== undefined,
    free() {
      wrapped.delete?.();
    },
  };
}

const encoder = new TextEncoder();
/** Above this length a text goes to WASM as UTF-8 bytes (encoded natively, copied in one loop). */
const BYTES_ABOVE = 256;

/**
 * One search. re2-wasm converts a JavaScript string to UTF-8 in two JavaScript loops (measure,
 * then write); for long texts TextEncoder does it faster. Positions count code points either way.
 */
function search(wrapped: Wrapped, text: string, from: number): { index: number; match: string } | undefined {
  const m = wrapped.match(text.length > BYTES_ABOVE ? encoder.encode(text) : text, from, false);
  return m.index < 0 ? undefined : { index: m.index, match: m.match };
}

const registry = new FinalizationRegistry<Re2[]>((programs) => {
  for (const p of programs) p.free();
});

/** Frees `programs` once `owner` has been garbage-collected. */
export function freeWhenCollected(owner: object, programs: Re2[]): void {
  if (programs.length > 0) registry.register(owner, programs);
}

interface Freeable {
  delete?(): void;
}

const sharedRegistry = new FinalizationRegistry<Freeable>((wrapped) => wrapped.delete?.());
const shared = new Map<string, WeakRef<Re2>>();

/**
 * Like `compileRe2`, but one program per (pattern, options) for as long as anything holds it: the
 * prefilters of different policies are mostly the same few alternations, which are the expensive
 * ones to compile. Freed when the last holder is garbage-collected; do not call `free` on it.
 */
export function sharedRe2(pattern: string, options: { ignoreCase?: boolean; multiline?: boolean } = {}): Re2 {
  const key = `${options.ignoreCase === true ? "i" : ""}${options.multiline === true ? "m" : ""}:${pattern}`;
  const existing = shared.get(key)?.deref();
  if (existing !== undefined) return existing;
  const wrapped = compileWrapped(pattern, options);
  const re: Re2 = {
    search: (text, from = 0) => search(wrapped, text, from),
    test: (text) => search(wrapped, text, 0) !== undefined,
    free() {
      // Shared: freed by the registry once nothing holds it.
    },
  };
  sharedRegistry.register(re, wrapped);
  shared.set(key, new WeakRef(re));
  // Drop entries whose program has been collected, so the map does not grow without bound.
  if (shared.size > 256) {
    for (const [k, ref] of shared) if (ref.deref() === undefined) shared.delete(k);
  }
  return re;
}
