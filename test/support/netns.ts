/**
 * A network namespace joined to the host by a veth pair, for running a second engine next to the
 * first: the engine's ports (13378, 19000-19002) are public API and fixed, so two engines need two
 * network stacks, as two pods have. Needs root (the end-to-end tests run as root for `unshare`).
 */

/** A network namespace with one veth link to the host. */
export interface NetworkNamespace {
  readonly name: string;
  /** The host's end of the link: where programs inside reach the host (e.g. an operator on 0.0.0.0). */
  readonly hostAddress: string;
  /** The namespace's end: where the host reaches programs inside. */
  readonly address: string;
  /** Prefix of a command that runs inside the namespace. */
  readonly exec: readonly string[];
  /** Deletes the namespace and its link (idempotent). */
  remove(): void;
}

/** Creates a namespace on a random /30 of 10.213.0.0/16, with loopback up. */
export function createNetworkNamespace(): NetworkNamespace {
  const id = crypto.randomUUID().slice(0, 6);
  const name = `mgw-${id}`;
  const subnet = `10.213.${Math.floor(Math.random() * 256)}.${4 * Math.floor(Math.random() * 64)}`;
  const base = subnet.slice(0, subnet.lastIndexOf(".") + 1);
  const last = Number(subnet.slice(subnet.lastIndexOf(".") + 1));
  const hostAddress = `${base}${last + 1}`;
  const address = `${base}${last + 2}`;
  const [hostEnd, nsEnd] = [`mgwh${id}`, `mgwn${id}`];
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    namespaces.delete(remove);
    Bun.spawnSync(["ip", "netns", "del", name]);
  };
  namespaces.add(remove);
  try {
    run(["ip", "netns", "add", name]);
    run(["ip", "link", "add", hostEnd, "type", "veth", "peer", "name", nsEnd, "netns", name]);
    run(["ip", "addr", "add", `${hostAddress}/30`, "dev", hostEnd]);
    run(["ip", "link", "set", hostEnd, "up"]);
    const inside = ["ip", "netns", "exec", name];
    run([...inside, "ip", "addr", "add", `${address}/30`, "dev", nsEnd]);
    run([...inside, "ip", "link", "set", nsEnd, "up"]);
    run([...inside, "ip", "link", "set", "lo", "up"]);
    return { name, hostAddress, address, exec: inside, remove };
  } catch (e) {
    remove();
    throw e;
  }
}

function run(cmd: string[]): void {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0)
    throw new Error(`${cmd.join(" ")}: exit ${r.exitCode}: ${r.stderr.toString().trim()}`);
}

/** Namespaces not removed yet, removed on exit so a failed run leaves no links behind. */
const namespaces = new Set<() => void>();
process.on("exit", () => {
  for (const remove of namespaces) remove();
});
