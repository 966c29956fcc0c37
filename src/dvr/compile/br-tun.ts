/**
 * br-tun of one host, in Neutron's DVR layout with l2-population: catalogue
 * ids (T…) are dvr-pipeline.md §2.2's. The tunnel type is VXLAN only, so of
 * the "tunnel to local VLAN" tables only 4 exists (Neutron also installs
 * the drop defaults of 3 and 6).
 */
import {
  act,
  ARP_OP,
  BROADCAST_MAC,
  F,
  FlowCollector,
  ICMPV6_TYPE,
  learnAction,
  match,
  MULTICAST_BIT,
} from "../flow.js";
import { BR_TUN, learnedCookie } from "../tables.js";
import { arpReplyActions } from "./br-int.js";
import type { HostContext } from "./context.js";
import { PATCH_INT } from "./ports.js";

const T = BR_TUN;

export function compileBrTun(ctx: HostContext): FlowCollector {
  const c = new FlowCollector("br-tun", ctx.cookiePrefix);
  const pipeline = (role: string) => ({ kind: "pipeline" as const, object: "pipeline", role });
  const key = (id: string) => `pipeline/br-tun/${id}`;
  const patchInt = ctx.ofport("br-tun", PATCH_INT, "the patch to br-int");

  // --- defaults (T1, T3–T14 without the non-DVR T2: bug #2028795) ---------
  c.add(T.LOCAL_SWITCHING, {
    priority: "drop",
    origin: pipeline("T1 unknown in_port"),
    cookieKey: key("T1"),
  });
  if (patchInt !== undefined) {
    c.add(T.LOCAL_SWITCHING, {
      priority: "fromPatch",
      match: match().inPort(patchInt),
      goto: T.DVR_PROCESS,
      origin: pipeline("T12 from br-int: DVR processing first"),
      cookieKey: key("T12"),
    });
  }
  c.add(T.DVR_PROCESS, {
    priority: "miss",
    goto: T.PATCH_LV_TO_TUN,
    origin: pipeline("T14 not routed"),
    cookieKey: key("T14"),
  });
  c.add(T.PATCH_LV_TO_TUN, {
    priority: "arpBroadcast",
    match: match().arp().ethDst(BROADCAST_MAC),
    goto: T.ARP_RESPONDER,
    origin: pipeline("T3 broadcast ARP to the responder"),
    cookieKey: key("T3"),
  });
  c.add(T.PATCH_LV_TO_TUN, {
    priority: "split",
    match: match().ethDst(0, MULTICAST_BIT),
    goto: T.UCAST_TO_TUN,
    origin: pipeline("T4 unicast"),
    cookieKey: key("T4"),
  });
  c.add(T.PATCH_LV_TO_TUN, {
    priority: "split",
    match: match().ethDst(MULTICAST_BIT, MULTICAST_BIT),
    goto: T.FLOOD_TO_TUN,
    origin: pipeline("T5 multicast and broadcast"),
    cookieKey: key("T5"),
  });
  c.add(T.VXLAN_TUN_TO_LV, {
    priority: "drop",
    origin: pipeline("T6 unknown VNI"),
    cookieKey: key("T6"),
  });
  c.add(T.DVR_NOT_LEARN, {
    priority: "miss",
    goto: T.LEARN_FROM_TUN,
    origin: pipeline("T13 not from a DVR MAC: learn"),
    cookieKey: key("T13"),
  });
  if (patchInt !== undefined) {
    const learn = [
      learnAction({
        table: T.UCAST_TO_TUN.id,
        priority: T.UCAST_TO_TUN.priority.learned,
        cookie: learnedCookie(ctx.cookiePrefix),
      }),
      act.output(patchInt),
    ];
    c.add(T.LEARN_FROM_TUN, {
      priority: "learn",
      actions: learn,
      origin: pipeline("T8 learn the sender's tunnel"),
      cookieKey: key("T8"),
    });
    const announcements = [
      ["GARP", match().arp().arpTha(BROADCAST_MAC)],
      ["RA", match().icmp6().icmpv6Type(ICMPV6_TYPE.routerAdvert)],
      ["NA", match().icmp6().icmpv6Type(ICMPV6_TYPE.neighborAdvert)],
    ] as const;
    for (const [what, m] of announcements) {
      c.add(T.LEARN_FROM_TUN, {
        priority: "announcement",
        match: m,
        actions: learn,
        origin: pipeline(`T7 learn from ${what} (bug #2123911)`),
        cookieKey: key(`T7-${what}`),
      });
    }
  }
  c.add(T.UCAST_TO_TUN, {
    priority: "miss",
    goto: T.FLOOD_TO_TUN,
    origin: pipeline("T9 unknown unicast floods"),
    cookieKey: key("T9"),
  });
  c.add(T.ARP_RESPONDER, {
    priority: "miss",
    goto: T.FLOOD_TO_TUN,
    origin: pipeline("T10 unknown ARP floods"),
    cookieKey: key("T10"),
  });
  c.add(T.FLOOD_TO_TUN, {
    priority: "drop",
    origin: pipeline("T11 no flood list"),
    cookieKey: key("T11"),
  });

  // --- peers: DVR MAC bypass (T20) and tunnel ports (T15) -----------------
  const tunnels = new Map<string, number>();
  for (const p of ctx.peers) {
    if (patchInt !== undefined) {
      c.add(T.DVR_NOT_LEARN, {
        priority: "peerDvrMac",
        match: match().ethSrc(p.dvrMac),
        actions: [act.output(patchInt)],
        origin: {
          kind: "peer_host",
          object: `host ${p.host.name}`,
          role: "T20 peer DVR MAC: no learning",
        },
      });
    }
    const tun = ctx.ofport("br-tun", p.tunnelPort, `tunnel to ${p.host.name}`);
    if (tun === undefined) continue;
    tunnels.set(p.host.name, tun);
    c.add(T.LOCAL_SWITCHING, {
      priority: "fromTunnel",
      match: match().inPort(tun),
      goto: T.VXLAN_TUN_TO_LV,
      origin: {
        kind: "tunnel",
        object: `tunnel to ${p.host.name}`,
        role: `T15 from ${p.tunnelPort}`,
      },
    });
  }

  // --- networks present here (T16, T17) and l2pop (T18, T19) -----------------
  for (const n of ctx.networks) {
    const lv = ctx.lv(n);
    const vni = ctx.index.networks.get(n)!.vni;
    const origin = (role: string) => ({ kind: "network" as const, object: `network ${n}`, role });
    c.add(T.VXLAN_TUN_TO_LV, {
      priority: "network",
      match: match().tunId(vni),
      actions: [act.pushVlan(), act.setVlan(lv)],
      goto: T.DVR_NOT_LEARN,
      origin: origin(`T16 VNI ${vni} → local VLAN ${lv}`),
    });
    const floodTo = ctx.peers
      .filter((p) => ctx.networkOn(p.host.name, n))
      .map((p) => tunnels.get(p.host.name))
      .filter((t): t is number => t !== undefined);
    if (floodTo.length > 0) {
      c.add(T.FLOOD_TO_TUN, {
        priority: "flood",
        match: match().vlan(lv),
        actions: [
          act.popVlan(),
          act.setField(F.tunId, BigInt(vni)),
          ...floodTo.map((t) => act.output(t)),
        ],
        origin: origin(`T17 flood to ${floodTo.length} peer(s)`),
      });
    }
    for (const q of ctx.index.portsByNetwork.get(n) ?? []) {
      if (q.host === ctx.host.name) continue;
      const tun = tunnels.get(q.host);
      const portOrigin = (role: string) => ({
        kind: "remote_port" as const,
        object: `port ${q.name}`,
        role,
      });
      if (tun !== undefined) {
        c.add(T.UCAST_TO_TUN, {
          priority: "l2pop",
          match: match().vlan(lv).ethDst(q.mac),
          actions: [act.popVlan(), act.setField(F.tunId, BigInt(vni)), act.output(tun)],
          origin: portOrigin(`T18 l2pop: ${q.macText} is on ${q.host}`),
        });
      }
      for (const a of q.addresses) {
        c.add(T.ARP_RESPONDER, {
          priority: "reply",
          // Neutron's T19 has no arp_op (marked REVISIT); we answer requests only.
          match: match().vlan(lv).arp().arpOp(ARP_OP.request).arpTpa(a.ip),
          actions: arpReplyActions(a.ip, q.mac),
          origin: portOrigin(`T19 ARP responder: ${a.ipText} is-at ${q.macText}`),
        });
      }
    }
  }

  // --- router interfaces of routers placed here (T21–T23) --------------------
  for (const r of ctx.routers) {
    for (const itf of r.interfaces) {
      const lv = ctx.lv(itf.network);
      const origin = (role: string) => ({
        kind: "router_interface" as const,
        object: `router ${r.name} → subnet ${itf.subnet.name}`,
        role,
      });
      c.add(T.DVR_PROCESS, {
        priority: "toGateway",
        match: match().vlan(lv).ethDst(itf.mac),
        origin: origin("T21 unicast to the gateway never leaves the host"),
      });
      c.add(T.DVR_PROCESS, {
        priority: "fromGateway",
        match: match().vlan(lv).ethSrc(itf.mac),
        actions: [act.setField(F.ethSrc, ctx.dvrMac)],
        goto: T.PATCH_LV_TO_TUN,
        origin: origin("T22 routed frames leave with this host's DVR MAC"),
      });
      c.add(T.FLOOD_TO_TUN, {
        priority: "gatewayArpDrop",
        match: match().vlan(lv).arp().arpTpa(itf.ip),
        origin: origin(`T23 ARP for gateway ${itf.ipText} is answered on the host`),
      });
    }
  }
  return c;
}
