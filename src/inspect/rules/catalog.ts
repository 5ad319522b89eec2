/**
 * Every built-in rule of the inspector, by family. Each family lives in its own file beside this
 * one (`<family>.ts`, exporting `<FAMILY>_RULES` and, where it has any, `<FAMILY>_REQUEST_RULES`)
 * and is documented in docs/deny-rules.md.
 */
import type { RequestRule, ValueRule } from "../types.ts";
import { SQL_RULES } from "./sql.ts";
import { XSS_RULES } from "./xss.ts";

/** Value rules: one RE2 regex searched in request values. */
export const VALUE_RULES: readonly ValueRule[] = [...SQL_RULES, ...XSS_RULES];

/** Request rules: checks of the request as a whole. */
export const REQUEST_RULES: readonly RequestRule[] = [];
