/**
 * The JSON-line protocol between the xDS benchmark driver (run.ts) and its two children: the
 * server process (server.ts) and the simulated engines (clients.ts). Times are `wallMs()` values,
 * comparable across the three processes.
 */
import type { ThreatHandlingMode } from "../../src/model/types.ts";
import type { XdsCounters } from "../../src/xds/engine-status.ts";
import type { FailedEvent } from "../support/command-channel.ts";

/** File names in the certificate directory the server reports (`ServerReady.certDir`). */
export const CERT_FILES = { ca: "ca.pem", cert: "engine.pem", key: "engine-key.pem" } as const;

/**
 * Files of an export (bench/peers/export-fleet.ts) besides `CERT_FILES`. Here, not there, so that
 * the benchmark server does not load the certificate tooling (and @peculiar/x509) to learn two
 * file names: its start-up is measured.
 */
export const EXPORT_FILES = {
  manifest: "fleet.json",
  serverCert: "server.pem",
  serverKey: "server-key.pem",
  resourceDir: "resources",
} as const;

// ---------------------------------------------------------------------------------------------
// Server process

/** Commands the server process understands. */
export type ServerCommand =
  /** Rebuild the model with the DenyRules' threatHandlingMode set to `mode` and set every pod. */
  | { readonly cmd: "change"; readonly mode: ThreatHandlingMode }
  /** Report resource usage; `gc` runs a full collection first (for memory, never for CPU samples). */
  | { readonly cmd: "stats"; readonly gc?: boolean }
  /** Give pod number `index` alone the configuration of `mode` (a change that concerns one pod). */
  | { readonly cmd: "change-pod"; readonly index: number; readonly mode: ThreatHandlingMode }
  /**
   * Get ready to give one pod `mode` (a controller has its model; ours builds the model for the
   * mode and translates it once, outside the measured change); answered with `prepared`.
   */
  | { readonly cmd: "prepare-pod"; readonly mode: ThreatHandlingMode }
  /**
   * Answer once the server has processed at least `acks` ACKs and `subscriptions` subscriptions
   * (first requests of a type on a stream) in total.
   */
  | { readonly cmd: "settle"; readonly acks: number; readonly subscriptions?: number }
  | { readonly cmd: "exit" };

/** The server is listening; engines may connect with the certificates in `certDir`. */
export interface ServerReady {
  readonly event: "ready";
  readonly port: number;
  readonly certDir: string;
  readonly pods: number;
  /** Model, translation, encoding and setNode of all pods at startup. */
  readonly setupMs: number;
  /** The version of the RouteConfiguration every pod has (identical pods share it). */
  readonly routeVersion: string;
  /** The RouteConfigurations each pod's listener names: the engines subscribe them (RDS). */
  readonly routeNames: readonly string[];
}

/** Where the time of one configuration change went, summed over all pods. */
export interface ChangeTimings {
  readonly modelMs: number;
  readonly translateEncodeMs: number;
  /** ConfigCache.setNode, which also computes every watching stream's next response synchronously. */
  readonly setNodeMs: number;
  readonly totalMs: number;
}

/** A `change` was applied to every pod. */
export interface ServerChanged extends ChangeTimings {
  readonly event: "changed";
  readonly receivedAt: number;
  /** Pods whose configuration changed (all of them, unless the mode was already set). */
  readonly changedNodes: number;
  /** The version of the RouteConfiguration (where the policy is) every changed pod now has. */
  readonly routeVersion: string;
}

/** Resource usage of the server process. */
export interface ServerStats {
  readonly event: "stats";
  readonly at: number;
  /** process.cpuUsage(), microseconds since the process started. */
  readonly cpu: { readonly user: number; readonly system: number };
  readonly rss: number;
  readonly heapUsed: number;
  readonly counters: XdsCounters & { readonly subscriptions?: number };
  readonly distinctResources: number;
}

/** The server has processed `acks` ACKs (the answer to `settle`). */
export interface ServerSettled {
  readonly event: "settled";
  readonly at: number;
  readonly acks: number;
}

/** The answer to `prepare-pod`. */
export interface ServerPrepared {
  readonly event: "prepared";
}

export type ServerEvent =
  | ServerReady
  | ServerChanged
  | ServerStats
  | ServerSettled
  | ServerPrepared
  | FailedEvent;

// ---------------------------------------------------------------------------------------------
// Clients process

/** Commands the clients process understands. */
export type ClientsCommand =
  /** Connect every engine (in batches) and bring it up: the cold start. */
  | { readonly cmd: "connect" }
  /** Remember every engine's RouteConfiguration response count; answered with `marked`. */
  | { readonly cmd: "mark" }
  /**
   * Answer with `converged` once every engine (or those of `engines`, by global index) has received
   * a RouteConfiguration response since the last `mark`; latencies count from `since`.
   */
  | { readonly cmd: "await"; readonly since: number; readonly engines?: readonly number[] }
  /** Report counters; `engines` (global indices) adds those engines' own byte counts. */
  | { readonly cmd: "stats"; readonly engines?: readonly number[] }
  /** The server is about to go away: a closing connection is expected; `disconnected` once all closed. */
  | { readonly cmd: "expect-disconnect" }
  /** Reconnect every engine to `port` with what it runs (`initial_resource_versions`). */
  | { readonly cmd: "reconnect"; readonly port: number }
  | { readonly cmd: "exit" };

/** Every engine finished its TLS handshake (or failed to). */
export interface ClientsConnected {
  readonly event: "connected";
  /** `wallMs()` when this process started connecting, and when its last handshake ended. */
  readonly startedAt: number;
  readonly at: number;
  readonly connectErrors: number;
  /** The first connect error, to say why. */
  readonly firstError?: string;
}

/** Every engine has ACKed its first Cluster, Listener and RouteConfiguration responses. */
export interface ClientsReady {
  readonly event: "ready";
  /** `wallMs()` of the last engine's first RouteConfiguration ACK. */
  readonly at: number;
}

/** Every engine's RouteConfiguration response count is remembered. */
export interface ClientsMarked {
  readonly event: "marked";
}

/** Every awaited engine received a new RouteConfiguration response. */
export interface ClientsConverged {
  readonly event: "converged";
  /** Per awaited engine, ms from `since` to the arrival of its first RouteConfiguration response since `mark`. */
  readonly latenciesMs: number[];
  /** The distinct route configuration versions the awaited engines run now. */
  readonly versions: string[];
}

/** Every engine's connection closed after `expect-disconnect`. */
export interface ClientsDisconnected {
  readonly event: "disconnected";
  readonly at: number;
}

/** Every engine reconnected and sent its subscriptions (`reconnect`). */
export interface ClientsReconnected {
  readonly event: "reconnected";
  readonly at: number;
  readonly connectErrors: number;
  readonly firstError?: string;
}

/** Counts of what the engines saw, and the clients process's own resource usage. */
export interface ClientsStats {
  readonly event: "stats";
  readonly cpu: { readonly user: number; readonly system: number };
  readonly rss: number;
  readonly engines: number;
  readonly ready: number;
  readonly connectErrors: number;
  /** Streams that ended or failed (RST, GOAWAY, non-OK grpc-status, session error) while in use. */
  readonly streamErrors: number;
  /** Responses the engines rejected (undecodable, duplicate names, unexpected type). */
  readonly nacksSent: number;
  readonly responses: number;
  /** gRPC payload bytes received, framing included. */
  readonly bytesReceived: number;
  readonly firstError?: string;
  /** Bytes received by each engine asked for in `stats.engines`, in that order. */
  readonly engineBytes: number[];
}

/** Some engines failed before all became ready: the run cannot succeed. */
export interface ClientsFailed {
  readonly event: "failed";
  readonly message: string;
}

export type ClientsEvent =
  | ClientsConnected
  | ClientsReady
  | ClientsMarked
  | ClientsConverged
  | ClientsDisconnected
  | ClientsReconnected
  | ClientsStats
  | ClientsFailed;
