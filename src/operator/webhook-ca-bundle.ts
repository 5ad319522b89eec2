import { type AdmissionregistrationV1Api, ApiException } from "@kubernetes/client-node";

/**
 * Keeps the caBundle of every webhook in the named MutatingWebhookConfiguration equal to the
 * operator's CA (the operator issues its own serving certificate, so no cert-manager is needed).
 * Returns what it did; a missing configuration is not an error (it may be installed later).
 */
export async function syncCaBundle(
  api: AdmissionregistrationV1Api,
  name: string,
  caPem: string,
): Promise<"updated" | "current" | "missing"> {
  const want = Buffer.from(caPem, "utf8").toString("base64");
  let mwc: Awaited<ReturnType<AdmissionregistrationV1Api["readMutatingWebhookConfiguration"]>>;
  try {
    mwc = await api.readMutatingWebhookConfiguration({ name });
  } catch (e) {
    if (e instanceof ApiException && e.code === 404) return "missing";
    throw e;
  }
  const hooks = mwc.webhooks ?? [];
  // The client decodes `byte` fields into strings of base64; compare in that form.
  const current = (v: unknown) =>
    typeof v === "string" ? v : v instanceof Uint8Array ? Buffer.from(v).toString("base64") : "";
  if (hooks.every((h) => current(h.clientConfig.caBundle) === want)) return "current";
  for (const h of hooks) h.clientConfig.caBundle = want;
  await api.replaceMutatingWebhookConfiguration({ name, body: mwc });
  return "updated";
}
