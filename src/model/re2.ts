/**
 * RE2 syntax check with Google's RE2 itself (the `re2-wasm` build of the C++ library), so that a
 * regex the model accepts is one Envoy's RE2 compiles: no lookaround, no backreferences, the same
 * escapes and the same error text. A JavaScript RegExp or a port would accept or reject other things.
 *
 * Not checked here: the compiled program size (Envoy's runtime `re2.max_program_size.error_level`).
 * re2-wasm does not expose RE2::ProgramSize, and the number depends on the RE2 build (`\p{L}+`: 4
 * in the port re2js, 1201 in Python's google-re2, and Envoy 1.40 accepts `\p{L}{10}` under 100), so
 * no library here gives Envoy's number; an oversized regex is refused by the engine, which then
 * keeps its last good configuration (docs/deny-rules.md, "Custom rules").
 */

import { re2Wasm } from "../re2/wasm.ts";

/** The embind object re2-wasm returns; `delete` frees its WASM memory (not declared by the package). */
interface CompiledRe2 {
  ok(): boolean;
  error(): string;
  delete?(): void;
}

/**
 * RE2's error message if `pattern` does not compile, else undefined. Compiled exactly as Envoy
 * does: UTF-8, case-sensitive, `.` not matching a newline.
 *
 * @example re2SyntaxError("a(?=b)") // "invalid perl operator: (?="
 */
export function re2SyntaxError(pattern: string): string | undefined {
  const compiled: CompiledRe2 = new (re2Wasm().WrappedRE2)(pattern, false, false, false);
  try {
    return compiled.ok() ? undefined : compiled.error();
  } finally {
    compiled.delete?.();
  }
}
