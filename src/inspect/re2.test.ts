import { expect, test } from "bun:test";
import { compileRe2, type Re2 } from "./re2.ts";

// re2-wasm is built with a fixed 16 MiB heap; src/re2/wasm.ts loads it with 512 MiB. With 16 MiB, the 19 rule families' programs and DFA caches ran out of memory during the WAF
// corpus, and every later RE2 call aborted (each request answered 500). 3000 programs, each
// searched once, need more than 16 MiB: this aborts on the module as published.
test("RE2 has room for thousands of compiled and searched programs", () => {
  const programs: Re2[] = [];
  try {
    for (let i = 0; i < 3000; i++) {
      const re = compileRe2(`(?:foo${i}|bar${i})[a-z]{1,20}select.*union|<script[^>]*>${i}`, {
        ignoreCase: true,
      });
      expect(re.test(`xx FOO${i}abcselect 1 union`)).toBe(true);
      programs.push(re);
    }
    expect(programs).toHaveLength(3000);
  } finally {
    for (const p of programs) p.free();
  }
}, 60_000);
