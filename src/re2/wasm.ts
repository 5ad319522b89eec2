/**
 * re2-wasm (Google's RE2 compiled to WebAssembly with Emscripten), loaded with room to work.
 *
 * As published, the module imports a WebAssembly memory of exactly 16 MiB that never grows: an
 * inspector holding three compiled policies (their programs and RE2's DFA caches) ran out of it
 * and aborted (`Cannot enlarge memory arrays`). So this module evaluates the package's Emscripten
 * glue itself, handing it (through the `Module` object the glue reads) the same wasm binary with
 * the memory import's maximum raised, and a memory of RE2_MEMORY_MIB; pages are committed only as
 * RE2 touches them. Every user of RE2 in the project imports `re2Wasm` from here, never the package.
 * Decision: docs/decisions.md ("RE2's memory").
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The memory RE2 gets, in MiB (the published build has 16). */
export const RE2_MEMORY_MIB = 512;

/**
 * The glue's exports that we use: the embind class over RE2 (`ok`, `error`, `match`, ..., and
 * `delete` to free its WASM memory). Its surface is untyped; each caller declares what it uses.
 */
export interface Re2Wasm {
  readonly WrappedRE2: new (
    pattern: string,
    ignoreCase: boolean,
    multiline: boolean,
    dotAll: boolean,
    // biome-ignore lint/suspicious/noExplicitAny: untyped embind object; callers narrow it
  ) => any;
}

/**
 * `wasm` with the `env.memory` import's maximum raised from 256 to 16383 pages (just under 1 GiB),
 * its minimum kept. Throws if the import is not where the published build has it, so another
 * re2-wasm version fails loudly instead of running with the small memory.
 */
export function withGrowableMemoryImport(wasm: Uint8Array): Uint8Array {
  // import "env" "memory": kind 0x02 (memory), limits flag 0x01 (min and max), min 256, max 256.
  const needle = [
    0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x01, 0x80, 0x02, 0x80, 0x02,
  ];
  let at = -1;
  for (let i = 0; i + needle.length <= wasm.length && at < 0; i++) {
    let match = true;
    for (let j = 0; j < needle.length && match; j++) match = wasm[i + j] === needle[j];
    if (match) at = i;
  }
  if (at < 0) {
    throw new Error(
      "re2-wasm: the env.memory import (16 MiB, fixed) was not found; was the package upgraded?",
    );
  }
  const patched = new Uint8Array(wasm);
  // A 2-byte LEB128 stays 2 bytes: 0xff 0x7f = 16383 pages.
  patched[at + needle.length - 2] = 0xff;
  patched[at + needle.length - 1] = 0x7f;
  return patched;
}

function load(): Re2Wasm {
  const require = createRequire(import.meta.url);
  const gluePath = require.resolve("re2-wasm/build/wasm/re2.js");
  const pages = (RE2_MEMORY_MIB * 1024 * 1024) / 65536;
  const Module: Record<string, unknown> = {
    wasmBinary: withGrowableMemoryImport(readFileSync(join(dirname(gluePath), "re2.wasm"))),
    wasmMemory: new WebAssembly.Memory({ initial: pages, maximum: pages }),
  };
  const module = { exports: {} as unknown };
  // The glue's `var Module = typeof Module !== 'undefined' ? Module : {}` keeps the one passed here.
  const glue = new Function(
    "Module",
    "module",
    "exports",
    "require",
    "__filename",
    "__dirname",
    readFileSync(gluePath, "utf8"),
  );
  glue(Module, module, module.exports, require, gluePath, dirname(gluePath));
  const exports = module.exports as Partial<Re2Wasm>;
  if (typeof exports.WrappedRE2 !== "function")
    throw new Error("re2-wasm: the glue did not export WrappedRE2");
  return exports as Re2Wasm;
}

let loaded: Re2Wasm | undefined;

/**
 * RE2, loaded once per process on first use: instantiating it costs ~30 MiB of RSS and tens of
 * milliseconds, which a process that never meets a regex (an xDS server whose policies have no
 * custom patterns, most tools) need not pay.
 */
export function re2Wasm(): Re2Wasm {
  loaded ??= load();
  return loaded;
}
