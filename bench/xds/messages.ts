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

// ---------------------------------------------------------------------------------------------
// Server process

/** Commands the server process understands. */
export type ServerCommand =
  /** Rebuild the model with the DenyRules' threatHandlingMode set to `mode` and set every pod. */
  | { readonly cmd: "change"; readonly mode: ThreatHandlingMode }
  /** Report resource usage; `gc` runs a full collection first (for memory, never for CPU samples). */
  | { readonly cmd: "stats"; readonly gc?: boolean }
  /** Answer once the server has processed at least `acks` ACKs in total. */
  | { readonly cmd: "settle"; readonly acks: number }
  | { readonly cmd: "exit" };

/** The server is listening; engines may connect with the certificates in `certDir`. */
export interface ServerReady {
  readonly event: "ready";
  readonly port: number;
  readonly certDir: string;
  readonly pods: number;
  /** Model, translation, encoding and setNode of all pods at startup. */
  readonly setupMs: number;
  readonly listenerVersion: string;
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
  /** The version of the `ingress` listener every pod now has (identical pods share it). */
  readonly listenerVersion: string;
}

/** Resource usage of the server process. */
export interface ServerStats {
  readonly event: "stats";
  readonly at: number;
  /** process.cpuUsage(), microseconds since the process started. */
  readonly cpu: { readonly user: number; readonly system: number };
  readonly rss: number;
  readonly heapUsed: number;
  readonly counters: XdsCounters;
  readonly distinctResources: number;
}

/** The server has processed `acks` ACKs (the answer to `settle`). */
export interface ServerSettled {
  readonly event: "settled";
  readonly at: number;
  readonly acks: number;
}

export type ServerEvent = ServerReady | ServerChanged | ServerStats | ServerSettled | FailedEvent;

// ---------------------------------------------------------------------------------------------
// Clients process

/** Commands the clients process understands. */
export type ClientsCommand =
  /** Answer with `converged` once every engine runs listener `version`; latencies count from `since`. */
  | { readonly cmd: "await"; readonly version: string; readonly since: number }
  | { readonly cmd: "stats" }
  | { readonly cmd: "exit" };

/** Every engine finished its TLS handshake (or failed to). */
export interface ClientsConnected {
  readonly event: "connected";
  readonly connectMs: number;
  readonly connectErrors: number;
  /** The first connect error, to say why. */
  readonly firstError?: string;
}

/** Every engine has ACKed its first Cluster and Listener responses. */
export interface ClientsReady {
  readonly event: "ready";
  /** From the first connect to the last engine's Listener ACK. */
  readonly coldStartMs: number;
}

/** Every engine runs the awaited listener version. */
export interface ClientsConverged {
  readonly event: "converged";
  /** Per engine, ms from `since` to the arrival of the response carrying the version. */
  readonly latenciesMs: number[];
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
}

/** Some engines failed before all became ready: the run cannot succeed. */
export interface ClientsFailed {
  readonly event: "failed";
  readonly message: string;
}

export type ClientsEvent = ClientsConnected | ClientsReady | ClientsConverged | ClientsStats | ClientsFailed;
