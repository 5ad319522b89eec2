/**
 * SidecarGateway (reference §3.3): selects pods and configures, per protected container port, the
 * routes, their security and the engine's downstream and upstream connections.
 */
import {
  ciphers,
  crl,
  duration,
  localRef,
  MAX_NAME_LENGTH,
  OBJECT_STATUSES,
  quantity,
  statusConditions,
  stringMatcher,
  tlsProtocol,
  trustedCA,
} from "./common.ts";
import type { KindDefinition } from "./crd.ts";
import {
  array,
  boolean,
  enumOf,
  integer,
  map,
  marker,
  object,
  required,
  string,
  withDefault,
} from "./schema.ts";

/** Most applications (container ports) one gateway may protect. */
export const MAX_APPLICATIONS = 16;
/** Most routes one application may have. */
export const MAX_ROUTES = 128;

function allowConnect() {
  return withDefault(
    boolean("Allow CONNECT over HTTP/2 (WebSockets and other upgrades). Default: false."),
    false,
  );
}

/** HTTP version choice; none set means auto. */
function httpProtocol(description: string, autoDescription: string) {
  return object(
    `${description} At most one of http1, http2 and auto may be set; none means auto.`,
    {
      http1: marker("Speak HTTP/1.1 only."),
      http2: object("Speak HTTP/2 only.", { allowConnect: allowConnect() }),
      auto: object(autoDescription, {
        http2: object("Settings when HTTP/2 is chosen.", { allowConnect: allowConnect() }),
      }),
    },
    { atMostOneOf: ["http1", "http2", "auto"] },
  );
}

/** A route: requests whose path starts with pathPrefix, secured (the default) or not. */
export const routeSchema = object(
  "Requests whose path starts with pathPrefix, and how they are protected. At most one of secured and unsecured may be set; none means secured with the defaults.",
  {
    pathPrefix: withDefault(
      string('Path prefix this route applies to; must start with "/". Default: /.', {
        minLength: 1,
        maxLength: 1024,
        pattern: "^/",
      }),
      "/",
    ),
    secured: object(
      "Protect the route with the WAF (the default when neither secured nor unsecured is set).",
      {
        contentSecurityRef: localRef(
          "The ContentSecurity (deny rules, header rewrites, limits, parser) of the route. Absent: the built-in defaults (Standard deny rules, Block).",
        ),
        accessControlRef: localRef(
          "The AccessControl (authentication, authorization) of the route. Absent: none.",
        ),
      },
    ),
    unsecured: marker(
      "Forward the route without any WAF processing. Only for traffic that needs no protection (health checks, metrics).",
    ),
  },
  { atMostOneOf: ["secured", "unsecured"] },
);

function clientCertificate() {
  const sanMatcher = object("A Subject Alternative Name pattern.", {
    sanType: required(enumOf("Kind of SAN.", ["DNS", "Email", "URI", "IPAddress"])),
    matcher: required(stringMatcher("How the SAN value is matched.")),
  });
  const hashes = (description: string) =>
    array(description, string("A hash.", { minLength: 1, maxLength: 128 }), { minItems: 1, maxItems: 64 });
  return object(
    "Client certificates (mutual TLS). At most one of ignored, optional and required may be set; none means ignored.",
    {
      ignored: marker("Do not ask for a client certificate."),
      optional: object("Verify a client certificate if the client presents one.", {
        trustedCA: required(trustedCA("CAs that may have issued client certificates.")),
        crl: crl("Revoked client certificates."),
      }),
      required: object(
        "Reject clients without a valid certificate. At least one of trustedCA and certificatePinning must be set.",
        {
          trustedCA: trustedCA("CAs that may have issued client certificates."),
          crl: crl("Revoked client certificates."),
          allowedSANs: array(
            "The certificate must have a SAN matching one of these (requires trustedCA).",
            sanMatcher,
            { minItems: 1, maxItems: 64 },
          ),
          certificatePinning: object(
            "The certificate must match one of these hashes. At least one of allowedHashes and allowedSPKIs must be set.",
            {
              allowedHashes: hashes("Hex-encoded SHA-256 hashes of the DER-encoded certificate."),
              allowedSPKIs: hashes(
                "Base64-encoded SHA-256 hashes of the certificate's Subject Public Key Info.",
              ),
            },
            { atLeastOneOf: ["allowedHashes", "allowedSPKIs"] },
          ),
        },
        {
          atLeastOneOf: ["trustedCA", "certificatePinning"],
          rules: [
            {
              rule: "!has(self.allowedSANs) || has(self.trustedCA)",
              message: "allowedSANs requires trustedCA",
            },
          ],
        },
      ),
    },
    { atMostOneOf: ["ignored", "optional", "required"] },
  );
}

const downstream = object("The connection from clients to the engine.", {
  protocol: httpProtocol(
    "HTTP version clients speak.",
    "Detect the HTTP version per connection (ALPN with TLS, the preface without).",
  ),
  remoteIP: object(
    "Where the client IP address (for logs and remoteIP conditions) comes from. At most one of xff, customHeader and connectionIP may be set; none means xff.",
    {
      xff: object("Take it from X-Forwarded-For.", {
        numTrustedHops: withDefault(
          integer(
            "Use the n-th address from the right of X-Forwarded-For (1: the rightmost, added by the nearest proxy). Default: 1.",
            { minimum: 1, maximum: 64 },
          ),
          1,
        ),
        trustedCIDRRanges: array(
          "Only trust X-Forwarded-For from peers in these ranges.",
          string("A CIDR range.", { format: "cidr", maxLength: 64 }),
          { maxItems: 64 },
        ),
      }),
      customHeader: object("Take it from a header.", {
        headerName: required(string("Name of the header.", { minLength: 1, maxLength: 256 })),
        required: withDefault(boolean("Reject requests without the header (403). Default: true."), true),
      }),
      connectionIP: marker("Use the address of the TCP peer."),
    },
    { atMostOneOf: ["xff", "customHeader", "connectionIP"] },
  ),
  requestNormalizations: object("Normalizations applied to the path before routes are matched.", {
    mergeSlashes: withDefault(boolean("Merge adjacent slashes. Default: true."), true),
    normalizePath: withDefault(
      boolean("Normalize the path as RFC 3986 says (remove dot segments, decode unreserved). Default: true."),
      true,
    ),
  }),
  restrictions: object("Limits on requests.", {
    http: object("HTTP limits.", {
      headersLength: withDefault(
        quantity("Maximum size of all request headers together; larger requests get 431. Default: 60Ki."),
        "60Ki",
      ),
    }),
  }),
  timeouts: object("Timeouts of client connections.", {
    http: object("HTTP timeouts; 0 disables one.", {
      idle: withDefault(duration("Close a connection idle for this long. Default: 5m."), "5m"),
      maxDuration: withDefault(duration("Longest a request and its response may take. Default: 5m."), "5m"),
      requestHeaders: withDefault(
        duration("Longest the client may take to send all request headers. Default: 10s."),
        "10s",
      ),
    }),
  }),
  tls: object(
    "TLS towards clients.",
    {
      enable: withDefault(boolean("Serve TLS (requires secretRef). Default: false."), false),
      secretRef: localRef("The server certificate and key: a Secret of type kubernetes.io/tls."),
      protocol: tlsProtocol("TLS versions accepted."),
      ciphers: ciphers("Cipher suites offered."),
      clientCertificate: clientCertificate(),
      xfcc: withDefault(
        enumOf(
          "What to do with the X-Forwarded-Client-Cert header: Sanitize (remove it, the default), ForwardOnly (forward it on mutual TLS), AppendAndForward (add the client certificate and forward, on mutual TLS), SanitizeAndSet (replace it with the client certificate, on mutual TLS), AlwaysForwardOnly (always forward).",
          ["Sanitize", "ForwardOnly", "AppendAndForward", "SanitizeAndSet", "AlwaysForwardOnly"],
        ),
        "Sanitize",
      ),
    },
    { rules: [{ rule: "!self.enable || has(self.secretRef)", message: "enable: true requires secretRef" }] },
  ),
});

const upstream = object("The connection from the engine to the application container.", {
  protocol: httpProtocol(
    "HTTP version spoken to the application.",
    "Negotiate with ALPN when TLS is on, else speak what the client spoke.",
  ),
  timeouts: object("Timeouts towards the application.", {
    http: object("HTTP timeouts; 0 disables one.", {
      idle: duration("Close a connection idle for this long. Absent: the downstream idle timeout."),
      maxDuration: withDefault(duration("Longest the application may take to answer. Default: 15s."), "15s"),
    }),
  }),
  tls: object("TLS towards the application (the certificate is not verified).", {
    enable: withDefault(boolean("Speak TLS to the application. Default: false."), false),
    protocol: tlsProtocol("TLS versions offered."),
    ciphers: ciphers("Cipher suites offered."),
  }),
});

function filterRefs(description: string) {
  return array(description, localRef("An EnvoyHTTPFilter."), { maxItems: 32 });
}

/** One protected container port of the selected pods. */
export const applicationSchema = object("One protected port of the selected pods.", {
  containerPort: withDefault(
    integer("The application's container port; the engine forwards to it on 127.0.0.1. Default: 8080.", {
      minimum: 1,
      maximum: 65535,
    }),
    8080,
  ),
  routes: array(
    "Routes by path prefix, first match wins. Absent: one secured route for /. Empty: nothing is forwarded.",
    routeSchema,
    { maxItems: MAX_ROUTES, listType: "map", listMapKeys: ["pathPrefix"] },
  ),
  downstream,
  upstream,
  envoyHTTPFilterRefs: object("Raw Envoy HTTP filters added to this application's filter chain.", {
    prepend: filterRefs("EnvoyHTTPFilters placed before the WAF's filters, in this order."),
    append: filterRefs("EnvoyHTTPFilters placed after the WAF's filters, in this order."),
  }),
  telemetryRef: localRef(
    "The Telemetry (access log format, correlation ID) of the application. Absent: the defaults.",
  ),
});

/** SidecarGateway `spec`. */
export const sidecarGatewaySpecSchema = object("Which pods to protect and how.", {
  podSelector: required(
    object("The pods (in this namespace) the gateway configures.", {
      matchLabels: required(
        map("Pods with all of these labels are selected.", string("A label value.", { maxLength: 63 }), {
          maxProperties: 64,
        }),
      ),
    }),
  ),
  sessionHandlingRef: localRef("The SessionHandling of the gateway. Absent: no sessions."),
  envoyClusterRefs: array(
    "Raw Envoy clusters added to the engines (for EnvoyHTTPFilters to call).",
    localRef("An EnvoyCluster."),
    {
      maxItems: 128,
      listType: "map",
      listMapKeys: ["name"],
    },
  ),
  applications: required(
    array("The protected ports, one entry per container port.", applicationSchema, {
      minItems: 1,
      maxItems: MAX_APPLICATIONS,
      listType: "map",
      listMapKeys: ["containerPort"],
    }),
  ),
});

function podStatus(description: string, extra: "envoyConfig" | "managedBy") {
  return array(
    description,
    object("A pod.", {
      name: required(string("Name of the pod.", { minLength: 1, maxLength: MAX_NAME_LENGTH })),
      ...(extra === "envoyConfig"
        ? { envoyConfig: string("Name of the pod's EnvoyConfiguration.", { maxLength: MAX_NAME_LENGTH }) }
        : {
            managedBy: string("The operator instance that manages the pod.", { maxLength: MAX_NAME_LENGTH }),
          }),
      sessionAgentSecret: string("Name of the pod's session agent Secret.", { maxLength: MAX_NAME_LENGTH }),
    }),
    { maxItems: 256, listType: "map", listMapKeys: ["name"] },
  );
}

/** SidecarGateway `status`, written by the operator. */
export const sidecarGatewayStatusSchema = object(
  "What the operator observed; written by the operator only.",
  {
    status: enumOf(
      "Active: every selected pod is configured. Warning: configured, with problems (e.g. a missing reference replaced by defaults). Error: not configured.",
      OBJECT_STATUSES,
    ),
    conditions: statusConditions("Details of the status."),
    pods: podStatus("The selected pods this operator configures.", "envoyConfig"),
    unmanagedPods: podStatus("Selected pods that another operator instance manages.", "managedBy"),
  },
);

export const sidecarGatewayKind: KindDefinition = {
  kind: "SidecarGateway",
  plural: "sidecargateways",
  description:
    "Protects pods with the Microgateway engine: selects pods by label and configures, per container port, routes and their security.",
  spec: required(sidecarGatewaySpecSchema),
  status: sidecarGatewayStatusSchema,
  printerColumns: [
    { name: "Status", type: "string", jsonPath: ".status.status", description: "Active, Warning or Error." },
  ],
};
