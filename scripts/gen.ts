/**
 * Generates gen/ from the Envoy API protos with `buf generate` (see proto/buf.yaml, proto/buf.gen.yaml).
 *
 * `bun run gen`          regenerates gen/.
 * `bun run gen --check`  regenerates into a temporary folder and fails if gen/ differs (CI uses it).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

const root = resolve(import.meta.dir, "..");
const envoyApi = "node_modules/@grpc/grpc-js-xds/deps/envoy-api";
const check = process.argv.includes("--check");

const targets = readFileSync(join(root, "proto/targets.txt"), "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#"));

// --output is the base folder for the template's `out: gen`.
const base = check ? mkdtempSync(join(tmpdir(), "mgw-gen-")) : root;
const args = [
  "generate",
  "--config",
  "proto/buf.yaml",
  "--template",
  "proto/buf.gen.yaml",
  "--output",
  base,
  // A target vendored into proto/ (a newer Envoy API file than the package has) is taken from there.
  ...targets.flatMap((t) => [
    "--path",
    existsSync(join(root, "proto", t)) ? `proto/${t}` : `${envoyApi}/${t}`,
  ]),
];
const proc = Bun.spawnSync([join(root, "node_modules/.bin/buf"), ...args], {
  cwd: root,
  stdout: "inherit",
  stderr: "inherit",
});
if (proc.exitCode !== 0) {
  console.error(`buf generate failed with exit code ${proc.exitCode}`);
  process.exit(1);
}

if (check) {
  const fresh = listFiles(join(base, "gen"));
  const committed = listFiles(join(root, "gen"));
  const problems: string[] = [];
  for (const [path, content] of fresh) {
    const current = committed.get(path);
    if (current === undefined) problems.push(`missing: gen/${path}`);
    else if (current !== content) problems.push(`stale: gen/${path}`);
  }
  for (const path of committed.keys()) if (!fresh.has(path)) problems.push(`extra: gen/${path}`);
  rmSync(base, { recursive: true, force: true });
  if (problems.length > 0) {
    console.error(`gen/ is out of date (run \`bun run gen\`):\n  ${problems.slice(0, 20).join("\n  ")}`);
    process.exit(1);
  }
  console.log(`gen/ is up to date (${fresh.size} files)`);
}

function listFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(relative(dir, p), readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return files;
}
