/**
 * SidecarGateway status (reference §3.3), computed: what one snapshot, the controller's per-pod
 * state and the engines' reports say about each gateway. Pure; the writer
 * (gateway-status-writer.ts) adds lastTransitionTime and observedGeneration and talks to the API
 * server.
 *
 * Error: the gateway, or an object it references, is invalid (it is not applied; its pods keep
 * their last good configuration). Warning: valid, but some of its pods' engines rejected their
 * configuration or it could not be built for them. Active: neither.
 */
import type { OBJECT_STATUSES } from "../api/common.ts";
import type { MicrogatewayError } from "../errors.ts";
import { gatewaysForPod, type Model, objectKey, validateModel } from "../model/model.ts";
import type { PodInfo, SidecarGateway } from "../model/types.ts";
import type { PodConfigState } from "./engine-controller.ts";
import type { EngineReport } from "./status-writer.ts";

/** `status.status` of our kinds. */
export type ObjectStatus = (typeof OBJECT_STATUSES)[number];

/** `status.pods` holds at most this many pods (the CRD's maxItems). */
export const MAX_LISTED_PODS = 256;

/** Condition types of a SidecarGateway, in the order they are written. */
export const GATEWAY_CONDITIONS = {
  /** True when the status is Active. */
  ready: "Ready",
  /** False when the gateway or an object it references is invalid (status Error). */
  valid: "Valid",
  /** False when some selected pod's engine is not configured (status Warning). */
  enginesConfigured: "EnginesConfigured",
  /** Present (True) only when more pods are selected than `status.pods` can list. */
  podListTruncated: "PodListTruncated",
} as const;

/** A condition before the writer stamps it with lastTransitionTime and observedGeneration. */
export interface GatewayCondition {
  readonly type: string;
  readonly status: "True" | "False";
  /** CamelCase, machine-readable. */
  readonly reason: string;
  /** Names the object and the field. */
  readonly message: string;
}

/** One entry of `status.pods`. */
export interface GatewayPod {
  readonly name: string;
  /** The pod's EnvoyConfiguration, which has the pod's name. */
  readonly envoyConfig: string;
}

/** The status the operator wants a gateway to have. */
export interface DesiredGatewayStatus {
  readonly status: ObjectStatus;
  readonly conditions: readonly GatewayCondition[];
  readonly pods: readonly GatewayPod[];
}

/** A problem that makes a gateway Error. */
export interface GatewayProblem {
  /** CamelCase: InvalidConfiguration, InvalidReference, ConflictingPodSelector. */
  readonly reason: string;
  /** Starts with `SidecarGateway <ns>/<name>: ` and names the field. */
  readonly message: string;
}

/** What one snapshot says about all gateways; computed once per snapshot, read per gateway. */
export interface GatewayFindings {
  readonly model: Model;
  /** Every SidecarGateway that exists, valid or not (`namespace/name`), sorted. */
  readonly gateways: readonly string[];
  /** Problems by gateway; gateways without problems are absent. */
  readonly problems: ReadonlyMap<string, readonly GatewayProblem[]>;
  /** Pods by namespace, in name order. */
  readonly podsByNamespace: ReadonlyMap<string, readonly PodInfo[]>;
}

/** The controller's and the engines' view of each pod (`namespace/name`). */
export interface PodReports {
  readonly state: (podKey: string) => PodConfigState | undefined;
  readonly engine: (podKey: string) => EngineReport | undefined;
}

/** Problems of a condition message beyond this many are counted, not listed. */
const LISTED_PROBLEMS = 8;
/** The CRD's maxLength of a condition message. */
const MAX_MESSAGE = 32_768;

/**
 * Attributes every problem of the snapshot to the gateways it concerns: invalid gateways
 * (`invalid`), `validateModel` errors of the gateway itself, of an object it references or of a
 * pod it selects, and references to objects in `invalid`.
 */
export function gatewayFindings(
  model: Model,
  invalid: ReadonlyMap<string, MicrogatewayError>,
): GatewayFindings {
  const problems = new Map<string, GatewayProblem[]>();
  const add = (gateway: string, problem: GatewayProblem) => {
    const list = problems.get(gateway);
    if (list) list.push(problem);
    else problems.set(gateway, [problem]);
  };
  const gateways = new Set(model.gateways.keys());

  for (const [id, error] of invalid) {
    const subject = parseSubject(id);
    if (subject?.kind !== "SidecarGateway") continue;
    gateways.add(subject.key);
    add(subject.key, { reason: "InvalidConfiguration", message: error.message });
  }

  // `Kind ns/name` of every referenced object -> the gateways and fields referencing it.
  const referrers = new Map<string, { gateway: string; field: string }[]>();
  for (const [key, gw] of model.gateways) {
    for (const ref of referencesOf(model, gw)) {
      const id = `${ref.kind} ${ref.key}`;
      const list = referrers.get(id);
      if (list) list.push({ gateway: key, field: ref.field });
      else referrers.set(id, [{ gateway: key, field: ref.field }]);
      const error = invalid.get(id);
      if (error) {
        add(key, {
          reason: "InvalidReference",
          message: `SidecarGateway ${key}: ${ref.field} names ${id}, which is invalid: ${error.message}`,
        });
      }
    }
  }

  for (const error of validateModel(model)) {
    // "... DenyRules shop/x does not exist" about an object that exists but is invalid is reported
    // above, with the reason it is invalid.
    const missing = / (\w+ \S+) does not exist$/.exec(error.message)?.[1];
    if (missing !== undefined && invalid.has(missing)) continue;
    const reason = error.code === "InvalidReference" ? "InvalidReference" : "InvalidConfiguration";
    const subject = parseSubject(error.message);
    if (subject === undefined) continue;
    if (subject.kind === "SidecarGateway") {
      add(subject.key, { reason, message: error.message });
    } else if (subject.kind === "Pod") {
      const pod = model.pods.get(subject.key);
      const selecting = pod ? gatewaysForPod(model, pod).map((gw) => objectKey(gw.metadata)) : [];
      for (const gw of selecting) {
        const others = selecting.filter((g) => g !== gw).map((g) => `SidecarGateway ${g}`);
        add(gw, {
          reason: "ConflictingPodSelector",
          message: `SidecarGateway ${gw}: spec.podSelector selects Pod ${subject.key}, which ${others.join(" and ")} also select${others.length === 1 ? "s" : ""}; a pod can have one gateway, so it keeps its last good configuration`,
        });
      }
    } else {
      for (const { gateway, field } of referrers.get(`${subject.kind} ${subject.key}`) ?? []) {
        add(gateway, { reason, message: `SidecarGateway ${gateway}: ${field}: ${error.message}` });
      }
    }
  }

  const podsByNamespace = new Map<string, PodInfo[]>();
  for (const pod of model.pods.values()) {
    const list = podsByNamespace.get(pod.metadata.namespace);
    if (list) list.push(pod);
    else podsByNamespace.set(pod.metadata.namespace, [pod]);
  }
  return { model, gateways: [...gateways].sort(), problems, podsByNamespace };
}

/** The status gateway `key` should have, or undefined if no such gateway exists. */
export function desiredGatewayStatus(
  findings: GatewayFindings,
  key: string,
  reports: PodReports,
): DesiredGatewayStatus | undefined {
  const gw = findings.model.gateways.get(key);
  const problems = findings.problems.get(key) ?? [];
  if (!gw && problems.length === 0) return undefined;

  // An invalid gateway's selector is unknown: it lists no pods.
  const selected = gw ? selectedPods(findings, gw) : [];
  const engineProblems: { reason: string; message: string }[] = [];
  for (const pod of selected) {
    const podKey = objectKey(pod.metadata);
    const error = reports.state(podKey)?.error;
    const report = reports.engine(podKey);
    if (error !== undefined) {
      engineProblems.push({
        reason: "ConfigurationFailed",
        message: `Pod ${podKey} keeps its last good configuration: ${error}`,
      });
    } else if (report?.condition.reason === "Rejected") {
      engineProblems.push({
        reason: "EngineConfigRejected",
        message: `Pod ${podKey}: ${report.condition.message}`,
      });
    }
  }

  const status: ObjectStatus =
    problems.length > 0 ? "Error" : engineProblems.length > 0 ? "Warning" : "Active";
  const { ready, valid, enginesConfigured, podListTruncated } = GATEWAY_CONDITIONS;
  const conditions: GatewayCondition[] = [];
  if (status === "Active") {
    conditions.push({
      type: ready,
      status: "True",
      reason: "Active",
      message:
        selected.length === 0
          ? "the configuration is valid; spec.podSelector selects no pod yet"
          : `the configuration is valid and no engine of its ${selected.length} selected pod(s) reported a problem`,
    });
  } else if (status === "Error") {
    conditions.push({
      type: ready,
      status: "False",
      reason: problems[0]!.reason,
      message: `not applied (selected pods keep their last good configuration): ${problems[0]!.message}${more(problems.length, valid)}`,
    });
  } else {
    conditions.push({
      type: ready,
      status: "False",
      reason: engineProblems[0]!.reason,
      message: `${engineProblems.length} of ${selected.length} selected pod(s) are not configured: ${engineProblems[0]!.message}${more(engineProblems.length, enginesConfigured)}`,
    });
  }
  conditions.push(
    problems.length > 0
      ? { type: valid, status: "False", reason: problems[0]!.reason, message: joined(problems) }
      : {
          type: valid,
          status: "True",
          reason: "Valid",
          message: "the gateway and the objects it references are valid",
        },
    engineProblems.length > 0
      ? {
          type: enginesConfigured,
          status: "False",
          reason: engineProblems[0]!.reason,
          message: joined(engineProblems),
        }
      : {
          type: enginesConfigured,
          status: "True",
          reason: "NoProblems",
          message: "no engine of a selected pod rejected its configuration",
        },
  );
  if (selected.length > MAX_LISTED_PODS) {
    conditions.push({
      type: podListTruncated,
      status: "True",
      reason: "TooManyPods",
      message: `spec.podSelector selects ${selected.length} pods; status.pods lists the first ${MAX_LISTED_PODS} by name`,
    });
  }
  const pods = selected
    .slice(0, MAX_LISTED_PODS)
    .map((pod) => ({ name: pod.metadata.name, envoyConfig: pod.metadata.name }));
  return { status, conditions: conditions.map(capped), pods };
}

/** A reference a gateway's configuration depends on, with the field (path) that makes it. */
interface Reference {
  readonly kind: "ContentSecurity" | "DenyRules" | "HeaderRewrites" | "Telemetry" | "Limits" | "Parser";
  readonly key: string;
  readonly field: string;
}

/**
 * The objects a gateway's translation reads: its applications' Telemetry, its routes'
 * ContentSecurity, and their DenyRules, HeaderRewrites, Limits and Parser.
 */
function referencesOf(model: Model, gw: SidecarGateway): Reference[] {
  const ns = gw.metadata.namespace;
  const refs: Reference[] = [];
  gw.spec.applications.forEach((app, a) => {
    const telemetry = app.telemetryRef?.name;
    if (telemetry !== undefined) {
      refs.push({
        kind: "Telemetry",
        key: `${ns}/${telemetry}`,
        field: `spec.applications[${a}].telemetryRef`,
      });
    }
    app.routes.forEach((route, r) => {
      const cs = route.secured?.contentSecurityRef?.name;
      if (cs === undefined) return;
      const field = `spec.applications[${a}].routes[${r}].secured.contentSecurityRef`;
      refs.push({ kind: "ContentSecurity", key: `${ns}/${cs}`, field });
      const spec = model.contentSecurities.get(`${ns}/${cs}`)?.spec;
      const dr = spec?.filter?.denyRulesRef?.name;
      if (dr !== undefined) {
        refs.push({
          kind: "DenyRules",
          key: `${ns}/${dr}`,
          field: `${field}: ContentSecurity ${ns}/${cs}: spec.filter.denyRulesRef`,
        });
      }
      const hr = spec?.headerRewritesRef?.name;
      if (hr !== undefined) {
        refs.push({
          kind: "HeaderRewrites",
          key: `${ns}/${hr}`,
          field: `${field}: ContentSecurity ${ns}/${cs}: spec.headerRewritesRef`,
        });
      }
      const limits = spec?.limitsRef?.name;
      if (limits !== undefined) {
        refs.push({
          kind: "Limits",
          key: `${ns}/${limits}`,
          field: `${field}: ContentSecurity ${ns}/${cs}: spec.limitsRef`,
        });
      }
      const parser = spec?.parserRef?.name;
      if (parser !== undefined) {
        refs.push({
          kind: "Parser",
          key: `${ns}/${parser}`,
          field: `${field}: ContentSecurity ${ns}/${cs}: spec.parserRef`,
        });
      }
    });
  });
  return refs;
}

function selectedPods(findings: GatewayFindings, gw: SidecarGateway): PodInfo[] {
  const wanted = Object.entries(gw.spec.podSelector.matchLabels);
  return (findings.podsByNamespace.get(gw.metadata.namespace) ?? []).filter((pod) =>
    wanted.every(([k, v]) => pod.metadata.labels?.[k] === v),
  );
}

/** `Kind namespace/name` at the start of an id or an error message (messages name their object first). */
function parseSubject(text: string): { kind: string; key: string } | undefined {
  const m = /^(\w+) ([^\s/:]+\/[^\s:]+)/.exec(text);
  return m ? { kind: m[1]!, key: m[2]! } : undefined;
}

function joined(problems: readonly { message: string }[]): string {
  const listed = problems.slice(0, LISTED_PROBLEMS).map((p) => p.message);
  if (problems.length > LISTED_PROBLEMS) listed.push(`and ${problems.length - LISTED_PROBLEMS} more`);
  return listed.join("; ");
}

function capped(condition: GatewayCondition): GatewayCondition {
  const { message } = condition;
  return message.length > MAX_MESSAGE
    ? { ...condition, message: `${message.slice(0, MAX_MESSAGE - 3)}...` }
    : condition;
}

function more(count: number, conditionType: string): string {
  return count > 1 ? ` (and ${count - 1} more: see condition ${conditionType})` : "";
}
