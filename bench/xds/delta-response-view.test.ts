import { describe, expect, test } from "bun:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { ListenerSchema } from "../../gen/envoy/config/listener/v3/listener_pb.js";
import { DeltaDiscoveryResponseSchema } from "../../gen/envoy/service/discovery/v3/discovery_pb.js";
import { TypeUrl } from "../../src/xds/resource-types.ts";
import { readDeltaResponse } from "./delta-response-view.ts";

describe("readDeltaResponse", () => {
  test("reads type, nonce, names, versions and removals and skips everything else", () => {
    const bytes = toBinary(
      DeltaDiscoveryResponseSchema,
      create(DeltaDiscoveryResponseSchema, {
        systemVersionInfo: "7",
        typeUrl: TypeUrl.Listener,
        nonce: "42",
        resources: [
          {
            name: "ingress",
            version: "v1",
            aliases: ["a"],
            resource: anyPack(ListenerSchema, create(ListenerSchema, { name: "ingress" })),
          },
          { version: "v2", name: "other" },
        ],
        removedResources: ["gone"],
        controlPlane: { identifier: "bench" },
      }),
    );
    expect(readDeltaResponse(bytes)).toEqual({
      typeUrl: TypeUrl.Listener,
      nonce: "42",
      names: ["ingress", "other"],
      versions: ["v1", "v2"],
      removed: ["gone"],
    });
  });

  test("throws on a truncated message instead of reporting a partial view", () => {
    const bytes = toBinary(
      DeltaDiscoveryResponseSchema,
      create(DeltaDiscoveryResponseSchema, { nonce: "1", resources: [{ name: "x", version: "v" }] }),
    );
    expect(() => readDeltaResponse(bytes.subarray(0, bytes.length - 2))).toThrow();
  });
});
