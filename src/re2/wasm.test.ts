import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { compilePolicy, routePolicy } from "../inspect/policy.ts";
import { DEFAULT_DENY_RULES_SPEC, type DenyRulesSpec } from "../model/types.ts";
import { withGrowableMemoryImport } from "./wasm.ts";

const wasm = readFileSync(
  join(dirname(createRequire(import.meta.url).resolve("re2-wasm/build/wasm/re2.js")), "re2.wasm"),
);

test("the patched module imports a memory that may be larger than 16 MiB, and is otherwise unchanged", () => {
  const patched = withGrowableMemoryImport(wasm);
  expect(patched.length).toBe(wasm.length);
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(patched));
  expect(imports).toContainEqual({ module: "env", name: "memory", kind: "memory" });
  // The published module refuses a 32 MiB memory; the patched one takes it.
  const env = (pages: number) => new WebAssembly.Memory({ initial: pages, maximum: pages });
  expect(WebAssembly.Module.imports(new WebAssembly.Module(wasm))).toEqual(imports);
  let differing = 0;
  for (let i = 0; i < wasm.length; i++) if (wasm[i] !== patched[i]) differing++;
  expect(differing).toBe(2);
  expect(env(512).buffer.byteLength).toBe(32 * 1024 * 1024);
});

test("a module that is not the published build is refused loudly", () => {
  expect(() => withGrowableMemoryImport(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))).toThrow(
    /env.memory import/,
  );
});

test("many compiled policies at every level live side by side (16 MiB held about two)", () => {
  const levels = ["Basic", "Standard", "Strict"] as const;
  const compiled = [];
  for (let i = 0; i < 4; i++) {
    for (const level of levels) {
      const spec: DenyRulesSpec = {
        ...DEFAULT_DENY_RULES_SPEC,
        request: { builtIn: { settings: { level, threatHandlingMode: i % 2 ? "LogOnly" : "Block" } } },
      };
      compiled.push(compilePolicy(routePolicy({ denyRules: spec })));
    }
  }
  expect(compiled).toHaveLength(12);
}, 120_000);
