/**
 * br-int of one host. Catalogue ids (I…) are dvr-pipeline.md §2.1's; flows
 * marked "ours" replace the router namespace (§5.4, §7).
 */
import type { IndexedInterface, IndexedPort } from "../../topology/indexed.js";
import { act, ARP_OP, F, FlowCollector, ICMP_TYPE, match, MOVE } from "../flow.js";
import type { Action } from "../../../codec/actions.js";
import { HDR } from "../../../codec/packet/constants.js";
import { OFPP } from "../../../codec/ports.js";
import { BR_INT, META, ROUTE_PRIORITY_BAND } from "../tables.js";
import type { HostContext } from "./context.js";
import { PATCH_TUN } from "./ports.js";

/** VLAN 4095: Neutron's "dead" VLAN for unbound ports (I7). */
const DEAD_VLAN = 4095;

/**
 * Bytes of an ARP request sent to the controller: Ethernet, room for one
 * 802.1Q tag, the Ethernet/IPv4 ARP body (RFC 826) — all the controller's
 * responder reads. A VM's frame has no tag in the tables (dvr-pipeline.md
 * §0.2), so this also drops the padding of a minimum-size frame.
 */
export const ARP_PACKET_IN_LEN = HDR.ETH + HDR.VLAN_TAG + HDR.ARP_ETH_IPV4;

const T = BR_INT;
const PIPELINE = "pipeline";

/** The ARP reply for `ip` is-at `mac`, sent back where the request came from (T19's actions). */
export function arpReplyActions(ip: number, mac: number): Action[] {
  return [
    act.setField(F.arpOp, ARP_OP.reply),
    MOVE.arpShaToArpTha,
    MOVE.arpSpaToArpTpa,
    act.setField(F.arpSha, mac),
    act.setField(F.arpSpa, ip),
    MOVE.ethSrcToEthDst,
    act.setField(F.ethSrc, mac),
    act.inPort(),
  ];
}

function routerObject(itf: IndexedInterface): string {
  return `router ${itf.router} → subnet ${itf.subnet.name}`;
}

export function compileBrInt(ctx: HostContext): FlowCollector {
  const c = new FlowCollector("br-int", ctx.cookiePrefix);
  const pipeline = (role: string) => ({ kind: "pipeline" as const, object: PIPELINE, role });
  const key = (id: string) => `pipeline/br-int/${id}`;

  // --- defaults ----------------------------------------------------------
  c.add(T.LOCAL_SWITCHING, {
    priority: "deadVlan",
    match: match().vlan(DEAD_VLAN),
    origin: pipeline("I7 drop the dead VLAN"),
    cookieKey: key("I7"),
  });
  c.add(T.LOCAL_SWITCHING, {
    priority: "miss",
    goto: T.PACKET_RATE_LIMIT,
    origin: pipeline("I1 everything else is switched"),
    cookieKey: key("I1"),
  });
  c.add(T.DVR_TO_SRC_MAC, {
    priority: "drop",
    origin: pipeline("I12 routed frame for no local port"),
    cookieKey: key("I12"),
  });
  c.add(T.CANARY, { priority: "canary", origin: pipeline("I2 canary"), cookieKey: key("I2") });
  c.add(T.ARP_SPOOF, {
    priority: "drop",
    origin: pipeline("I6 drop spoofed ARP"),
    cookieKey: key("I6"),
  });
  c.add(T.MAC_SPOOF, {
    priority: "drop",
    origin: pipeline("drop spoofed source MAC (Neutron relies on the table miss)"),
    cookieKey: key("mac-spoof-drop"),
  });
  c.add(T.DVR_LOCAL_RESPONDER, {
    priority: "miss",
    goto: T.DVR_ROUTING,
    origin: pipeline("not for the local responder"),
    cookieKey: key("responder-miss"),
  });
  // why: issue 5 §4 — "ARP requests for any known port or gateway IP […] are
  // answered by flows on the local host; what the flows cannot answer
  // reaches the controller, which replies with a packet-out". The reply
  // flows above this one are the known addresses; a request that falls
  // through is either for an address the topology knows but whose flow the
  // switch does not hold yet (a port just added, a reconnect mid-reconcile)
  // — the controller answers it (packet-in.ts, from intent) — or for an
  // address nobody knows (an unbound allowed-address pair, a VIP), which the
  // controller ignores. Either way the request is also switched, as Neutron
  // switches every ARP its responder cannot answer (br-tun T10 → T17 flood,
  // dvr-pipeline.md §2.2), so unknown addresses resolve exactly as before
  // and nothing depends on the controller being up. Only the headers go up
  // (the controller reads the ARP fields, never the padding); the
  // controller rate-limits packet-ins per switch.
  c.add(T.DVR_LOCAL_RESPONDER, {
    priority: "arpToController",
    match: match().arp().arpOp(ARP_OP.request),
    actions: [act.controller(ARP_PACKET_IN_LEN)],
    goto: T.PACKET_RATE_LIMIT,
    origin: pipeline("ARP request no flow answers: to the controller's responder, and switched"),
    cookieKey: key("arp-to-controller"),
  });
  c.add(T.DVR_ROUTING, {
    priority: "miss",
    goto: T.PACKET_RATE_LIMIT,
    origin: pipeline("not routed: switched"),
    cookieKey: key("routing-miss"),
  });
  c.add(T.DVR_NEIGHBOR, {
    priority: "miss",
    actions: [act.controller()],
    origin: pipeline("routed to an address with no neighbour entry: to the controller"),
    cookieKey: key("neighbor-miss"),
  });
  c.add(T.PACKET_RATE_LIMIT, {
    priority: "miss",
    goto: T.BANDWIDTH_RATE_LIMIT,
    origin: pipeline("I3 QoS pass-through"),
    cookieKey: key("I3"),
  });
  c.add(T.BANDWIDTH_RATE_LIMIT, {
    priority: "miss",
    goto: T.TRANSIENT,
    origin: pipeline("I4 QoS pass-through"),
    cookieKey: key("I4"),
  });
  c.add(T.TRANSIENT, {
    priority: "normal",
    actions: [act.normal()],
    origin: pipeline("I5 NORMAL switching"),
    cookieKey: key("I5"),
  });

  // --- peers' DVR MACs (I15) --------------------------------------------
  const patchTun = ctx.ofport("br-int", PATCH_TUN, "frames from peer hosts (I15)");
  if (patchTun !== undefined) {
    for (const p of ctx.peers) {
      c.add(T.LOCAL_SWITCHING, {
        priority: "peerDvrMac",
        match: match().inPort(patchTun).ethSrc(p.dvrMac),
        goto: T.DVR_TO_SRC_MAC,
        origin: {
          kind: "peer_host",
          object: `host ${p.host.name}`,
          role: "I15 routed frame from a peer host",
        },
      });
    }
  }

  // --- local ports -------------------------------------------------------
  for (const port of ctx.index.portsByHost.get(ctx.host.name) ?? []) {
    localPort(c, ctx, port);
  }

  // --- dead ports (I29) -------------------------------------------------
  deadPorts(c, ctx);

  // --- per network: local responder --------------------------------------
  for (const n of ctx.networks) {
    const lv = ctx.lv(n);
    for (const q of ctx.index.portsByNetwork.get(n) ?? []) {
      for (const a of q.addresses) {
        c.add(T.DVR_LOCAL_RESPONDER, {
          priority: "reply",
          match: match().arp().metadata(META.network(lv)).arpOp(ARP_OP.request).arpTpa(a.ip),
          actions: arpReplyActions(a.ip, q.mac),
          origin: {
            kind: q.host === ctx.host.name ? "local_port" : "remote_port",
            object: `port ${q.name}`,
            role: `ARP responder: ${a.ipText} is-at ${q.macText}`,
          },
        });
      }
    }
  }

  // --- routers placed here ----------------------------------------------
  for (const r of ctx.routers) {
    for (const src of r.interfaces) {
      const srcLv = ctx.lv(src.network);
      const origin = (role: string) => ({
        kind: "router_interface" as const,
        object: routerObject(src),
        role,
      });
      c.add(T.DVR_LOCAL_RESPONDER, {
        priority: "reply",
        match: match().arp().metadata(META.network(srcLv)).arpOp(ARP_OP.request).arpTpa(src.ip),
        actions: arpReplyActions(src.ip, src.mac),
        origin: origin(`ARP responder: gateway ${src.ipText} is-at ${src.macText}`),
      });
      for (const dst of r.interfaces) {
        // A router answers ping on any of its addresses, reached through the
        // gateway the VM uses (dvr-pipeline.md §7 item 9).
        c.add(T.DVR_LOCAL_RESPONDER, {
          priority: "reply",
          match: match()
            .icmp()
            .metadata(META.network(srcLv))
            .ethDst(src.mac)
            .ipv4Dst(dst.ip)
            .icmpType(ICMP_TYPE.echoRequest),
          actions: [
            MOVE.ethSrcToEthDst,
            act.setField(F.ethSrc, src.mac),
            MOVE.ipSrcToIpDst,
            act.setField(F.ipv4Src, dst.ip),
            act.setField(F.icmpType, ICMP_TYPE.echoReply),
            act.inPort(),
          ],
          origin: origin(`ICMP echo responder for ${dst.ipText}`),
        });
        const dstLv = ctx.lv(dst.network);
        c.add(T.DVR_ROUTING, {
          priority: ROUTE_PRIORITY_BAND + dst.subnet.cidr.prefixLength,
          match: match()
            .ip()
            .metadata(META.network(srcLv))
            .ethDst(src.mac)
            .ipv4DstPrefix(dst.subnet.cidr),
          actions: [act.decTtl(), act.setField(F.ethSrc, dst.mac)],
          writeMetadata: META.network(dstLv),
          goto: T.DVR_NEIGHBOR,
          origin: {
            kind: "route",
            object: `router ${r.name}: ${src.subnet.name} → ${dst.subnet.name}`,
            role: `route ${dst.subnet.cidrText} (dvr east-west)`,
          },
        });
      }
    }
    // Static ARP of the router: every port address on its subnets.
    for (const dst of r.interfaces) {
      const dstLv = ctx.lv(dst.network);
      for (const q of ctx.index.portsByNetwork.get(dst.network) ?? []) {
        for (const a of q.addresses) {
          if (a.subnet.name !== dst.subnet.name) continue;
          neighbor(c, ctx, q, a.ip, a.ipText, dstLv);
        }
      }
    }
  }
  return c;
}

/**
 * I29 (`port_dead`): a br-int port the switch reports that is neither the
 * patch port nor a VM port of this host gets `in_port=N actions=drop`, as
 * Neutron does for a port that lost its binding. Without it the table-0
 * miss (I1) would switch its frames with NORMAL, skipping port security: a
 * port deleted from the topology but still plugged in (and still tagged, on
 * a switch not plumbed over OVSDB) would stay reachable. Reserved ports
 * (LOCAL, the bridge's internal interface) are left alone, as in Neutron.
 * Offline (`defaultOfports`) every port is known, so nothing is added.
 */
function deadPorts(c: FlowCollector, ctx: HostContext): void {
  const known = new Set<string>([PATCH_TUN]);
  for (const p of ctx.index.portsByHost.get(ctx.host.name) ?? []) known.add(p.interfaceName);
  const dead = [...ctx.ofports["br-int"]]
    .filter(([name, no]) => !known.has(name) && no > 0 && no < OFPP.MAX)
    .sort((a, b) => a[1] - b[1]);
  for (const [name, no] of dead) {
    c.add(T.LOCAL_SWITCHING, {
      priority: "deadPort",
      match: match().inPort(no),
      origin: {
        kind: "pipeline",
        object: `switch port ${name}`,
        role: "I29 port not in the topology: drop its frames",
      },
      cookieKey: `pipeline/br-int/I29/${name}`,
    });
  }
}

/** Port security, gratuitous-ARP pass, and the DVR restore/delivery pair of a local port. */
function localPort(c: FlowCollector, ctx: HostContext, port: IndexedPort): void {
  const vp = ctx.ofport("br-int", port.interfaceName, `port ${port.name}`);
  if (vp === undefined) return;
  const lv = ctx.lv(port.network);
  const origin = (role: string) => ({
    kind: "local_port" as const,
    object: `port ${port.name}`,
    role,
  });
  const net = META.network(lv);
  if (port.portSecurity) {
    c.add(T.LOCAL_SWITCHING, {
      priority: "vmArp",
      match: match().inPort(vp).arp(),
      writeMetadata: net,
      goto: T.ARP_SPOOF,
      origin: origin("I23 ARP from a VM: check its addresses"),
    });
    c.add(T.LOCAL_SWITCHING, {
      priority: "vmPort",
      match: match().inPort(vp),
      writeMetadata: net,
      goto: T.MAC_SPOOF,
      origin: origin("I27 frame from a VM: check its MAC"),
    });
    for (const a of port.addresses) {
      c.add(T.ARP_SPOOF, {
        priority: "allow",
        match: match().inPort(vp).arp().arpSpa(a.ip),
        goto: T.MAC_SPOOF,
        origin: origin(`I25 ARP may claim ${a.ipText}`),
      });
    }
    c.add(T.MAC_SPOOF, {
      priority: "allow",
      match: match().inPort(vp).ethSrc(port.mac),
      goto: T.DVR_LOCAL_RESPONDER,
      origin: origin(`I28 source MAC ${port.macText}`),
    });
  } else {
    c.add(T.LOCAL_SWITCHING, {
      priority: "vmPort",
      match: match().inPort(vp),
      writeMetadata: net,
      goto: T.DVR_LOCAL_RESPONDER,
      origin: origin("frame from a VM without port security"),
    });
  }
  for (const a of port.addresses) {
    // A VM announcing its own address (gratuitous ARP) is not answered.
    c.add(T.DVR_LOCAL_RESPONDER, {
      priority: "gratuitous",
      match: match().arp().metadata(net).arpSpa(a.ip).arpTpa(a.ip),
      goto: T.PACKET_RATE_LIMIT,
      origin: origin(`gratuitous ARP for ${a.ipText} is switched, not answered`),
    });
  }
  // I19/I20: only for ports on a routed subnet (Neutron: DVR-owned subnets).
  // validate.ts guarantees one gateway MAC per port.
  const gw = port.addresses
    .map((a) => ctx.index.interfaceBySubnet.get(a.subnet.name))
    .find((i) => i !== undefined);
  if (gw === undefined) return;
  c.add(T.DVR_TO_SRC_MAC, {
    priority: "restore",
    match: match().vlan(lv).ethDst(port.mac),
    actions: [act.setField(F.ethSrc, gw.mac)],
    goto: T.PACKET_RATE_LIMIT,
    origin: origin(`I19 restore gateway MAC ${gw.macText} of router ${gw.router}`),
  });
  c.add(T.TRANSIENT, {
    priority: "dvrDirect",
    match: match().vlan(lv).ethDst(port.mac),
    actions: [act.popVlan(), act.output(vp)],
    origin: origin("I20 deliver a frame from a peer host directly"),
  });
}

/**
 * DVR_NEIGHBOR entry: the router's static ARP for one address, delivered
 * explicitly. NORMAL cannot deliver a frame retagged to another network
 * (dvr-pipeline.md §7 item 2), so: a local VM gets it on its port (the frame
 * is untagged: it came from an access port), a remote one tagged with the
 * destination network's local VLAN on patch-tun, where br-tun's DVR_PROCESS
 * swaps the gateway MAC for this host's DVR MAC.
 */
function neighbor(
  c: FlowCollector,
  ctx: HostContext,
  q: IndexedPort,
  ip: number,
  ipText: string,
  lv: number,
): void {
  const local = q.host === ctx.host.name;
  const out = local
    ? ctx.ofport("br-int", q.interfaceName, `neighbour ${ipText} (port ${q.name})`)
    : ctx.ofport("br-int", PATCH_TUN, `neighbour ${ipText} (port ${q.name} on ${q.host})`);
  if (out === undefined) return;
  const deliver = local ? [act.output(out)] : [act.pushVlan(), act.setVlan(lv), act.output(out)];
  c.add(T.DVR_NEIGHBOR, {
    priority: "neighbor",
    match: match().ip().metadata(META.network(lv)).ipv4Dst(ip),
    actions: [act.setField(F.ethDst, q.mac), ...deliver],
    origin: {
      kind: "neighbor",
      object: `port ${q.name}`,
      role: `static ARP ${ipText} → ${q.macText}, ${local ? "local delivery" : `via tunnel to ${q.host}`}`,
    },
  });
}
