import { describe, expect, test } from "bun:test";
import { spareRealisticValues } from "./realistic-values.ts";
import { checkValueRules, ruleRegExp } from "./rule-checks.ts";
import { UNIXCMD_RULES } from "./unixcmd.ts";

checkValueRules(UNIXCMD_RULES);
spareRealisticValues(UNIXCMD_RULES);

/** Keys of the rules up to `level` that catch `value`. */
function caughtAt(value: string, level: "Basic" | "Standard" | "Strict"): string[] {
  const order = ["Basic", "Standard", "Strict"];
  return UNIXCMD_RULES.filter((r) => order.indexOf(r.level) <= order.indexOf(level))
    .filter((r) => ruleRegExp(r).test(value))
    .map((r) => r.key);
}

describe("UNIXCMD separators", () => {
  // Every way a shell starts a new command, in front of the same command.
  test.each([";", "|", "||", "&", "&&", "\n", "\r\n", "`", "$("])("%p before a command is caught", (sep) => {
    expect(caughtAt(`x${sep}uname -a`, "Standard")).toContain("UNIXCMD_SEPARATOR_COMMAND");
  });

  test("a command name without shell syntax around it is prose at every level below Strict", () => {
    for (const prose of ["cat food", "sleep well tonight", "I ping you later", "head of sales"]) {
      expect(caughtAt(prose, "Standard")).toEqual([]);
    }
  });

  test("a command at the very start of a value is left to Strict", () => {
    expect(caughtAt("ls -la", "Standard")).toEqual([]);
    expect(caughtAt("ls -la", "Strict")).toContain("UNIXCMD_COMMAND_START");
  });
});
