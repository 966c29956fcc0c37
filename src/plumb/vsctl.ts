/**
 * A plan as an `ovs-vsctl` shell script: what `dvrflow plumb` prints for a
 * host whose OVSDB it cannot reach. Run on a fresh host, it yields the same
 * database as {@link applyPlumbing} (tested against a private
 * ovsdb-server); every command is idempotent (`--may-exist`, `set` of
 * single keys), so it may be run again. Unlike the reconciler it cannot
 * delete what it does not know about (stale tunnel ports, removed VM
 * ports).
 *
 * Order matters once: fail_mode=secure is set in the same transaction as
 * the bridge is created (a new bridge would otherwise start in standalone
 * mode, forwarding with NORMAL), and the controller comes last, because OVS
 * flushes a bridge's flows when its first controller is set
 * (dvr-pipeline.md §7 item 6).
 */
import type { DesiredBridge, DesiredPort, PlumbPlan } from "./model.js";

/** A value in ovs-vsctl's database syntax (ovs-vsctl(8) "Database Values"). */
function dbValue(v: string): string {
  if (/^[A-Za-z0-9_./-]+$/.test(v)) return v;
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** One shell word. */
function sh(word: string): string {
  if (/^[A-Za-z0-9_.,:=/@%+-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `column:key=value` words for the keys of a map column. */
function mapWords(column: string, m: Readonly<Record<string, string>>): string[] {
  return Object.entries(m)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => sh(`${column}:${k}=${dbValue(v)}`));
}

/** Lines longer than this are continued (`\\`) between words. */
const WIDTH = 100;

/** One `--`-separated command, its words wrapped at {@link WIDTH}. */
function wrap(first: string, words: readonly string[]): string {
  let out = "";
  let line = first;
  for (const w of words) {
    if (line.trim() !== "" && line.length + 1 + w.length > WIDTH - 2) {
      out += `${line} \\\n`;
      line = `     ${w}`;
    } else {
      line += line.endsWith(" ") || line === "" ? w : ` ${w}`;
    }
  }
  return out + line;
}

/** An ovs-vsctl command line of `--`-separated commands, one per line. */
function vsctl(commands: readonly (readonly string[])[]): string {
  return `${commands.map((c, i) => wrap(i === 0 ? "ovs-vsctl " : "  -- ", c)).join(" \\\n")}\n`;
}

function bridgeCommands(d: DesiredBridge): string {
  const cmds: string[][] = [["--may-exist", "add-br", sh(d.name)]];
  if (d.failMode !== undefined) cmds.push(["set-fail-mode", sh(d.name), d.failMode]);
  const set: string[] = [];
  if (d.datapathType !== undefined) set.push(sh(`datapath_type=${dbValue(d.datapathType)}`));
  if (d.protocols !== undefined) set.push(sh(`protocols=${d.protocols.map(dbValue).join(",")}`));
  set.push(...mapWords("other_config", d.otherConfig));
  if (set.length > 0) cmds.push(["set", "bridge", sh(d.name), ...set]);
  return vsctl(cmds);
}

function portCommands(bridge: string, p: DesiredPort): string {
  const cmds: string[][] = [["--may-exist", "add-port", sh(bridge), sh(p.name)]];
  const port: string[] = [];
  if (p.tag !== undefined) port.push(`tag=${p.tag}`);
  port.push(...mapWords("external_ids", p.externalIds));
  if (port.length > 0) cmds.push(["set", "port", sh(p.name), ...port]);
  const iface: string[] = [];
  if (p.iface.type !== undefined && p.iface.type !== "")
    iface.push(sh(`type=${dbValue(p.iface.type)}`));
  if (p.iface.options !== undefined) iface.push(...mapWords("options", p.iface.options));
  if (p.iface.ofportRequest !== undefined) iface.push(`ofport_request=${p.iface.ofportRequest}`);
  if (p.iface.mtuRequest !== undefined) iface.push(`mtu_request=${p.iface.mtuRequest}`);
  iface.push(...mapWords("external_ids", p.iface.externalIds));
  if (iface.length > 0) cmds.push(["set", "interface", sh(p.name), ...iface]);
  return vsctl(cmds);
}

export interface ScriptOptions {
  /** Datapath ids by bridge, for the section comments. */
  readonly header?: string;
}

export function renderVsctlScript(plan: PlumbPlan, options: ScriptOptions = {}): string {
  let out = "#!/bin/sh\n";
  out += `# Open vSwitch plumbing of host ${plan.host} for dvrflow (\`dvrflow plumb\`).\n`;
  if (options.header !== undefined) out += `# ${options.header}\n`;
  out += "# Every command is idempotent; run as root on the host.\n";
  for (const n of plan.notes) out += `# Note: ${n}.\n`;
  out += "set -e\n";
  for (const d of plan.bridges) {
    out += `\n# ${d.name}\n`;
    out += bridgeCommands(d);
    for (const p of d.ports) out += portCommands(d.name, p);
  }
  // The address before the controllers: the OpenFlow connection usually
  // runs over the underlay, and a first attempt that fails waits out OVS's
  // reconnect backoff (up to 8 s) before the bridges get their flows.
  if (plan.hostCommands.length > 0) {
    out +=
      "\n# The underlay address: OVS userspace VXLAN terminates only on an IP of its own netdev bridge.\n";
    for (const c of plan.hostCommands) out += `${c}\n`;
  }
  const withController = plan.bridges.filter((d) => d.controller !== undefined);
  if (withController.length > 0) {
    out += "\n# Controllers last: OVS flushes a bridge's flows when its first controller is set.\n";
    for (const d of withController) {
      out += `ovs-vsctl set-controller ${sh(d.name)} ${sh(d.controller!)}\n`;
    }
  } else {
    out += "\n# No controller target given (--controller): controllers left as they are.\n";
  }
  return out;
}
