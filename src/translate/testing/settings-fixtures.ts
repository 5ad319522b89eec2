import "reflect-metadata";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { X509CrlGenerator } from "@peculiar/x509";
import type { Listener } from "../../../gen/envoy/config/listener/v3/listener_pb.js";
import {
  type HttpConnectionManager,
  HttpConnectionManagerSchema,
} from "../../../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js";
import { createAuthority } from "../../certs/authority.ts";
import { issueServerCertificate } from "../../certs/issue.ts";
import { SIGNING_ALGORITHM } from "../../certs/keys.ts";
import { buildModel, type Model } from "../../model/model.ts";
import { parseResource } from "../../model/parse.ts";
import type { ModelObject, PodInfo } from "../../model/types.ts";

export const GROUP = "microgateway.airlock.com/v1alpha1";
export const POD: PodInfo = { metadata: { name: "web-1", namespace: "shop", labels: { app: "shop" } } };

/** A CA, a server certificate for localhost/127.0.0.1 it issued and an empty CRL it signed, in PEM. */
export async function testCertificates(): Promise<{
  caPem: string;
  certPem: string;
  keyPem: string;
  crlPem: string;
}> {
  const ca = await createAuthority({ commonName: "settings test CA" });
  const leaf = await issueServerCertificate(ca, {
    commonName: "shop",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  const crl = await X509CrlGenerator.create({
    issuer: ca.certificate.subject,
    signingAlgorithm: SIGNING_ALGORITHM,
    signingKey: ca.signingKey,
    nextUpdate: new Date(Date.now() + 86_400_000),
  });
  return {
    caPem: ca.certificatePem,
    certPem: leaf.chainPem,
    keyPem: leaf.privateKeyPem,
    crlPem: crl.toString("pem"),
  };
}

/** A model of one SidecarGateway `shop/gw` (selecting POD) with `applications`, plus `others` manifests. */
export function settingsModel(
  applications: unknown[],
  others: unknown[] = [],
  spec: Record<string, unknown> = {},
): Model {
  const objects = [
    {
      apiVersion: GROUP,
      kind: "SidecarGateway",
      metadata: { name: "gw", namespace: "shop" },
      spec: { podSelector: { matchLabels: { app: "shop" } }, applications, ...spec },
    },
    ...others,
  ].map((o) => parseResource(o, "test") as ModelObject);
  return buildModel(objects);
}

/** A kubernetes.io/tls Secret manifest. */
export function tlsSecret(name: string, certPem: string, keyPem: string) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: "shop" },
    type: "kubernetes.io/tls",
    stringData: { "tls.crt": certPem, "tls.key": keyPem },
  };
}

/** The HCM of the listener's filter chain for `containerPort`. */
export function hcmOf(listener: Listener, containerPort: number): HttpConnectionManager {
  const chain = listener.filterChains.find((c) => c.filterChainMatch?.destinationPort === containerPort);
  const any = chain?.filters[0]?.configType.value;
  const hcm = any && "typeUrl" in any ? anyUnpack(any, HttpConnectionManagerSchema) : undefined;
  if (!hcm) throw new Error(`no HCM for port ${containerPort}`);
  return hcm;
}
