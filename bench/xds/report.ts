/** The xDS benchmark's results: their machine-readable shape and the human tables printed from them. */
import type { MachineInfo } from "../support/machine.ts";
import type { Distribution } from "../support/percentiles.ts";
import type { ChangeTimings } from "./messages.ts";

/** One DenyRules change reaching every engine. */
export interface ChangeResult {
  readonly round: number;
  readonly mode: string;
  readonly changedNodes: number;
  /** Server-side: model + translate + encode + setNode for all pods. */
  readonly timings: ChangeTimings;
  /** Per engine: from the driver sending `change` to the new listener arriving at the engine. */
  readonly latencyMs: Distribution;
  /** From the driver sending `change` to the server having processed every engine's ACK. */
  readonly serverAckedMs: number;
  /** Server CPU (user + system) from just before `change` until every ACK was processed. */
  readonly serverCpuS: number;
  readonly clientsCpuS: number;
  /** Server counters during the change: responses, resources and resource bytes sent. */
  readonly responses: number;
  readonly resourcesSent: number;
  readonly bytesSent: number;
  /** gRPC bytes the engines received (framing and envelopes included). */
  readonly bytesReceived: number;
}

/** A change that concerns one pod: its latency, and what every other engine received (must be 0). */
export interface SinglePodResult {
  readonly round: number;
  readonly mode: string;
  readonly index: number;
  readonly changedNodes: number;
  /** From the driver sending `change-pod` to the pod's engine receiving its new routes. */
  readonly latencyMs: number;
  /** From the driver sending `change-pod` to the server having processed the engine's ACK. */
  readonly serverAckedMs: number;
  /** Server CPU from just before `change-pod` until it processed the pod's ACK. */
  readonly serverCpuS: number;
  /**
   * Server CPU in the quiet 250 ms after that, while bytes to other engines are counted: nothing of
   * the change should run then, but a collector or timer may (kept apart so it is not charged to it).
   */
  readonly serverCpuQuietS?: number;
  /** gRPC bytes the changed pod's engine received. */
  readonly bytesToPod: number;
  /** gRPC bytes all other engines received together, until 250 ms after the ACK. */
  readonly bytesToOthers: number;
  readonly responses: number;
}

/** The server restarts; every engine reconnects with `initial_resource_versions`. */
export interface ReconnectResult {
  /** From spawning the new server process to it listening (translation of all pods included). */
  readonly restartMs: number;
  /** Server CPU from spawn to listening. */
  readonly restartCpuS: number;
  /** From the driver sending `reconnect` to every engine reconnected and the server holding 3N subscriptions. */
  readonly steadyMs: number;
  /** Server CPU over `steadyMs` (handshakes, stream setup, subscriptions, anything re-sent). */
  readonly serverCpuS: number;
  readonly clientsCpuS: number;
  /** gRPC bytes the engines received from `reconnect` until 250 ms after steady state. */
  readonly bytesResent: number;
  /** Resource bytes and responses the server counted over the same window. */
  readonly serverBytesSent: number;
  readonly responses: number;
  readonly peakRssMiB?: number;
  readonly rssConnectedMiB: number;
  readonly rssPerEngineKiB: number;
}

/** The same fan-out with the engines speaking state of the world (StreamAggregatedResources). */
export interface SotwResult {
  readonly coldStartMs?: number;
  readonly cpuColdStartS?: number;
  readonly rssPerEngineKiB?: number;
  readonly peakRssMiB?: number;
  readonly changes: ChangeResult[];
  readonly errors?: ErrorCounts;
  /** ACKs the server could not match to the response in flight (a change then waits for fewer ACKs). */
  readonly staleNonces?: number;
  readonly ok: boolean;
  readonly error?: string;
}

/** Protocol health of a run; every field must be 0. */
export interface ErrorCounts {
  readonly connect: number;
  /** Client side: streams or connections that broke while in use. */
  readonly stream: number;
  /** Client side: responses the engines rejected. */
  readonly nacksSent: number;
  /** Server side: NACKs recorded by the EngineStatusStore. */
  readonly nacksReceived: number;
  /** Server side: malformed requests that closed a stream. */
  readonly protocolErrors: number;
}

/** One run with N engines. */
export interface XdsRunResult {
  readonly engines: number;
  readonly ok: boolean;
  readonly error?: string;
  /**
   * Cores that processes other than the benchmark's kept busy, on average over the run (machine busy
   * time from /proc/stat minus the driver's, server's and engines' own CPU). Client and server share
   * the machine; anything above ~0.1 means the run's numbers are worse than the code's.
   */
  readonly otherCores?: number;
  /** Server startup: model, translation, encoding and setNode of all pods. */
  readonly setupMs?: number;
  /** From the first connect to the last TLS handshake (engines connect in batches). */
  readonly connectMs?: number;
  /** From the first connect to the last engine ACKing its first Listener. */
  readonly coldStartMs?: number;
  readonly server?: {
    readonly rssBeforeClientsMiB: number;
    readonly rssConnectedMiB: number;
    readonly rssPerEngineKiB: number;
    readonly heapUsedBeforeClientsMiB: number;
    readonly heapUsedConnectedMiB: number;
    /** JS heap growth per engine after a full GC: steadier than RSS, which the allocator returns lazily. */
    readonly heapPerEngineKiB: number;
    readonly cpuColdStartS: number;
    readonly distinctResources: number;
    readonly staleNonces: number;
  };
  readonly clients?: { readonly rssMiB: number; readonly cpuColdStartS: number; readonly procs: number };
  /** Server peak RSS (VmHWM) during the cold start, and during the fan-out changes, MiB. */
  readonly peakRssColdStartMiB?: number;
  readonly peakRssChangesMiB?: number;
  /** Fan-out: one change to the policy every pod shares. */
  readonly changes: ChangeResult[];
  readonly singlePod?: SinglePodResult[];
  readonly reconnect?: ReconnectResult;
  readonly sotw?: SotwResult;
  readonly errors?: ErrorCounts;
}

/** Everything one invocation of run.ts measured. */
export interface XdsBenchReport {
  readonly benchmark: "xds";
  readonly date: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly options: {
    readonly batch: number;
    readonly rounds: number;
    readonly timeoutS: number;
    readonly clientProcs?: number;
    readonly scenarios?: readonly string[];
  };
  readonly runs: XdsRunResult[];
}

/** The human-readable tables of a report. */
export function formatReport(report: XdsBenchReport): string {
  const m = report.machine;
  const lines = [
    `xDS fan-out benchmark, ${report.date}`,
    `machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Linux ${m.kernel}, Bun ${m.bun}`,
    `command: ${report.command}`,
    "",
    `Cold start (engines connect in batches of ${report.options.batch}, ${report.options.clientProcs ?? 1} clients process(es); RSS after a full GC; peak RSS = VmHWM during the cold start):`,
    table(
      [
        "engines",
        "other cores",
        "connect s",
        "cold start s",
        "srv CPU s",
        "RSS before MiB",
        "RSS conn. MiB",
        "RSS KiB/eng",
        "heap KiB/eng",
        "peak RSS MiB",
        "clients CPU s",
        "errors",
      ],
      report.runs.map((r) =>
        r.server
          ? [
              r.engines,
              load(r),
              s(r.connectMs),
              s(r.coldStartMs),
              r.server.cpuColdStartS.toFixed(2),
              r.server.rssBeforeClientsMiB.toFixed(0),
              r.server.rssConnectedMiB.toFixed(0),
              r.server.rssPerEngineKiB.toFixed(1),
              r.server.heapPerEngineKiB.toFixed(1),
              mib(r.peakRssColdStartMiB),
              r.clients ? r.clients.cpuColdStartS.toFixed(2) : "-",
              errorSummary(r),
            ]
          : [r.engines, load(r), "-", "-", "-", "-", "-", "-", "-", "-", "-", r.error ?? "failed"],
      ),
    ),
    "",
    "Fan-out: one DenyRules change reaching every engine (latency: driver sends `change` -> new listener at the engine):",
    table(
      [
        "engines",
        "#",
        "mode",
        "translate ms",
        "setNode ms",
        "p50 ms",
        "p99 ms",
        "max ms",
        "all ACKed ms",
        "srv CPU s",
        "clients CPU s",
        "MiB sent",
      ],
      report.runs.flatMap((r) =>
        r.changes.map((c) => [
          r.engines,
          c.round,
          c.mode,
          (c.timings.modelMs + c.timings.translateEncodeMs).toFixed(0),
          c.timings.setNodeMs.toFixed(0),
          c.latencyMs.p50.toFixed(0),
          c.latencyMs.p99.toFixed(0),
          c.latencyMs.max.toFixed(0),
          c.serverAckedMs.toFixed(0),
          c.serverCpuS.toFixed(2),
          c.clientsCpuS.toFixed(2),
          (c.bytesSent / 2 ** 20).toFixed(1),
        ]),
      ),
    ),
  ];
  const singles = report.runs.flatMap((r) => (r.singlePod ?? []).map((c) => ({ r, c })));
  if (singles.length > 0) {
    lines.push(
      "",
      "Single-pod change (pod N/2 moves to the other mode and back; bytes to others counted until 250 ms after its ACK):",
      table(
        [
          "engines",
          "#",
          "mode",
          "latency ms",
          "all ACKed ms",
          "srv CPU ms",
          "bytes to pod",
          "bytes to others",
        ],
        singles.map(({ r, c }) => [
          r.engines,
          c.round,
          c.mode,
          c.latencyMs.toFixed(1),
          c.serverAckedMs.toFixed(1),
          (c.serverCpuS * 1000).toFixed(1),
          c.bytesToPod,
          c.bytesToOthers,
        ]),
      ),
    );
  }
  const storms = report.runs.filter((r) => r.reconnect);
  if (storms.length > 0) {
    lines.push(
      "",
      "Reconnect storm (server process restarts; every engine reconnects with initial_resource_versions):",
      table(
        [
          "engines",
          "restart s",
          "restart CPU s",
          "steady s",
          "srv CPU s",
          "clients CPU s",
          "bytes re-sent",
          "resource B sent",
          "responses",
          "peak RSS MiB",
          "RSS KiB/eng",
        ],
        storms.map((r) => {
          const x = r.reconnect!;
          return [
            r.engines,
            s(x.restartMs),
            x.restartCpuS.toFixed(2),
            s(x.steadyMs),
            x.serverCpuS.toFixed(2),
            x.clientsCpuS.toFixed(2),
            x.bytesResent,
            x.serverBytesSent,
            x.responses,
            mib(x.peakRssMiB),
            x.rssPerEngineKiB.toFixed(1),
          ];
        }),
      ),
    );
  }
  const sotw = report.runs.filter((r) => r.sotw);
  if (sotw.length > 0) {
    lines.push(
      "",
      "Delta vs state of the world (the same changes; SotW engines on StreamAggregatedResources):",
      table(
        [
          "engines",
          "#",
          "mode",
          "delta p99 ms",
          "SotW p99 ms",
          "delta srv CPU s",
          "SotW srv CPU s",
          "delta MiB rcvd",
          "SotW MiB rcvd",
          "delta resp.",
          "SotW resp.",
        ],
        sotw.flatMap((r) =>
          r.sotw!.changes.map((c) => {
            const d = r.changes.find((x) => x.round === c.round);
            return [
              r.engines,
              c.round,
              c.mode,
              d ? d.latencyMs.p99.toFixed(0) : "-",
              c.latencyMs.p99.toFixed(0),
              d ? d.serverCpuS.toFixed(2) : "-",
              c.serverCpuS.toFixed(2),
              d ? (d.bytesReceived / 2 ** 20).toFixed(2) : "-",
              (c.bytesReceived / 2 ** 20).toFixed(2),
              d ? d.responses : "-",
              c.responses,
            ];
          }),
        ),
      ),
      table(
        ["engines", "SotW cold start s", "SotW cold start srv CPU s", "SotW RSS KiB/eng", "SotW errors"],
        sotw.map((r) => {
          const x = r.sotw!;
          return [
            r.engines,
            s(x.coldStartMs),
            x.cpuColdStartS?.toFixed(2) ?? "-",
            x.rssPerEngineKiB?.toFixed(1) ?? "-",
            x.ok ? errorTotal(x.errors) : (x.error ?? "failed"),
          ];
        }),
      ),
    );
  }
  const failed = report.runs.filter((r) => !r.ok);
  for (const r of failed) lines.push("", `FAILED with ${r.engines} engines: ${r.error}`);
  for (const r of sotw)
    if (!r.sotw!.ok) lines.push("", `SotW FAILED with ${r.engines} engines: ${r.sotw!.error}`);
  return lines.join("\n");
}

function mib(v: number | undefined): string {
  return v === undefined ? "-" : v.toFixed(0);
}

function errorTotal(e: ErrorCounts | undefined): string {
  if (!e) return "?";
  return String(e.connect + e.stream + e.nacksSent + e.nacksReceived + e.protocolErrors);
}

function errorSummary(r: XdsRunResult): string {
  const e = r.errors;
  if (!e) return "?";
  const total = e.connect + e.stream + e.nacksSent + e.nacksReceived + e.protocolErrors;
  return total === 0
    ? "0"
    : `connect ${e.connect}, stream ${e.stream}, NACK ${e.nacksSent}/${e.nacksReceived}, protocol ${e.protocolErrors}`;
}

function load(r: XdsRunResult): string {
  return r.otherCores === undefined ? "?" : r.otherCores.toFixed(2);
}

function s(ms: number | undefined): string {
  return ms === undefined ? "-" : (ms / 1000).toFixed(2);
}

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i]!)).join("  ");
  return [
    line(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map((r) => line(r.map(String))),
  ].join("\n");
}
