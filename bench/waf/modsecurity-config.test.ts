import { expect, test } from "bun:test";
import { DEBIAN_PATHS, modsecurityFiles, WRITABLE_DIRS } from "./modsecurity-config.ts";

const files = modsecurityFiles({
  dir: "/tmp/x",
  port: 18080,
  upstreamPort: 18081,
  paranoiaLevel: 2,
  barePrefix: "/__bare",
  allowedMethods: ["GET", "PUT"],
});
const modsec = files["modsecurity.conf"]!;
const nginx = files["nginx.conf"]!;

test("the paranoia level and allowed methods are set before the CRS setup reads them", () => {
  const pl = modsec.indexOf("setvar:tx.paranoia_level=2");
  const methods = modsec.indexOf("setvar:'tx.allowed_methods=GET PUT'");
  const setup = modsec.indexOf(`Include ${DEBIAN_PATHS.crsSetup}`);
  const rules = modsec.indexOf(`Include ${DEBIAN_PATHS.crsRules}/*.conf`);
  expect(pl).toBeGreaterThan(0);
  expect(methods).toBeGreaterThan(pl);
  expect(setup).toBeGreaterThan(methods);
  expect(rules).toBeGreaterThan(setup);
  expect(modsec).toContain("SecRuleEngine On\n");
  expect(modsec).toContain("SecAuditEngine Off\n");
});

test("nginx listens on loopback, proxies both locations, and ModSecurity is off only on the bare one", () => {
  expect(nginx).toContain("listen 127.0.0.1:18080;");
  expect(nginx).toContain("server 127.0.0.1:18081;");
  expect(nginx).toMatch(/location \/__bare \{\n\s+modsecurity off;/);
  expect(nginx.match(/modsecurity on;/g)).toHaveLength(1);
  for (const d of WRITABLE_DIRS.filter((x) => !x.startsWith("modsec")))
    expect(nginx).toContain(`/tmp/x/${d};`);
  expect(modsec).toContain("SecTmpDir /tmp/x/modsec-tmp");
});

test("without allowedMethods the CRS default stays", () => {
  const plain = modsecurityFiles({ dir: "/d", port: 1, upstreamPort: 2, paranoiaLevel: 1, barePrefix: "/b" });
  expect(plain["modsecurity.conf"]).not.toContain("allowed_methods");
  expect(plain["modsecurity.conf"]).toContain("tx.paranoia_level=1");
});
