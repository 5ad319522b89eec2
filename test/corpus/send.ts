/**
 * Sends corpus requests over raw TCP and classifies the answers. `fetch` would re-encode targets
 * and refuse some headers; the rules must see the request exactly as the line says.
 *
 * @example
 * const results = await sendCorpus(port, corpus.attacks, { host: "shop.test" });
 * results.filter((r) => r.outcome === "blocked").length;
 */
import { connect } from "node:net";
import { type CorpusRequest, requestBytes } from "./corpus.ts";
import { UPSTREAM_MARKER } from "./upstream.ts";

/**
 * What happened to a request: `passed` (the upstream answered: its marker header is on the
 * response), `blocked` (the gateway answered 4xx or 501 itself and the upstream never saw it; a
 * refusal by the HTTP parser counts, as it does for any WAF), `error` (no complete answer, or a
 * gateway 5xx other than 501).
 */
export type Outcome = "passed" | "blocked" | "error";

/** One request's result. */
export interface SendResult {
  readonly request: CorpusRequest;
  readonly status: number;
  readonly outcome: Outcome;
  /** Why it is an error, for the report. */
  readonly error?: string;
}

/** Options of {@link sendCorpus}. */
export interface SendOptions {
  /** Host header for lines without their own (default `corpus.test`). */
  readonly host?: string;
  /** Requests in flight at once (default 8). */
  readonly concurrency?: number;
  /** Prepended to origin-form targets, e.g. `/__bare` to reach a route without rules (default none). */
  readonly pathPrefix?: string;
  /** Per-request timeout in ms (default 5000). */
  readonly timeoutMs?: number;
}

/** Classifies a response by status and whether the upstream's marker is on it. */
export function classify(status: number, fromUpstream: boolean): Outcome {
  if (fromUpstream) return "passed";
  if ((status >= 400 && status < 500) || status === 501) return "blocked";
  return "error";
}

/** Inserts `prefix` at the start of the target's path (origin form and absolute form). */
export function withPathPrefix(target: string, prefix: string): string {
  if (!prefix) return target;
  if (target.startsWith("/")) return prefix + target;
  const m = /^(https?:\/\/[^/?#]*)(.*)$/.exec(target);
  return m ? `${m[1]}${prefix}${m[2]?.startsWith("/") ? "" : "/"}${m[2]}` : target;
}

/** Sends every request (at most `concurrency` at once) and returns the results in corpus order. */
export async function sendCorpus(
  port: number,
  requests: readonly CorpusRequest[],
  opts: SendOptions = {},
): Promise<SendResult[]> {
  const results: SendResult[] = new Array(requests.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const i = next++;
      results[i] = await sendOne(port, requests[i]!, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, requests.length) }, worker));
  return results;
}

async function sendOne(port: number, request: CorpusRequest, opts: SendOptions): Promise<SendResult> {
  const line = opts.pathPrefix
    ? { ...request, target: withPathPrefix(request.target, opts.pathPrefix) }
    : request;
  try {
    const res = await exchange(port, requestBytes(line, opts.host ?? "corpus.test"), opts.timeoutMs ?? 5000);
    const outcome = classify(res.status, res.fromUpstream);
    return {
      request,
      status: res.status,
      outcome,
      ...(outcome === "error" ? { error: `status ${res.status}` } : {}),
    };
  } catch (e) {
    return { request, status: 0, outcome: "error", error: (e as Error).message };
  }
}

/** Writes the bytes and reads one response; closes as soon as it is complete. */
function exchange(
  port: number,
  bytes: Buffer,
  timeoutMs: number,
): Promise<{ status: number; fromUpstream: boolean }> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    let done = false;
    const socket = connect(port, "127.0.0.1", () => {
      // write, not end: Envoy closes a half-closed downstream connection without answering.
      socket.write(bytes);
    });
    const finish = (final: boolean): void => {
      if (done) return;
      const split = received.indexOf("\r\n\r\n");
      if (split >= 0) {
        const head = received.subarray(0, split).toString("latin1");
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
        const body = received.subarray(split + 4);
        const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
        const chunked = /\r\ntransfer-encoding: *chunked/i.test(head);
        const complete =
          (length !== undefined && body.length >= Number(length)) ||
          (chunked && body.includes("0\r\n\r\n")) ||
          (length === undefined && !chunked && status === 204) ||
          final;
        if (!Number.isNaN(status) && complete) {
          done = true;
          socket.destroy();
          resolve({ status, fromUpstream: new RegExp(`\\r\\n${UPSTREAM_MARKER}: *1`, "i").test(head) });
          return;
        }
      }
      if (final) {
        done = true;
        reject(
          new Error(`incomplete response: ${JSON.stringify(received.subarray(0, 120).toString("latin1"))}`),
        );
      }
    };
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no response within ${timeoutMs} ms`)));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      finish(false);
    });
    socket.on("error", (e) => {
      if (!done) {
        done = true;
        reject(e);
      }
    });
    socket.on("close", () => finish(true));
  });
}
