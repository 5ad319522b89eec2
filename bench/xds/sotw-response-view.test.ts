import { describe, expect, test } from "bun:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { ListenerSchema } from "../../gen/envoy/config/listener/v3/listener_pb.js";
import { DiscoveryResponseSchema } from "../../gen/envoy/service/discovery/v3/discovery_pb.js";
import { TypeUrl } from "../../src/xds/resource-types.ts";
import { readSotwResponse } from "./sotw-response-view.ts";

describe("readSotwResponse", () => {
  test("reads version, type, nonce and the resource count and skips everything else", () => {
    const listener = (name: string) => anyPack(ListenerSchema, create(ListenerSchema, { name }));
    const bytes = toBinary(
      DiscoveryResponseSchema,
      create(DiscoveryResponseSchema, {
        versionInfo: "v9",
        typeUrl: TypeUrl.Listener,
        nonce: "12",
        canary: true,
        resources: [listener("a"), listener("b")],
        controlPlane: { identifier: "bench" },
      }),
    );
    expect(readSotwResponse(bytes)).toEqual({
      versionInfo: "v9",
      typeUrl: TypeUrl.Listener,
      nonce: "12",
      resources: 2,
    });
  });

  test("an empty response has no resources and empty strings", () => {
    expect(readSotwResponse(new Uint8Array())).toEqual({
      versionInfo: "",
      typeUrl: "",
      nonce: "",
      resources: 0,
    });
  });

  test("truncated input throws", () => {
    const bytes = toBinary(DiscoveryResponseSchema, create(DiscoveryResponseSchema, { nonce: "12345" }));
    expect(() => readSotwResponse(bytes.subarray(0, bytes.length - 2))).toThrow();
  });
});
