/**
 * The switch's configuration: bridges, their ports and OpenFlow endpoints,
 * from a small YAML file (`dvrflow switch --config switch.yaml`) and/or
 * command-line flags, in OVSDB's vocabulary (Bridge.fail_mode, Interface.type,
 * options:remote_ip/key/peer/dst_port, Port.tag/trunks):
 *
 * ```yaml
 * vxlan: { local_ip: 127.0.0.11, port: 4789 }   # underlay endpoint for all tunnel ports
 * probe_interval: 5                              # seconds (OVS inactivity_probe)
 * max_backoff: 8                                 # seconds
 * bridges:
 *   - name: br-int
 *     dpid: 0x1
 *     controller: tcp:127.0.0.1:6653             # or a list
 *     listen: ptcp:6654:127.0.0.1                # or a list; punix:/run/br-int.mgmt
 *     fail_mode: secure                          # or standalone
 *     flows: br-int.flows                        # optional, ovs-ofctl add-flows syntax
 *     ports:
 *       - { name: veth-a, type: system, ofport: 1, tag: 10 }
 *       - { name: patch-tun, type: patch, ofport: 2, peer: patch-int }
 *   - name: br-tun
 *     ports:
 *       - { name: patch-int, type: patch, ofport: 1, peer: patch-tun }
 *       - { name: vxlan-c2, type: vxlan, ofport: 2, remote_ip: 127.0.0.12, key: flow }
 *       - { name: cap0, type: pcap, rx_pcap: in.pcap, tx_pcap: out.pcap }
 *       - { name: tapvm1, type: udp, remote: 127.0.0.1:40000 }   # frames over UDP (io/udp-tap.ts)
 * ```
 *
 * `peer` names the peer patch port (OVS options:peer), found in any bridge;
 * `BRIDGE/PORT` disambiguates. A system port's Linux device is `interface`,
 * default its name. Relative file paths are resolved against the YAML
 * file's directory. Strict: unknown keys are errors that name the key.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ipv4FromString } from "../../codec/packet/addr.js";
import { VXLAN_UDP_PORT } from "../../codec/packet/constants.js";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import type { Bridge } from "../bridge.js";
import { parseUdpEndpoint } from "../io/udp-tap.js";
import type { Datapath } from "../datapath.js";
import { MAX_OFPORT, type PortSpec } from "../ports.js";
import type { FailMode } from "./fail-mode.js";
import { parseActiveTarget, parsePassiveTarget } from "./targets.js";

export const PORT_TYPES = ["internal", "patch", "vxlan", "system", "pcap", "udp"] as const;
export type PortType = (typeof PORT_TYPES)[number];

export interface PortConfig {
  readonly name: string;
  readonly type: PortType;
  readonly ofport?: number;
  readonly peer?: string;
  readonly remoteIp?: string;
  readonly localIp?: string;
  readonly key?: "flow" | number;
  readonly dstPort?: number;
  readonly tag?: number;
  readonly trunks?: readonly number[];
  readonly interface?: string;
  readonly rxPcap?: string;
  readonly txPcap?: string;
  /** udp ports: the peer `HOST:PORT` frames go to and are accepted from. */
  readonly remote?: string;
  /** udp ports: the address to bind, `HOST:PORT` (default 127.0.0.1:0). */
  readonly local?: string;
}

export interface BridgeConfig {
  readonly name: string;
  readonly dpid?: bigint;
  readonly controllers: readonly string[];
  readonly listen: readonly string[];
  readonly failMode: FailMode;
  readonly flows?: string;
  readonly ports: readonly PortConfig[];
}

export interface SwitchConfig {
  readonly bridges: readonly BridgeConfig[];
  readonly vxlan: { readonly localIp?: string; readonly port: number };
  /** Seconds; 0 disables keep-alive. */
  readonly probeInterval: number;
  /** Seconds. */
  readonly maxBackoff: number;
}

const ipv4 = z.string().refine((s) => {
  try {
    ipv4FromString(s);
    return true;
  } catch {
    return false;
  }
}, "must be a dotted IPv4 address");

const oneOrMany = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (v === undefined ? [] : typeof v === "string" ? [v] : v));

const intIn = (min: number, max: number) => z.number().int().min(min).max(max);

const udpEndpoint = z.string().refine((s) => {
  try {
    parseUdpEndpoint(s);
    return true;
  } catch {
    return false;
  }
}, "must be HOST:PORT");

const portSchema = z
  .object({
    name: z.string().min(1).max(15),
    type: z.enum(PORT_TYPES).default("system"),
    ofport: intIn(1, MAX_OFPORT).optional(),
    peer: z.string().optional(),
    remote_ip: z.union([ipv4, z.literal("flow")]).optional(),
    local_ip: ipv4.optional(),
    key: z.union([z.literal("flow"), intIn(0, 0xffffff)]).optional(),
    dst_port: intIn(1, 65535).optional(),
    tag: intIn(1, 4095).optional(),
    trunks: z.array(intIn(0, 4095)).optional(),
    interface: z.string().optional(),
    rx_pcap: z.string().optional(),
    tx_pcap: z.string().optional(),
    remote: udpEndpoint.optional(),
    local: udpEndpoint.optional(),
  })
  .strict();

const dpidSchema = z.union([z.number().int().min(0), z.string()]).transform((v, ctx) => {
  try {
    const b = BigInt(v);
    if (b < 0n || b > 0xffffffffffffffffn) throw new Error("range");
    return b;
  } catch {
    ctx.addIssue({ code: "custom", message: "must be a 64-bit datapath id (e.g. 0x1)" });
    return z.NEVER;
  }
});

const bridgeSchema = z
  .object({
    name: z.string().min(1).max(15),
    dpid: dpidSchema.optional(),
    controller: oneOrMany,
    listen: oneOrMany,
    fail_mode: z.enum(["secure", "standalone"]).default("secure"),
    flows: z.string().optional(),
    ports: z.array(portSchema).default([]),
  })
  .strict();

const fileSchema = z
  .object({
    bridges: z.array(bridgeSchema).min(1),
    vxlan: z
      .object({ local_ip: ipv4.optional(), port: intIn(1, 65535).default(VXLAN_UDP_PORT) })
      .strict()
      .default({ port: VXLAN_UDP_PORT }),
    probe_interval: z.number().min(0).default(5),
    max_backoff: z.number().min(1).default(8),
  })
  .strict();

type PortInput = z.infer<typeof portSchema>;

function portFromInput(p: PortInput, baseDir: string): PortConfig {
  const file = (f: string | undefined): string | undefined =>
    f === undefined ? undefined : resolve(baseDir, f);
  return {
    name: p.name,
    type: p.type,
    ofport: p.ofport,
    peer: p.peer,
    remoteIp: p.remote_ip,
    localIp: p.local_ip,
    key: p.key,
    dstPort: p.dst_port,
    tag: p.tag,
    trunks: p.trunks,
    interface: p.interface,
    rxPcap: file(p.rx_pcap),
    txPcap: file(p.tx_pcap),
    remote: p.remote,
    local: p.local,
  };
}

/** Parses and validates a YAML document; errors name the path (`bridges[0].ports[1].type`). */
export function parseSwitchConfig(text: string, baseDir = "."): SwitchConfig {
  const raw: unknown = parseYaml(text);
  const r = fileSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map(
      (i) =>
        `${i.path
          .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
          .join("")
          .replace(/^\./, "")}: ${i.message}`,
    );
    throw new Error(`invalid switch config:\n  ${lines.join("\n  ")}`);
  }
  const f = r.data;
  const cfg: SwitchConfig = {
    bridges: f.bridges.map((b) => ({
      name: b.name,
      dpid: b.dpid,
      controllers: b.controller,
      listen: b.listen,
      failMode: b.fail_mode,
      flows: b.flows === undefined ? undefined : resolve(baseDir, b.flows),
      ports: b.ports.map((p) => portFromInput(p, baseDir)),
    })),
    vxlan: { localIp: f.vxlan.local_ip, port: f.vxlan.port },
    probeInterval: f.probe_interval,
    maxBackoff: f.max_backoff,
  };
  checkSwitchConfig(cfg);
  return cfg;
}

export function loadSwitchConfig(path: string): SwitchConfig {
  return parseSwitchConfig(readFileSync(path, "utf8"), dirname(resolve(path)));
}

/**
 * `--port` flag syntax (ecosystem.md §4.1): `[OFPORT=]NAME[:OPT=V,OPT=V...]`,
 * e.g. `1=veth-a`, `10=vxlan-c2:remote_ip=127.0.0.12,key=flow`,
 * `2=patch-tun:peer=patch-int`, `3=cap0:type=pcap,rx_pcap=in.pcap`. The type
 * is `type=` if given, else vxlan with remote_ip, patch with peer, else
 * system.
 */
export function parsePortFlag(text: string): PortConfig {
  const m = /^(?:(\d+)=)?([^:=,]+)(?::(.*))?$/.exec(text);
  if (m === null) throw new Error(`--port ${text}: expected [OFPORT=]NAME[:OPT=VALUE,...]`);
  const opts: Record<string, string> = {};
  for (const kv of (m[3] ?? "").split(",")) {
    if (kv === "") continue;
    const i = kv.indexOf("=");
    if (i <= 0) throw new Error(`--port ${text}: option "${kv}" is not OPT=VALUE`);
    opts[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const input: Record<string, unknown> = { name: m[2] };
  if (m[1] !== undefined) input.ofport = Number(m[1]);
  for (const [k, v] of Object.entries(opts)) {
    if (k === "tag" || k === "dst_port" || k === "ofport") input[k] = Number(v);
    else if (k === "key") input[k] = v === "flow" ? "flow" : Number(v);
    else if (k === "trunks") input[k] = v.split(/[;:]/).map(Number);
    else input[k] = v;
  }
  if (input.type === undefined) {
    input.type =
      input.remote_ip !== undefined ? "vxlan" : input.peer !== undefined ? "patch" : "system";
  }
  const r = portSchema.safeParse(input);
  if (!r.success) {
    throw new Error(
      `--port ${text}: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  return portFromInput(r.data, process.cwd());
}

/** Cross-object rules: unique names, patch peers that exist and name each other back, vxlan needs remote_ip. */
export function checkSwitchConfig(cfg: SwitchConfig): void {
  const errors: string[] = [];
  const names = new Set<string>();
  for (const b of cfg.bridges) {
    if (names.has(b.name)) errors.push(`bridge ${b.name}: defined twice`);
    names.add(b.name);
    const portNames = new Set<string>([b.name]);
    const ofports = new Set<number>();
    for (const p of b.ports) {
      if (portNames.has(p.name)) errors.push(`bridge ${b.name}: port ${p.name} defined twice`);
      portNames.add(p.name);
      if (p.ofport !== undefined) {
        if (ofports.has(p.ofport)) errors.push(`bridge ${b.name}: ofport ${p.ofport} used twice`);
        ofports.add(p.ofport);
      }
      if (p.type === "vxlan" && p.remoteIp === undefined)
        errors.push(`bridge ${b.name}: vxlan port ${p.name} needs remote_ip`);
      if (p.type === "udp" && p.remote === undefined)
        errors.push(`bridge ${b.name}: udp port ${p.name} needs remote`);
      if (p.type === "patch") {
        const peer = p.peer === undefined ? undefined : findPeer(cfg, p.peer);
        if (peer === undefined) errors.push(`bridge ${b.name}: patch port ${p.name} has no peer`);
        else if (peer.port.type !== "patch" || findPeer(cfg, peer.port.peer ?? "")?.port !== p)
          errors.push(`bridge ${b.name}: patch port ${p.name}'s peer does not name it back`);
      }
    }
    try {
      for (const c of b.controllers) parseActiveTarget(c);
      for (const l of b.listen) parsePassiveTarget(l);
    } catch (err) {
      errors.push(`bridge ${b.name}: ${(err as Error).message}`);
    }
  }
  if (errors.length > 0) throw new Error(`invalid switch config:\n  ${errors.join("\n  ")}`);
}

/** The port a patch `peer` names: "PORT" (searched in every bridge) or "BRIDGE/PORT". */
export function findPeer(
  cfg: SwitchConfig,
  peer: string,
): { bridge: BridgeConfig; port: PortConfig } | undefined {
  const slash = peer.indexOf("/");
  const wantBridge = slash < 0 ? undefined : peer.slice(0, slash);
  const wantPort = slash < 0 ? peer : peer.slice(slash + 1);
  for (const b of cfg.bridges) {
    if (wantBridge !== undefined && b.name !== wantBridge) continue;
    for (const p of b.ports) if (p.name === wantPort) return { bridge: b, port: p };
  }
  return undefined;
}

/** The pure switch's PortSpec for a configured port (system, pcap and udp ports are sinks the I/O layer serves). */
export function portSpec(cfg: SwitchConfig, p: PortConfig): PortSpec {
  const base = {
    name: p.name,
    ofport: p.ofport,
    tag: p.tag,
    trunks: p.trunks,
  };
  switch (p.type) {
    case "internal":
      return { ...base, kind: "internal" };
    case "system":
    case "pcap":
    case "udp":
      return { ...base, kind: "sink" };
    case "patch": {
      const peer = findPeer(cfg, p.peer ?? "");
      if (peer === undefined) throw new Error(`patch port ${p.name}: no peer`);
      return { ...base, kind: "patch", peerBridge: peer.bridge.name, peerPort: peer.port.name };
    }
    case "vxlan": {
      const local = p.localIp ?? cfg.vxlan.localIp;
      return {
        ...base,
        kind: "vxlan",
        remoteIp:
          p.remoteIp === undefined || p.remoteIp === "flow" ? "flow" : ipv4FromString(p.remoteIp),
        localIp: local === undefined ? undefined : ipv4FromString(local),
        key: p.key ?? 0,
        dstPort: p.dstPort ?? cfg.vxlan.port,
      };
    }
  }
}

/** Adds every configured bridge and port to `dp`; returns the bridges by name. */
export function buildBridges(cfg: SwitchConfig, dp: Datapath, nowMs = 0): Map<string, Bridge> {
  const out = new Map<string, Bridge>();
  for (const b of cfg.bridges) {
    const br = dp.addBridge({ name: b.name, datapathId: b.dpid }, nowMs);
    for (const p of b.ports) br.addPort(portSpec(cfg, p), nowMs);
    out.set(b.name, br);
  }
  dp.linkPatches();
  return out;
}

/**
 * Applies flows in `ovs-ofctl add-flows` file syntax (one per line, `#`
 * comments) to `br`. Throws with the line number on the first bad line,
 * before anything was applied, or on the first flow the switch refuses.
 */
export function loadFlowsText(br: Bridge, text: string, nowMs = 0, source = "flows"): number {
  const mods = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t === "" || t.startsWith("#")) continue;
    try {
      mods.push({ line: i + 1, msg: flowModMessage(parseFlow(t)) });
    } catch (err) {
      throw new Error(`${source}:${i + 1}: ${(err as Error).message}`);
    }
  }
  for (const m of mods) {
    try {
      br.flowMod(m.msg, nowMs);
    } catch (err) {
      throw new Error(`${source}:${m.line}: ${(err as Error).message}`);
    }
  }
  return mods.length;
}
