/**
 * Which code a benchmark measured: the commit, and the files under src/ that differ from it.
 * Others work in the same checkout, and the servers run whatever the working tree holds.
 *
 * @example
 *   sourceState("/work/wt/x") // { commit: "4c8908a…", uncommittedSrc: ["src/xds/wire.ts"] }
 */
export interface SourceState {
  readonly commit: string;
  readonly uncommittedSrc: string[];
}

export function sourceState(repo: string): SourceState {
  // trimEnd only: a porcelain line starts with a status column that may be a space.
  const git = (...args: string[]) =>
    Bun.spawnSync(["git", ...args], { cwd: repo, stdout: "pipe", stderr: "pipe" })
      .stdout.toString()
      .trimEnd();
  const changed = git("status", "--porcelain", "--", "src");
  return {
    commit: git("rev-parse", "HEAD"),
    uncommittedSrc: changed === "" ? [] : changed.split("\n").map((l) => l.slice(3)),
  };
}
