/**
 * An embedded, self-contained sample: the Neutron DVR flows of one compute
 * host (br-int and br-tun), as `ovs-ofctl add-flow` text, for the codec tour
 * that `npm start` runs until the full DVR demo lands. Taken from the flow
 * catalogue in shared/docs/dvr-pipeline.md §2 with its placeholders filled in:
 * local VLAN 1 ↔ VNI 0x3e9, patch-int = 1, patch-tun = 2, VXLAN port 3,
 * this host's DVR MAC fa:16:3f:00:00:01, a peer's fa:16:3f:00:00:02.
 */
export interface SampleFlow {
  readonly bridge: "br-int" | "br-tun";
  readonly what: string;
  readonly flow: string;
}

export const DVR_HOST_FLOWS: readonly SampleFlow[] = [
  {
    bridge: "br-int",
    what: "frames from a peer host's DVR MAC go to DVR_TO_SRC_MAC",
    flow: "table=0,priority=4,in_port=2,dl_src=fa:16:3f:00:00:02,actions=resubmit(,1)",
  },
  {
    bridge: "br-int",
    what: "DVR_TO_SRC_MAC: restore the gateway MAC as source, deliver to the VM",
    flow: "table=1,priority=20,dl_vlan=1,dl_dst=fa:16:3e:00:00:0b,actions=mod_dl_src:fa:16:3e:00:00:01,resubmit(,60)",
  },
  {
    bridge: "br-int",
    what: "ARP spoofing protection for a VM port",
    flow: "table=24,priority=2,arp,in_port=5,arp_spa=198.51.100.11,actions=resubmit(,25)",
  },
  {
    bridge: "br-int",
    what: "deliver to the VM port with the VLAN tag stripped",
    flow: "table=60,priority=20,dl_vlan=1,dl_dst=fa:16:3e:00:00:0b,actions=strip_vlan,output:5",
  },
  {
    bridge: "br-tun",
    what: "traffic from br-int enters the DVR process table",
    flow: "table=0,priority=1,in_port=1,actions=resubmit(,1)",
  },
  {
    bridge: "br-tun",
    what: "DVR_PROCESS: routed frames leave with this host's DVR MAC as source",
    flow: "table=1,priority=1,dl_vlan=1,dl_src=fa:16:3e:00:00:01,actions=mod_dl_src:fa:16:3f:00:00:01,resubmit(,2)",
  },
  {
    bridge: "br-tun",
    what: "ARP responder: answer for a remote port's IP locally",
    flow:
      "table=21,priority=1,arp,dl_vlan=1,arp_tpa=198.51.100.12,arp_op=1," +
      "actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],mod_dl_src:fa:16:3e:00:00:0c," +
      "load:0x2->NXM_OF_ARP_OP[],move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]," +
      "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],load:0xfa163e00000c->NXM_NX_ARP_SHA[]," +
      "load:0xc633640c->NXM_OF_ARP_SPA[],IN_PORT",
  },
  {
    bridge: "br-tun",
    what: "frames from the tunnel: VNI → local VLAN",
    flow: "table=4,priority=1,tun_id=0x3e9,actions=mod_vlan_vid:1,resubmit(,9)",
  },
  {
    bridge: "br-tun",
    what: "DVR MAC learning bypass: a peer's DVR MAC goes straight to br-int",
    flow: "table=9,priority=1,dl_src=fa:16:3f:00:00:02,actions=output:1",
  },
  {
    bridge: "br-tun",
    what: "LEARN_FROM_TUN: learn the sender's MAC into table 20",
    flow:
      "table=10,priority=1,actions=learn(table=20,hard_timeout=300,priority=1,cookie=0x1," +
      "NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[]," +
      "load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:OXM_OF_IN_PORT[]),output:1",
  },
  {
    bridge: "br-tun",
    what: "l2pop unicast: a remote VM's MAC goes to its host's VXLAN port",
    flow: "table=20,priority=2,dl_vlan=1,dl_dst=fa:16:3e:00:00:0c,actions=strip_vlan,load:0x3e9->NXM_NX_TUN_ID[],output:3",
  },
  {
    bridge: "br-tun",
    what: "l2pop flood: broadcast to every host of the network",
    flow: "table=22,priority=1,dl_vlan=1,actions=strip_vlan,load:0x3e9->NXM_NX_TUN_ID[],output:3",
  },
];
