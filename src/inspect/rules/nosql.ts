/**
 * The NOSQL family: operator injection into document databases (MongoDB and the stores that copy
 * its query language). `user[$ne]=x` or `{"user": {"$ne": null}}` turns an equality test into
 * "anything but x"; a string that reaches `$where` or `$function` is JavaScript run by the server.
 *
 * Most of the attack is in a *name* (the parameter `user[$ne]`, the JSON property `$.user.$ne`),
 * which value rules do not see, so the family has request rules that read the names of
 * parameters, cookies and JSON properties, and value rules for operators and JavaScript that
 * arrive inside a value.
 */
import type { InspectedValue, RequestRule, ValueRule } from "../types.ts";
import { WS0 } from "./injection-fragments.ts";

/** Query operators with no meaning outside a document database: Basic. */
const QUERY_OPERATORS = [
  "ne",
  "nin",
  "gt",
  "gte",
  "lt",
  "lte",
  "regex",
  "where",
  "exists",
  "expr",
  "elemmatch",
  "function",
  "accumulator",
  "nor",
  "jsonschema",
] as const;
/**
 * Operators whose names are ordinary words, and update operators (`$set` in a profile update is
 * mass assignment): Standard.
 */
const MORE_OPERATORS = [
  "in",
  "or",
  "and",
  "not",
  "eq",
  "all",
  "size",
  "mod",
  "text",
  "lookup",
  "unionwith",
  "merge",
  "out",
  "set",
  "unset",
  "inc",
  "push",
  "pull",
  "addtoset",
  "rename",
  "currentdate",
] as const;
/**
 * `$` names that are not database operators and pass even at Strict: JSON Schema and JSON
 * reference keywords, and OData's system query options (`?$filter=...&$top=10`).
 */
const NOT_OPERATORS = new Set([
  "schema",
  "ref",
  "id",
  "comment",
  "defs",
  "anchor",
  "vocabulary",
  "dynamicref",
  "dynamicanchor",
  "filter",
  "top",
  "skip",
  "select",
  "expand",
  "orderby",
  "count",
  "search",
  "format",
  "apply",
  "compute",
  "skiptoken",
  "deltatoken",
]);

const OPERATOR_ALTERNATION = QUERY_OPERATORS.join("|");

/**
 * The `$`-prefixed keys in a parameter, cookie or JSON property name: `user[$ne]` gives `ne`,
 * `$.user.$gt` and `$['user']['$gt']` give `gt`, a parameter named `$where` gives `where`. The
 * root `$` of a JSONPath is not a key. A plain scan, linear in the name's length.
 *
 * @example operatorKeys("user[$ne]", "Parameter") // ["ne"]
 */
export function operatorKeys(name: string, target: InspectedValue["target"]): string[] {
  const keys: string[] = [];
  for (let i = name.indexOf("$"); i !== -1; i = name.indexOf("$", i + 1)) {
    const before = i === 0 ? "" : (name[i - 1] ?? "");
    const keyStart = before === "[" || before === "." || before === "'" || before === '"';
    const nameStart = i === 0 && target !== "JSON";
    if (!keyStart && !nameStart) continue;
    let end = i + 1;
    while (end < name.length && /[A-Za-z]/.test(name[end] ?? "")) end++;
    const after = name[end] ?? "";
    if (end > i + 1 && (after === "" || "].'\"[".includes(after)))
      keys.push(name.slice(i + 1, end).toLowerCase());
  }
  return keys;
}

/** The first value whose name carries an operator `pick` accepts, described for the log. */
function operatorInNames(
  values: readonly InspectedValue[],
  pick: (operator: string) => boolean,
): string | undefined {
  for (const value of values) {
    if (value.name === undefined) continue;
    if (value.target !== "Parameter" && value.target !== "Cookie" && value.target !== "JSON") continue;
    const operator = operatorKeys(value.name, value.target).find(pick);
    if (operator !== undefined) return `${value.target} "${value.name}" uses the operator $${operator}`;
  }
  return undefined;
}

const basicOperators = new Set<string>(QUERY_OPERATORS);
const standardOperators = new Set<string>([...QUERY_OPERATORS, ...MORE_OPERATORS]);

/** Operators in parameter, cookie and JSON property names. */
export const NOSQL_REQUEST_RULES: readonly RequestRule[] = [
  {
    key: "NOSQL_OPERATOR_NAME",
    family: "NOSQL",
    level: "Basic",
    description:
      "A parameter, cookie or JSON property named with a query operator: user[$ne], $.password.$gt, $where",
    check: (request) => operatorInNames(request.values, (op) => basicOperators.has(op)),
  },
  {
    key: "NOSQL_OPERATOR_NAME_WORD",
    family: "NOSQL",
    level: "Standard",
    description: "A name with an operator that is also a word or an update: user[$in], $.$or, $.profile.$set",
    check: (request) =>
      operatorInNames(request.values, (op) => standardOperators.has(op) && !basicOperators.has(op)),
  },
  {
    key: "NOSQL_OPERATOR_NAME_ANY",
    family: "NOSQL",
    level: "Strict",
    description:
      "Any $-prefixed key in a name, except JSON Schema keywords ($ref, $schema) and OData options ($filter)",
    check: (request) =>
      operatorInNames(request.values, (op) => !standardOperators.has(op) && !NOT_OPERATORS.has(op)),
  },
];

/** Operator and server-side JavaScript rules on values. */
export const NOSQL_RULES: readonly ValueRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "NOSQL_OPERATOR_OBJECT",
    family: "NOSQL",
    level: "Basic",
    regex: `[{,]${WS0}["']?\\$(?:${OPERATOR_ALTERNATION})["']?${WS0}:`,
    description: 'A JSON or JavaScript object with a query operator as a key inside a value: {"$ne": null}',
    examples: [
      '{"$ne": null}',
      "{'$gt': ''}",
      '{"username": {"$regex": "^adm"}}',
      '{"$where": "sleep(5000)"}',
      '{"a":1, "$or": 1, $nin: [1]}',
    ],
    benign: ["$ne is MongoDB's operator", '{"ne": 1}', '{"price": "$5"}', '{"$schema": "x"}', "{$name}"],
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "NOSQL_JS_BREAKOUT",
    family: "NOSQL",
    level: "Standard",
    regex: `['"]${WS0}(?:;|\\|\\||&&)${WS0}(?:return(?:[^a-z0-9_$]|$)|sleep${WS0}\\(|while${WS0}\\(|this\\.|db\\.|true(?:[^a-z0-9_]|$)|['"]?[a-z0-9_]*['"]?${WS0}={2,3})`,
    description:
      "A quote that ends a JavaScript string in a $where clause, then code: '; return true; ', ' || '1'=='1",
    examples: [
      "'; return true; var x='",
      "' || '1'=='1",
      "a' && this.password.match(/.*/)//",
      "'; sleep(5000); '",
      '"||true||"',
      "'; while(true){}'",
    ],
    benign: ["'hello' || 'world'", "It's || fine", "'a' && b", "rock 'n' roll; return policy", "O'Brien"],
  },
  {
    key: "NOSQL_SERVER_JAVASCRIPT",
    family: "NOSQL",
    level: "Standard",
    // this.x.match( and await sleep(1000) are everyday JavaScript: `this.` counts only after a
    // string breakout (NOSQL_JS_BREAKOUT), sleep( only after a statement end or a quote
    regex:
      `(?:^|[^a-z0-9_])db\\.(?:getcollection|getsiblingdb|runcommand|eval|dropdatabase|[a-z_]+\\.(?:find|drop|remove|insert|update|aggregate|mapreduce))${WS0}\\(` +
      `|[;'"]${WS0}sleep${WS0}\\(${WS0}[0-9]{3,}${WS0}\\)`,
    description:
      "Mongo shell calls (db.users.find(, db.getCollection() and sleep(5000) after a statement end",
    examples: [
      "db.users.find()",
      "db.getCollection('users')",
      "';sleep(5000);'",
      "1; sleep(10000)",
      "db.dropDatabase()",
    ],
    benign: [
      "this.name.match(/x/)",
      "db.example.com",
      "sleep(8 hours)",
      "await sleep(1000);",
      "I see this.match",
    ],
  },
  {
    key: "NOSQL_OPERATOR_BRACKET",
    family: "NOSQL",
    level: "Standard",
    regex: `\\[${WS0}\\$(?:${OPERATOR_ALTERNATION})${WS0}\\]`,
    description:
      "An operator in brackets inside a value, e.g. a query string carried in a parameter: x?user[$ne]=1",
    examples: ["/login?user[$ne]=x", "password[$regex]=.*", "a[$gt]="],
    benign: ["[$5 off]", "[ne]", "[$name]"],
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "NOSQL_OPERATOR_WORD",
    family: "NOSQL",
    level: "Strict",
    regex: `(?:^|[^a-z0-9_$])\\$(?:${OPERATOR_ALTERNATION}|or|and|not|in|eq)(?:[^a-z0-9_]|$)`,
    description: "Any query operator name with its $, even in prose",
    examples: ["$ne is MongoDB's operator", "use $where", "x: $gt"],
    benign: ["$5", "$neat", "price$gt"],
  },
];
