import { describe } from "bun:test";
import { checkValueRules } from "./rule-checks.ts";
import { XSS_RULES } from "./xss.ts";

describe("XSS rules", () => checkValueRules(XSS_RULES));
