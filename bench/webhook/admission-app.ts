/**
 * The webhook exactly as the operator wires it (src/operator/operator.ts): `podAdmitter` with the
 * default operator configuration behind `webhookApp`. Only the Kubernetes side effect is gone:
 * there is no cluster in this benchmark, so making sure the namespace's bootstrap secret exists is
 * a no-op. Everything between the request bytes and the response bytes is production code.
 */
import type { Hono } from "hono";
import { DEFAULT_OPERATOR_CONFIG } from "../../src/inject/operator-config.ts";
import { type AdmissionCounters, podAdmitter } from "../../src/operator/admit-pod.ts";
import type { AdmissionRequest, AdmissionReview } from "../../src/webhook/admission-review.ts";
import { newCounters, type WebhookCounters, webhookApp } from "../../src/webhook/app.ts";

/** The app and the counters the operator would export on /metrics; the driver checks them after each run. */
export interface BenchAdmissionApp {
  readonly app: Hono;
  /** The handler behind the app's POST /mutate-v1-pod, for measuring it without HTTP. */
  readonly admitPod: (request: AdmissionRequest) => Promise<AdmissionReview>;
  readonly webhook: WebhookCounters;
  readonly admissions: AdmissionCounters;
}

/** Builds the production webhook app with native sidecars and no Kubernetes API behind it. */
export function benchAdmissionApp(log: (line: string) => void): BenchAdmissionApp {
  const admissions: AdmissionCounters = { injected: 0, skipped: 0, denied: 0, secretErrors: 0 };
  const admit = podAdmitter(
    {
      config: DEFAULT_OPERATOR_CONFIG,
      nativeSidecars: () => true,
      // The operator writes the Secret through the API server here; with no cluster there is nothing
      // to write, and the await stays so the handler keeps its production shape.
      ensureBootstrapSecret: async () => {},
      log,
    },
    admissions,
  );
  const webhook = newCounters();
  const app = webhookApp({ admitPod: admit, ready: () => true, log }, webhook);
  return { app, admitPod: admit, webhook, admissions };
}
