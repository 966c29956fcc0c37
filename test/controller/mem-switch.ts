/**
 * A switch connected to a controller in memory: a real {@link Connection}
 * (the controller's side, framing and decoding included) whose transport
 * hands every byte to our userspace switch's OpenFlowHandler, and the
 * handler's replies back to the connection. No socket, no timer: the
 * tests drive it with {@link MemSwitch.settle}, and the controller's clock
 * can stand still (token buckets that never refill).
 *
 * PACKET_OUTs are kept for the test instead of being executed.
 */
import { pino } from "pino";
import { Framer } from "../../codec/framer.js";
import { decodeMessage, encodeMessage, type OfMessage } from "../../codec/message.js";
import type { PacketInMessage } from "../../codec/messages/packet-in.js";
import { encodeMultipartParts } from "../../codec/messages/multipart-split.js";
import type { Bridge } from "../../datapath/bridge.js";
import { OpenFlowHandler } from "../../datapath/openflow-handler.js";
import { Connection, type ConnectionHandler } from "../../src/controller/connection.js";

export type PacketOut = Extract<OfMessage, { type: "packet_out" }>;

export class MemSwitch {
  readonly conn: Connection;
  readonly handler: OpenFlowHandler;
  readonly packetOuts: PacketOut[] = [];
  private readonly framer = new Framer();
  private readonly queue: Uint8Array[] = [];

  constructor(ctl: ConnectionHandler, bridge: Bridge) {
    this.handler = new OpenFlowHandler(bridge);
    const queue = this.queue;
    this.conn = new Connection(
      {
        write: (b) => {
          queue.push(b.slice());
          return true;
        },
        end: () => undefined,
        writableLength: 0,
        remote: `mem:${bridge.name}`,
      },
      ctl,
      pino({ level: "silent" }),
      Date.now,
    );
  }

  /** HELLO both ways; the rest of the handshake follows in {@link settle}. */
  start(): void {
    this.conn.start();
    this.conn.data(
      encodeMessage({
        type: "hello",
        xid: 1,
        elements: [{ kind: "versionbitmap", bitmaps: [1 << 4] }],
      }),
    );
  }

  /** Delivers what the controller wrote to the switch, and the switch's answers back. */
  pump(): void {
    while (this.queue.length > 0) {
      for (const f of this.framer.push(this.queue.shift()!)) {
        const msg = decodeMessage(f, { strict: false });
        if (msg.type === "packet_out") {
          this.packetOuts.push(msg);
          continue;
        }
        for (const r of this.handler.handle(msg, Date.now(), f)) {
          if (r.type === "multipart_reply")
            for (const p of encodeMultipartParts(r)) this.conn.data(p);
          else this.conn.data(encodeMessage(r));
        }
      }
    }
  }

  /** Pumps, letting the controller's promises run, until `done()` holds and nothing is in flight. */
  async settle(done: () => boolean = () => true, what = "the switch to settle"): Promise<void> {
    for (let i = 0; i < 5000; i++) {
      this.pump();
      await new Promise((r) => setImmediate(r));
      if (this.queue.length === 0 && done()) return;
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  /** A packet-in as the switch would send it, through the connection's decoder. */
  packetIn(msg: PacketInMessage): void {
    this.conn.data(encodeMessage(msg));
  }
}
