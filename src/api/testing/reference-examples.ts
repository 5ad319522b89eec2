/**
 * The examples of reference §3 (airlock-sidecar-api.md), one manifest per kind, as users of the API
 * write them. Tests check that our CRDs accept every one, offline (src/api/kinds.test.ts) and on a
 * real API server (test/crds.test.ts). Adapted where §3 abbreviates: no namespaces (tests choose
 * them), and names that resolve within one namespace.
 */

/** YAML manifests, several documents each. */
export const REFERENCE_EXAMPLES: readonly { readonly title: string; readonly yaml: string }[] = [
  {
    title: "§3.3 SidecarGateway, example 1 (minimal)",
    yaml: `
apiVersion: microgateway.airlock.com/v1alpha1
kind: SidecarGateway
metadata: {name: shop}
spec:
  podSelector: {matchLabels: {app: shop}}
  applications:
    - containerPort: 8080
`,
  },
  {
    title: "§3.3 SidecarGateway, example 2 (TLS, XFF, unsecured metrics path, sessions)",
    yaml: `
apiVersion: microgateway.airlock.com/v1alpha1
kind: SidecarGateway
metadata: {name: portal}
spec:
  podSelector: {matchLabels: {app.kubernetes.io/name: portal}}
  sessionHandlingRef: {name: portal-sessions}
  applications:
    - containerPort: 8443
      routes:
        - {pathPrefix: /actuator/prometheus, unsecured: {}}
        - pathPrefix: /
          secured:
            contentSecurityRef: {name: portal-waf}
            accessControlRef:   {name: portal-login}
      downstream:
        remoteIP: {xff: {numTrustedHops: 1}}
        protocol: {auto: {}}
        restrictions: {http: {headersLength: 96Ki}}
        tls: {enable: true, secretRef: {name: portal-tls}, protocol: {minimum: TLSv1_2}}
      upstream:
        tls: {enable: true}
      telemetryRef: {name: ecs-default}
`,
  },
  {
    title: "§3.4 ContentSecurity",
    yaml: `
apiVersion: microgateway.airlock.com/v1alpha1
kind: ContentSecurity
metadata: {name: portal-waf}
spec:
  filter: {denyRulesRef: {name: portal-deny}}
  headerRewritesRef: {name: portal-headers}
  limitsRef: {name: portal-limits}
  parserRef: {name: portal-parser}
`,
  },
  {
    title: "§3.5 DenyRules",
    yaml: `
apiVersion: microgateway.airlock.com/v1alpha1
kind: DenyRules
metadata: {name: portal-deny}
spec:
  request:
    builtIn:
      settings: {level: Strict, threatHandlingMode: Block}
      overrides:
        - conditions: {ruleKeys: [XSS], types: [Parameter]}
          settings: {level: Standard}
      exceptions:
        - ruleKeys: [SQL]
          blockedData: {parameter: {name: {matcher: {exact: q}}, source: Query}}
          requestConditions: {path: {matcher: {prefix: /search}}, method: [GET]}
    custom:
      rules:
        - ruleKey: BLOCK_ADMIN_FROM_OUTSIDE
          blockData: {path: {matcher: {prefix: /admin}}}
          requestConditions: {remoteIP: {cidrRanges: [10.0.0.0/8], invert: true}}
`,
  },
  {
    title: "§3.6 HeaderRewrites",
    yaml: `
apiVersion: microgateway.airlock.com/v1alpha1
kind: HeaderRewrites
metadata: {name: portal-headers}
spec:
  request:
    allow:
      matchingHeaders:
        builtIn: {standardHeaders: true, tracingHeaders: true}
        custom:
          - name: allow api key header
            headers: [{name: {matcher: {exact: X-Api-Key}}}]
    add:
      custom:
        - name: tag requests
          headers: [{name: X-Protected-By, value: microgateway}]
          mode: OverwriteOrAdd
  response:
    add: {builtIn: {csp: true, hstsPreload: false}}
    remove: {builtIn: {auth: {basic: true}}}
`,
  },
  {
    title: "§3.7 Limits",
    yaml: `
apiVersion: microgateway.airlock.com/v1alpha1
kind: Limits
metadata: {name: portal-limits}
spec:
  request:
    limited:
      general: {bodySize: 20Mi}
      json: {bodySize: 1Mi, nestingDepth: 32}
      exceptions:
        - length: {json: {jsonPath: $.attachment}}
          requestConditions: {path: {matcher: {prefix: /upload}}}
`,
  },
  {
    title: "§3.8 Parser",
    yaml: `
apiVersion: microgateway.airlock.com/v1alpha1
kind: Parser
metadata: {name: portal-parser}
spec:
  request:
    custom:
      rules:
        - requestConditions: {path: {matcher: {prefix: /files}}}
          action: {skip: {}}
`,
  },
  {
    title: "§3.9 Telemetry",
    yaml: `
apiVersion: microgateway.airlock.com/v1alpha1
kind: Telemetry
metadata: {name: ecs-default}
spec:
  correlation: {idSource: {header: {name: X-Request-Correlation}}}
  logging:
    accessLog:
      format:
        json:
          "@timestamp": "%START_TIME(%Y-%m-%dT%T.%3f%z)%"
          event: {dataset: envoy.access, module: envoy}
          http: {request: {method: "%REQ(:METHOD)%", id: "%STREAM_ID%"}, response: {status_code: "%RESPONSE_CODE%"}}
          url: {path: "%REQ(:PATH)%"}
`,
  },
  {
    title: "§3.10 EnvoyCluster and EnvoyHTTPFilter (in namespace portal, as the cluster name says)",
    yaml: `
apiVersion: microgateway.airlock.com/v1alpha1
kind: EnvoyCluster
metadata: {name: opa}
spec:
  value:
    name: envoycluster/portal/opa
    type: STRICT_DNS
    connect_timeout: 1s
    load_assignment:
      cluster_name: opa
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: opa.opa.svc, port_value: 9191}}}}]}]
---
apiVersion: microgateway.airlock.com/v1alpha1
kind: EnvoyHTTPFilter
metadata: {name: opa-authz}
spec:
  value:
    name: envoy.filters.http.ext_authz
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
      grpc_service: {envoy_grpc: {cluster_name: envoycluster/portal/opa}, timeout: 0.25s}
`,
  },
];
