import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildModel, validateModel } from "../model/model.ts";
import type { DenyRules } from "../model/types.ts";
import { loadManifests, type ManifestLoad, type ManifestWatch, watchManifests } from "./files.ts";

const deny = (name: string, mode = "Block") => `apiVersion: microgateway.airlock.com/v1alpha1
kind: DenyRules
metadata:
  name: ${name}
spec:
  request:
    builtIn:
      settings: {level: Standard, threatHandlingMode: ${mode}}
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mgw-files-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("loadManifests", () => {
  test("reads a directory in name order, multi-document, skipping other files and empty documents", async () => {
    write("b.yaml", `${deny("b1")}---\n${deny("b2")}---\n`);
    write("a.yml", deny("a"));
    write(
      "c.json",
      JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", labels: { app: "x" } } }),
    );
    write("notes.txt", "not a manifest");
    write(".hidden.yaml", "{{{");
    mkdirSync(join(dir, "sub"));
    write("sub/deep.yaml", deny("deep"));

    const load = await loadManifests([dir]);
    expect(load.errors).toEqual([]);
    expect(load.objects.map((o) => o.metadata.name)).toEqual(["a", "b1", "b2", "p"]);
    expect(load.objects.map((o) => o.metadata.origin)).toEqual([
      join(dir, "a.yml#1"),
      join(dir, "b.yaml#1"),
      join(dir, "b.yaml#2"),
      join(dir, "c.json#1"),
    ]);
  });

  test("a file can be named directly, and naming it twice does not duplicate it", async () => {
    const file = write("a.yaml", deny("a"));
    const load = await loadManifests([file, dir]);
    expect(load.objects.map((o) => o.metadata.name)).toEqual(["a"]);
  });

  test("a YAML syntax error names file, document, line and column; other documents still load", async () => {
    write("deny.yaml", `${deny("ok")}---\nkind: [DenyRules\nmetadata: x\n`);
    const load = await loadManifests([dir]);
    expect(load.objects.map((o) => o.metadata.name)).toEqual(["ok"]);
    expect(load.errors).toHaveLength(1);
    expect(load.errors[0]?.code).toBe("InvalidManifest");
    expect(load.errors[0]?.message).toStartWith(
      `${join(dir, "deny.yaml")}#2: YAML syntax error at line 11, column 1: `,
    );
  });

  test("an invalid resource is reported with file and document index", async () => {
    write("deny.yaml", `${deny("ok")}---\n${deny("strict").replace("Standard", "Max")}`);
    const load = await loadManifests([dir]);
    expect(load.objects).toHaveLength(1);
    expect(load.errors.map((e) => [e.code, e.message])).toEqual([
      [
        "InvalidResource",
        `${join(dir, "deny.yaml")}#2: DenyRules default/strict: spec.request.builtIn.settings.level "Max" must be one of Unfiltered, Basic, Standard, Strict`,
      ],
    ]);
  });

  test("a document that is not a Kubernetes object is an InvalidManifest error", async () => {
    write("x.yaml", "- just\n- a list\n");
    const load = await loadManifests([dir]);
    expect(load.errors.map((e) => e.code)).toEqual(["InvalidManifest"]);
    expect(load.errors[0]?.message).toStartWith(`${join(dir, "x.yaml")}#1: `);
  });

  test("a missing path is an InvalidManifest error, not a crash", async () => {
    const missing = join(dir, "nope.yaml");
    const load = await loadManifests([missing, join(dir, "nodir")]);
    expect(load.errors.map((e) => [e.code, e.message])).toEqual([
      ["InvalidManifest", `${missing}: does not exist`],
      ["InvalidManifest", `${join(dir, "nodir")}: does not exist`],
    ]);
  });

  test("a file named directly must have a manifest extension", async () => {
    const file = write("deny.txt", deny("a"));
    const load = await loadManifests([file]);
    expect(load.errors.map((e) => e.message)).toEqual([`${file}: must end in .yaml, .yml, .json`]);
  });

  test("kinds the model does not hold are listed as ignored", async () => {
    write(
      "app.yaml",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n---\n" +
        "apiVersion: microgateway.airlock.com/v1alpha1\nkind: SessionHandling\nmetadata: {name: h}\n",
    );
    const load = await loadManifests([dir]);
    expect(load.errors).toEqual([]);
    expect(load.objects).toEqual([]);
    expect(load.ignored).toEqual([
      `${join(dir, "app.yaml")}#1: apps/v1 Deployment shop/web`,
      `${join(dir, "app.yaml")}#2: microgateway.airlock.com/v1alpha1 SessionHandling default/h`,
    ]);
  });

  test("a v1 List is unwrapped", async () => {
    write(
      "list.yaml",
      `apiVersion: v1\nkind: List\nitems:\n  - ${JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" } })}\n`,
    );
    const load = await loadManifests([dir]);
    expect(load.objects.map((o) => o.metadata.origin)).toEqual([`${join(dir, "list.yaml")}#1.items[0]`]);
  });
});

describe("examples", () => {
  for (const example of ["examples/local", "examples/basic"]) {
    test(`${example} loads and validates cleanly`, async () => {
      const load = await loadManifests([join(import.meta.dir, "../..", example)]);
      expect(load.errors).toEqual([]);
      expect(load.objects.length).toBeGreaterThan(0);
      expect(validateModel(buildModel(load.objects))).toEqual([]);
    });
  }
});

describe("watchManifests", () => {
  let watcher: ManifestWatch | undefined;
  afterEach(() => {
    watcher?.close();
    watcher = undefined;
  });

  /** Starts a watch and returns a function that waits (bounded by the test timeout) for a matching load. */
  function watchUntil(paths: string[]) {
    let waiting:
      | { accept: (load: ManifestLoad) => boolean; resolve: (load: ManifestLoad) => void }
      | undefined;
    watcher = watchManifests(
      paths,
      (load) => {
        if (waiting?.accept(load)) waiting.resolve(load);
      },
      { debounceMs: 20 },
    );
    return (accept: (load: ManifestLoad) => boolean) =>
      new Promise<ManifestLoad>((resolve) => {
        waiting = { accept, resolve };
      });
  }

  const mode = (load: ManifestLoad, name: string) =>
    (load.objects.find((o) => o.metadata.name === name) as DenyRules | undefined)?.spec.request.builtIn
      .settings.threatHandlingMode;

  test("picks up an in-place edit and a rename-replace in a watched directory", async () => {
    const file = write("deny.yaml", deny("d"));
    const next = watchUntil([dir]);

    let change = next((load) => mode(load, "d") === "LogOnly");
    writeFileSync(file, deny("d", "LogOnly"));
    await change;

    change = next((load) => mode(load, "d") === "Block");
    write("deny.yaml.tmp", deny("d", "Block"));
    renameSync(join(dir, "deny.yaml.tmp"), file);
    await change;

    change = next((load) => load.objects.some((o) => o.metadata.name === "added"));
    write("added.yaml", deny("added"));
    await change;
  }, 10_000);

  test("a single watched file survives repeated rename-replace (the editor save pattern)", async () => {
    const file = write("deny.yaml", deny("d"));
    const next = watchUntil([file]);
    for (const m of ["LogOnly", "Block", "LogOnly"]) {
      const change = next((load) => mode(load, "d") === m);
      write("deny.yaml.swp", deny("d", m));
      renameSync(join(dir, "deny.yaml.swp"), file);
      await change;
    }
  }, 10_000);

  test("a broken edit is delivered as errors, and the next fix loads again", async () => {
    const file = write("deny.yaml", deny("d"));
    const next = watchUntil([dir]);
    let change = next((load) => load.errors.length > 0);
    writeFileSync(file, "kind: [\n");
    const broken = await change;
    expect(broken.errors[0]?.message).toStartWith(`${file}#1: YAML syntax error`);

    change = next((load) => load.errors.length === 0 && mode(load, "d") === "LogOnly");
    writeFileSync(file, deny("d", "LogOnly"));
    await change;
  }, 10_000);

  test("a file in a ConfigMap volume is updated by swapping the ..data symlink", async () => {
    // The kubelet's atomic writer: visible names are symlinks through `..data`, which is replaced by rename.
    mkdirSync(join(dir, "..v1"));
    writeFileSync(join(dir, "..v1", "deny.yaml"), deny("d"));
    symlinkSync("..v1", join(dir, "..data"));
    symlinkSync(join("..data", "deny.yaml"), join(dir, "deny.yaml"));
    const next = watchUntil([join(dir, "deny.yaml")]);

    const change = next((load) => mode(load, "d") === "LogOnly");
    mkdirSync(join(dir, "..v2"));
    writeFileSync(join(dir, "..v2", "deny.yaml"), deny("d", "LogOnly"));
    symlinkSync("..v2", join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    await change;
  }, 10_000);

  test("a watched directory that is removed and recreated is watched again", async () => {
    const sub = join(dir, "manifests");
    mkdirSync(sub);
    writeFileSync(join(sub, "deny.yaml"), deny("d"));
    const next = watchUntil([sub]);

    let change = next((load) => load.errors.length > 0);
    rmSync(sub, { recursive: true });
    await change;

    change = next((load) => mode(load, "d") === "LogOnly");
    mkdirSync(sub);
    writeFileSync(join(sub, "deny.yaml"), deny("d", "LogOnly"));
    await change;

    change = next((load) => mode(load, "d") === "Block");
    writeFileSync(join(sub, "deny.yaml"), deny("d", "Block"));
    await change;
  }, 10_000);

  test("a watched directory replaced in one go (rm + rename) is watched again", async () => {
    const sub = join(dir, "manifests");
    mkdirSync(sub);
    writeFileSync(join(sub, "deny.yaml"), deny("d"));
    const next = watchUntil([sub]);

    let change = next((load) => mode(load, "d") === "LogOnly");
    mkdirSync(join(dir, "manifests.new"));
    writeFileSync(join(dir, "manifests.new", "deny.yaml"), deny("d", "LogOnly"));
    rmSync(sub, { recursive: true });
    renameSync(join(dir, "manifests.new"), sub);
    await change;

    change = next((load) => mode(load, "d") === "Block");
    writeFileSync(join(sub, "deny.yaml"), deny("d", "Block"));
    await change;
  }, 10_000);

  test("errors thrown by onChange go to onError, not out of the watcher", async () => {
    const file = write("deny.yaml", deny("d"));
    const reported = new Promise<unknown>((resolve) => {
      watcher = watchManifests(
        [dir],
        () => {
          throw new Error("consumer bug");
        },
        { debounceMs: 20, onError: resolve },
      );
    });
    writeFileSync(file, deny("d", "LogOnly"));
    expect(String(await reported)).toContain("consumer bug");
  }, 10_000);
});
