/**
 * A kind of our API (`microgateway.airlock.com/v1alpha1`) and the CustomResourceDefinition that
 * installs it. Each kind's file (sidecar-gateway.ts, deny-rules.ts, ...) defines one
 * {@link KindDefinition}; scripts/gen-crds.ts writes {@link customResourceDefinition} of each.
 */
import type { Field, JSONSchemaProps, Schema } from "./schema.ts";

export const API_GROUP = "microgateway.airlock.com";
export const API_VERSION_NAME = "v1alpha1";
/** `apiVersion` of every kind of ours. */
export const API_VERSION = `${API_GROUP}/${API_VERSION_NAME}`;
/** `kubectl get airlock-microgateway` lists every object of every kind (the name Airlock's CRDs use). */
export const CATEGORY = "airlock-microgateway";

/** A column of `kubectl get <plural>`. */
export interface PrinterColumn {
  readonly name: string;
  readonly type: "string" | "integer" | "date" | "boolean";
  readonly jsonPath: string;
  readonly description: string;
}

// biome-ignore lint/suspicious/noExplicitAny: any spec schema
type AnySchema = Schema<any, any>;

/** One kind: names, the spec and status schemas, and what `kubectl get` shows. */
export interface KindDefinition {
  readonly kind: string;
  /** Lowercase plural, the resource name (`sidecargateways`). */
  readonly plural: string;
  /** What the kind is for; `kubectl explain <kind>` shows it. */
  readonly description: string;
  /** The spec: required when it has required fields, defaulted to `{}` when all its fields are optional. */
  readonly spec: Field<AnySchema, "required" | "defaulted">;
  /** Written only by the operator, through the status subresource. */
  readonly status?: AnySchema;
  /** Columns besides Name; Age is always appended. */
  readonly printerColumns?: readonly PrinterColumn[];
}

/** The CustomResourceDefinition object (apiextensions.k8s.io/v1), ready to be serialized. */
export interface CustomResourceDefinition {
  readonly apiVersion: "apiextensions.k8s.io/v1";
  readonly kind: "CustomResourceDefinition";
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: {
    readonly group: string;
    readonly names: {
      readonly kind: string;
      readonly listKind: string;
      readonly plural: string;
      readonly singular: string;
      readonly shortNames?: readonly string[];
      readonly categories: readonly string[];
    };
    readonly scope: "Namespaced";
    readonly versions: readonly CrdVersion[];
  };
}

/** One served version of a CRD. */
export interface CrdVersion {
  readonly name: string;
  readonly served: boolean;
  readonly storage: boolean;
  readonly schema: { readonly openAPIV3Schema: JSONSchemaProps };
  readonly subresources?: { readonly status: Record<string, never> };
  readonly additionalPrinterColumns: readonly PrinterColumn[];
}

const AGE: PrinterColumn = {
  name: "Age",
  type: "date",
  jsonPath: ".metadata.creationTimestamp",
  description: "Time since the object was created.",
};

/** The openAPIV3Schema of a kind: apiVersion, kind, metadata, spec and status. */
export function kindSchema(def: KindDefinition): JSONSchemaProps {
  return {
    description: def.description,
    type: "object",
    properties: {
      apiVersion: {
        description: `API version of the object: ${API_VERSION}.`,
        type: "string",
      },
      kind: { description: `Kind of the object: ${def.kind}.`, type: "string" },
      // The API server allows nothing else here: metadata's schema is its own.
      metadata: { type: "object" },
      spec: def.spec.schema.json,
      ...(def.status ? { status: def.status.json } : {}),
    },
    ...(def.spec.presence === "required" ? { required: ["spec"] } : {}),
  };
}

/** The CRD of a kind: Namespaced, one version served and stored, status subresource when it has a status. */
export function customResourceDefinition(def: KindDefinition): CustomResourceDefinition {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${def.plural}.${API_GROUP}`,
      labels: { "app.kubernetes.io/name": "microgateway", "app.kubernetes.io/component": "crds" },
    },
    spec: {
      group: API_GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.kind.toLowerCase(),
        categories: [CATEGORY],
      },
      scope: "Namespaced",
      versions: [
        {
          name: API_VERSION_NAME,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: kindSchema(def) },
          ...(def.status ? { subresources: { status: {} } } : {}),
          additionalPrinterColumns: [...(def.printerColumns ?? []), AGE],
        },
      ],
    },
  };
}
