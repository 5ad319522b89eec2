import { describe } from "bun:test";
import { checkValueRules } from "./rule-checks.ts";
import { SQL_RULES } from "./sql.ts";

describe("SQL rules", () => checkValueRules(SQL_RULES));
