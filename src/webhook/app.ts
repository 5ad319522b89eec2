import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { errorMessage, isMicrogatewayError } from "../errors.ts";
import {
  type AdmissionRequest,
  type AdmissionReview,
  allowed,
  decodeAdmissionReview,
} from "./admission-review.ts";

/** What the HTTP layer needs from the rest of the operator. */
export interface WebhookHandlers {
  /** Admits one Pod CREATE (inject or not); returns the review to send back. */
  admitPod(request: AdmissionRequest): Promise<AdmissionReview>;
  /** Whether the operator is ready to admit pods (certificates and configuration loaded). */
  ready(): boolean;
  readonly log?: (line: string) => void;
}

/** Counters for the operator's /metrics. */
export interface WebhookCounters {
  requests: number;
  malformed: number;
  errors: number;
}

/**
 * Kubernetes sends at most a 3 MiB object; the review around it adds little. Anything larger is
 * not from the API server.
 */
export const MAX_ADMISSION_REVIEW_BYTES = 4 * 1024 * 1024;

/**
 * The webhook's HTTP surface: `POST /mutate-v1-pod`, `GET /healthz`, `GET /readyz`.
 * Malformed or oversized reviews get a 400/413 naming the problem; they never reach the handler.
 *
 * @example
 * Bun.serve({ port: 9443, tls, fetch: webhookApp(handlers).fetch });
 */
export function webhookApp(handlers: WebhookHandlers, counters: WebhookCounters = newCounters()): Hono {
  const app = new Hono();

  app.get("/healthz", (c) => c.text("ok"));
  app.get("/readyz", (c) => (handlers.ready() ? c.text("ok") : c.text("not ready", 503)));

  app.post(
    "/mutate-v1-pod",
    bodyLimit({
      maxSize: MAX_ADMISSION_REVIEW_BYTES,
      onError: (c) => {
        counters.malformed++;
        return c.text(`AdmissionReview larger than ${MAX_ADMISSION_REVIEW_BYTES} bytes`, 413);
      },
    }),
    async (c) => {
      counters.requests++;
      const type = c.req.header("content-type") ?? "";
      if (!type.toLowerCase().startsWith("application/json")) {
        counters.malformed++;
        throw new HTTPException(415, { message: `content-type must be application/json, not "${type}"` });
      }
      let body: unknown;
      try {
        body = JSON.parse(await c.req.text());
      } catch (e) {
        counters.malformed++;
        throw new HTTPException(400, { message: `AdmissionReview is not valid JSON: ${errorMessage(e)}` });
      }
      let request: AdmissionRequest;
      try {
        request = decodeAdmissionReview(body);
      } catch (e) {
        counters.malformed++;
        throw new HTTPException(400, { message: errorMessage(e) });
      }
      // Only pod creation is ours; anything else the configuration might route here passes untouched.
      if (request.kind.kind !== "Pod" || request.kind.group !== "" || request.operation !== "CREATE") {
        return c.json(allowed(request.uid));
      }
      return c.json(await handlers.admitPod(request));
    },
  );

  app.onError((e, c) => {
    if (e instanceof HTTPException) return c.text(e.message, e.status);
    counters.errors++;
    handlers.log?.(`webhook: internal error: ${isMicrogatewayError(e) ? e.message : errorMessage(e)}`);
    return c.text("internal error", 500);
  });
  app.notFound((c) => c.text("not found", 404));
  return app;
}

/** Fresh zeroed counters. */
export function newCounters(): WebhookCounters {
  return { requests: 0, malformed: 0, errors: 0 };
}
