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
 * Rules copied from OVS 3.1 (ofproto-dpif-trace.c, and checked against its
 * output): the walk is a tree — bridge, table and action-set nodes hold the
 * actions, notes and nested tables that happen while they are current — and
 * printed with OVS's indentation rule (see {@link printTree}); table numbers
 * right-aligned in two columns; the hit flow's match as dump-flows prints it,
 * then `priority N` and `cookie 0x..` when non-zero; `Final flow: unchanged` when the
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
import { setOpFormatter, type StagedTunnel } from "./pipeline.js";
import type { PacketBuffer } from "./packet.js";
import type { Port } from "./ports.js";
import type { Op } from "./actions/compile.js";

setOpFormatter((op: Op) => formatAction(op.action));

export interface TraceOptions {
  /** Time for timeouts and MAC ageing (default 0). */
  readonly nowMs?: number;
  /** Tunnel metadata, as if the packet had arrived on a tunnel port. */
  readonly tunnel?: { readonly tunId?: bigint; readonly src?: number; readonly dst?: number };
  /**
   * Extra text for the printed trace (ovn-detrace's idea: name what each flow
   * is for). Absent, the output is OVS's exactly.
   */
  readonly annotate?: TraceAnnotator;
}

/** Hooks that add lines of our own to the trace text; each may return undefined for nothing. */
export interface TraceAnnotator {
  /** Appended to the `bridge("NAME")` line (e.g. ` @ compute-1`); the rule under it grows to match. */
  readonly bridge?: (bridge: Bridge) => string | undefined;
  /**
   * A line printed under a table line, before the flow's actions, for the
   * flow hit (`entry`) or the miss (`entry` null) in table `tableId`.
   */
  readonly flow?: (bridge: Bridge, tableId: number, entry: FlowEntry | null) => string | undefined;
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
  readonly tables: readonly {
    readonly bridge: string;
    readonly table: number;
    readonly hit: boolean;
  }[];
  readonly outputs: readonly TracedOutput[];
  readonly datapathActions: string;
  /** The key at the end of the walk (a copy). */
  readonly finalKey: FlowKey;
  /** The walk failed (recursion too deep, ...); OVS then drops the packet. */
  readonly error: string | null;
}

function hex2(v: number): string {
  return (v & 0xff).toString(16).padStart(2, "0");
}

function mac(w: Uint32Array, hi: number): string {
  const h = w[hi]!;
  const l = w[hi + 1]!;
  return [h >>> 8, h, l >>> 24, l >>> 16, l >>> 8, l].map(hex2).join(":");
}

/** A node of OVS's trace tree (`struct oftrace_node`). */
interface TraceNode {
  readonly kind: "bridge" | "table" | "action" | "note";
  readonly text: string;
  readonly subs: TraceNode[];
}

/**
 * OVS `oftrace_node_print_details`: a node is indented by (level + more) * 4
 * where `more` is 1 for leaves (actions, notes, buckets) and for any node that
 * is not the last of its list; its children print at level + 2 * more. A
 * bridge node is preceded by a blank line and followed by a dashed rule.
 */
function printTree(out: string[], nodes: readonly TraceNode[], level: number): void {
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    const terminal = n.kind === "action" || n.kind === "note";
    const more = i < nodes.length - 1 || terminal ? 1 : 0;
    const pad = " ".repeat((level + more) * 4);
    if (n.kind === "bridge") {
      out.push("");
      out.push(pad + n.text);
      out.push(pad + "-".repeat(n.text.length));
    } else if (n.kind === "note") {
      out.push(`${pad} ${n.text}`);
    } else {
      out.push(pad + n.text);
    }
    printTree(out, n.subs, level + 2 * more);
  }
}

class TextTracer {
  readonly root: TraceNode[] = [];
  private cur: TraceNode[] = this.root;
  /** Lists to return to, with the bridge that was current before a bridge node opened. */
  private readonly stack: {
    list: TraceNode[];
    bridge: { name: string; obj: Bridge | null } | null;
  }[] = [];
  readonly tables: { bridge: string; table: number; hit: boolean }[] = [];
  readonly outputs: TracedOutput[] = [];
  readonly dp: string[] = [];
  readonly base = new FlowKey();
  private currentBridge = "";
  private currentBridgeObj: Bridge | null = null;
  errorText: string | null = null;

  constructor(private readonly annotate: TraceAnnotator | undefined) {}

  private open(
    kind: "bridge" | "table",
    text: string,
    prevBridge: { name: string; obj: Bridge | null } | null = null,
  ): void {
    const n: TraceNode = { kind, text, subs: [] };
    this.cur.push(n);
    this.stack.push({ list: this.cur, bridge: prevBridge });
    this.cur = n.subs;
  }

  private leaf(kind: "action" | "note", text: string): void {
    this.cur.push({ kind, text, subs: [] });
  }

  close(): void {
    const prev = this.stack.pop();
    if (prev === undefined) return;
    this.cur = prev.list;
    if (prev.bridge !== null) {
      this.currentBridge = prev.bridge.name;
      this.currentBridgeObj = prev.bridge.obj;
    }
  }

  bridge(br: Bridge): void {
    if (this.entryBridge === null) this.entryBridge = br.name;
    const prev = { name: this.currentBridge, obj: this.currentBridgeObj };
    this.currentBridge = br.name;
    this.currentBridgeObj = br;
    const label = this.annotate?.bridge?.(br) ?? "";
    this.open("bridge", `bridge("${br.name}")${label}`, prev);
  }

  /** The bridge the traced packet entered. */
  private entryBridge: string | null = null;

  table(tableId: number, entry: FlowEntry | null): void {
    this.tables.push({ bridge: this.currentBridge, table: tableId, hit: entry !== null });
    let desc: string;
    if (entry === null) {
      // OVS prints "No match." only when the miss rule is the traced bridge's
      // own (`rule == ctx->xin->ofproto->no_packet_in_rule`); a miss in a bridge
      // reached over a patch port shows that bridge's internal drop rule, which
      // matches reg0=0x2 at priority 0 in OVS's hidden table.
      desc = this.currentBridge === this.entryBridge ? "No match." : "reg0=0x2, priority 0";
    } else {
      const m = formatMatch(entry.match, OFP_DEFAULT_PRIORITY);
      desc = m === "" ? `priority ${entry.priority}` : `${m}, priority ${entry.priority}`;
      if (entry.cookie !== 0n) desc += `, cookie 0x${entry.cookie.toString(16)}`;
    }
    this.open("table", `${String(tableId).padStart(2)}. ${desc}`);
    const hook = this.annotate?.flow;
    if (hook !== undefined && this.currentBridgeObj !== null) {
      const line = hook(this.currentBridgeObj, tableId, entry);
      if (line !== undefined) this.leaf("action", line);
    }
  }

  actionSet(): void {
    this.open("table", "--. Executing action set:");
  }

  bucket(index: number): void {
    // OVS: an OFT_BUCKET node (a leaf for indentation) holding the bucket's actions.
    const n: TraceNode = { kind: "action", text: `bucket ${index}`, subs: [] };
    this.cur.push(n);
    this.stack.push({ list: this.cur, bridge: null });
    this.cur = n.subs;
  }

  step(text: string): void {
    this.leaf("action", text);
  }

  op(op: Op): void {
    this.leaf("action", formatAction(op.action));
  }

  note(text: string): void {
    this.leaf("note", text);
  }

  lines(): string[] {
    const out: string[] = [];
    printTree(out, this.root, 0);
    return out;
  }

  output(
    br: Bridge,
    port: Port,
    key: FlowKey,
    tunnel: StagedTunnel | null,
    pkt: PacketBuffer,
    written: Uint32Array,
  ): void {
    this.commit(key, written);
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
      frame: pkt.toBytes(),
      tunnel: tunnel === null ? null : { ...tunnel },
    });
  }

  controller(reason: number): void {
    this.dp.push(`controller(reason=${reason})`);
  }

  error(text: string): void {
    this.errorText = text;
  }

  /**
   * OVS `commit_odp_actions`: header differences since the last commit, in
   * OVS's order (ethernet, L3, L4, then VLAN). A field changed by a partial
   * write prints with its mask, as OVS's masked set actions do.
   */
  private commit(key: FlowKey, written: Uint32Array): void {
    const w = key.w;
    const b = this.base.w;
    const eth: string[] = [];
    if (w[FK.ETH_SRC_HI] !== b[FK.ETH_SRC_HI] || w[FK.ETH_SRC_LO] !== b[FK.ETH_SRC_LO]) {
      eth.push(`src=${mac(w, FK.ETH_SRC_HI)}${macMask(written, FK.ETH_SRC_HI)}`);
    }
    if (w[FK.ETH_DST_HI] !== b[FK.ETH_DST_HI] || w[FK.ETH_DST_LO] !== b[FK.ETH_DST_LO]) {
      eth.push(`dst=${mac(w, FK.ETH_DST_HI)}${macMask(written, FK.ETH_DST_HI)}`);
    }
    if (eth.length > 0) this.dp.push(`set(eth(${eth.join(",")}))`);
    const et = w[FK.ETH_TYPE];
    // OVS `commit_set_nw_action`: "Check if 'flow' really has an L3 header" (nw_proto != 0).
    const l3 = w[FK.NW_PROTO] !== 0;
    if (et === ETH_TYPE.IPV4 && l3) {
      const ip: string[] = [];
      if (w[FK.NW_SRC] !== b[FK.NW_SRC])
        ip.push(`src=${ipv4ToString(w[FK.NW_SRC]!)}${ipMask(written[FK.NW_SRC]!)}`);
      if (w[FK.NW_DST] !== b[FK.NW_DST])
        ip.push(`dst=${ipv4ToString(w[FK.NW_DST]!)}${ipMask(written[FK.NW_DST]!)}`);
      if (w[FK.NW_TOS] !== b[FK.NW_TOS]) {
        const m = written[FK.NW_TOS]! & 0xff;
        ip.push(
          `tos=0x${w[FK.NW_TOS]!.toString(16)}${m !== 0 && m !== 0xff ? `/0x${m.toString(16)}` : ""}`,
        );
      }
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
    if (
      (et === ETH_TYPE.IPV4 || et === ETH_TYPE.IPV6) &&
      (proto === IP_PROTO.TCP || proto === IP_PROTO.UDP)
    ) {
      const l4: string[] = [];
      if (w[FK.TP_SRC] !== b[FK.TP_SRC]) l4.push(`src=${w[FK.TP_SRC]}`);
      if (w[FK.TP_DST] !== b[FK.TP_DST]) l4.push(`dst=${w[FK.TP_DST]}`);
      if (l4.length > 0)
        this.dp.push(`set(${proto === IP_PROTO.TCP ? "tcp" : "udp"}(${l4.join(",")}))`);
    }
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
    this.base.copyFrom(key);
  }
}

/** "/ff:ff:ff:00:00:00" when only some bits of a MAC were written, else "". */
function macMask(written: Uint32Array, hi: number): string {
  const mh = written[hi]! & 0xffff;
  const ml = written[hi + 1]! >>> 0;
  if ((mh === 0 && ml === 0) || (mh === 0xffff && ml === 0xffffffff)) return "";
  return `/${[mh >>> 8, mh, ml >>> 24, ml >>> 16, ml >>> 8, ml].map(hex2).join(":")}`;
}

/** "/255.255.255.0" when only some bits of an IPv4 address were written, else "". */
function ipMask(m: number): string {
  const v = m >>> 0;
  return v === 0 || v === 0xffffffff ? "" : `/${ipv4ToString(v)}`;
}

const ERROR_TEXT: Readonly<Record<string, string>> = {
  recursion_too_deep: "Recursion too deep",
  too_many_resubmits: "Too many resubmits",
  no_buffer_space: "No buffer space",
};

/** Traces `frame` arriving on `inPort` of `bridge`; full result. */
export function traceDetailed(
  bridge: Bridge,
  frame: Uint8Array,
  inPort: number,
  options: TraceOptions = {},
): TraceResult {
  const x = bridge.datapath.xlate;
  const t = new TextTracer(options.annotate);
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
    bridge: (br) => t.bridge(br),
    table: (id, e) => t.table(id, e),
    actionSet: () => t.actionSet(),
    bucket: (i) => t.bucket(i),
    close: () => t.close(),
    step: (s) => t.step(s),
    op: (o) => t.op(o),
    note: (s) => t.note(s),
    output: (br, port, k, tunnel) => t.output(br, port, k, tunnel, x.pkt, x.written),
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
  const lines = [flowLine, ...t.lines(), ""];
  // OVS compares whole flows, actset_output included (it is not printed).
  const unchanged = finalKey.equals(initial) && x.actsetOutput < 0;
  lines.push(`Final flow: ${unchanged ? "unchanged" : formatFlowKey(finalKey)}`);
  const err = t.errorText;
  const dpActions = err !== null || t.dp.length === 0 ? "drop" : t.dp.join(",");
  lines.push(`Datapath actions: ${dpActions}`);
  if (err !== null)
    lines.push(`Translation failed (${ERROR_TEXT[err] ?? err}), packet is dropped.`);
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
export function trace(
  bridge: Bridge,
  frame: Uint8Array,
  inPort: number,
  options: TraceOptions = {},
): string {
  return traceDetailed(bridge, frame, inPort, options).text;
}
