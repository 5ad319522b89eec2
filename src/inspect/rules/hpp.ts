/**
 * The HPP family: HTTP parameter pollution. Frameworks disagree about a parameter that is given
 * more than once: PHP and Rails take the last value, Java servlets the first, ASP.NET joins them
 * with commas, Express makes an array; `a=1&a[]=2` is a string to one and an array to another,
 * and a value in the query may override one in the body or the other way round. A check that
 * reads one copy and an application that uses another is the attack. All checks are request
 * rules; none needs a regex.
 *
 * Names are compared case-insensitively at every level (ASP.NET reads `ID` as `id`). The logs name
 * the parameter, never its values, which may be secrets.
 */
import type { InspectedValue, ParsedRequest, RequestRule, ValueRule } from "../types.ts";

/** The parameters of a request (query, form and multipart fields), in order. */
function parameters(request: ParsedRequest): InspectedValue[] {
  return request.values.filter((v) => v.target === "Parameter" && v.name !== undefined);
}

/** How Basic and Standard compare names: case-insensitively. */
function sameName(name: string): string {
  return name.toLowerCase();
}

/**
 * How Strict compares names: also as PHP does, which turns `.` and spaces in names into `_`, so
 * `user.id` and `user_id` are the same parameter to it.
 */
function phpName(name: string): string {
  let out = "";
  for (const c of name.toLowerCase()) out += c === "." || c === " " ? "_" : c;
  return out;
}

/** The name before any `[`: `a[]` and `a[x]` are both about `a`. */
function baseName(name: string): string {
  const bracket = name.indexOf("[");
  return sameName(bracket < 0 ? name : name.slice(0, bracket));
}

/** Parameters grouped by `key(name)`, in order of first appearance. */
function groupBy(
  values: readonly InspectedValue[],
  key: (name: string) => string,
): Map<string, InspectedValue[]> {
  const groups = new Map<string, InspectedValue[]>();
  for (const value of values) {
    const k = key(value.name ?? "");
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [value]);
    else group.push(value);
  }
  return groups;
}

function quoted(name: string | undefined): string {
  const text = name ?? "";
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 61)}...` : text);
}

/** The first parameter given in both the query and the body, with its copies. */
function inQueryAndBody(request: ParsedRequest): InspectedValue[] | undefined {
  for (const group of groupBy(parameters(request), sameName).values()) {
    if (group.some((v) => v.source === "Query") && group.some((v) => v.source === "Post")) return group;
  }
  return undefined;
}

export const HPP_REQUEST_RULES: readonly RequestRule[] = [
  // ---------------------------------------------------------------------------------------- Basic
  {
    key: "HPP_QUERY_BODY_CONFLICT",
    family: "HPP",
    level: "Basic",
    description: "A parameter given in both the query and the body with different values",
    check: (request) => {
      for (const group of groupBy(parameters(request), sameName).values()) {
        const query = group.filter((v) => v.source === "Query").map((v) => v.decoded);
        const body = group.filter((v) => v.source === "Post").map((v) => v.decoded);
        if (query.length > 0 && body.length > 0 && new Set([...query, ...body]).size > 1)
          return `parameter ${quoted(group[0]?.name)} in query and body with different values`;
      }
      return undefined;
    },
  },
  // ------------------------------------------------------------------------------------- Standard
  {
    key: "HPP_QUERY_AND_BODY",
    family: "HPP",
    level: "Standard",
    description: "A parameter given in both the query and the body, even with the same value",
    check: (request) => {
      const group = inQueryAndBody(request);
      return group && `parameter ${quoted(group[0]?.name)} in query and body`;
    },
  },
  {
    key: "HPP_ARRAY_AND_SCALAR",
    family: "HPP",
    level: "Standard",
    description: "A parameter given both as a plain value (a=1) and as an array or map (a[]=2, a[x]=3)",
    check: (request) => {
      for (const group of groupBy(parameters(request), baseName).values()) {
        const plain = group.some((v) => !(v.name ?? "").includes("["));
        const structured = group.find((v) => (v.name ?? "").includes("["));
        if (plain && structured !== undefined)
          return `parameter ${quoted(group[0]?.name)} given as a value and as ${quoted(structured.name)}`;
      }
      return undefined;
    },
  },
  // --------------------------------------------------------------------------------------- Strict
  {
    key: "HPP_REPEATED",
    family: "HPP",
    level: "Strict",
    description:
      "Any parameter given more than once, unless in name[] form (also id and ID, user.id and user_id)",
    check: (request) => {
      const single = parameters(request).filter((v) => !(v.name ?? "").endsWith("[]"));
      for (const group of groupBy(single, phpName).values()) {
        if (group.length > 1) {
          const names = new Set(group.map((v) => v.name));
          const spelled = names.size > 1 ? ` (as ${[...names].map(quoted).join(", ")})` : "";
          return `parameter ${quoted(group[0]?.name)} given ${group.length} times${spelled}`;
        }
      }
      return undefined;
    },
  },
];

/** HPP has no value rules: every check compares parameters with each other. */
export const HPP_RULES: readonly ValueRule[] = [];
