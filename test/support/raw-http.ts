import { connect } from "node:net";

/** Status and body of an HTTP/1.1 response. */
export interface RawResponse {
  status: number;
  body: string;
}

/**
 * Sends `GET <target> HTTP/1.1` with the target byte for byte. `fetch` would re-encode it (a
 * WHATWG URL turns `'` in a query into `%27`), and the rules must see both spellings. `extra`
 * replaces the method and adds headers (custom rules match on them).
 */
export function rawGet(
  port: number,
  host: string,
  target: string,
  extra: { readonly method?: string; readonly headers?: Readonly<Record<string, string>> } = {},
): Promise<RawResponse> {
  const method = extra.method ?? "GET";
  const headers = Object.entries(extra.headers ?? {})
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      // write, not end: Envoy closes a half-closed downstream connection without answering.
      socket.write(
        `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${headers}Connection: close\r\n\r\n`,
        "latin1",
      );
    });
    let received = "";
    let done = false;
    // Envoy holds a closing connection open until the client closes it (delayed_close_timeout, 1 s),
    // so the client closes as soon as the response is complete.
    const finish = (final: boolean): void => {
      if (done) return;
      const split = received.indexOf("\r\n\r\n");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1]);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(received.slice(0, split))?.[1] ?? Number.NaN);
      const body = received.slice(split + 4);
      if (split >= 0 && !Number.isNaN(status) && (body.length >= length || final)) {
        done = true;
        socket.destroy();
        resolve({ status, body });
      } else if (final) {
        done = true;
        reject(new Error(`incomplete response to ${method} ${target}: ${received.slice(0, 200)}`));
      }
    };
    socket.setTimeout(5_000, () => socket.destroy(new Error(`timeout: ${method} ${target}`)));
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      finish(false);
    });
    socket.on("error", (e) => {
      if (!done) reject(e);
    });
    socket.on("end", () => finish(true));
  });
}

/** Maps `items` through `fn` with at most `limit` calls in flight, keeping the order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
