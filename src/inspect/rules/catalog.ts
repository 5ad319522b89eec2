/**
 * Every built-in rule of the inspector, by family. Each family lives in its own file beside this
 * one (`<family>.ts`, exporting `<FAMILY>_RULES` and, where it has any, `<FAMILY>_REQUEST_RULES`)
 * and is documented in docs/deny-rules.md.
 */
import type { RequestRule, ValueRule } from "../types.ts";
import { BOT_REQUEST_RULES, BOT_RULES } from "./bot.ts";
import { ENCODING_RULES } from "./encoding.ts";
import { EXPLOIT_REQUEST_RULES, EXPLOIT_RULES } from "./exploit.ts";
import { HPP_REQUEST_RULES, HPP_RULES } from "./hpp.ts";
import { HTML_RULES } from "./html.ts";
import { IDOR_RULES } from "./idor.ts";
import { LDAP_RULES } from "./ldap.ts";
import { NOSQL_REQUEST_RULES, NOSQL_RULES } from "./nosql.ts";
import { OGNL_REQUEST_RULES, OGNL_RULES } from "./ognl.ts";
import { PHP_RULES } from "./php.ts";
import { PROTOCOL_REQUEST_RULES, PROTOCOL_RULES } from "./protocol.ts";
import { SANITY_REQUEST_RULES, SANITY_RULES } from "./sanity.ts";
import { SCANNING_REQUEST_RULES, SCANNING_RULES } from "./scanning.ts";
import { SQL_RULES } from "./sql.ts";
import { SSRF_RULES } from "./ssrf.ts";
import { TEMPLATE_RULES } from "./template.ts";
import { UNIXCMD_RULES } from "./unixcmd.ts";
import { WINCMD_RULES } from "./wincmd.ts";
import { XSS_RULES } from "./xss.ts";

/** Value rules: one RE2 regex searched in request values. */
export const VALUE_RULES: readonly ValueRule[] = [
  ...SQL_RULES,
  ...XSS_RULES,
  ...SANITY_RULES,
  ...ENCODING_RULES,
  ...IDOR_RULES,
  ...UNIXCMD_RULES,
  ...PROTOCOL_RULES,
  ...WINCMD_RULES,
  ...SCANNING_RULES,
  ...LDAP_RULES,
  ...BOT_RULES,
  ...NOSQL_RULES,
  ...HTML_RULES,
  ...TEMPLATE_RULES,
  ...EXPLOIT_RULES,
  ...HPP_RULES,
  ...SSRF_RULES,
  ...PHP_RULES,
  ...OGNL_RULES,
];

/** Request rules: checks of the request as a whole. */
export const REQUEST_RULES: readonly RequestRule[] = [
  ...SANITY_REQUEST_RULES,
  ...PROTOCOL_REQUEST_RULES,
  ...SCANNING_REQUEST_RULES,
  ...BOT_REQUEST_RULES,
  ...NOSQL_REQUEST_RULES,
  ...EXPLOIT_REQUEST_RULES,
  ...HPP_REQUEST_RULES,
  ...OGNL_REQUEST_RULES,
];
