/**
 * The connection layer without sockets: a fake transport that can be made
 * slow, to check backpressure (reliability.md §3.5) and the promise side
 * of xid tracking.
 */
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { decodeMessage, encodeMessage, type OfMessage } from "../../codec/message.js";
import { Framer } from "../../codec/framer.js";
import { makeHello } from "../../codec/messages/hello.js";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import {
  Connection,
  RequestError,
  type ConnectionHandler,
  type Transport,
} from "../../src/controller/connection.js";

class SlowTransport implements Transport {
  readonly remote = "test";
  readonly frames: OfMessage[] = [];
  writableLength = 0;
  full = false;
  ended = false;
  private readonly framer = new Framer();
  write(bytes: Uint8Array): boolean {
    this.writableLength += bytes.byteLength;
    for (const f of this.framer.push(bytes)) this.frames.push(decodeMessage(f, { strict: false }));
    return !this.full;
  }
  end(): void {
    this.ended = true;
  }
}

const handler: ConnectionHandler = {
  ready: () => undefined,
  port: () => undefined,
  packetIn: () => undefined,
  closed: () => undefined,
};

function readyConnection(t: SlowTransport, now = { t: 0 }): Connection {
  const c = new Connection(t, handler, pino({ level: "silent" }), () => now.t, {
    maxBufferedBytes: 1000,
  });
  c.start();
  c.data(encodeMessage(makeHello(1, [4])));
  const features = t.frames.find((m) => m.type === "features_request")!;
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
  const pd = t.frames.find((m) => m.type === "multipart_request")!;
  c.data(
    encodeMessage({
      type: "multipart_reply",
      xid: pd.xid,
      flags: 0,
      body: { kind: "port_desc", entries: [] },
    }),
  );
  expect(c.session.state).toBe("ready");
  return c;
}

const packetOut: OfMessage = {
  type: "packet_out",
  xid: 0,
  bufferId: 0xffffffff,
  inPort: 1,
  actions: [],
  data: new Uint8Array(64),
};

describe("Connection backpressure", () => {
  it("drops packet-outs while the transport is congested past maxBufferedBytes, sends again after drain", () => {
    const t = new SlowTransport();
    const c = readyConnection(t);
    t.full = true;
    expect(c.sendUnreliable(packetOut)).toBe(true); // this write discovers the congestion
    expect(c.isCongested).toBe(true);
    t.writableLength = 5000;
    expect(c.sendUnreliable(packetOut)).toBe(false);
    expect(c.droppedForBackpressure).toBe(1);
    t.full = false;
    t.writableLength = 0;
    c.drain();
    expect(c.sendUnreliable(packetOut)).toBe(true);
  });

  it("fenced() writes in batches and waits for drain between them, then resolves on the barrier", async () => {
    const t = new SlowTransport();
    const c = readyConnection(t);
    t.full = true;
    const flows = Array.from({ length: 2000 }, (_, i) =>
      flowModMessage(parseFlow(`table=1,priority=${i + 1},actions=drop`)),
    );
    const done = c.fenced(flows);
    await new Promise((r) => setTimeout(r, 10));
    const written = t.frames.filter((m) => m.type === "flow_mod").length;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(2000); // stopped at the first full batch
    t.full = false;
    c.drain();
    await new Promise((r) => setTimeout(r, 10));
    expect(t.frames.filter((m) => m.type === "flow_mod")).toHaveLength(2000);
    const barrier = t.frames.find((m) => m.type === "barrier_request")!;
    const bad = t.frames.filter((m) => m.type === "flow_mod")[7]!;
    c.data(
      encodeMessage({
        type: "error",
        xid: bad.xid,
        error: { kind: "standard", type: 5, code: 0 },
        data: encodeMessage(bad),
      }),
    );
    c.data(encodeMessage({ type: "barrier_reply", xid: barrier.xid }));
    const r = await done;
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.request.xid).toBe(bad.xid);
  });

  it("a request whose reply never comes rejects with a timeout, and closing rejects the rest", async () => {
    const now = { t: 0 };
    const t = new SlowTransport();
    const c = readyConnection(t, now);
    const lost = c.request({ type: "barrier_request", xid: 0 }, 100);
    now.t = 150;
    c.tick();
    await expect(lost).rejects.toBeInstanceOf(RequestError);
    const pending = c.request({ type: "barrier_request", xid: 0 });
    c.shutdown("test");
    await expect(pending).rejects.toThrow(/closed/);
    expect(t.ended).toBe(true);
  });

  it("a framing error closes the connection", () => {
    const t = new SlowTransport();
    const c = readyConnection(t);
    c.data(new Uint8Array([4, 0, 0, 4, 0, 0, 0, 0]));
    expect(c.closed).toBe(true);
    expect(t.ended).toBe(true);
  });
});
