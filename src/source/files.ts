/**
 * The file source for local mode: reads Kubernetes manifests from files and directories and watches
 * them for edits. It produces the same model objects as the Kubernetes source; a problem in one
 * document is reported with its file and document index and never stops the other documents loading.
 */

import { type FSWatcher, statSync, watch } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { errorMessage, isMicrogatewayError, MicrogatewayError } from "../errors.ts";
import { parseResource } from "../model/parse.ts";
import type { ModelObject } from "../model/types.ts";

/** File name endings read from a directory (and accepted for a file named directly). */
export const MANIFEST_EXTENSIONS: readonly string[] = [".yaml", ".yml", ".json"];

/** The result of reading all manifests once. Every message starts with `<file>#<document>`. */
export interface ManifestLoad {
  /** Valid objects in file order (files sorted by name within a directory). */
  readonly objects: ModelObject[];
  /** Objects of kinds the model does not hold, e.g. `a.yaml#3: apps/v1 Deployment shop/web`. */
  readonly ignored: string[];
  /** Unreadable files, YAML syntax errors (with line and column) and invalid resources. */
  readonly errors: MicrogatewayError[];
}

/** A running watch; `close()` stops every watcher and timer, after which `onChange` is not called again. */
export interface ManifestWatch {
  close(): void;
}

/** Tuning of `watchManifests`. */
export interface WatchManifestsOptions {
  /** Quiet time after the last file event before reloading. Default 100 ms. */
  readonly debounceMs?: number;
  /** Receives errors thrown by `onChange` (the watcher itself never throws). Default: stderr. */
  readonly onError?: (e: unknown) => void;
}

/**
 * Reads every manifest under `paths` (files, or directories read non-recursively in name order) and
 * parses every YAML document in them. Never rejects: problems are returned in `errors`.
 *
 * @example const { objects, errors } = await loadManifests(["examples/local"]);
 */
export async function loadManifests(paths: readonly string[]): Promise<ManifestLoad> {
  const load: ManifestLoad = { objects: [], ignored: [], errors: [] };
  const seen = new Set<string>();
  for (const path of paths) {
    for (const file of await manifestFiles(path, load.errors)) {
      // A file named both directly and through its directory must not become a duplicate object.
      if (seen.has(resolve(file))) continue;
      seen.add(resolve(file));
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (e) {
        load.errors.push(unreadable(file, e));
        continue;
      }
      parseFile(file, text, load);
    }
  }
  return load;
}

/**
 * Watches `paths` and calls `onChange` with a fresh full load after each burst of edits. Directories
 * (not files) are watched, because editors and Kubernetes ConfigMap volumes replace files by rename,
 * which a watch on the file itself would not survive; watchers are re-armed after each burst when a
 * watched directory was replaced or appears. There is no initial call: load once yourself first.
 */
export function watchManifests(
  paths: readonly string[],
  onChange: (load: ManifestLoad) => void,
  opts: WatchManifestsOptions = {},
): ManifestWatch {
  const debounceMs = opts.debounceMs ?? 100;
  const report =
    opts.onError ?? ((e: unknown) => console.error(`microgateway: manifest watch: ${errorMessage(e)}`));
  const armed = new Map<string, ArmedDirectory>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let loading = false;
  let pending = false;

  const schedule = (): void => {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(flush, debounceMs);
  };

  const disarm = (dir: string): void => {
    armed.get(dir)?.watcher.close();
    armed.delete(dir);
  };

  const rearm = (): void => {
    const wanted = watchTargets(paths);
    for (const [dir, entry] of armed) {
      if (!wanted.has(dir) || directoryIdentity(dir) !== entry.identity) disarm(dir);
    }
    for (const [dir, filters] of wanted) {
      const existing = armed.get(dir);
      if (existing !== undefined) {
        existing.filters = filters;
        continue;
      }
      const identity = directoryIdentity(dir);
      if (identity === undefined) continue; // not there (yet): a watch on its parent notices it appear
      try {
        const watcher = watch(dir, (_event, name) => {
          const current = armed.get(dir);
          if (current?.watcher === watcher && current.filters.some((accepts) => accepts(name))) schedule();
        });
        watcher.on("error", () => {
          if (armed.get(dir)?.watcher === watcher) disarm(dir);
          schedule();
        });
        armed.set(dir, { watcher, identity, filters });
      } catch {
        // Vanished between stat and watch; the burst that removed it re-arms.
      }
    }
  };

  const flush = (): void => {
    timer = undefined;
    if (closed) return;
    if (loading) {
      pending = true;
      return;
    }
    loading = true;
    try {
      rearm();
    } catch (e) {
      report(e);
    }
    loadManifests(paths)
      .then((load) => {
        if (!closed) onChange(load);
      })
      .catch(report)
      .finally(() => {
        loading = false;
        if (pending) {
          pending = false;
          schedule();
        }
      });
  };

  rearm();
  return {
    close(): void {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const dir of [...armed.keys()]) disarm(dir);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Loading

async function manifestFiles(path: string, errors: MicrogatewayError[]): Promise<string[]> {
  try {
    const info = await stat(path);
    if (!info.isDirectory()) {
      if (isManifestName(basename(path))) return [path];
      errors.push(
        new MicrogatewayError("InvalidManifest", `${path}: must end in ${MANIFEST_EXTENSIONS.join(", ")}`),
      );
      return [];
    }
    const names = (await readdir(path)).filter(isManifestName).sort();
    return names.map((name) => join(path, name));
  } catch (e) {
    errors.push(unreadable(path, e));
    return [];
  }
}

function parseFile(file: string, text: string, load: ManifestLoad): void {
  // JSON is YAML 1.2, so one parser covers both and reports locations the same way.
  parseAllDocuments(text).forEach((doc, i) => {
    const origin = `${file}#${i + 1}`;
    const syntax = doc.errors[0];
    if (syntax !== undefined) {
      const pos = syntax.linePos?.[0];
      const where = pos === undefined ? "" : ` at line ${pos.line}, column ${pos.col}`;
      const what = (syntax.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
      load.errors.push(
        new MicrogatewayError("InvalidManifest", `${origin}: YAML syntax error${where}: ${what}`),
      );
      return;
    }
    let value: unknown;
    try {
      // A low alias limit keeps a "billion laughs" document from exhausting memory.
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      load.errors.push(new MicrogatewayError("InvalidManifest", `${origin}: ${errorMessage(e)}`));
      return;
    }
    if (value === null || value === undefined) return; // an empty document, e.g. a trailing `---`
    addObject(value, origin, load);
  });
}

function addObject(value: unknown, origin: string, load: ManifestLoad): void {
  // `kubectl get -o yaml` of several objects writes a v1 List; unwrap it like kubectl apply does.
  if (isRecord(value) && value.apiVersion === "v1" && value.kind === "List" && Array.isArray(value.items)) {
    value.items.forEach((item, j) => {
      addObject(item, `${origin}.items[${j}]`, load);
    });
    return;
  }
  try {
    const obj = parseResource(value, origin);
    if (obj === undefined) load.ignored.push(`${origin}: ${describe(value)}`);
    else load.objects.push(obj);
  } catch (e) {
    const code = isMicrogatewayError(e) ? e.code : "Internal";
    load.errors.push(new MicrogatewayError(code, `${origin}: ${errorMessage(e)}`, { cause: e }));
  }
}

function describe(value: unknown): string {
  if (!isRecord(value)) return "?";
  const meta = isRecord(value.metadata) ? value.metadata : {};
  const namespace = typeof meta.namespace === "string" ? meta.namespace : "default";
  const name = typeof meta.name === "string" ? meta.name : "?";
  return `${String(value.apiVersion)} ${String(value.kind)} ${namespace}/${name}`;
}

function unreadable(path: string, e: unknown): MicrogatewayError {
  const code = isRecord(e) ? e.code : undefined;
  const reason = code === "ENOENT" ? "does not exist" : `cannot be read: ${errorMessage(e)}`;
  return new MicrogatewayError("InvalidManifest", `${path}: ${reason}`, { cause: e });
}

// Hidden names are skipped: editor lock files (`.#x.yaml`) and the `..data` machinery of ConfigMap volumes.
function isManifestName(name: string): boolean {
  return !name.startsWith(".") && MANIFEST_EXTENSIONS.includes(extname(name).toLowerCase());
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Watching

type NameFilter = (name: string | null) => boolean;

interface ArmedDirectory {
  readonly watcher: FSWatcher;
  /** `dev:ino` when armed: a different one later means the directory was replaced and the watch is dead. */
  readonly identity: string;
  filters: NameFilter[];
}

/** Which directories to watch and which entry names in them matter, for the current state of `paths`. */
function watchTargets(paths: readonly string[]): Map<string, NameFilter[]> {
  const targets = new Map<string, NameFilter[]>();
  const add = (dir: string, filter: NameFilter): void => {
    targets.set(dir, [...(targets.get(dir) ?? []), filter]);
  };
  for (const path of paths) {
    const own = basename(path);
    // `..data` is swapped atomically when a ConfigMap volume changes; the visible names stay the same.
    if (directoryIdentity(path) !== undefined) {
      add(path, (name) => name === null || isManifestName(name) || name.startsWith(".."));
      add(dirname(path), (name) => name === null || name === own);
    } else {
      add(dirname(path), (name) => name === null || name === own || name.startsWith(".."));
    }
  }
  return targets;
}

function directoryIdentity(path: string): string | undefined {
  try {
    const info = statSync(path);
    return info.isDirectory() ? `${info.dev}:${info.ino}` : undefined;
  } catch {
    return undefined;
  }
}
