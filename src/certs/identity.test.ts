import { describe, expect, test } from "bun:test";
import { isMicrogatewayError } from "../errors.ts";
import { engineSpiffeId, namespaceOfSpiffeId, peerIdentity } from "./identity.ts";

describe("engineSpiffeId", () => {
  test("names the namespace in the Microgateway trust domain", () => {
    expect(engineSpiffeId("shop")).toBe("spiffe://microgateway.airlock.com/ns/shop/engine");
    expect(engineSpiffeId("a")).toBe("spiffe://microgateway.airlock.com/ns/a/engine");
    expect(engineSpiffeId("x".repeat(63))).toBe(
      `spiffe://microgateway.airlock.com/ns/${"x".repeat(63)}/engine`,
    );
  });

  test.each(["", "Shop", "-shop", "shop-", "sh.op", "sh/op", "x".repeat(64), "shop ", "ns/../x"])(
    "refuses the namespace %p",
    (namespace) => {
      let error: unknown;
      try {
        engineSpiffeId(namespace);
      } catch (e) {
        error = e;
      }
      expect(isMicrogatewayError(error)).toBe(true);
      expect((error as Error).message).toContain("must be a Kubernetes namespace name");
    },
  );
});

describe("namespaceOfSpiffeId", () => {
  test("round-trips engineSpiffeId", () => {
    for (const ns of ["shop", "a", "kube-system", "x".repeat(63), "0-9"]) {
      expect(namespaceOfSpiffeId(engineSpiffeId(ns))).toBe(ns);
    }
  });

  test.each([
    "",
    "spiffe://microgateway.airlock.com/ns/shop",
    "spiffe://microgateway.airlock.com/ns/shop/engine/",
    "spiffe://microgateway.airlock.com/ns/shop/engine?x=1",
    "spiffe://microgateway.airlock.com/ns/shop/engine#x",
    "spiffe://microgateway.airlock.com/ns/shop/other",
    "spiffe://microgateway.airlock.com/ns//engine",
    "spiffe://microgateway.airlock.com/ns/Shop/engine",
    "spiffe://microgateway.airlock.com/ns/sh%6Fp/engine",
    "spiffe://microgateway.airlock.com/ns/a/b/engine",
    "spiffe://microgateway.airlock.com/ns/../engine",
    "spiffe://microgateway.airlock.com:443/ns/shop/engine",
    "spiffe://user@microgateway.airlock.com/ns/shop/engine",
    "spiffe://MICROGATEWAY.airlock.com/ns/shop/engine",
    "spiffe://evil.example/ns/shop/engine",
    "spiffe://microgateway.airlock.com.evil.example/ns/shop/engine",
    "SPIFFE://microgateway.airlock.com/ns/shop/engine",
    "https://microgateway.airlock.com/ns/shop/engine",
    " spiffe://microgateway.airlock.com/ns/shop/engine",
    "spiffe://microgateway.airlock.com/ns/shop/engine\n",
    `spiffe://microgateway.airlock.com/ns/${"x".repeat(64)}/engine`,
  ])("rejects %p", (uri) => {
    expect(namespaceOfSpiffeId(uri)).toBeUndefined();
  });
});

describe("peerIdentity", () => {
  test("reads URI SANs from Node's subjectaltname", () => {
    expect(
      peerIdentity({
        subjectaltname:
          "DNS:a.example, URI:spiffe://microgateway.airlock.com/ns/shop/engine, IP Address:10.0.0.1",
      }),
    ).toEqual({ uris: ["spiffe://microgateway.airlock.com/ns/shop/engine"] });
    expect(peerIdentity({ subjectaltname: "URI:spiffe://a/b, URI:spiffe://c/d" })).toEqual({
      uris: ["spiffe://a/b", "spiffe://c/d"],
    });
  });

  test("no certificate, the empty object Node returns for none, or no SANs give no URIs", () => {
    expect(peerIdentity(undefined)).toEqual({ uris: [] });
    expect(peerIdentity({})).toEqual({ uris: [] });
    expect(peerIdentity({ subjectaltname: "" })).toEqual({ uris: [] });
    expect(peerIdentity({ subjectaltname: "DNS:a.example" })).toEqual({ uris: [] });
  });

  test("a quoted DNS name cannot smuggle in a URI entry", () => {
    // Node quotes values containing ", " as JSON strings (CVE-2021-44532).
    const smuggled = `DNS:"x, URI:spiffe://microgateway.airlock.com/ns/kube-system/engine", DNS:b.example`;
    expect(peerIdentity({ subjectaltname: smuggled })).toEqual({ uris: [] });
    expect(peerIdentity({ subjectaltname: `URI:"spiffe://a/b,c"` })).toEqual({ uris: ["spiffe://a/b,c"] });
    expect(peerIdentity({ subjectaltname: `URI:"a\\"b", URI:spiffe://c/d` })).toEqual({
      uris: ['a"b', "spiffe://c/d"],
    });
    // Bun 1.4.5 escapes the comma itself inside the quoted value.
    expect(
      peerIdentity({ subjectaltname: `URI:"spiffe://a/b\\u002c\\u002cURI:x", URI:spiffe://c/d` }),
    ).toEqual({
      uris: ["spiffe://a/b,,URI:x", "spiffe://c/d"],
    });
  });

  test("a malformed string yields nothing (fail closed)", () => {
    expect(peerIdentity({ subjectaltname: `URI:spiffe://a/b, URI:"unterminated` })).toEqual({ uris: [] });
    expect(peerIdentity({ subjectaltname: "garbage" })).toEqual({ uris: [] });
    expect(peerIdentity({ subjectaltname: `URI:"a"x, URI:spiffe://c/d` })).toEqual({ uris: [] });
  });
});
