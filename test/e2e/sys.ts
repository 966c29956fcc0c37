/**
 * System plumbing for the end-to-end suite: commands in network namespaces,
 * veths, VM namespaces, captures, and the clean-up of everything a run
 * creates. Every name a run creates starts with its prefix
 * (`dvfe2e-<run>-`), so leftovers of a crashed run are found and removed by
 * that prefix before the next one starts (namespaces, the processes inside
 * them, run directories under the temp dir).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Every e2e name starts with this; a run adds its own tag. */
export const E2E_PREFIX = "dvfe2e-";

export function run(cmd: string, args: readonly string[], input?: string): string {
  return execFileSync(cmd, args, {
    encoding: "utf8",
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    ...(input === undefined ? {} : { input }),
  });
}

/** `ip ARGS…` (throws with stderr on failure). */
export function ip(...args: string[]): string {
  try {
    return run("ip", args);
  } catch (e) {
    const err = e as { stderr?: string };
    throw new Error(`ip ${args.join(" ")}: ${err.stderr ?? String(e)}`);
  }
}

/** A command inside a namespace. */
export function inNs(ns: string, cmd: string, ...args: string[]): string {
  try {
    return run("ip", ["netns", "exec", ns, cmd, ...args]);
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string };
    throw new Error(
      `[${ns}] ${cmd} ${args.join(" ")}: ${err.stderr ?? ""}${err.stdout ?? ""}${err.stderr === undefined ? String(e) : ""}`,
    );
  }
}

/** Which system tools are missing (empty = all there). */
export function missingTools(tools: readonly string[]): string[] {
  return tools.filter(
    (t) => spawnSync("sh", ["-c", `command -v ${t} || test -x /usr/sbin/${t}`]).status !== 0,
  );
}

export function addNetns(name: string): void {
  ip("netns", "add", name);
  ip("-n", name, "link", "set", "lo", "up");
  // No IPv6 anywhere: router/neighbour solicitations would only be noise on the wire.
  inNs(name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
  inNs(name, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
}

/**
 * Brings a link up with TX checksum offload off: with it on, the kernel
 * leaves TCP/UDP checksums to hardware a veth does not have, and a
 * userspace switch forwards them broken (dvr-pipeline.md §7 item 10).
 */
export function prepareLink(ns: string, dev: string, mtu?: number): void {
  inNs(ns, "ethtool", "-K", dev, "tx", "off");
  if (mtu !== undefined) ip("-n", ns, "link", "set", dev, "mtu", String(mtu));
  ip("-n", ns, "link", "set", dev, "up");
}

/** A veth pair created straight inside two namespaces (nothing lands in ours). */
export function vethBetween(nsA: string, devA: string, nsB: string, devB: string): void {
  ip("-n", nsA, "link", "add", devA, "type", "veth", "peer", "name", devB, "netns", nsB);
}

export function linkMac(ns: string, dev: string): string {
  const out = ip("-n", ns, "-o", "link", "show", dev);
  const m = /link\/ether ([0-9a-f:]{17})/.exec(out);
  if (m === null) throw new Error(`no MAC for ${dev} in ${ns}: ${out}`);
  return m[1]!;
}

/** Waits for a device to exist in a namespace (e.g. br-phy's tap, made by ovs-vswitchd). */
export async function waitLink(ns: string, dev: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (spawnSync("ip", ["-n", ns, "link", "show", dev], { stdio: "ignore" }).status !== 0) {
    if (Date.now() > end) throw new Error(`${dev} did not appear in ${ns}`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` (sync or async) until it holds. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

export interface PingResult {
  readonly ok: boolean;
  readonly transmitted: number;
  readonly received: number;
  readonly out: string;
}

function pingSummary(status: number | null, out: string): PingResult {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  return {
    ok: status === 0,
    transmitted: m === null ? 0 : Number(m[1]),
    received: m === null ? 0 : Number(m[2]),
    out,
  };
}

/** `ping` from a VM namespace (blocking; small counts). */
export function ping(
  ns: string,
  dst: string,
  o: { count?: number; interval?: number; waitS?: number } = {},
): PingResult {
  const r = spawnSync(
    "ip",
    [
      "netns",
      "exec",
      ns,
      "ping",
      "-n",
      "-c",
      String(o.count ?? 3),
      "-i",
      String(o.interval ?? 0.2),
      "-W",
      String(o.waitS ?? 2),
      dst,
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
  return pingSummary(r.status, r.stdout + r.stderr);
}

/** A ping stream in the background; resolves with its summary. */
export function pingStream(
  ns: string,
  dst: string,
  count: number,
  intervalS: number,
): { child: ChildProcess; done: Promise<PingResult> } {
  const child = spawn(
    "ip",
    ["netns", "exec", ns, "ping", "-n", "-c", String(count), "-i", String(intervalS), dst],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d));
  const done = new Promise<PingResult>((resolve) =>
    child.on("exit", (code) => resolve(pingSummary(code, out))),
  );
  return { child, done };
}

/** A packet capture (tcpdump -w) inside a namespace, stopped with SIGINT. */
export class Capture {
  private constructor(
    readonly file: string,
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
  ) {}

  static async start(ns: string, dev: string, file: string, filter: string): Promise<Capture> {
    const child = spawn(
      "ip",
      ["netns", "exec", ns, "tcpdump", "-n", "-U", "-s", "256", "-i", dev, "-w", file, filter],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let err = "";
    const exited = new Promise<void>((r) => child.on("exit", () => r()));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
      child.stderr!.setEncoding("utf8").on("data", (d: string) => {
        err += d;
        if (err.includes("listening on")) {
          clearTimeout(t);
          resolve();
        }
      });
      void exited.then(() => {
        clearTimeout(t);
        reject(new Error(`tcpdump exited: ${err}`));
      });
    });
    return new Capture(file, child, exited);
  }

  async stop(): Promise<void> {
    this.child.kill("SIGINT");
    await this.exited;
  }
}

/** PIDs of every process inside a namespace. */
export function netnsPids(ns: string): number[] {
  const r = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" });
  if (r.status !== 0) return [];
  return r.stdout
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

export function killPid(pid: number, signal: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Our namespaces whose name starts with `prefix`. */
export function netnsWithPrefix(prefix: string): string[] {
  if (!existsSync("/run/netns")) return [];
  return readdirSync("/run/netns").filter((n) => n.startsWith(prefix));
}

/**
 * Removes everything a run with this prefix left behind: processes inside
 * its namespaces (OVS daemons, switches, tcpdump, ping), processes whose
 * pid file sits in its run directories (the controller), the namespaces
 * (their veths and taps vanish with them) and the run directories.
 */
export function cleanupPrefix(prefix: string): void {
  for (const ns of netnsWithPrefix(prefix)) for (const pid of netnsPids(ns)) killPid(pid);
  const tmp = tmpdir();
  const dirs = readdirSync(tmp)
    .filter((n) => n.startsWith(prefix))
    .map((n) => join(tmp, n));
  for (const d of dirs) {
    for (const f of existsSync(d) ? readdirSync(d) : []) {
      if (!f.endsWith(".pid")) continue;
      const pid = Number(readFileSync(join(d, f), "utf8").trim());
      if (Number.isInteger(pid) && pid > 1 && isOurs(pid, d)) killPid(pid);
    }
  }
  for (const ns of netnsWithPrefix(prefix)) spawnSync("ip", ["netns", "del", ns]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/** A pid is ours when its command line mentions our run directory (pids get reused). */
function isOurs(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir);
  } catch {
    return false;
  }
}
