/**
 * Engine identity on the xDS connection. An engine's client certificate carries one SPIFFE URI SAN that
 * names its namespace, so the xDS server can refuse to hand namespace A's configuration (and secrets) to
 * an engine holding namespace B's bootstrap secret: the identity is the namespace, not the pod, because
 * the bootstrap secret is shared by all pods of a namespace.
 */
import { MicrogatewayError } from "../errors.ts";

/** SPIFFE trust domain of all Microgateway identities. */
export const TRUST_DOMAIN = "microgateway.airlock.com";

/** A Kubernetes namespace name (RFC 1123 label, at most 63 characters). */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

// Exactly one form is accepted: no percent-encoding, query, fragment, port, userinfo, trailing slash or
// case variants, so two spellings can never name the same namespace.
const ENGINE_ID = /^spiffe:\/\/microgateway\.airlock\.com\/ns\/([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)\/engine$/;

/** The SPIFFE ID of the engines of `namespace`, e.g. `spiffe://microgateway.airlock.com/ns/shop/engine`. */
export function engineSpiffeId(namespace: string): string {
  if (!NAMESPACE.test(namespace)) {
    throw new MicrogatewayError(
      "InvalidArgument",
      `engine identity: namespace ${JSON.stringify(namespace)} must be a Kubernetes namespace name (RFC 1123 label)`,
    );
  }
  return `spiffe://${TRUST_DOMAIN}/ns/${namespace}/engine`;
}

/** The namespace named by an engine SPIFFE ID, or `undefined` for anything that is not exactly one. */
export function namespaceOfSpiffeId(uri: string): string | undefined {
  return ENGINE_ID.exec(uri)?.[1];
}

/** The identities a TLS peer presented. */
export interface PeerIdentity {
  /** URI SANs of the peer certificate, in certificate order. */
  uris: string[];
}

/**
 * Reads the URI SANs of a peer certificate as returned by `tlsSocket.getPeerCertificate()` (whose
 * `subjectaltname` is e.g. `DNS:a.example, URI:spiffe://microgateway.airlock.com/ns/shop/engine`).
 * No certificate (`undefined` or the `{}` Node returns) yields no URIs.
 */
export function peerIdentity(cert: { subjectaltname?: string } | undefined): PeerIdentity {
  const san = cert?.subjectaltname;
  if (typeof san !== "string" || san === "") return { uris: [] };
  const uris: string[] = [];
  for (const { type, value } of parseSubjectAltName(san)) {
    if (type === "URI") uris.push(value);
  }
  return { uris };
}

/**
 * Splits Node's `subjectaltname` string. Since CVE-2021-44532 Node writes a value that contains a comma,
 * quote or control character as a JSON string (`DNS:"a, URI:spiffe://x"`); such a value is decoded and
 * kept whole, so a crafted DNS name can never smuggle in a URI entry. A string that does not parse
 * completely yields no entries at all (fail closed).
 */
function parseSubjectAltName(san: string): { type: string; value: string }[] {
  const entries: { type: string; value: string }[] = [];
  let i = 0;
  while (i < san.length) {
    const colon = san.indexOf(":", i);
    if (colon < 0) return [];
    const type = san.slice(i, colon);
    let value: string;
    let next: number;
    if (san[colon + 1] === '"') {
      const end = endOfJsonString(san, colon + 1);
      if (end < 0) return [];
      try {
        value = JSON.parse(san.slice(colon + 1, end + 1)) as string;
      } catch {
        return [];
      }
      next = end + 1;
    } else {
      const comma = san.indexOf(", ", colon + 1);
      next = comma < 0 ? san.length : comma;
      value = san.slice(colon + 1, next);
    }
    entries.push({ type, value });
    if (next >= san.length) break;
    if (!san.startsWith(", ", next)) return [];
    i = next + 2;
  }
  return entries;
}

/** Index of the closing quote of the JSON string starting at `start`, or -1. */
function endOfJsonString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}
