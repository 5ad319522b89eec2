/**
 * The form parser (application/x-www-form-urlencoded) and the query string: `name=value` pairs
 * separated by `&`, names and values decoded with `+` as space. A pair without `=` is a parameter
 * with an empty value; empty pairs (`a=1&&b=2`) are skipped. It cannot fail.
 */
import { decodeValue } from "../decode.ts";
import type { InspectedValue, ParameterSource } from "../types.ts";

/**
 * The parameters of a query string (without the `?`) or form body, in order.
 *
 * @example formParameters("q=a+b&x=%3C", "Query") // [{target: "Parameter", name: "q", source: "Query", raw: "a+b", decoded: "a b"}, ...]
 */
export function formParameters(text: string, source: ParameterSource): InspectedValue[] {
  const values: InspectedValue[] = [];
  if (text === "") return values;
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const raw = eq < 0 ? "" : pair.slice(eq + 1);
    values.push({
      target: "Parameter",
      name: decodeValue(rawName, { plusAsSpace: true }),
      source,
      raw,
      decoded: decodeValue(raw, { plusAsSpace: true }),
    });
  }
  return values;
}
