/**
 * Building blocks shared by several kinds (reference §3.2): references, string matchers, request
 * conditions, the threat handling mode, quantities, durations, TLS settings and status conditions.
 *
 * Each block is a function of its description, so every use documents the field in its own words
 * (`kubectl explain` shows the description of the field, not of its type) and every use is its own
 * schema node (a CRD has no `$ref`).
 */
import {
  array,
  boolean,
  enumOf,
  integer,
  intOrString,
  object,
  required,
  type Schema,
  type Stored,
  string,
  withDefault,
} from "./schema.ts";

/** Longest object name Kubernetes allows (a DNS-1123 subdomain). */
export const MAX_NAME_LENGTH = 253;
/** Longest string a matcher may hold (RE2 programs grow with it; §3.2 states 1024 for regex). */
export const MAX_MATCHER_LENGTH = 1024;

export const THREAT_HANDLING_MODES = ["Block", "LogOnly"] as const;
/** What happens to a request that a rule matches. */
export type ThreatHandlingMode = (typeof THREAT_HANDLING_MODES)[number];

const THREAT_HANDLING_HELP = "Block rejects the request; LogOnly only logs it and lets it through.";

/** `Block` or `LogOnly`, without a default (overrides, where absent means "inherit"). */
export function threatHandlingMode(description: string): Schema<ThreatHandlingMode> {
  return enumOf(`${description} ${THREAT_HANDLING_HELP}`, THREAT_HANDLING_MODES);
}

/** Like {@link threatHandlingMode}, defaulting to Block: forgetting the field must never turn blocking off. */
export function defaultBlock(description: string) {
  return withDefault(
    enumOf(`${description} ${THREAT_HANDLING_HELP} Default: Block.`, THREAT_HANDLING_MODES),
    "Block",
  );
}

/** A reference to an object of another kind in the same namespace. */
export function localRef(description: string) {
  return object(description, {
    name: required(
      string("Name of the referenced object, in the same namespace.", {
        minLength: 1,
        maxLength: MAX_NAME_LENGTH,
      }),
    ),
  });
}

/** A reference `{name}` to an object in the same namespace. */
export type LocalRef = Stored<ReturnType<typeof localRef>>;

function matcherString(description: string) {
  return string(description, { minLength: 1, maxLength: MAX_MATCHER_LENGTH });
}

const MATCHER_KINDS = ["exact", "prefix", "suffix", "contains", "regex"] as const;

function matcherProps() {
  return {
    exact: matcherString("Matches a string equal to this one."),
    prefix: matcherString("Matches a string starting with this one."),
    suffix: matcherString("Matches a string ending with this one."),
    contains: matcherString("Matches a string containing this one."),
    regex: matcherString(
      "Matches a string that this RE2 regular expression matches as a whole (prepend (?s) to let . match newlines).",
    ),
  };
}

/** A StringMatcher: exactly one of exact, prefix, suffix, contains, regex, plus ignoreCase. */
export function stringMatcher(description: string) {
  return object(
    `${description} Exactly one of exact, prefix, suffix, contains and regex must be set.`,
    {
      ...matcherProps(),
      ignoreCase: withDefault(
        boolean("Match ignoring upper and lower case (a regex is wrapped in (?i:...)). Default: false."),
        false,
      ),
    },
    { exactlyOneOf: MATCHER_KINDS },
  );
}

/** A StringMatcher that always ignores case (header names, media types): no ignoreCase field. */
export function caseInsensitiveMatcher(description: string) {
  return object(
    `${description} Always matches ignoring case. Exactly one of exact, prefix, suffix, contains and regex must be set.`,
    matcherProps(),
    { exactlyOneOf: MATCHER_KINDS },
  );
}

/** `{matcher: StringMatcher}`, the shape every matched request attribute has. */
export function matching(description: string) {
  return object(description, { matcher: required(stringMatcher("How the value is matched.")) });
}

/** `{matcher: case-insensitive StringMatcher}`. */
export function matchingIgnoringCase(description: string) {
  return object(description, {
    matcher: required(caseInsensitiveMatcher("How the value is matched.")),
  });
}

export const HTTP_METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
] as const;

/** A CIDR range such as 10.0.0.0/8 or 2001:db8::/32 (validated by the API server's `cidr` format). */
export function cidrRange(description: string) {
  return string(description, { format: "cidr", maxLength: 64 });
}

/** Request conditions: every condition that is set must match (reference §3.2). */
export function requestConditions(description: string) {
  return object(`${description} Every condition that is set must match.`, {
    method: array("Matches requests with one of these methods.", enumOf("An HTTP method.", HTTP_METHODS), {
      maxItems: HTTP_METHODS.length,
      listType: "set",
    }),
    path: matching("Matches the request path."),
    header: object("Matches requests with a header whose name (and value, if set) match.", {
      name: required(matchingIgnoringCase("The header name.")),
      value: matching("The header value."),
    }),
    mediaType: matchingIgnoringCase("Matches the media type of the Content-Type header."),
    remoteIP: object("Matches the client's IP address (as the gateway's remoteIP setting determines it).", {
      cidrRanges: required(
        array("IPv4 or IPv6 CIDR ranges, e.g. 192.168.0.0/16 or 2001:db8::/32.", cidrRange("A CIDR range."), {
          minItems: 1,
          maxItems: 1024,
        }),
      ),
      invert: withDefault(boolean("Match addresses outside the ranges instead. Default: false."), false),
    }),
    invert: withDefault(
      boolean("Invert the result: the conditions apply when they do not all match. Default: false."),
      false,
    ),
  });
}

/** Kubernetes' resource quantity syntax (k8s.io/apimachinery `resource.Quantity`), e.g. 60Ki, 100Mi, 1e3. */
export const QUANTITY_PATTERN =
  "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";

/** A size in bytes, as a number or a Kubernetes quantity (`60Ki`, `100Mi`). */
export function quantity(description: string) {
  return intOrString(`${description} A number of bytes or a quantity such as 60Ki or 100Mi.`, {
    pattern: QUANTITY_PATTERN,
  });
}

/** Go duration syntax as Envoy and Kubernetes use it (`10s`, `5m`, `1h30m`, `250ms`); 0 means no timeout. */
export const DURATION_PATTERN = "^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$";

/** A duration string. */
export function duration(description: string) {
  return string(`${description} A duration such as 250ms, 10s, 5m or 1h30m.`, {
    pattern: DURATION_PATTERN,
    maxLength: 32,
  });
}

export const TLS_VERSIONS = ["TLSv1_0", "TLSv1_1", "TLSv1_2", "TLSv1_3"] as const;

/** Supported TLS versions; the names sort in version order, which the CEL rule relies on. */
export function tlsProtocol(description: string) {
  return object(
    description,
    {
      minimum: enumOf("Lowest TLS version accepted.", TLS_VERSIONS),
      maximum: enumOf("Highest TLS version accepted.", TLS_VERSIONS),
    },
    {
      rules: [
        {
          rule: "!has(self.minimum) || !has(self.maximum) || self.minimum <= self.maximum",
          message: "minimum must not be above maximum",
        },
      ],
    },
  );
}

/** TLS cipher suites in Envoy's `cipher_suites` syntax. */
export function ciphers(description: string) {
  return array(
    `${description} Names as in Envoy's cipher_suites, e.g. ECDHE-RSA-AES128-GCM-SHA256.`,
    string("A cipher suite.", { minLength: 1, maxLength: 128 }),
    { minItems: 1, maxItems: 32 },
  );
}

/** A list of Secrets holding PEM data under one key (CA certificates, CRLs). */
function secretList(description: string, itemDescription: string) {
  return array(
    description,
    object("A Secret reference.", { secretRef: required(localRef(itemDescription)) }),
    { minItems: 1, maxItems: 64 },
  );
}

/** Trusted CA certificates for verifying peer certificates. */
export function trustedCA(description: string) {
  return object(description, {
    certificates: required(
      secretList(
        "Secrets whose key ca.crt holds one or more trusted CA certificates (PEM).",
        "A Secret with key ca.crt.",
      ),
    ),
    verificationDepth: withDefault(
      integer(
        "Maximum number of intermediate certificates between the peer certificate and a trusted CA. Default: 1.",
        { minimum: 0, maximum: 100 },
      ),
      1,
    ),
  });
}

/** Certificate revocation lists. */
export function crl(description: string) {
  return object(description, {
    lists: required(
      secretList("Secrets whose key ca.crl holds one or more CRLs (PEM).", "A Secret with key ca.crl."),
    ),
    validationMode: withDefault(
      enumOf(
        "VerifyChain checks every certificate of the chain against the CRLs, VerifyLeafCertOnly only the peer's. Default: VerifyChain.",
        ["VerifyChain", "VerifyLeafCertOnly"],
      ),
      "VerifyChain",
    ),
  });
}

/** A status condition (the shape of metav1.Condition). */
export function statusCondition(description: string) {
  return object(description, {
    type: required(string("Type of the condition, e.g. Ready.", { minLength: 1, maxLength: 316 })),
    status: required(enumOf("Status of the condition.", ["True", "False", "Unknown"])),
    reason: string("Machine-readable reason for the last transition (CamelCase).", { maxLength: 1024 }),
    message: string("Human-readable details of the last transition.", { maxLength: 32768 }),
    lastTransitionTime: string("When the status last changed.", { format: "date-time" }),
    observedGeneration: integer("The metadata.generation the condition was computed for.", {
      minimum: 0,
      format: "int64",
    }),
  });
}

/** Overall status of an object the operator reports on. */
export const OBJECT_STATUSES = ["Active", "Warning", "Error"] as const;

/** Status conditions of an object (at most 8, keyed by type). */
export function statusConditions(description: string) {
  return array(description, statusCondition("A condition."), {
    maxItems: 8,
    listType: "map",
    listMapKeys: ["type"],
  });
}
