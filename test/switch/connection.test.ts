/**
 * The OpenFlow connection state machine of the switch (datapath/agent/
 * connection.ts), with no socket and injected time: handshake and version
 * negotiation as OVS's vconn does it, requests answered through the bridge's
 * handler, multipart replies split as OVS splits them, keep-alive with OVS's
 * inactivity-probe timing, and which asynchronous messages each kind of
 * connection receives.
 */
import { describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage, errorName, type OfMessage } from "../../codec/index.js";
import { makeHello } from "../../codec/messages/hello.js";
import { OfConnection, type ConnectionOutput } from "../../datapath/agent/connection.js";
import { RecordingLog } from "../../datapath/agent/log.js";
import {
  bitmapUpTo,
  helloBitmap,
  incompatibleText,
  OF13_ONLY,
  versionBitmapText,
} from "../../datapath/agent/versions.js";
import { hex, toHex } from "../helpers/hex.js";
import { hasTool, ovsOfpPrint } from "../helpers/tools.js";
import { addFlows, oneBridge } from "../datapath/switch-helpers.js";
import { flowDumpRequest } from "../../codec/messages/multipart.js";

const HELLO_13 = encodeMessage(makeHello(7, [4]));

function ready(kind: "controller" | "service" = "controller", probeIntervalMs = 5000) {
  const s = oneBridge(3);
  const log = new RecordingLog();
  const conn = new OfConnection(s.br, { name: "t", kind, probeIntervalMs, log });
  const opened = conn.open(0);
  const r = conn.receive(HELLO_13, 0);
  expect(r.close).toBeNull();
  expect(conn.state).toBe("ready");
  return { ...s, conn, log, opened };
}

function decodeAll(out: ConnectionOutput): OfMessage[] {
  return out.send.map((f) => decodeMessage(f, { strict: false }));
}

const featuresRequest = (xid: number, version = 4): Uint8Array =>
  new Uint8Array([version, 5, 0, 8, 0, 0, 0, xid]);

describe("version negotiation (OVS vconn)", () => {
  it("open() sends an OF1.3 HELLO carrying a version bitmap of 0x04 only, as OVS does", () => {
    const { opened } = ready();
    expect(opened.send).toHaveLength(1);
    const bytes = opened.send[0]!;
    // OVS `ofputil_encode_hello` for allowed_versions = {1.3}: header version 4 + bitmap element.
    expect(toHex(bytes.subarray(8))).toBe(toHex(hex("00 01 00 08 00 00 00 10")));
    expect(bytes[0]).toBe(4);
    if (hasTool("ovs-ofctl")) {
      expect(ovsOfpPrint([bytes])[0]!.text).toContain("version bitmap: 0x04");
    }
  });

  it("decodes peer versions as ofputil_decode_hello: header version without a bitmap, first word with one", () => {
    expect(helloBitmap(makeHello(1, [4]))).toBe(OF13_ONLY);
    expect(helloBitmap({ type: "hello", xid: 0, version: 3, elements: [] })).toBe(0b1110);
    expect(helloBitmap({ type: "hello", xid: 0, version: 6, elements: [] })).toBe(bitmapUpTo(6));
    expect(
      helloBitmap({
        type: "hello",
        xid: 0,
        version: 6,
        elements: [{ kind: "versionbitmap", bitmaps: [0b10011] }],
      }),
    ).toBe(0b10010);
  });

  it("formats version sets as OVS's version_bitmap_to_string", () => {
    expect(versionBitmapText(OF13_ONLY)).toBe("version 0x04");
    expect(versionBitmapText(0b1110)).toBe("version 0x03 and earlier");
    expect(versionBitmapText(0b10010)).toBe("versions 0x01, 0x04");
    expect(versionBitmapText(0)).toBe("no versions");
  });

  it("accepts a newer peer without a bitmap (1..6 includes 1.3) and negotiates 0x04", () => {
    const s = oneBridge(1);
    const conn = new OfConnection(s.br, { name: "t", kind: "service" });
    conn.open(0);
    const r = conn.receive(encodeMessage({ type: "hello", xid: 1, version: 6, elements: [] }), 0);
    expect(r.close).toBeNull();
    expect(conn.state).toBe("ready");
    expect(conn.version).toBe(4);
  });

  it("answers an OF1.0-only peer with HELLO_FAILED/INCOMPATIBLE and OVS's text, in version 1, xid 0, then closes", () => {
    const s = oneBridge(1);
    const conn = new OfConnection(s.br, { name: "t", kind: "service" });
    conn.open(0);
    const r = conn.receive(hex("01 00 00 08 00 00 00 09"), 0);
    expect(r.close).toMatch(/version negotiation failed/);
    expect(r.send).toHaveLength(1);
    const f = r.send[0]!;
    expect(f[0]).toBe(1);
    expect(toHex(f.subarray(4, 12))).toBe(toHex(hex("00 00 00 00 00 00 00 00")));
    const text = new TextDecoder().decode(f.subarray(12));
    expect(text).toBe("We support version 0x04, you support version 0x01, no common versions.");
    expect(text).toBe(incompatibleText(OF13_ONLY, 0b10));
    if (hasTool("ovs-ofctl")) {
      const v = ovsOfpPrint([f])[0]!.text;
      expect(v).toContain("OFPHFC_INCOMPATIBLE");
      expect(v).toContain("We support version 0x04, you support version 0x01");
    }
    expect(conn.state).toBe("awaitHello");
  });

  it("closes without a reply when anything but HELLO comes first (OVS: EPROTO)", () => {
    const s = oneBridge(1);
    const conn = new OfConnection(s.br, { name: "t", kind: "service" });
    conn.open(0);
    const r = conn.receive(featuresRequest(1), 0);
    expect(r.send).toHaveLength(0);
    expect(r.close).toMatch(/expecting hello/);
  });

  it("handles a HELLO and requests arriving in one chunk, split across chunk boundaries", () => {
    const s = oneBridge(1);
    const conn = new OfConnection(s.br, { name: "t", kind: "controller" });
    conn.open(0);
    const all = new Uint8Array([...HELLO_13, ...featuresRequest(3)]);
    const a = conn.receive(all.subarray(0, 11), 0);
    const b = conn.receive(all.subarray(11), 0);
    expect(a.send).toHaveLength(0);
    const msgs = decodeAll(b);
    expect(msgs.map((m) => m.type)).toEqual(["features_reply"]);
    expect(msgs[0]!.xid).toBe(3);
  });
});

describe("requests once ready", () => {
  it("answers FEATURES with the bridge's datapath id and ECHO with the same xid and data", () => {
    const { conn, br } = ready();
    const r = decodeAll(conn.receive(featuresRequest(9), 1));
    expect(r[0]).toMatchObject({
      type: "features_reply",
      xid: 9,
      datapathId: br.datapathId,
      nTables: 254,
    });
    const echo = encodeMessage({ type: "echo_request", xid: 77, data: new Uint8Array([1, 2, 3]) });
    const e = decodeAll(conn.receive(echo, 2));
    expect(e).toEqual([
      { type: "echo_reply", xid: 77, version: 4, data: new Uint8Array([1, 2, 3]) },
    ]);
  });

  it("answers a request in another version with OFPBRC_BAD_VERSION and keeps the connection (vconn_recv)", () => {
    const { conn } = ready();
    const r = conn.receive(featuresRequest(5, 1), 1);
    expect(r.close).toBeNull();
    const msgs = decodeAll(r);
    expect(msgs).toHaveLength(1);
    const m = msgs[0]!;
    expect(m.type === "error" && errorName(m)).toBe("OFPBRC_BAD_VERSION");
    expect(conn.state).toBe("ready");
  });

  it("answers a malformed FLOW_MOD with OVS's error carrying the whole request, and changes nothing", () => {
    const { conn, br } = ready();
    // FLOW_MOD with a body too short for its fixed part.
    const bad = hex("04 0e 00 10 00 00 00 2a 00 00 00 00 00 00 00 00");
    const msgs = decodeAll(conn.receive(bad, 1));
    expect(msgs).toHaveLength(1);
    const m = msgs[0]!;
    expect(m.type).toBe("error");
    if (m.type !== "error") return;
    expect(errorName(m)).toBe("OFPBRC_BAD_LEN");
    expect(m.xid).toBe(0x2a);
    expect(toHex(m.data)).toBe(toHex(bad));
    expect(br.flowCount).toBe(0);
  });

  it("closes on a frame whose length is under 8 (cannot resynchronise)", () => {
    const { conn } = ready();
    const r = conn.receive(hex("04 02 00 04 00 00 00 01"), 1);
    expect(r.close).toMatch(/framing error/);
  });

  it("splits a flow dump over 65535 bytes into several replies, MORE on all but the last", () => {
    const { conn, br } = ready();
    const flows: string[] = [];
    for (let i = 0; i < 1500; i++)
      flows.push(
        `table=3,priority=${i},ip,nw_src=10.${i >> 8}.${i & 255}.1,nw_dst=10.1.2.3 actions=set_field:fa:16:3e:00:00:01->eth_dst,output:2`,
      );
    addFlows(br, flows);
    const req = encodeMessage(flowDumpRequest(11));
    const out = conn.receive(req, 1);
    expect(out.send.length).toBeGreaterThan(1);
    let entries = 0;
    out.send.forEach((f, i) => {
      expect(f.length).toBeLessThanOrEqual(65535);
      const m = decodeMessage(f);
      expect(m.type).toBe("multipart_reply");
      if (m.type !== "multipart_reply" || m.body.kind !== "flow")
        throw new Error("not a flow reply");
      expect(m.xid).toBe(11);
      expect(m.flags & 1).toBe(i < out.send.length - 1 ? 1 : 0);
      entries += m.body.entries.length;
    });
    expect(entries).toBe(1500);
  });

  it("answers TABLE_FEATURES for all 254 tables across several replies", () => {
    const { conn } = ready();
    const req = encodeMessage({
      type: "multipart_request",
      xid: 12,
      flags: 0,
      body: { kind: "table_features", entries: [] },
    });
    const out = conn.receive(req, 1);
    expect(out.send.length).toBeGreaterThan(1);
    const ids: number[] = [];
    for (const f of out.send) {
      const m = decodeMessage(f);
      if (m.type !== "multipart_reply" || m.body.kind !== "table_features")
        throw new Error("bad reply");
      ids.push(...m.body.entries.map((e) => e.tableId));
    }
    expect(ids).toEqual(Array.from({ length: 254 }, (_, i) => i));
  });
});

describe("keep-alive (rconn inactivity probe)", () => {
  it("sends ECHO_REQUEST after 5 s idle and disconnects after 5 more s without traffic", () => {
    const { conn, log } = ready();
    expect(conn.tick(4999).send).toHaveLength(0);
    const probe = conn.tick(5000);
    expect(decodeAll(probe).map((m) => m.type)).toEqual(["echo_request"]);
    expect(conn.tick(9999).close).toBeNull();
    const dead = conn.tick(10000);
    expect(dead.close).toBe("no response to inactivity probe after 5 seconds, disconnecting");
    expect(log.records.some((r) => r.level === "error" && r.msg.includes("inactivity probe"))).toBe(
      true,
    );
  });

  it("counts any received message as liveness: an echo reply restarts the idle period", () => {
    const { conn } = ready();
    const probe = decodeAll(conn.tick(5000))[0]!;
    conn.receive(
      encodeMessage({ type: "echo_reply", xid: probe.xid, data: new Uint8Array(0) }),
      7000,
    );
    expect(conn.tick(10000).close).toBeNull();
    expect(conn.tick(11999).send).toHaveLength(0);
    expect(decodeAll(conn.tick(12000)).map((m) => m.type)).toEqual(["echo_request"]);
  });

  it("drops a peer that never sends HELLO after two probe intervals", () => {
    const s = oneBridge(1);
    const conn = new OfConnection(s.br, { name: "t", kind: "service" });
    conn.open(100);
    expect(conn.tick(10099).close).toBeNull();
    expect(conn.tick(10100).close).toMatch(/no hello/);
  });

  it("does nothing on ticks with the probe disabled (interval 0)", () => {
    const { conn } = ready("controller", 0);
    expect(conn.tick(1e9)).toEqual({ send: [], close: null });
  });
});

describe("asynchronous messages", () => {
  const packetIn: OfMessage = {
    type: "packet_in",
    xid: 0,
    bufferId: 0xffffffff,
    totalLen: 4,
    reason: 0,
    tableId: 0,
    cookie: 0n,
    match: { entries: [] },
    data: new Uint8Array([1, 2, 3, 4]),
  };
  const portStatus: OfMessage = {
    type: "port_status",
    xid: 0,
    reason: 2,
    port: {
      portNo: 1,
      hwAddr: new Uint8Array(6),
      name: "p1",
      config: 0,
      state: 4,
      curr: 0,
      advertised: 0,
      supported: 0,
      peer: 0,
      currSpeed: 0,
      maxSpeed: 0,
    },
  };

  it("go to a controller connection", () => {
    const { conn } = ready("controller");
    expect(conn.asyncMessages([packetIn, portStatus])).toHaveLength(2);
  });

  it("go to a service connection (ovs-ofctl) only after it set a non-zero miss_send_len", () => {
    const { conn } = ready("service");
    expect(conn.asyncMessages([packetIn])).toHaveLength(0);
    conn.receive(encodeMessage({ type: "set_config", xid: 3, flags: 0, missSendLen: 128 }), 1);
    expect(conn.asyncMessages([packetIn])).toHaveLength(1);
  });

  it("reach a slave only as port-status", () => {
    const { conn } = ready("controller");
    conn.receive(encodeMessage({ type: "role_request", xid: 4, role: 3, generationId: 1n }), 1);
    const out = conn.asyncMessages([packetIn, portStatus]);
    expect(out.map((f) => decodeMessage(f).type)).toEqual(["port_status"]);
  });

  it("are not sent before the handshake", () => {
    const s = oneBridge(1);
    const conn = new OfConnection(s.br, { name: "t", kind: "controller" });
    conn.open(0);
    expect(conn.asyncMessages([packetIn])).toHaveLength(0);
  });
});
