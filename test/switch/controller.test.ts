/**
 * `dvrflow switch --controller tcp:…` against a scripted controller on
 * loopback (a real `dvrflow switch` process): the handshake, FEATURES and a
 * packet-in round trip; the reconnect schedule (1, 2, 4 s) against a
 * controller that drops every connection; the inactivity probe against a
 * controller that never answers echoes; and fail_mode=standalone failing
 * open and recovering.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Framer } from "../../codec/framer.js";
import { decodeMessage, encodeMessage, type OfMessage } from "../../codec/message.js";
import { makeHello } from "../../codec/messages/hello.js";
import { buildUdp, ipv4FromString, macFromString } from "../../codec/packet/index.js";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import { SwitchProcess } from "./switch-process.js";

interface Peer {
  readonly socket: Socket;
  readonly received: OfMessage[];
  readonly acceptedAt: number;
  next(pred: (m: OfMessage) => boolean, timeoutMs?: number): Promise<OfMessage>;
  send(m: OfMessage): void;
  closed: Promise<number>;
}

/** A scripted controller: every accepted connection becomes a Peer. */
class FakeController {
  readonly server: Server;
  readonly peers: Peer[] = [];
  private waiting: ((p: Peer) => void)[] = [];
  port = 0;

  constructor(private readonly onAccept: (p: Peer) => void = () => undefined) {
    this.server = createServer((socket) => this.accept(socket));
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    const a = this.server.address();
    this.port = typeof a === "object" && a !== null ? a.port : 0;
    return this.port;
  }

  nextPeer(timeoutMs = 20_000): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("no connection from the switch")), timeoutMs);
      this.waiting.push((p) => {
        clearTimeout(t);
        resolve(p);
      });
    });
  }

  close(): Promise<void> {
    for (const p of this.peers) p.socket.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }

  private accept(socket: Socket): void {
    const framer = new Framer();
    const received: OfMessage[] = [];
    let waiters: { pred: (m: OfMessage) => boolean; resolve: (m: OfMessage) => void }[] = [];
    const peer: Peer = {
      socket,
      received,
      acceptedAt: Date.now(),
      next: (pred, timeoutMs = 20_000) => {
        const seen = received.find(pred);
        if (seen !== undefined) return Promise.resolve(seen);
        return new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error("message not received")), timeoutMs);
          waiters.push({
            pred,
            resolve: (m) => {
              clearTimeout(t);
              resolve(m);
            },
          });
        });
      },
      send: (m) => {
        if (!socket.destroyed) socket.write(encodeMessage(m));
      },
      closed: new Promise((resolve) => socket.on("close", () => resolve(Date.now()))),
    };
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => {
      for (const f of framer.push(new Uint8Array(chunk))) {
        const m = decodeMessage(f, { strict: false });
        received.push(m);
        waiters = waiters.filter((w) => {
          if (!w.pred(m)) return true;
          w.resolve(m);
          return false;
        });
      }
    });
    this.peers.push(peer);
    this.onAccept(peer);
    const w = this.waiting.shift();
    w?.(peer);
  }
}

let sw: SwitchProcess | null = null;
let ctl: FakeController | null = null;
afterEach(async () => {
  await sw?.stop();
  sw = null;
  await ctl?.close();
  ctl = null;
});

describe("active controller connection", () => {
  it("handshakes, answers FEATURES with the dpid, and sends a packet-in from the table-miss flow", async () => {
    ctl = new FakeController();
    const port = await ctl.listen();
    const peerP = ctl.nextPeer();
    sw = await SwitchProcess.start([
      "--dpid",
      "0x77",
      "--controller",
      `tcp:127.0.0.1:${port}`,
      "--port",
      "1=p1:type=internal",
      "--port",
      "2=p2:type=internal",
    ]);
    const peer = await peerP;
    const hello = await peer.next((m) => m.type === "hello");
    expect(hello.type === "hello" && hello.elements[0]).toEqual({
      kind: "versionbitmap",
      bitmaps: [0x10],
    });
    peer.send(makeHello(1, [4]));
    peer.send({ type: "features_request", xid: 2 });
    const fr = await peer.next((m) => m.type === "features_reply");
    expect(fr).toMatchObject({ type: "features_reply", xid: 2, datapathId: 0x77n });
    peer.send({ ...flowModMessage(parseFlow("priority=0,actions=CONTROLLER:65535")), xid: 3 });
    const frame = buildUdp({
      eth: { src: macFromString("02:00:00:00:00:01"), dst: macFromString("02:00:00:00:00:02") },
      ip: { kind: "ipv4", src: ipv4FromString("203.0.113.1"), dst: ipv4FromString("203.0.113.2") },
      srcPort: 5000,
      dstPort: 6000,
    });
    // PACKET_OUT to TABLE: the frame runs the pipeline as if it came in on port 1.
    peer.send({
      type: "packet_out",
      xid: 4,
      bufferId: 0xffffffff,
      inPort: 1,
      actions: [{ type: "output", port: 0xfffffff9, maxLen: 0 }],
      data: frame,
    });
    const pin = await peer.next((m) => m.type === "packet_in");
    expect(pin.type).toBe("packet_in");
    if (pin.type !== "packet_in") return;
    expect([...pin.data]).toEqual([...frame]);
    // OF1.3: a packet sent to the controller by the table-miss flow (priority 0,
    // empty match) is reported as OFPR_NO_MATCH, as OVS does.
    expect(pin.reason).toBe(0);
  }, 60_000);

  it("reconnects to a controller that drops every connection after 1, 2, then 4 s", async () => {
    ctl = new FakeController((p) => p.socket.destroy());
    const port = await ctl.listen();
    sw = await SwitchProcess.start([
      "--controller",
      `tcp:127.0.0.1:${port}`,
      "--port",
      "1=p1:type=internal",
    ]);
    for (let i = 0; i < 4; i++) await ctl.nextPeer();
    const t = ctl.peers.map((p) => p.acceptedAt);
    const gaps = [t[1]! - t[0]!, t[2]! - t[1]!, t[3]! - t[2]!];
    expect(gaps[0]).toBeGreaterThan(800);
    expect(gaps[0]).toBeLessThan(1600);
    expect(gaps[1]).toBeGreaterThan(1800);
    expect(gaps[1]).toBeLessThan(2600);
    expect(gaps[2]).toBeGreaterThan(3800);
    expect(gaps[2]).toBeLessThan(4600);
    const waits = sw.logs
      .filter((l) => /waiting \d+ seconds before reconnect/.test(l.msg))
      .map((l) => l.seconds);
    expect(waits.slice(0, 3)).toEqual([1, 2, 4]);
  }, 60_000);

  it("probes an idle controller after the probe interval and drops it after a second one with no answer", async () => {
    ctl = new FakeController((p) => p.send(makeHello(1, [4])));
    const port = await ctl.listen();
    sw = await SwitchProcess.start([
      "--controller",
      `tcp:127.0.0.1:${port}`,
      "--probe-interval",
      "1",
      "--port",
      "1=p1:type=internal",
    ]);
    const peer = await ctl.nextPeer();
    const start = Date.now();
    await peer.next((m) => m.type === "echo_request", 10_000);
    const probeAt = Date.now() - start;
    const closedAt = (await peer.closed) - start;
    expect(probeAt).toBeGreaterThan(700);
    expect(probeAt).toBeLessThan(1800);
    expect(closedAt).toBeGreaterThan(1700);
    expect(closedAt).toBeLessThan(3000);
    await sw.waitLog((l) => l.msg.startsWith("no response to inactivity probe"));
  }, 60_000);

  it("fail_mode=standalone fails open without a controller and leaves fail-open once one connects", async () => {
    // A port that refuses connections at first; the controller appears later.
    ctl = new FakeController((p) => p.send(makeHello(1, [4])));
    const port = await ctl.listen();
    await new Promise<void>((r) => ctl!.server.close(() => r()));
    sw = await SwitchProcess.start([
      "--controller",
      `tcp:127.0.0.1:${port}`,
      "--fail-mode",
      "standalone",
      "--probe-interval",
      "1",
      "--max-backoff",
      "1",
      "--port",
      "1=p1:type=internal",
    ]);
    const enter = await sw.waitLog((l) => /failing open/.test(l.msg), 20_000);
    expect(enter.msg).toMatch(/Could not connect to controller for [3-9] seconds, failing open/);
    await new Promise<void>((r) => ctl!.server.listen(port, "127.0.0.1", r));
    await sw.waitLog((l) => l.msg === "No longer in fail-open mode", 20_000);
  }, 60_000);
});
