import { describe, expect, test } from "bun:test";
import { parseWrkOutput } from "./wrk-output.ts";

// Captured from wrk 4.1.0 (Debian) against server-bun-serve.ts with post-review.lua.
const VERIFIED = `Running 1s test @ https://127.0.0.1:44579/mutate-v1-pod
  2 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     8.30ms    7.91ms  60.03ms   87.78%
    Req/Sec   699.14    452.87     2.17k    80.95%
  Latency Distribution
     50%    5.14ms
     75%   10.06ms
     90%   18.54ms
     99%   37.78ms
  1471 requests in 1.10s, 4.34MB read
Requests/sec:   1339.67
Transfer/sec:      3.95MB
verify: checked=1471 bad=0
`;

// The same server, POSTing to /healthz (404), with socket errors added as wrk prints them.
const FAILING = `Running 1s test @ https://127.0.0.1:44579/healthz
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   151.80us  111.86us   2.58ms   97.84%
    Req/Sec     6.89k   773.52     7.90k    63.64%
  Latency Distribution
     50%  129.00us
     75%  159.00us
     90%  187.00us
     99%  545.00us
  7544 requests in 1.10s, 0.95MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 7544
Requests/sec:   6857.40
Transfer/sec:      0.86MB
`;

describe("parseWrkOutput", () => {
  test("reads throughput, latency percentiles in ms and the verifying script's counts", () => {
    expect(parseWrkOutput(VERIFIED)).toEqual({
      requests: 1471,
      durationS: 1.1,
      requestsPerS: 1339.67,
      p50Ms: 5.14,
      p90Ms: 18.54,
      p99Ms: 37.78,
      non2xx: 0,
      socketErrors: 0,
      verify: { checked: 1471, bad: 0 },
    });
  });

  test("microsecond latencies, non-2xx responses and socket errors are not lost", () => {
    const r = parseWrkOutput(FAILING);
    expect(r.p50Ms).toBeCloseTo(0.129, 6);
    expect(r.p99Ms).toBeCloseTo(0.545, 6);
    expect(r.non2xx).toBe(7544);
    expect(r.socketErrors).toBe(6);
    expect(r.verify).toBeUndefined();
  });

  test("output without --latency is refused rather than read as zero latency", () => {
    expect(() => parseWrkOutput(VERIFIED.replace(/ {5}99%.*\n/, ""))).toThrow("99% latency");
  });
});
