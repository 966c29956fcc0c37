/**
 * The connection's send path without sockets (src/controller/connection.ts,
 * session.ts): everything answered during one read leaves in one transport
 * write, in order, still bounded for packet-outs; a fenced batch carries its
 * barrier; fenced requests are tracked as runs (no message kept per flow)
 * yet an error still names its request with the right xid; and the bundle
 * probe's expected refusal is a debug line, not an error.
 */
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { Framer } from "../../codec/framer.js";
import { errorEncoding } from "../../codec/errors.js";
import { decodeMessage, encodeMessage, type OfMessage } from "../../codec/message.js";
import { OFPBCT } from "../../codec/messages/bundle.js";
import type { ErrorMessage } from "../../codec/messages/error.js";
import { makeHello } from "../../codec/messages/hello.js";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import {
  Connection,
  type ConnectionHandler,
  type Transport,
} from "../../src/controller/connection.js";
import { reconcileBridge } from "../../src/controller/reconcile.js";
import { Session, type Notice } from "../../src/controller/session.js";
import { compileTopology, loadExample } from "../dvr/helpers.js";

/** Records every write as the messages it held. */
class RecordingTransport implements Transport {
  readonly remote = "test";
  readonly writes: OfMessage[][] = [];
  writableLength = 0;
  full = false;
  ended = false;
  /** Called after each write (a scripted switch answers here). */
  onWrite: ((msgs: OfMessage[]) => void) | undefined;
  private readonly framer = new Framer();
  write(bytes: Uint8Array): boolean {
    if (this.ended) throw new Error("write after end");
    const msgs = this.framer.push(bytes).map((f) => decodeMessage(f, { strict: false }));
    this.writes.push(msgs);
    this.onWrite?.(msgs);
    return !this.full;
  }
  end(): void {
    this.ended = true;
  }
  get all(): OfMessage[] {
    return this.writes.flat();
  }
}

interface LogLine {
  readonly level: number;
  readonly event?: string;
  readonly error?: string;
  readonly [k: string]: unknown;
}

function logger(lines: LogLine[]) {
  return pino(
    { level: "debug" },
    { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  );
}

const PACKET_OUT: OfMessage = {
  type: "packet_out",
  xid: 0,
  bufferId: 0xffffffff,
  inPort: 1,
  actions: [],
  data: new Uint8Array(64),
};

function packetIn(n: number): OfMessage {
  return {
    type: "packet_in",
    xid: 0,
    bufferId: 0xffffffff,
    totalLen: 60,
    reason: 1,
    tableId: 40,
    cookie: BigInt(n),
    match: { entries: [] },
    data: new Uint8Array(60).fill(n),
  };
}

function concat(msgs: readonly OfMessage[]): Uint8Array {
  const parts = msgs.map((m) => encodeMessage(m).slice());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function handler(over: Partial<ConnectionHandler> = {}): ConnectionHandler {
  return {
    ready: () => undefined,
    port: () => undefined,
    packetIn: () => undefined,
    closed: () => undefined,
    ...over,
  };
}

function ready(t: RecordingTransport, h: ConnectionHandler, lines: LogLine[] = []): Connection {
  const c = new Connection(t, h, logger(lines), () => 0, { maxBufferedBytes: 1000 });
  c.start();
  c.data(encodeMessage(makeHello(1, [4])));
  const features = t.all.find((m) => m.type === "features_request")!;
  c.data(
    encodeMessage({
      type: "features_reply",
      xid: features.xid,
      datapathId: 1n,
      nBuffers: 0,
      nTables: 254,
      auxiliaryId: 0,
      capabilities: 0,
      reserved: 0,
    }),
  );
  const pd = t.all.find((m) => m.type === "multipart_request")!;
  c.data(
    encodeMessage({
      type: "multipart_reply",
      xid: pd.xid,
      flags: 0,
      body: { kind: "port_desc", entries: [] },
    }),
  );
  expect(c.session.state).toBe("ready");
  t.writes.length = 0;
  return c;
}

describe("a message that cannot be sent, or a bug while handling a read", () => {
  it("drops a packet-out too large to encode without leaving half of it in the read's write", () => {
    const t = new RecordingTransport();
    let result: boolean | undefined;
    const c = ready(
      t,
      handler({
        packetIn: (conn) => {
          // A route miss on a 70,000-byte GSO frame: the packet-out cannot fit.
          result = conn.sendUnreliable({ ...PACKET_OUT, data: new Uint8Array(70_000) });
          conn.sendUnreliable(PACKET_OUT);
        },
      }),
    );
    c.data(concat([packetIn(1), { type: "echo_request", xid: 7, data: new Uint8Array(0) }]));
    expect(result).toBe(false);
    // RecordingTransport decodes every write strictly by its framer: a
    // header left without its length would make it throw here.
    expect(t.writes).toHaveLength(1);
    expect(t.writes[0]!.map((m) => m.type)).toEqual(["packet_out", "echo_reply"]);
    expect((t.writes[0]![0] as Extract<OfMessage, { type: "packet_out" }>).data).toHaveLength(64);
    expect(c.closed).toBe(false);
  });

  it("closes only the connection whose handling threw, logging the error", () => {
    const t = new RecordingTransport();
    const lines: LogLine[] = [];
    let closed: string | undefined;
    const c = ready(
      t,
      handler({
        packetIn: () => {
          throw new TypeError("a bug in a handler");
        },
        closed: (_conn, reason) => (closed = reason),
      }),
      lines,
    );
    expect(() => c.data(encodeMessage(packetIn(2)))).not.toThrow();
    expect(c.closed).toBe(true);
    expect(closed).toMatch(/internal error: a bug in a handler/);
    expect(lines.some((l) => l.event === "of.internal_error" && l.level === 50)).toBe(true);
  });
});

describe("one write per read", () => {
  it("answers every echo request of one read in one write, in order", () => {
    const t = new RecordingTransport();
    const c = ready(t, handler());
    const echoes = Array.from({ length: 5 }, (_, i) => ({
      type: "echo_request" as const,
      xid: 100 + i,
      data: new Uint8Array([i]),
    }));
    c.data(concat(echoes));
    expect(t.writes).toHaveLength(1);
    expect(t.writes[0]!.map((m) => [m.type, m.xid])).toEqual(
      echoes.map((e) => ["echo_reply", e.xid]),
    );
  });

  it("writes the packet-outs answering one read's packet-ins once, and a request made meanwhile after them", () => {
    const t = new RecordingTransport();
    let asked = false;
    const c = ready(
      t,
      handler({
        packetIn: (conn, msg) => {
          conn.sendUnreliable({ ...PACKET_OUT, data: msg.data });
          if (!asked) {
            asked = true;
            void conn.request({ type: "barrier_request", xid: 0 }).catch(() => undefined);
          }
        },
      }),
    );
    c.data(concat([packetIn(1), packetIn(2), packetIn(3)]));
    expect(t.writes).toHaveLength(1);
    expect(t.writes[0]!.map((m) => m.type)).toEqual([
      "packet_out",
      "barrier_request",
      "packet_out",
      "packet_out",
    ]);
    expect(t.writes[0]!.filter((m) => m.type === "packet_out").map((m) => m.data[0])).toEqual([
      1, 2, 3,
    ]);
  });

  it("counts the read's pending output toward the packet-out drop threshold", () => {
    const t = new RecordingTransport();
    const c = ready(t, handler({ packetIn: (conn) => void conn.sendUnreliable(PACKET_OUT) }));
    t.full = true;
    expect(c.sendUnreliable(PACKET_OUT)).toBe(true); // discovers the congestion
    expect(c.isCongested).toBe(true);
    const size = encodeMessage(PACKET_OUT).byteLength;
    // Over the limit (1000) only once two more are pending: the transport's count alone never is.
    t.writableLength = 1000 - 2 * size + 1;
    c.data(concat([packetIn(1), packetIn(2), packetIn(3), packetIn(4), packetIn(5)]));
    expect(c.droppedForBackpressure).toBe(3);
    expect(t.writes.at(-1)!.filter((m) => m.type === "packet_out")).toHaveLength(2);
  });

  it("writes what a read answered before closing on a framing error in the same read", () => {
    const t = new RecordingTransport();
    const c = ready(t, handler());
    const good = encodeMessage({ type: "echo_request", xid: 9, data: new Uint8Array(0) });
    const chunk = new Uint8Array(good.byteLength + 8);
    chunk.set(good);
    chunk.set([4, 0, 0, 4, 0, 0, 0, 0], good.byteLength); // length 4 < 8: fatal
    c.data(chunk);
    expect(c.closed).toBe(true);
    expect(t.ended).toBe(true);
    expect(t.all.map((m) => [m.type, m.xid])).toEqual([["echo_reply", 9]]);
  });
});

describe("fenced sends", () => {
  it("puts the barrier in the same write as the last batch, and names a refused message with its xid", async () => {
    const t = new RecordingTransport();
    const c = ready(t, handler());
    const flows = Array.from({ length: 10 }, (_, i) =>
      flowModMessage(parseFlow(`table=1,priority=${i + 1},actions=drop`)),
    );
    const done = c.fenced(flows);
    expect(t.writes).toHaveLength(1);
    const sent = t.writes[0]!;
    expect(sent.map((m) => m.type)).toEqual([...flows.map(() => "flow_mod"), "barrier_request"]);
    const xids = sent.map((m) => m.xid);
    expect(new Set(xids).size).toBe(xids.length);
    const bad = sent[4]!;
    const err: ErrorMessage = {
      type: "error",
      xid: bad.xid,
      error: { kind: "standard", type: 5, code: 1 },
      data: encodeMessage(bad).slice(),
    };
    c.data(encodeMessage(err));
    c.data(encodeMessage({ type: "barrier_reply", xid: sent.at(-1)!.xid }));
    const r = await done;
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.request).toEqual({ ...flows[4]!, xid: bad.xid });
    expect(c.session.pendingCount).toBe(0);
  });
});

describe("fenced runs in the session", () => {
  const fm = (i: number): OfMessage =>
    flowModMessage(parseFlow(`table=2,priority=${i + 1},actions=drop`));
  const bundled = (i: number): OfMessage => ({
    type: "bundle_add",
    xid: 0,
    bundleId: 5,
    flags: 3,
    message: fm(i),
    properties: new Uint8Array(0),
  });
  const refuse = (xid: number): OfMessage => ({
    type: "error",
    xid,
    error: { kind: "standard", type: 5, code: 1 },
    data: new Uint8Array(0),
  });
  const failed = (ns: readonly Notice[]) =>
    ns.filter((n): n is Extract<Notice, { kind: "failed" }> => n.kind === "failed");

  function readySession(): Session {
    const s = new Session();
    s.start(0);
    s.receive(makeHello(1, [4]), 0);
    return s;
  }

  it("rebuilds a refused request from its source with the xid, once; a barrier settles the run", () => {
    const s = readySession();
    const src = Array.from({ length: 6 }, (_, i) => bundled(i));
    const fence = { tag: "g" };
    const xids = src.map((_, i) => s.trackFenced(src, i, fence));
    expect(s.pendingCount).toBe(6 + 1); // and the handshake's FEATURES request
    const r = s.receive(refuse(xids[3]!), 1);
    const [n] = failed(r.notices);
    expect(n).toMatchObject({ xid: xids[3], mode: "fenced", fence });
    // The bundled message carries the BUNDLE_ADD's xid too.
    expect(n!.request).toEqual({ ...src[3]!, xid: xids[3], message: { ...fm(3), xid: xids[3] } });
    // A second error for the same xid is not a second failure.
    expect(s.receive(refuse(xids[3]!), 1).notices.map((x) => x.kind)).toEqual(["unsolicitedError"]);
    const barrier = s.barrier(2);
    s.receive({ type: "barrier_reply", xid: barrier.xid }, 3);
    expect(s.pendingCount).toBe(1);
    expect(s.receive(refuse(xids[0]!), 4).notices.map((x) => x.kind)).toEqual(["unsolicitedError"]);
  });

  it("a barrier between two runs settles only the first; a close fails what is left", () => {
    const s = readySession();
    const src = Array.from({ length: 4 }, (_, i) => fm(i));
    const first = [0, 1].map((i) => s.trackFenced(src, i));
    const barrier = s.barrier(0);
    const second = [2, 3].map((i) => s.trackFenced(src, i));
    s.receive({ type: "barrier_reply", xid: barrier.xid }, 1);
    expect(failed(s.receive(refuse(first[1]!), 2).notices)).toHaveLength(0);
    const [late] = failed(s.receive(refuse(second[0]!), 2).notices);
    expect(late!.request).toEqual({ ...src[2]!, xid: second[0] });
    const closed = failed(s.close("bye").notices).filter((n) => n.mode === "fenced");
    expect(closed.map((n) => [n.xid, n.failure.kind])).toEqual([[second[1], "closed"]]);
    expect(s.pendingCount).toBe(0);
  });
});

describe("the bundle probe", () => {
  /**
   * A switch without bundles: an empty flow table, refuses bundle control
   * with `refusal`, answers barriers; FLOW_MODs are absorbed.
   */
  async function reconcileAgainst(refusal: string) {
    const lines: LogLine[] = [];
    const ofErrors: ErrorMessage[] = [];
    const t = new RecordingTransport();
    const c = ready(t, handler({ ofError: (_c, e) => void ofErrors.push(e) }), lines);
    const answer = (m: OfMessage) => setImmediate(() => c.data(encodeMessage(m)));
    t.onWrite = (msgs) => {
      for (const m of msgs) {
        if (m.type === "multipart_request" && m.body.kind === "flow") {
          answer({
            type: "multipart_reply",
            xid: m.xid,
            flags: 0,
            body: { kind: "flow", entries: [] },
          });
        } else if (m.type === "bundle_ctrl") {
          expect(m.ctrlType).toBe(OFPBCT.OPEN_REQUEST);
          const enc = errorEncoding(refusal);
          if (enc.kind !== "standard") throw new Error("standard error expected");
          answer({
            type: "error",
            xid: m.xid,
            error: { kind: "standard", type: enc.type, code: enc.code },
            data: encodeMessage(m).slice(),
          });
        } else if (m.type === "barrier_request") {
          answer({ type: "barrier_reply", xid: m.xid });
        }
      }
    };
    const [c1] = await compileTopology(loadExample("two-hosts.yaml"));
    const desired = c1!.bridges["br-int"];
    const prefix = Number(desired[0]!.cookie >> 56n);
    const r = await reconcileBridge(c, desired, { cookiePrefix: prefix });
    expect(r.usedBundle).toBe(false);
    expect(r.errors).toEqual([]);
    expect(t.all.filter((m) => m.type === "flow_mod")).toHaveLength(desired.length);
    return { lines, ofErrors };
  }

  it("refused as an unknown message: a debug line, no error reported", async () => {
    const { lines, ofErrors } = await reconcileAgainst("OFPBRC_BAD_TYPE");
    expect(ofErrors).toEqual([]);
    expect(lines.filter((l) => l.event === "of.error")).toEqual([]);
    const refused = lines.filter((l) => l.event === "of.refused");
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      level: 20,
      error: "OFPBRC_BAD_TYPE",
      request: "bundle_ctrl",
    });
  });

  it("refused for another reason: still a warning and an error reported", async () => {
    const { lines, ofErrors } = await reconcileAgainst("OFPBRC_EPERM");
    expect(ofErrors).toHaveLength(1);
    const warned = lines.filter((l) => l.event === "of.error");
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, error: "OFPBRC_EPERM" });
  });
});
