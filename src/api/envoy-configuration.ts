/**
 * EnvoyConfiguration (reference §3.11): written by the operator, one per protected pod. The spec is
 * the pod's desired Envoy resources, the status mirrors what the engine acknowledged over xDS, so an
 * operator replica that takes over serving knows the desired state and the engine's view without
 * asking anyone.
 */
import { MAX_NAME_LENGTH, OBJECT_STATUSES, statusConditions } from "./common.ts";
import type { KindDefinition } from "./crd.ts";
import { array, enumOf, integer, map, object, required, string } from "./schema.ts";

/** Where a resource type stands with the engine. */
export const XDS_SYNC_STATUSES = ["NotRequested", "Pending", "Sent", "Accepted", "Rejected"] as const;
/** One of {@link XDS_SYNC_STATUSES}. */
export type XdsSyncStatus = (typeof XDS_SYNC_STATUSES)[number];

/** The xDS resource types an engine can be served, for bounding the maps keyed by type URL. */
const MAX_RESOURCE_TYPES = 16;

/** EnvoyConfiguration `spec`. */
export const envoyConfigurationSpecSchema = object(
  "The pod's desired Envoy resources. May contain secrets: grant read access with care.",
  {
    envoyResourcesRaw: string(
      "All resources as zstd-compressed JSON. Inspect with: kubectl get envoyconfiguration <name> -o jsonpath='{.spec.envoyResourcesRaw}' | base64 -d | zstd -d | jq",
      { format: "byte" },
    ),
    envoyResources: map(
      "Summary of envoyResourcesRaw for kubectl: the resource names per type URL.",
      array("Names of the resources of this type.", string("A resource name.", { maxLength: 1024 }), {
        maxItems: 4096,
      }),
      { maxProperties: MAX_RESOURCE_TYPES },
    ),
    nodeID: string(
      "Deprecated and ignored: the node ID is always <pod>.<namespace>, from the object's name.",
      {
        maxLength: MAX_NAME_LENGTH + 64,
      },
    ),
  },
);

const resourceTypeStatus = object("How the engine stands on one resource type.", {
  status: required(
    enumOf(
      "NotRequested: the engine has not asked. Pending: waiting to be sent. Sent: waiting for the engine. Accepted: the engine applied it. Rejected: the engine refused it (see errorMessage); it keeps the last accepted version.",
      XDS_SYNC_STATUSES,
    ),
  ),
  version: string("The version last sent.", { maxLength: 256 }),
  errorMessage: string("Why the engine rejected the version last sent.", { maxLength: 32768 }),
  resources: map(
    "The resources last sent, by name.",
    object("A resource.", { version: required(string("Its version.", { maxLength: 256 })) }),
  ),
});

/** EnvoyConfiguration `status`, written by the operator. */
export const envoyConfigurationStatusSchema = object(
  "What the engine acknowledged; written by the operator only.",
  {
    status: enumOf(
      "Active: the engine accepted the configuration. Warning: it runs an older one. Error: it has none.",
      OBJECT_STATUSES,
    ),
    conditions: statusConditions("Details of the status."),
    xds: object("The xDS exchange with the engine.", {
      version: integer("Version of the snapshot last sent.", { minimum: 0, format: "int64" }),
      resourceTypes: map(
        "Per resource type URL (e.g. type.googleapis.com/envoy.config.listener.v3.Listener).",
        resourceTypeStatus,
        {
          maxProperties: MAX_RESOURCE_TYPES,
        },
      ),
    }),
  },
);

export const envoyConfigurationKind: KindDefinition = {
  kind: "EnvoyConfiguration",
  plural: "envoyconfigurations",
  description:
    "Written by the operator: the Envoy configuration of one pod and the engine's acknowledgement of it. May contain secrets.",
  spec: required(envoyConfigurationSpecSchema),
  status: envoyConfigurationStatusSchema,
  printerColumns: [
    { name: "Status", type: "string", jsonPath: ".status.status", description: "Active, Warning or Error." },
  ],
};
