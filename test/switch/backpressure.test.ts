/**
 * Bounded memory toward a slow OpenFlow peer (datapath/agent/channel.ts,
 * reliability.md §3.5), over a real loopback socket: a peer that keeps
 * asking for large flow dumps and never reads is first throttled (the switch
 * stops reading its requests) and, once the unsent bytes would pass the cap,
 * dropped with a log line; packet-ins to a congested peer are dropped and
 * counted, not queued.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { encodeMessage } from "../../codec/message.js";
import { makeHello } from "../../codec/messages/hello.js";
import { SocketChannel } from "../../datapath/agent/channel.js";
import { OfConnection } from "../../datapath/agent/connection.js";
import { RecordingLog } from "../../datapath/agent/log.js";
import { addFlows, oneBridge } from "../datapath/switch-helpers.js";
import { flowDumpRequest } from "../../codec/messages/multipart.js";

const flowDump = (xid: number): Uint8Array => encodeMessage(flowDumpRequest(xid));

let server: Server | null = null;
let client: Socket | null = null;
afterEach(async () => {
  client?.destroy();
  await new Promise<void>((r) => (server === null ? r() : server.close(() => r())));
  server = null;
});

/** A channel on the server side of a loopback connection, and the (non-reading) client. */
async function pair(limits: { highWaterBytes: number; maxQueuedBytes: number }) {
  const { br } = oneBridge(2);
  const flows: string[] = [];
  for (let i = 0; i < 1000; i++)
    flows.push(`table=2,priority=${i},ip,nw_src=10.0.${i >> 8}.${i & 255} actions=output:1`);
  addFlows(br, flows);
  const log = new RecordingLog();
  let closedReason = "";
  const chP = new Promise<SocketChannel>((resolve) => {
    server = createServer((s) => {
      const conn = new OfConnection(br, {
        name: "slow",
        kind: "controller",
        probeIntervalMs: 0,
        log,
      });
      const ch = new SocketChannel(s, conn, {
        clock: () => 0,
        log,
        limits,
        onClose: () => (closedReason = "closed"),
        onActivity: () => undefined,
      });
      ch.start();
      resolve(ch);
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  const addr = server!.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  client = connect({ port, host: "127.0.0.1" });
  await new Promise<void>((r) => client!.once("connect", () => r()));
  client.pause(); // never read: the switch's replies pile up
  client.write(encodeMessage(makeHello(1, [4])));
  const ch = await chP;
  return { ch, log, closed: () => closedReason };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("a peer that does not read", () => {
  it("is dropped with a log line once its unsent replies would pass the cap", async () => {
    const { ch, log, closed } = await pair({ highWaterBytes: 64 << 10, maxQueuedBytes: 1 << 20 });
    // Each dump is ~70 kB; 200 of them would be 14 MB if buffered without bound.
    for (let i = 0; i < 200 && !client!.destroyed; i++) client!.write(flowDump(i + 2));
    await until(() => closed() !== "");
    expect(ch.closed).toBe(true);
    expect(
      log.records.some((r) => r.level === "warn" && r.msg.includes("send queue over its limit")),
    ).toBe(true);
  });

  it("is throttled: reading pauses, and packet-ins are dropped and counted instead of queued", async () => {
    const { ch } = await pair({ highWaterBytes: 64 << 10, maxQueuedBytes: 256 << 20 });
    for (let i = 0; i < 300; i++) client!.write(flowDump(i + 2));
    // The kernel's socket buffers fill first; then replies queue in the process.
    await until(() => ch.readingPaused);
    await new Promise((r) => setTimeout(r, 300));
    expect(ch.readingPaused).toBe(true);
    // Paused: requests sent now are not read (TCP pushes back on the peer), and
    // what is queued stays under the cap.
    const read = ch.conn.counters.rxMessages;
    for (let i = 0; i < 50; i++) client!.write(flowDump(1000 + i));
    await new Promise((r) => setTimeout(r, 300));
    expect(ch.conn.counters.rxMessages).toBe(read);
    expect(ch.queuedBytes).toBeLessThanOrEqual(256 << 20);
    expect(ch.closed).toBe(false);
    const packetIn = {
      type: "packet_in" as const,
      xid: 0,
      bufferId: 0xffffffff,
      totalLen: 60,
      reason: 0,
      tableId: 0,
      cookie: 0n,
      match: { entries: [] },
      data: new Uint8Array(60),
    };
    for (let i = 0; i < 50; i++) ch.sendAsync([packetIn]);
    expect(ch.conn.counters.asyncDropped).toBe(50);
    expect(ch.closed).toBe(false);
  });
});
