/**
 * CPU cost of the admission handler without a socket: how much of a server's per-request CPU is
 * the webhook's own work (parse, decode, mutate, patch, encode) rather than TLS and HTTP. Runs on
 * Bun as-is and on Node as a bundle:
 *
 *   bun bench/webhook/handler-cost.ts
 *   bun build bench/webhook/handler-cost.ts --target=node --outfile /tmp/handler-cost.mjs && node /tmp/handler-cost.mjs
 *
 * Prints one JSON line per step: microseconds per call, the best of BATCHES batches after a
 * warm-up batch (the best, because on a shared machine other work only ever adds time).
 */
import { decodeAdmissionReview } from "../../src/webhook/admission-review.ts";
import { benchAdmissionApp } from "./admission-app.ts";
import { benchReview } from "./pod.ts";

const CALLS = 1_000;
const BATCHES = 5;
const review = benchReview();
const bench = benchAdmissionApp(() => {});
const headers = {
  "content-type": "application/json",
  "content-length": String(Buffer.byteLength(review.body)),
};
const runtime = process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.versions.node}`;

const steps: [string, () => unknown][] = [
  ["JSON.parse of the review", () => JSON.parse(review.body)],
  [
    "parse + decode + podAdmitter + JSON.stringify (the handler, no HTTP)",
    async () => JSON.stringify(await bench.admitPod(decodeAdmissionReview(JSON.parse(review.body)))),
  ],
  [
    "webhookApp.fetch: Request in, response body read (the handler in Hono)",
    async () => {
      const req = new Request("https://webhook/mutate-v1-pod", {
        method: "POST",
        headers,
        body: review.body,
      });
      return (await bench.app.fetch(req)).text();
    },
  ],
];

for (const [step, call] of steps) {
  let best = Number.POSITIVE_INFINITY;
  for (let b = 0; b <= BATCHES; b++) {
    const start = performance.now();
    for (let i = 0; i < CALLS; i++) await call();
    // Batch 0 warms the JIT up and is not counted.
    if (b > 0) best = Math.min(best, ((performance.now() - start) * 1000) / CALLS);
  }
  process.stdout.write(`${JSON.stringify({ runtime, step, usPerCall: Math.round(best) })}\n`);
}
