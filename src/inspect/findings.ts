/**
 * Helpers for Findings: the log-safe excerpt in `detail`, and the HTTP status of a blocked request.
 */
import type { Finding } from "./types.ts";

/** Longest `Finding.detail`. */
export const MAX_DETAIL = 64;

/**
 * At most MAX_DETAIL characters of `text`, control characters (and `\`) escaped as `\xNN`, `\n`,
 * `\r`, `\t`, `\\`, so that a log line stays one line and says what it saw.
 *
 * @example excerpt("a\nb") // "a\\nb"
 */
export function excerpt(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    let piece: string;
    if (ch === "\\") piece = "\\\\";
    else if (ch === "\n") piece = "\\n";
    else if (ch === "\r") piece = "\\r";
    else if (ch === "\t") piece = "\\t";
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0) || code === 0x2028 || code === 0x2029)
      piece = `\\x${code.toString(16).padStart(2, "0")}`;
    else piece = ch;
    if (out.length + piece.length > MAX_DETAIL) break;
    out += piece;
  }
  return out;
}

/** The status a blocked request is answered with: 413 for a body size limit, else 400. */
export function blockStatus(finding: Finding): 400 | 413 {
  return finding.blockType === "limits" && finding.blockSubtype.endsWith("body_size") ? 413 : 400;
}
