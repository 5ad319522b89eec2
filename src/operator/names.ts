/** Public names of the objects the operator owns (sidecar API; keep them exactly). */

/** The operator's CA, in the operator's namespace. */
export const CA_SECRET = "airlock-microgateway-ca-cert";

/** Per application namespace: the engine's bootstrap, client certificate and CA. */
export const BOOTSTRAP_SECRET = "airlock-microgateway-bootstrap-secret";

/** Labels on every object the operator creates. */
export const MANAGED_BY_LABEL = "microgateway.airlock.com/managedBy";
export const KUBERNETES_MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const KUBERNETES_MANAGED_BY = "microgateway-operator";

/** When the certificate in a secret was issued (ISO 8601); renewal is due one renewal period later. */
export const ISSUED_AT_ANNOTATION = "microgateway.airlock.com/issued-at";
