/**
 * The pure OpenFlow side of a bridge: requests in, OVS-shaped replies out.
 */
import { describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage, errorName, type OfMessage } from "../../codec/index.js";
import { encodeMultipartParts } from "../../codec/messages/multipart-split.js";
import { buildUdp, ipv4FromString, macFromString } from "../../codec/packet/index.js";
import { N_TABLES } from "../../datapath/bridge.js";
import { OpenFlowHandler, OFPCR_ROLE, OVS_CAPABILITIES } from "../../datapath/openflow-handler.js";
import { addFlows, flowMod, oneBridge } from "./switch-helpers.js";

const MATCH_ALL = { entries: [] };
const flowReq = (xid: number, extra: Record<string, unknown> = {}): OfMessage =>
  ({
    type: "multipart_request",
    xid,
    flags: 0,
    body: {
      kind: "flow",
      tableId: 0xff,
      outPort: 0xffffffff,
      outGroup: 0xffffffff,
      cookie: 0n,
      cookieMask: 0n,
      match: MATCH_ALL,
      ...extra,
    },
  }) as OfMessage;

function setup() {
  const s = oneBridge(3);
  return { ...s, h: new OpenFlowHandler(s.br) };
}

const frame = buildUdp({
  eth: { src: macFromString("00:00:00:00:00:01"), dst: macFromString("00:00:00:00:00:02") },
  ip: { kind: "ipv4", src: ipv4FromString("10.0.0.1"), dst: ipv4FromString("10.0.0.2") },
  srcPort: 1,
  dstPort: 2,
});

describe("OpenFlowHandler", () => {
  it("answers FEATURES, ECHO, BARRIER and GET_CONFIG as OVS", () => {
    const { h, br } = setup();
    const [f] = h.handle({ type: "features_request", xid: 5 }, 0);
    expect(f).toMatchObject({
      type: "features_reply",
      xid: 5,
      datapathId: br.datapathId,
      nBuffers: 0,
      nTables: N_TABLES,
      capabilities: OVS_CAPABILITIES,
    });
    expect(h.handle({ type: "echo_request", xid: 6, data: Uint8Array.of(1, 2) }, 0)).toEqual([
      { type: "echo_reply", xid: 6, data: Uint8Array.of(1, 2) },
    ]);
    expect(h.handle({ type: "barrier_request", xid: 7 }, 0)).toEqual([
      { type: "barrier_reply", xid: 7 },
    ]);
    expect(h.handle({ type: "get_config_request", xid: 8 }, 0)).toEqual([
      { type: "get_config_reply", xid: 8, flags: 0, missSendLen: 128 },
    ]);
  });

  it("applies flow-mods and reports them in flow and aggregate stats with counters and durations", () => {
    const { h, br } = setup();
    expect(
      h.handle(
        { ...flowMod("table=0,priority=5,cookie=0x1,in_port=1,actions=output:2"), xid: 1 },
        1000,
      ),
    ).toEqual([]);
    expect(
      h.handle({ ...flowMod("table=3,priority=6,cookie=0x2,ip,actions=output:3"), xid: 2 }, 1000),
    ).toEqual([]);
    br.receive(1, frame, 1500);
    const [r] = h.handle(flowReq(9), 3500);
    if (r?.type !== "multipart_reply" || r.body.kind !== "flow") throw new Error("no flow reply");
    expect(
      r.body.entries.map((e) => [
        e.tableId,
        e.cookie,
        e.packetCount,
        e.byteCount,
        e.durationSec,
        e.durationNsec,
      ]),
    ).toEqual([
      [0, 1n, 1n, BigInt(frame.length), 2, 500_000_000],
      [3, 2n, 0n, 0n, 2, 500_000_000],
    ]);
    const [c] = h.handle(flowReq(10, { cookie: 2n, cookieMask: 0xffn }), 3500);
    if (c?.type !== "multipart_reply" || c.body.kind !== "flow") throw new Error("no flow reply");
    expect(c.body.entries.map((e) => e.tableId)).toEqual([3]);
    const [a] = h.handle(
      {
        ...(flowReq(11) as { body: object }),
        body: { ...(flowReq(11) as { body: object }).body, kind: "aggregate" },
      } as OfMessage,
      3500,
    );
    expect(a).toMatchObject({ body: { kind: "aggregate", packetCount: 1n, flowCount: 2 } });
  });

  it("answers a failed request with an OFPT_ERROR echoing the whole request, tables unchanged", () => {
    const { h, br } = setup();
    const bad = { ...flowMod("priority=1,actions=drop"), xid: 0x1234, tableId: 255 } as OfMessage;
    const raw = encodeMessage(bad);
    const [e] = h.handle(bad, 0, raw);
    if (e?.type !== "error") throw new Error("no error");
    expect(errorName(e)).toBe("OFPFMFC_BAD_TABLE_ID");
    expect(e.xid).toBe(0x1234);
    expect(Array.from(e.data)).toEqual(Array.from(raw));
    expect(br.flowCount).toBe(0);
    // It round-trips as a message.
    expect(decodeMessage(encodeMessage(e))).toMatchObject({ type: "error", xid: 0x1234 });
  });

  it("lists ports (LOCAL included) and port stats", () => {
    const { h, br } = setup();
    addFlows(br, ["in_port=1,actions=output:2"]);
    br.receive(1, frame, 0);
    const [d] = h.handle(
      { type: "multipart_request", xid: 1, flags: 0, body: { kind: "port_desc" } },
      0,
    );
    if (d?.type !== "multipart_reply" || d.body.kind !== "port_desc")
      throw new Error("no port_desc");
    expect(d.body.entries.map((p) => [p.portNo, p.name])).toEqual([
      [1, "p1"],
      [2, "p2"],
      [3, "p3"],
      [0xfffffffe, "br0"],
    ]);
    const [s] = h.handle(
      { type: "multipart_request", xid: 2, flags: 0, body: { kind: "port_stats", portNo: 2 } },
      0,
    );
    if (s?.type !== "multipart_reply" || s.body.kind !== "port_stats")
      throw new Error("no port_stats");
    expect(s.body.entries.map((p) => [p.portNo, p.txPackets])).toEqual([[2, 1n]]);
    const [bad] = h.handle(
      { type: "multipart_request", xid: 3, flags: 0, body: { kind: "port_stats", portNo: 77 } },
      0,
    );
    expect(bad?.type === "error" && errorName(bad)).toBe("OFPBRC_BAD_PORT");
  });

  it("TABLE_FEATURES covers all 254 tables and needs several messages on the wire", () => {
    const { h } = setup();
    const [t] = h.handle(
      {
        type: "multipart_request",
        xid: 4,
        flags: 0,
        body: { kind: "table_features", entries: [] },
      },
      0,
    );
    if (t?.type !== "multipart_reply" || t.body.kind !== "table_features")
      throw new Error("no table_features");
    expect(t.body.entries.map((e) => e.tableId)).toEqual(
      Array.from({ length: N_TABLES }, (_, i) => i),
    );
    const parts = encodeMultipartParts(t);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(65535);
  });

  it("port_mod NO_FWD stops output to the port; a wrong hw_addr is OFPPMFC_BAD_HW_ADDR", () => {
    const { h, br, sink } = setup();
    addFlows(br, ["in_port=1,actions=output:2"]);
    const p2 = br.ports.get(2)!;
    const pm = {
      type: "port_mod",
      xid: 3,
      portNo: 2,
      hwAddr: p2.hwAddr,
      config: 1 << 5,
      mask: 1 << 5,
      advertise: 0,
    } as OfMessage;
    expect(h.handle(pm, 0)).toEqual([]);
    br.receive(1, frame, 0);
    expect(sink.take()).toEqual([]);
    expect(br.drainOutbox().map((m) => m.type)).toEqual(["port_status"]);
    const [e] = h.handle({ ...pm, hwAddr: new Uint8Array(6) } as OfMessage, 0);
    expect(e?.type === "error" && errorName(e)).toBe("OFPPMFC_BAD_HW_ADDR");
  });

  it("a slave controller may not modify the switch", () => {
    const { h } = setup();
    expect(
      h.handle({ type: "role_request", xid: 1, role: OFPCR_ROLE.SLAVE, generationId: 1n }, 0),
    ).toEqual([{ type: "role_reply", xid: 1, role: OFPCR_ROLE.SLAVE, generationId: 1n }]);
    const [e] = h.handle({ ...flowMod("priority=1,actions=drop"), xid: 2 }, 0);
    expect(e?.type === "error" && errorName(e)).toBe("OFPBRC_IS_SECONDARY");
    const [stale] = h.handle(
      { type: "role_request", xid: 3, role: OFPCR_ROLE.MASTER, generationId: 0n },
      0,
    );
    expect(stale?.type === "error" && errorName(stale)).toBe("OFPRRFC_STALE");
  });

  it("SET_CONFIG's invalid-TTL flag sends TTL-expired packets to the controller", () => {
    const { h, br } = setup();
    addFlows(br, ["in_port=1,ip,actions=dec_ttl,output:2"]);
    h.handle({ type: "set_config", xid: 1, flags: 1 << 2, missSendLen: 0xffff }, 0);
    br.receive(
      1,
      buildUdp({
        eth: { src: macFromString("00:00:00:00:00:01"), dst: macFromString("00:00:00:00:00:02") },
        ip: { kind: "ipv4", src: 1, dst: 2, ttl: 1 },
        srcPort: 1,
        dstPort: 2,
      }),
      0,
    );
    expect(br.drainOutbox().map((m) => m.type === "packet_in" && m.reason)).toEqual([2]);
  });
});
