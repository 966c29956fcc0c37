/**
 * `ofproto/trace` for our switch: the path of one packet through the tables
 * (and across patch ports into other bridges), in the layout of
 * `ovs-appctl ofproto/trace` (ecosystem.md "ovs-ofctl and ofproto/trace"):
 *
 *     Flow: udp,in_port=5,vlan_tci=0x0000,dl_src=...
 *
 *     bridge("br0")
 *     -------------
 *      0. in_port=5, priority 9
 *         goto_table:25
 *     25. in_port=5,dl_src=fa:16:3e:00:00:05, priority 2
 *         push_vlan:0x8100
 *         ...
 *
 *     Final flow: udp,metadata=0x2,in_port=5,...
 *     Datapath actions: set(eth(src=...,dst=...)),set(ipv4(ttl=63)),2
 *
 * Rules copied from OVS 3.1's output: table numbers right-aligned in two
 * columns; the hit flow's match as dump-flows prints it, then `priority N`
 * and `cookie 0x..` when non-zero; each action on its own line 4 columns
 * in; notes (`>> skipping output to input port`, `-> action set is: ...`)
 * 5 columns in; a nested table visit (resubmit/goto that is not the last
 * thing to do) starts at its caller's action column and indents its actions
 * 8 further; `Final flow: unchanged` when the
 * packet was not modified. Datapath actions are the header commits before
 * each output, as OVS's `commit_odp_actions` emits them (set(eth(...)),
 * pop_vlan/push_vlan(vid=..,pcp=..), set(ipv4(...)), set(udp/tcp(...)),
 * set(arp(...)), set(tunnel(...))), then the port.
 *
 * Differences from OVS, on purpose: port numbers in `Datapath actions` are
 * OpenFlow port numbers (OVS prints its datapath's own numbering); no
 * `Megaflow:` line (we do not compute megaflows); packet-ins print as
 * `controller(reason=N)`.
 *
 * The walk is a dry run: counters, learn() and packet-ins are left alone and
 * nothing is transmitted; NORMAL's MAC learning does happen, because OVS's
 * ofproto/trace learns too (checked differentially).
 */
import { formatAction } from "../codec/text/actions-format.js";
import { formatMatch } from "../codec/text/flow.js";
import { OFP_DEFAULT_PRIORITY } from "../codec/text/match-format.js";
import { ETH_TYPE, IP_PROTO, VLAN } from "../codec/packet/constants.js";
import { FK, FlowKey } from "../codec/packet/flow-key.js";
import { parseFrame } from "../codec/packet/parse.js";
import { ipv4ToString } from "../codec/packet/addr.js";
import type { Bridge } from "./bridge.js";
import type { FlowEntry } from "./flow-entry.js";
import { formatFlowKey } from "./flow-format.js";
import { setOpFormatter, type StagedTunnel, type Tracer } from "./pipeline.js";
import type { PacketBuffer } from "./packet.js";
import type { Port } from "./ports.js";
import type { Op } from "./actions/compile.js";

setOpFormatter((op: Op) => formatAction(op.action));

export interface TraceOptions {
  /** Time for timeouts and MAC ageing (default 0). */
  readonly nowMs?: number;
  /** Tunnel metadata, as if the packet had arrived on a tunnel port. */
  readonly tunnel?: { readonly tunId?: bigint; readonly src?: number; readonly dst?: number };
}

/** One output the traced packet would make. */
export interface TracedOutput {
  readonly bridge: string;
  readonly port: number;
  readonly frame: Uint8Array;
  readonly tunnel: StagedTunnel | null;
}

export interface TraceResult {
  readonly text: string;
  /** (bridge, table) of every flow lookup, in order, misses included. */
  readonly tables: readonly { readonly bridge: string; readonly table: number; readonly hit: boolean }[];
  readonly outputs: readonly TracedOutput[];
  readonly datapathActions: string;
  /** The key at the end of the walk (a copy). */
  readonly finalKey: FlowKey;
  /** The walk failed (recursion too deep, ...); OVS then drops the packet. */
  readonly error: string | null;
}

/**
 * OVS's trace layout: a table visited at nesting level L starts where its
 * caller's actions start (column 8L-4, 0 at the top); its own actions sit at
 * column 8L+4 and notes one column further.
 */
const tablePad = (level: number): string => " ".repeat(level <= 0 ? 0 : 8 * level - 4);
const actionPad = (level: number): string => " ".repeat(8 * Math.max(0, level) + 4);

function hex2(v: number): string {
  return (v & 0xff).toString(16).padStart(2, "0");
}

function mac(w: Uint32Array, hi: number): string {
  const h = w[hi]!;
  const l = w[hi + 1]!;
  return [h >>> 8, h, l >>> 24, l >>> 16, l >>> 8, l].map(hex2).join(":");
}

class TextTracer implements Tracer {
  readonly lines: string[] = [];
  readonly tables: { bridge: string; table: number; hit: boolean }[] = [];
  readonly outputs: TracedOutput[] = [];
  readonly dp: string[] = [];
  readonly base = new FlowKey();
  private currentBridge = "";
  errorText: string | null = null;

  bridge(br: Bridge, indent: number): void {
    const head = `bridge("${br.name}")`;
    this.currentBridge = br.name;
    this.lines.push("");
    this.lines.push(tablePad(indent) + head);
    this.lines.push(tablePad(indent) + "-".repeat(head.length));
  }

  table(tableId: number, entry: FlowEntry | null, indent: number): void {
    this.tables.push({ bridge: this.currentBridge, table: tableId, hit: entry !== null });
    let desc: string;
    if (entry === null) {
      desc = "No match.";
    } else {
      const m = formatMatch(entry.match, OFP_DEFAULT_PRIORITY);
      desc = m === "" ? `priority ${entry.priority}` : `${m}, priority ${entry.priority}`;
      if (entry.cookie !== 0n) desc += `, cookie 0x${entry.cookie.toString(16)}`;
    }
    this.lines.push(`${tablePad(indent)}${String(tableId).padStart(2)}. ${desc}`);
  }

  step(text: string, indent: number): void {
    if (text.startsWith("--.")) this.lines.push(tablePad(indent) + text);
    else this.lines.push(actionPad(indent) + text);
  }

  op(op: Op, indent: number): void {
    this.step(formatAction(op.action), indent);
  }

  note(text: string, indent: number): void {
    this.lines.push(`${actionPad(indent)} ${text}`);
  }

  output(br: Bridge, port: Port, key: FlowKey, tunnel: StagedTunnel | null, pkt?: PacketBuffer): void {
    this.commit(key);
    if (tunnel !== null) {
      this.dp.push(
        `set(tunnel(tun_id=0x${((BigInt(tunnel.tunIdHi >>> 0) << 32n) | BigInt(tunnel.tunIdLo >>> 0)).toString(16)},` +
          `src=${ipv4ToString(tunnel.src)},dst=${ipv4ToString(tunnel.dst)}))`,
      );
    }
    this.dp.push(String(port.no));
    this.outputs.push({
      bridge: br.name,
      port: port.no,
      frame: pkt === undefined ? new Uint8Array(0) : pkt.toBytes(),
      tunnel: tunnel === null ? null : { ...tunnel },
    });
  }

  controller(reason: number): void {
    this.dp.push(`controller(reason=${reason})`);
  }

  error(text: string): void {
    this.errorText = text;
  }

  /** OVS `commit_odp_actions`: header differences since the last commit, in OVS's order. */
  private commit(key: FlowKey): void {
    const w = key.w;
    const b = this.base.w;
    const eth: string[] = [];
    if (w[FK.ETH_SRC_HI] !== b[FK.ETH_SRC_HI] || w[FK.ETH_SRC_LO] !== b[FK.ETH_SRC_LO]) {
      eth.push(`src=${mac(w, FK.ETH_SRC_HI)}`);
    }
    if (w[FK.ETH_DST_HI] !== b[FK.ETH_DST_HI] || w[FK.ETH_DST_LO] !== b[FK.ETH_DST_LO]) {
      eth.push(`dst=${mac(w, FK.ETH_DST_HI)}`);
    }
    if (eth.length > 0) this.dp.push(`set(eth(${eth.join(",")}))`);
    const tci = w[FK.VLAN_TCI]!;
    const btci = b[FK.VLAN_TCI]!;
    if (tci !== btci) {
      if ((btci & VLAN.CFI) !== 0) this.dp.push("pop_vlan");
      if ((tci & VLAN.CFI) !== 0) {
        const tpid = w[FK.VLAN_TPID]!;
        const tp = tpid !== ETH_TYPE.VLAN && tpid !== 0 ? `tpid=0x${tpid.toString(16)},` : "";
        this.dp.push(`push_vlan(${tp}vid=${tci & VLAN.VID_MASK},pcp=${tci >>> 13})`);
      }
    }
    const et = w[FK.ETH_TYPE];
    // OVS `commit_set_nw_action`: "Check if 'flow' really has an L3 header" (nw_proto != 0).
    const l3 = w[FK.NW_PROTO] !== 0;
    if (et === ETH_TYPE.IPV4 && l3) {
      const ip: string[] = [];
      if (w[FK.NW_SRC] !== b[FK.NW_SRC]) ip.push(`src=${ipv4ToString(w[FK.NW_SRC]!)}`);
      if (w[FK.NW_DST] !== b[FK.NW_DST]) ip.push(`dst=${ipv4ToString(w[FK.NW_DST]!)}`);
      if (w[FK.NW_TOS] !== b[FK.NW_TOS]) ip.push(`tos=0x${w[FK.NW_TOS]!.toString(16)}`);
      if (w[FK.NW_TTL] !== b[FK.NW_TTL]) ip.push(`ttl=${w[FK.NW_TTL]}`);
      if (ip.length > 0) this.dp.push(`set(ipv4(${ip.join(",")}))`);
    } else if (et === ETH_TYPE.IPV6 && l3) {
      if (w[FK.NW_TTL] !== b[FK.NW_TTL]) this.dp.push(`set(ipv6(hlimit=${w[FK.NW_TTL]}))`);
    } else if (et === ETH_TYPE.ARP) {
      const arp: string[] = [];
      if (w[FK.ARP_SPA] !== b[FK.ARP_SPA]) arp.push(`sip=${ipv4ToString(w[FK.ARP_SPA]!)}`);
      if (w[FK.ARP_TPA] !== b[FK.ARP_TPA]) arp.push(`tip=${ipv4ToString(w[FK.ARP_TPA]!)}`);
      if (w[FK.ARP_OP] !== b[FK.ARP_OP]) arp.push(`op=${w[FK.ARP_OP]}`);
      if (w[FK.ARP_SHA_HI] !== b[FK.ARP_SHA_HI] || w[FK.ARP_SHA_LO] !== b[FK.ARP_SHA_LO]) {
        arp.push(`sha=${mac(w, FK.ARP_SHA_HI)}`);
      }
      if (w[FK.ARP_THA_HI] !== b[FK.ARP_THA_HI] || w[FK.ARP_THA_LO] !== b[FK.ARP_THA_LO]) {
        arp.push(`tha=${mac(w, FK.ARP_THA_HI)}`);
      }
      if (arp.length > 0) this.dp.push(`set(arp(${arp.join(",")}))`);
    }
    const proto = w[FK.NW_PROTO];
    if ((et === ETH_TYPE.IPV4 || et === ETH_TYPE.IPV6) && (proto === IP_PROTO.TCP || proto === IP_PROTO.UDP)) {
      const l4: string[] = [];
      if (w[FK.TP_SRC] !== b[FK.TP_SRC]) l4.push(`src=${w[FK.TP_SRC]}`);
      if (w[FK.TP_DST] !== b[FK.TP_DST]) l4.push(`dst=${w[FK.TP_DST]}`);
      if (l4.length > 0) this.dp.push(`set(${proto === IP_PROTO.TCP ? "tcp" : "udp"}(${l4.join(",")}))`);
    }
    this.base.copyFrom(key);
  }
}

const ERROR_TEXT: Readonly<Record<string, string>> = {
  recursion_too_deep: "Recursion too deep",
  too_many_resubmits: "Too many resubmits",
  no_buffer_space: "No buffer space",
};

/** Traces `frame` arriving on `inPort` of `bridge`; full result. */
export function traceDetailed(bridge: Bridge, frame: Uint8Array, inPort: number, options: TraceOptions = {}): TraceResult {
  const x = bridge.datapath.xlate;
  const t = new TextTracer();
  x.pkt.load(frame);
  const key = x.key;
  key.clear();
  key.w[FK.IN_PORT] = inPort >>> 0;
  const tun = options.tunnel;
  if (tun !== undefined) {
    const id = tun.tunId ?? 0n;
    key.w[FK.TUN_ID_HI] = Number((id >> 32n) & 0xffffffffn);
    key.w[FK.TUN_ID_LO] = Number(id & 0xffffffffn);
    key.w[FK.TUN_SRC] = tun.src ?? 0;
    key.w[FK.TUN_DST] = tun.dst ?? 0;
  }
  parseFrame(x.pkt.frame(), key);
  const initial = key.clone();
  t.base.copyFrom(key);
  const flowLine = `Flow: ${formatFlowKey(key)}`;
  const prevTrace = x.trace;
  const prevDry = x.dryRun;
  x.trace = {
    bridge: (br, i) => t.bridge(br, i),
    table: (id, e, i) => t.table(id, e, i),
    step: (s, i) => t.step(s, i),
    op: (o, i) => t.op(o, i),
    note: (s, i) => t.note(s, i),
    output: (br, port, k, tunnel) => t.output(br, port, k, tunnel, x.pkt),
    controller: (r) => t.controller(r),
    error: (e) => t.error(e),
  };
  x.dryRun = true;
  try {
    x.run(bridge, options.nowMs ?? 0);
  } finally {
    x.trace = prevTrace;
    x.dryRun = prevDry;
  }
  const finalKey = x.key.clone();
  const lines = [flowLine, ...t.lines, ""];
  // OVS compares whole flows, actset_output included (it is not printed).
  const unchanged = finalKey.equals(initial) && x.actsetOutput < 0;
  lines.push(`Final flow: ${unchanged ? "unchanged" : formatFlowKey(finalKey)}`);
  const err = t.errorText;
  const dpActions = err !== null || t.dp.length === 0 ? "drop" : t.dp.join(",");
  lines.push(`Datapath actions: ${dpActions}`);
  if (err !== null) lines.push(`Translation failed (${ERROR_TEXT[err] ?? err}), packet is dropped.`);
  return {
    text: lines.join("\n"),
    tables: t.tables,
    outputs: err !== null ? [] : t.outputs,
    datapathActions: dpActions,
    finalKey,
    error: err,
  };
}

/** `ovs-appctl ofproto/trace`-style text for `frame` arriving on `inPort` of `bridge`. */
export function trace(bridge: Bridge, frame: Uint8Array, inPort: number, options: TraceOptions = {}): string {
  return traceDetailed(bridge, frame, inPort, options).text;
}
