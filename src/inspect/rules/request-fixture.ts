/**
 * Hand-built ParsedRequest objects for the tests of request rules, so that a family's tests do not
 * depend on the request parser. Only for tests.
 */
import type { InspectedValue, ParsedRequest } from "../types.ts";

/** The parts of a request a test cares about; everything else gets a harmless default. */
export interface RequestFixture {
  /** Default `GET`. */
  readonly method?: string;
  /** Path and query as sent; default `/`. */
  readonly target?: string;
  /** Header names as sent (lower-cased here), in order. Each also becomes a Header value. */
  readonly headers?: readonly (readonly [string, string])[];
  /** Query parameters (name, decoded value), in order. */
  readonly query?: readonly (readonly [string, string])[];
  /** Body parameters (name, decoded value), in order. */
  readonly post?: readonly (readonly [string, string])[];
  /** Further values, appended after the parameters and headers. */
  readonly values?: readonly InspectedValue[];
  readonly bodyParser?: ParsedRequest["bodyParser"];
  readonly bodySize?: number;
}

/**
 * A ParsedRequest as the parser would give it for `fixture` (raw values equal decoded ones).
 *
 * @example requestOf({ method: "POST", query: [["id", "1"]], post: [["id", "2"]] })
 */
export function requestOf(fixture: RequestFixture): ParsedRequest {
  const headers = (fixture.headers ?? []).map(([name, value]) => [name.toLowerCase(), value] as const);
  const parameter =
    (source: "Query" | "Post") =>
    ([name, value]: readonly [string, string]): InspectedValue => ({
      target: "Parameter",
      name,
      source,
      raw: value,
      decoded: value,
    });
  const values: InspectedValue[] = [
    ...(fixture.query ?? []).map(parameter("Query")),
    ...(fixture.post ?? []).map(parameter("Post")),
    ...headers.map(
      ([name, value]): InspectedValue => ({ target: "Header", name, raw: value, decoded: value }),
    ),
    ...(fixture.values ?? []),
  ];
  return {
    method: fixture.method ?? "GET",
    rawTarget: fixture.target ?? "/",
    headers,
    values,
    ...(fixture.bodyParser === undefined ? {} : { bodyParser: fixture.bodyParser }),
    ...(fixture.bodySize === undefined ? {} : { bodySize: fixture.bodySize }),
  };
}
