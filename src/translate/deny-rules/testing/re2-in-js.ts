/**
 * Evaluates Envoy's RE2 `safe_regex` patterns in JavaScript for the tests, with the same meaning.
 *
 * Envoy full-matches: the regex must match the whole value. The rules restrict themselves to
 * syntax both engines read alike; `re2Incompatibilities` enforces that. Where the engines still
 * differ, this module bridges it: the JS RegExp gets the `u` flag (code points and Unicode simple
 * case folding, as RE2 in UTF-8 mode), and `.` becomes `[^\n]` (JS's `.` also stops at `\r`).
 */

/** A JS RegExp that matches exactly the values Envoy's RE2 full match of `re2` accepts. */
export function fullMatchRegExp(re2: string): RegExp {
  let flags = "u";
  let source = re2;
  if (source.startsWith("(?i)")) {
    flags += "i";
    source = source.slice("(?i)".length);
  }
  const problems = re2Incompatibilities(source);
  if (problems.length > 0) throw new Error(`regex ${re2} uses ${problems.join(", ")}`);
  return new RegExp(`^(?:${dotToNotNewline(source)})$`, flags);
}

/** Escapes whose meaning RE2 and JavaScript share (ASCII-only classes, control characters). */
const SHARED_LETTER_ESCAPES = new Set(["t", "n", "r", "v", "f", "d", "D", "w", "W", "b", "B", "x"]);

/**
 * The constructs in `pattern` that RE2 rejects or that JavaScript reads differently: lookaround,
 * backreferences, possessive quantifiers, atomic and named groups, inline flags, `\s` (RE2: ASCII
 * only; JS: Unicode), `\p`, `\Q...\E`, `\A`, `\z`, POSIX classes. Empty means portable.
 */
export function re2Incompatibilities(pattern: string): string[] {
  const problems: string[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const next = pattern[i + 1] ?? "";
    if (c === "\\") {
      if (/[1-9]/.test(next) || next === "k") problems.push(`backreference \\${next} at ${i}`);
      else if (/[a-zA-Z0-9]/.test(next) && !SHARED_LETTER_ESCAPES.has(next))
        problems.push(`escape \\${next} at ${i}`);
      else if (next === "x" && !/^[0-9a-fA-F]{2}$/.test(pattern.slice(i + 2, i + 4))) {
        problems.push(`\\x without two hex digits at ${i}`);
      }
      i++;
      continue;
    }
    if (inClass) {
      if (c === "[" && next === ":") problems.push(`POSIX class at ${i}`);
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") {
      inClass = true;
      // A `]` right after `[` or `[^` is a literal in RE2 but ends the class in JS.
      if (next === "]" || (next === "^" && pattern[i + 2] === "]"))
        problems.push(`leading ] in class at ${i}`);
      continue;
    }
    if (c === "(" && next === "?") {
      if (pattern[i + 2] !== ":") problems.push(`group (?${pattern[i + 2] ?? ""} at ${i}`);
      i++;
      continue;
    }
    if ((c === "*" || c === "+" || c === "?" || c === "}") && next === "+") {
      problems.push(`possessive quantifier ${c}+ at ${i}`);
    }
  }
  return problems;
}

export function dotToNotNewline(source: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] ?? "";
    if (c === "\\") {
      out += c + (source[i + 1] ?? "");
      i++;
    } else if (inClass) {
      out += c;
      if (c === "]") inClass = false;
    } else if (c === "[") {
      out += c;
      inClass = true;
    } else {
      out += c === "." ? "[^\\n]" : c;
    }
  }
  return out;
}
