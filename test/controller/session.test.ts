/**
 * The session state machine, with no socket and injected time: events in,
 * messages and notices out (style.md §2.6).
 */
import { describe, expect, it } from "vitest";
import { OfpError } from "../../codec/errors.js";
import { decodeMessage, encodeMessage, type OfMessage } from "../../codec/message.js";
import { makeHello } from "../../codec/messages/hello.js";
import { OFPMPF_REPLY_MORE } from "../../codec/messages/multipart.js";
import type { OfpPort } from "../../codec/messages/port.js";
import { OFPPR } from "../../codec/messages/port-status.js";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import { Session, type Notice, type StepResult } from "../../src/controller/session.js";

const DPID = 0x11n;

function port(no: number, name: string): OfpPort {
  return {
    portNo: no,
    hwAddr: new Uint8Array([2, 0, 0, 0, 0, no]),
    name,
    config: 0,
    state: 0,
    curr: 0,
    advertised: 0,
    supported: 0,
    peer: 0,
    currSpeed: 0,
    maxSpeed: 0,
  };
}

/** Every message goes through the wire encoding, as a socket would carry it. */
const wire = (m: OfMessage): OfMessage => decodeMessage(encodeMessage(m), { strict: false });
const types = (r: StepResult) => r.send.map((m) => m.type);
const kinds = (r: StepResult) => r.notices.map((n) => n.kind);

function features(xid: number): OfMessage {
  return {
    type: "features_reply",
    xid,
    datapathId: DPID,
    nBuffers: 0,
    nTables: 254,
    auxiliaryId: 0,
    capabilities: 0x4f,
    reserved: 0,
  };
}

function portDesc(xid: number, ports: OfpPort[], flags = 0): OfMessage {
  return { type: "multipart_reply", xid, flags, body: { kind: "port_desc", entries: ports } };
}

/** Runs the handshake up to (not including) the PORT_DESC reply; returns the PORT_DESC xid. */
function toPortDesc(s: Session, t0 = 0): number {
  s.start(t0);
  const r1 = s.receive(wire(makeHello(1, [1, 4])), t0 + 1);
  const fr = r1.send[0]!;
  const r2 = s.receive(wire(features(fr.xid)), t0 + 2);
  return r2.send[1]!.xid;
}

describe("Session handshake", () => {
  it("HELLO → FEATURES → SET_CONFIG + PORT_DESC → ready, with transitions logged", () => {
    const s = new Session({ missSendLen: 128 });
    const start = s.start(0);
    expect(types(start)).toEqual(["hello"]);
    const hello = wire(start.send[0]!);
    expect(hello.type === "hello" && hello.elements[0]).toEqual({
      kind: "versionbitmap",
      bitmaps: [0x10],
    });

    const r1 = s.receive(wire(makeHello(7, [1, 4])), 1);
    expect(types(r1)).toEqual(["features_request"]);
    expect(r1.notices).toEqual([{ kind: "transition", from: "awaitHello", to: "awaitFeatures" }]);

    const r2 = s.receive(wire(features(r1.send[0]!.xid)), 2);
    expect(types(r2)).toEqual(["set_config", "multipart_request"]);
    const setConfig = r2.send[0]!;
    expect(setConfig.type === "set_config" && setConfig.missSendLen).toBe(128);
    expect(s.datapathId).toBe(DPID);
    expect(s.state).toBe("awaitPortDesc");

    const r3 = s.receive(
      wire(portDesc(r2.send[1]!.xid, [port(1, "patch-tun"), port(10, "tap-vm-a1")])),
      3,
    );
    expect(kinds(r3)).toEqual(["transition", "ready"]);
    const ready = r3.notices[1] as Extract<Notice, { kind: "ready" }>;
    expect(ready.datapathId).toBe(DPID);
    expect([...ready.ports.values()].map((p) => p.name)).toEqual(["patch-tun", "tap-vm-a1"]);
    expect(s.portNumber("tap-vm-a1")).toBe(10);
    expect(r3.close).toBeUndefined();
  });

  it("a HELLO without bitmap offers every version up to its header's: 5 is fine, 1 is not", () => {
    const ok = new Session();
    ok.start(0);
    expect(types(ok.receive({ type: "hello", xid: 1, version: 5, elements: [] }, 1))).toEqual([
      "features_request",
    ]);
    const old = new Session();
    old.start(0);
    const r = old.receive({ type: "hello", xid: 1, version: 1, elements: [] }, 1);
    expect(types(r)).toEqual(["error"]);
    expect(r.close).toMatch(/version negotiation failed/);
  });

  it("a peer without 1.3 in its bitmap gets HELLO_FAILED/INCOMPATIBLE with text, and a close", () => {
    const s = new Session();
    s.start(0);
    const r = s.receive(wire(makeHello(3, [1, 5])), 1);
    expect(r.send).toHaveLength(1);
    const err = wire(r.send[0]!);
    expect(err.type).toBe("error");
    if (err.type !== "error") return;
    expect(err.error).toEqual({ kind: "standard", type: 0, code: 0 });
    expect(err.xid).toBe(3);
    expect(new TextDecoder().decode(err.data)).toBe(
      "We support version 0x04, you support 0x01, 0x05",
    );
    expect(r.close).toBeDefined();
    expect(s.state).toBe("closed");
    // Nothing more comes out of a closed session.
    expect(s.receive(wire(makeHello(4, [4])), 2).send).toEqual([]);
  });

  it("PORT_STATUS during the handshake is buffered and applied on top of PORT_DESC", () => {
    const s = new Session();
    const xid = toPortDesc(s);
    const status = (reason: number, p: OfpPort): OfMessage => ({
      type: "port_status",
      xid: 0,
      reason,
      port: p,
    });
    expect(s.receive(wire(status(OFPPR.ADD, port(12, "tap-new"))), 3).notices).toEqual([]);
    expect(s.receive(wire(status(OFPPR.DELETE, port(11, "tap-gone"))), 4).notices).toEqual([]);
    const r = s.receive(wire(portDesc(xid, [port(1, "patch-tun"), port(11, "tap-gone")])), 5);
    expect(kinds(r)).toEqual(["transition", "ready"]);
    expect([...s.ports.values()].map((p) => p.name).sort()).toEqual(["patch-tun", "tap-new"]);
    // After ready, PORT_STATUS is a notice.
    const later = s.receive(wire(status(OFPPR.MODIFY, port(12, "tap-new"))), 6);
    expect(later.notices).toMatchObject([{ kind: "port", change: "modify" }]);
  });

  it("a multi-part PORT_DESC completes the handshake only with its last part", () => {
    const s = new Session();
    const xid = toPortDesc(s);
    expect(s.receive(wire(portDesc(xid, [port(1, "a")], OFPMPF_REPLY_MORE)), 3).notices).toEqual(
      [],
    );
    expect(s.state).toBe("awaitPortDesc");
    s.receive(wire(portDesc(xid, [port(2, "b")])), 4);
    expect(s.state).toBe("ready");
    expect(s.ports.size).toBe(2);
  });

  it("an unfinished handshake is closed after handshakeTimeoutMs", () => {
    const s = new Session({ handshakeTimeoutMs: 5000, echoIntervalMs: 60_000 });
    s.start(1000);
    expect(s.tick(5999).close).toBeUndefined();
    expect(s.tick(6000).close).toMatch(/handshake not complete/);
  });
});

describe("Session keep-alive", () => {
  function ready(opts = {}): Session {
    const s = new Session({ echoIntervalMs: 5000, echoMisses: 2, ...opts });
    const xid = toPortDesc(s);
    s.receive(wire(portDesc(xid, [])), 3);
    return s;
  }

  it("answers ECHO_REQUEST with the same xid and data", () => {
    const s = ready();
    const r = s.receive({ type: "echo_request", xid: 42, data: new Uint8Array([1, 2]) }, 10);
    expect(r.send).toEqual([
      { type: "echo_reply", xid: 42, version: undefined, data: new Uint8Array([1, 2]) },
    ]);
  });

  it("probes after 5 s of silence, again each interval, and declares the peer dead after 2 misses", () => {
    const s = ready();
    expect(types(s.tick(4000))).toEqual([]);
    const first = s.tick(5003);
    expect(types(first)).toEqual(["echo_request"]);
    expect(types(s.tick(6000))).toEqual([]); // one probe per interval
    expect(types(s.tick(10_003))).toEqual(["echo_request"]);
    const dead = s.tick(15_003);
    expect(dead.close).toMatch(/peer is dead/);
    expect(s.state).toBe("closed");
  });

  it("any message is liveness: an answered probe restarts the clock and reports the RTT", () => {
    const s = ready();
    const probe = s.tick(5003).send[0]!;
    const r = s.receive({ type: "echo_reply", xid: probe.xid, data: new Uint8Array(0) }, 5010);
    expect(r.notices).toEqual([{ kind: "echoRtt", ms: 7 }]);
    expect(types(s.tick(10_000))).toEqual([]);
    expect(types(s.tick(10_010))).toEqual(["echo_request"]);
    expect(s.tick(15_009).close).toBeUndefined();
  });
});

describe("Session requests", () => {
  function ready(): Session {
    const s = new Session({ requestTimeoutMs: 1000, echoIntervalMs: 60_000 });
    const xid = toPortDesc(s);
    s.receive(wire(portDesc(xid, [])), 3);
    return s;
  }

  it("a reply settles its request; a missing one times out", () => {
    const s = ready();
    const b = s.barrier(100);
    const r = s.receive({ type: "barrier_reply", xid: b.xid }, 150);
    expect(r.notices).toMatchObject([{ kind: "reply", xid: b.xid }]);
    const lost = s.track({ type: "barrier_request", xid: 0 }, 200, "reply");
    expect(s.tick(1199).notices).toEqual([]);
    expect(s.tick(1200).notices).toMatchObject([
      { kind: "failed", xid: lost.xid, failure: { kind: "timeout" } },
    ]);
    expect(s.pendingCount).toBe(0);
  });

  it("an OFPT_ERROR names the fenced FLOW_MOD it refused; the barrier settles the rest", () => {
    const s = ready();
    const good = s.track(
      flowModMessage(parseFlow("table=1,priority=5,actions=drop")),
      10,
      "fenced",
    );
    const bad = s.track(
      flowModMessage(parseFlow("table=2,priority=5,ip,actions=drop")),
      10,
      "fenced",
    );
    const b = s.barrier(10);
    expect(s.pendingCount).toBe(3);
    const err: OfMessage = {
      type: "error",
      xid: bad.xid,
      error: { kind: "standard", type: 4, code: 9 },
      data: encodeMessage(bad),
    };
    const r = s.receive(wire(err), 20);
    expect(r.notices).toHaveLength(1);
    const failed = r.notices[0] as Extract<Notice, { kind: "failed" }>;
    expect(failed.mode).toBe("fenced");
    expect(failed.request).toBe(bad);
    s.receive({ type: "barrier_reply", xid: b.xid }, 30);
    expect(s.pendingCount).toBe(0);
    expect(good.xid).not.toBe(bad.xid);
  });

  it("joins a multi-part flow dump and restarts the deadline on each part", () => {
    const s = ready();
    const req = s.track(
      { type: "multipart_request", xid: 0, flags: 0, body: { kind: "desc" } },
      0,
      "reply",
    );
    const part = (flags: number, priority: number): OfMessage => ({
      type: "multipart_reply",
      xid: req.xid,
      flags,
      body: {
        kind: "flow",
        entries: [
          {
            tableId: 0,
            durationSec: 0,
            durationNsec: 0,
            priority,
            idleTimeout: 0,
            hardTimeout: 0,
            flags: 0,
            cookie: 0n,
            packetCount: 0n,
            byteCount: 0n,
            match: { entries: [] },
            instructions: [],
          },
        ],
      },
    });
    expect(s.receive(wire(part(OFPMPF_REPLY_MORE, 1)), 900).notices).toEqual([]);
    expect(s.tick(1500).notices).toEqual([]); // progress at 900 moved the deadline to 1900
    const r = s.receive(wire(part(0, 2)), 1600);
    expect(r.notices).toHaveLength(1);
    const reply = (r.notices[0] as Extract<Notice, { kind: "reply" }>).msg;
    expect(
      reply.type === "multipart_reply" &&
        reply.body.kind === "flow" &&
        reply.body.entries.map((e) => e.priority),
    ).toEqual([1, 2]);
  });

  it("closing fails every pending request", () => {
    const s = ready();
    s.barrier(0);
    s.track(flowModMessage(parseFlow("priority=1,actions=drop")), 0, "fenced");
    const r = s.close("test");
    expect(r.notices.filter((n) => n.kind === "failed")).toHaveLength(2);
  });

  it("an undecodable message is answered with OFPT_ERROR carrying it, and the session stays up", () => {
    const s = ready();
    const frame = new Uint8Array([4, 99, 0, 8, 0, 0, 0, 5]);
    const r = s.decodeError(new OfpError("OFPBRC_BAD_TYPE", "type 99"), frame, 10);
    const err = r.send[0]!;
    expect(err.type === "error" && err.xid).toBe(5);
    expect(err.type === "error" && [...err.data]).toEqual([...frame]);
    expect(r.close).toBeUndefined();
    expect(s.state).toBe("ready");
    // An undecodable OFPT_ERROR is not answered (no error ping-pong).
    expect(
      s.decodeError(
        new OfpError("OFPBRC_BAD_LEN", "x"),
        new Uint8Array([4, 1, 0, 8, 0, 0, 0, 6]),
        11,
      ).send,
    ).toEqual([]);
  });
});
