import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { API_GROUP, API_VERSION, type CustomResourceDefinition, customResourceDefinition } from "./crd.ts";
import { API_KINDS } from "./kinds.ts";
import type { JSONSchemaProps, JsonValue } from "./schema.ts";
import { preservedPaths, structuralProblems, valueProblems, walk } from "./structural.ts";
import { REFERENCE_EXAMPLES } from "./testing/reference-examples.ts";

const crds = API_KINDS.map(customResourceDefinition);

function schemaOf(crd: CustomResourceDefinition): JSONSchemaProps {
  const schema = crd.spec.versions[0]?.schema.openAPIV3Schema;
  if (!schema) throw new Error(`${crd.metadata.name} has no schema`);
  return schema;
}

function crdOf(kind: string): CustomResourceDefinition {
  const crd = crds.find((c) => c.spec.names.kind === kind);
  if (!crd) throw new Error(`no CRD for ${kind}`);
  return crd;
}

/** The node at a dotted path; `[]` steps into list items. */
function nodeAt(kind: string, path: string): JSONSchemaProps {
  let found: JSONSchemaProps | undefined;
  walk(schemaOf(crdOf(kind)), "", (node, p) => {
    if (p === path) found = node;
  });
  if (!found) throw new Error(`${kind} has no ${path}`);
  return found;
}

describe("every CRD", () => {
  test.each(crds.map((c) => [c.spec.names.kind, c] as const))("%s is structural", (_kind, crd) => {
    expect(structuralProblems(schemaOf(crd))).toEqual([]);
  });

  test("names are consistent and unique", () => {
    const seen = new Set<string>();
    for (const crd of crds) {
      const { kind, plural, singular, listKind, shortNames = [] } = crd.spec.names;
      expect(crd.metadata.name).toBe(`${plural}.${API_GROUP}`);
      expect(plural).toMatch(/^[a-z]+$/);
      expect(singular).toBe(kind.toLowerCase());
      expect(listKind).toBe(`${kind}List`);
      expect(kind).toMatch(/^[A-Z][A-Za-z]+$/);
      // A name may serve a kind twice (DenyRules: plural and singular are both denyrules), never two kinds.
      for (const name of new Set([plural, singular, ...shortNames])) {
        expect(seen.has(name)).toBe(false);
        seen.add(name);
      }
      expect(crd.spec.scope).toBe("Namespaced");
      expect(crd.spec.versions).toHaveLength(1);
      expect(crd.spec.versions[0]).toMatchObject({ name: "v1alpha1", served: true, storage: true });
    }
    expect(crds.map((c) => c.spec.names.kind)).toEqual([
      "SidecarGateway",
      "ContentSecurity",
      "DenyRules",
      "HeaderRewrites",
      "Limits",
      "Parser",
      "Telemetry",
      "EnvoyCluster",
      "EnvoyHTTPFilter",
      "EnvoyConfiguration",
    ]);
  });

  test("only the API's free-form values keep unknown fields", () => {
    const preserved = crds.flatMap((crd) =>
      preservedPaths(schemaOf(crd)).map((p) => `${crd.spec.names.kind} ${p}`),
    );
    expect(preserved.sort()).toEqual([
      "EnvoyCluster spec.value",
      "EnvoyHTTPFilter spec.value",
      "Telemetry spec.logging.accessLog.format.json",
    ]);
  });

  test("kinds with a status have the status subresource and a Status column", () => {
    for (const crd of crds) {
      const version = crd.spec.versions[0];
      const hasStatus = schemaOf(crd).properties?.status !== undefined;
      expect(version?.subresources !== undefined).toBe(hasStatus);
      if (hasStatus) expect(version?.additionalPrinterColumns.map((c) => c.name)).toContain("Status");
    }
    expect(crds.filter((c) => c.spec.versions[0]?.subresources).map((c) => c.spec.names.kind)).toEqual([
      "SidecarGateway",
      "EnvoyConfiguration",
    ]);
  });

  test("printer columns point at fields of the schema", () => {
    for (const crd of crds) {
      for (const column of crd.spec.versions[0]?.additionalPrinterColumns ?? []) {
        if (column.jsonPath === ".metadata.creationTimestamp") continue;
        expect(() => nodeAt(crd.spec.names.kind, column.jsonPath.slice(1))).not.toThrow();
      }
    }
    expect(crdOf("DenyRules").spec.versions[0]?.additionalPrinterColumns.map((c) => c.name)).toEqual([
      "Level",
      "Mode",
      "Age",
    ]);
  });
});

describe("constraints stated by reference §3", () => {
  test("SidecarGateway: 1 to 16 applications, one per port; at most 128 routes; port 1..65535 default 8080", () => {
    expect(nodeAt("SidecarGateway", "spec.applications")).toMatchObject({
      minItems: 1,
      maxItems: 16,
      "x-kubernetes-list-map-keys": ["containerPort"],
    });
    expect(nodeAt("SidecarGateway", "spec.applications[].routes")).toMatchObject({ maxItems: 128 });
    expect(nodeAt("SidecarGateway", "spec.applications[].containerPort")).toMatchObject({
      minimum: 1,
      maximum: 65535,
      default: 8080,
    });
    expect(nodeAt("SidecarGateway", "spec.applications[].routes[]")["x-kubernetes-validations"]).toEqual([
      {
        rule: "[has(self.secured), has(self.unsecured)].filter(x, x).size() <= 1",
        message: "at most one of secured, unsecured may be set",
      },
    ]);
    expect(
      nodeAt("SidecarGateway", "spec.applications[].downstream.restrictions.http.headersLength").default,
    ).toBe("60Ki");
    expect(schemaOf(crdOf("SidecarGateway")).required).toEqual(["spec"]);
    expect(nodeAt("SidecarGateway", "status.conditions").maxItems).toBe(8);
    expect(nodeAt("SidecarGateway", "status.pods").maxItems).toBe(256);
    expect(nodeAt("SidecarGateway", "status.status").enum).toEqual(["Active", "Warning", "Error"]);
  });

  test("StringMatcher: exactly one of exact, prefix, suffix, contains, regex; regex at most 1024", () => {
    const matcher = nodeAt("DenyRules", "spec.request.custom.rules[].blockData.path.matcher");
    expect(matcher["x-kubernetes-validations"]?.[0]?.rule).toBe(
      "[has(self.exact), has(self.prefix), has(self.suffix), has(self.contains), has(self.regex)].filter(x, x).size() == 1",
    );
    expect(matcher.properties?.regex?.maxLength).toBe(1024);
    expect(matcher.properties?.ignoreCase?.default).toBe(false);
    const headerName = nodeAt(
      "DenyRules",
      "spec.request.custom.rules[].requestConditions.header.name.matcher",
    );
    expect(headerName.properties?.ignoreCase).toBeUndefined();
  });

  test("DenyRules: levels, modes, bounds and the rule key pattern", () => {
    expect(nodeAt("DenyRules", "spec.request.builtIn.settings.level")).toMatchObject({
      enum: ["Unfiltered", "Basic", "Standard", "Strict"],
      default: "Standard",
    });
    expect(nodeAt("DenyRules", "spec.request.builtIn.settings.threatHandlingMode")).toMatchObject({
      enum: ["Block", "LogOnly"],
      default: "Block",
    });
    expect(nodeAt("DenyRules", "spec.request.builtIn.overrides").maxItems).toBe(128);
    expect(nodeAt("DenyRules", "spec.request.builtIn.exceptions").maxItems).toBe(4096);
    expect(nodeAt("DenyRules", "spec.request.builtIn.exceptions[].ruleKeys").maxItems).toBe(32);
    expect(nodeAt("DenyRules", "spec.request.custom.rules")).toMatchObject({
      maxItems: 256,
      "x-kubernetes-list-map-keys": ["ruleKey"],
    });
    expect(nodeAt("DenyRules", "spec.request.custom.rules[].ruleKey")).toMatchObject({
      pattern: "^[A-Z][A-Z0-9_]*$",
      maxLength: 64,
    });
    expect(
      nodeAt("DenyRules", "spec.request.custom.rules[].blockData")["x-kubernetes-validations"]?.[0]?.message,
    ).toBe("exactly one of header, parameter, path, pathSegment, json, graphQL must be set");
    expect(
      nodeAt("DenyRules", "spec.request.custom.rules[].requestConditions.remoteIP.cidrRanges").maxItems,
    ).toBe(1024);
  });

  test("EnvoyConfiguration: raw bytes, and xDS status per type URL", () => {
    expect(nodeAt("EnvoyConfiguration", "spec.envoyResourcesRaw")).toMatchObject({
      type: "string",
      format: "byte",
    });
    expect(nodeAt("EnvoyConfiguration", "status.xds.resourceTypes{}.status").enum).toEqual([
      "NotRequested",
      "Pending",
      "Sent",
      "Accepted",
      "Rejected",
    ]);
    expect(nodeAt("EnvoyConfiguration", "status.xds.resourceTypes{}.resources{}.version").type).toBe(
      "string",
    );
  });
});

/** Kinds we have a CRD for, by name. */
const schemaByKind = new Map(crds.map((crd) => [crd.spec.names.kind, schemaOf(crd)]));

function documents(yaml: string): Record<string, JsonValue>[] {
  return parseAllDocuments(yaml).map((doc) => doc.toJS() as Record<string, JsonValue>);
}

describe("examples fit the schemas (types, enums, bounds; CEL rules are left to test/crds.test.ts)", () => {
  const examplesDir = join(import.meta.dir, "../../examples");
  const files = readdirSync(examplesDir, { recursive: true, encoding: "utf8" }).filter((f) =>
    f.endsWith(".yaml"),
  );
  const cases = [
    ...files.map((f) => [`examples/${f}`, readFileSync(join(examplesDir, f), "utf8")] as const),
    ...REFERENCE_EXAMPLES.map((e) => [e.title, e.yaml] as const),
  ];
  test.each(cases)("%s", (_title, yaml) => {
    for (const doc of documents(yaml)) {
      const schema = doc.apiVersion === API_VERSION ? schemaByKind.get(String(doc.kind)) : undefined;
      if (!schema) continue; // e.g. OperatorConfig: a file format of ours, not a kind
      const { metadata: _metadata, ...rest } = doc;
      expect(valueProblems(schema, rest)).toEqual([]);
    }
  });
});
