/**
 * HeaderRewrites (reference §3.6): which request and response headers pass, are removed or are added.
 */
import { matching, matchingIgnoringCase, requestConditions } from "./common.ts";
import type { KindDefinition } from "./crd.ts";
import { array, boolean, enumOf, marker, object, required, string, withDefault } from "./schema.ts";

/** An HTTP header name (an RFC 9110 token). */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

const MAX_CUSTOM_RULES = 128;
const MAX_HEADERS_PER_RULE = 64;

function flag(description: string, value: boolean) {
  return withDefault(boolean(`${description} Default: ${value}.`), value);
}

function ruleName() {
  return required(string("A name for the rule, for logs.", { minLength: 1, maxLength: 256 }));
}

/** Custom rules that select headers by name and value (allow and remove lists). */
function matchingRules(description: string) {
  return array(
    description,
    object("A rule.", {
      name: ruleName(),
      headers: required(
        array(
          "Headers the rule selects.",
          object("A header selector.", {
            name: required(matchingIgnoringCase("The header name.")),
            value: matching("The header value. Absent: any value."),
          }),
          { minItems: 1, maxItems: MAX_HEADERS_PER_RULE },
        ),
      ),
      requestConditions: requestConditions("Only for requests matching these conditions."),
    }),
    { maxItems: MAX_CUSTOM_RULES },
  );
}

/** Custom rules that add headers. */
function addRules(description: string) {
  return array(
    description,
    object("A rule.", {
      name: ruleName(),
      headers: required(
        array(
          "Headers to add.",
          object("A header.", {
            name: required(
              string("Header name.", { minLength: 1, maxLength: 256, pattern: HEADER_NAME_PATTERN }),
            ),
            value: required(
              string("Header value; may use Envoy's %VARIABLE% placeholders, e.g. %DOWNSTREAM_PEER_CERT%.", {
                maxLength: 8192,
              }),
            ),
          }),
          { minItems: 1, maxItems: MAX_HEADERS_PER_RULE },
        ),
      ),
      mode: withDefault(
        enumOf("AddIfAbsent keeps an existing header; OverwriteOrAdd replaces it. Default: AddIfAbsent.", [
          "AddIfAbsent",
          "OverwriteOrAdd",
        ]),
        "AddIfAbsent",
      ),
      requestConditions: requestConditions("Only for requests matching these conditions."),
    }),
    { maxItems: MAX_CUSTOM_RULES },
  );
}

/** The allow list: every header, or the built-in and custom selections. */
function allow(description: string, standardHeaders: boolean, tracing: boolean) {
  const standard = { standardHeaders: flag("Allow the standard headers of HTTP.", standardHeaders) };
  // Tracing headers only matter on requests: responses carry none.
  const builtIn = tracing
    ? { ...standard, tracingHeaders: flag("Allow tracing headers (traceparent, b3, X-B3-*, ...).", false) }
    : standard;
  return object(
    `${description} At most one of allHeaders and matchingHeaders may be set.`,
    {
      allHeaders: marker("Allow every header."),
      matchingHeaders: object("Allow only the selected headers; the others are removed.", {
        builtIn: object("Built-in selections.", builtIn),
        custom: matchingRules("Further headers to allow."),
      }),
    },
    { atMostOneOf: ["allHeaders", "matchingHeaders"] },
  );
}

/** HeaderRewrites `spec`. */
export const headerRewritesSpecSchema = object("How request and response headers are rewritten.", {
  settings: object("General settings.", {
    operationalMode: withDefault(
      enumOf("Integration logs details of every rewrite, for setting rules up. Default: Production.", [
        "Production",
        "Integration",
      ]),
      "Production",
    ),
  }),
  request: object("Request headers (towards the application).", {
    allow: allow("Which request headers pass.", true, true),
    remove: object("Request headers to remove.", {
      builtIn: object("Built-in selections.", {
        alternativeForwardedHeaders: flag(
          "Remove non-standard forwarding headers (X-Forwarded-Host, X-Real-IP, ...) that could spoof the client.",
          true,
        ),
      }),
      custom: matchingRules("Further headers to remove."),
    }),
    add: object("Request headers to add.", { custom: addRules("Headers to add.") }),
  }),
  response: object("Response headers (towards the client).", {
    allow: allow("Which response headers pass.", false, false),
    remove: object("Response headers to remove.", {
      builtIn: object("Built-in selections.", {
        auth: object("Authentication challenges (WWW-Authenticate) to remove.", {
          basic: flag("Basic.", false),
          negotiate: flag("Negotiate.", true),
          ntlm: flag("NTLM.", true),
        }),
        informationLeakage: object("Headers that reveal the software stack.", {
          application: flag("Application headers (X-Powered-By, X-AspNet-Version, ...).", true),
          server: flag("The Server header.", true),
        }),
        permissiveCors: flag("Access-Control-Allow-Origin: * and similar permissive CORS headers.", true),
      }),
      custom: matchingRules("Further headers to remove."),
    }),
    add: object("Response headers to add.", {
      builtIn: object("Built-in security headers.", {
        csp: flag("A restrictive Content-Security-Policy.", false),
        featurePolicy: flag("A restrictive Feature-Policy.", false),
        hsts: flag("Strict-Transport-Security.", true),
        hstsPreload: flag("The preload directive of Strict-Transport-Security.", false),
        permissionsPolicy: flag("A restrictive Permissions-Policy.", true),
        referrerPolicy: flag("Referrer-Policy.", true),
        xContentTypeOptions: flag("X-Content-Type-Options: nosniff.", true),
        xFrameOptions: flag("X-Frame-Options.", true),
      }),
      custom: addRules("Headers to add."),
    }),
  }),
});

export const headerRewritesKind: KindDefinition = {
  kind: "HeaderRewrites",
  plural: "headerrewrites",
  description: "Allows, removes and adds request and response headers.",
  spec: withDefault(headerRewritesSpecSchema, {}),
};
