/**
 * An in-memory switch that absorbs whatever a {@link Connection} sends, for
 * measuring what the controller itself costs (no socket, no switch work):
 * it answers the handshake (HELLO, FEATURES, an empty PORT_DESC), flow dumps
 * (with the flows it was given, split into multipart parts as OVS does),
 * ONF bundle control (OPEN/COMMIT/DISCARD → the matching reply) and
 * barriers, and counts FLOW_MODs, bundled or not. Replies arrive on a later
 * macrotask, as socket reads would.
 *
 * It reads only the headers of what it absorbs (and decodes the few small
 * requests it answers), so almost all the time measured is the controller's.
 */
import { pino } from "pino";
import { OFPT, OFP_HEADER_SIZE } from "../codec/header.js";
import { decodeMessage, encodeMessage, type OfMessage } from "../codec/message.js";
import { ONFT } from "../codec/messages/bundle.js";
import type { FlowStats } from "../codec/messages/multipart-flow.js";
import { encodeMultipartParts } from "../codec/messages/multipart-split.js";
import { OFPMP } from "../codec/messages/multipart.js";
import { makeHello } from "../codec/messages/hello.js";
import { ONF_VENDOR_ID } from "../codec/errors.js";
import { OFP13_VERSION } from "../codec/header.js";
import {
  Connection,
  type ConnectionHandler,
  type Transport,
} from "../src/controller/connection.js";

const silent = pino({ level: "silent" });

const handler: ConnectionHandler = {
  ready: () => undefined,
  port: () => undefined,
  packetIn: () => undefined,
  closed: () => undefined,
};

export class SinkSwitch implements Transport {
  readonly remote = "sink";
  readonly writableLength = 0;
  /** A flow dump's answer, encoded once (multipart parts; the xid is patched per dump). */
  private dumpParts: Uint8Array[] = [];
  flowMods = 0;
  bytes = 0;
  readonly conn: Connection;
  private replies: Uint8Array[] = [];
  private scheduled = false;

  constructor() {
    this.conn = new Connection(this, handler, silent, Date.now, { echoIntervalMs: 600_000 });
    this.install([]);
  }

  /** The flows a dump returns from now on. */
  install(flows: readonly FlowStats[]): void {
    this.dumpParts = encodeMultipartParts({
      type: "multipart_reply",
      xid: 0,
      flags: 0,
      body: { kind: "flow", entries: flows },
    });
  }

  /** Starts the connection and resolves once the handshake completed. */
  async ready(): Promise<Connection> {
    this.conn.start();
    for (let i = 0; i < 100 && this.conn.session.state !== "ready"; i++) {
      await new Promise((r) => setImmediate(r));
    }
    if (this.conn.session.state !== "ready") throw new Error("sink switch: no handshake");
    return this.conn;
  }

  write(bytes: Uint8Array): boolean {
    this.bytes += bytes.byteLength;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    while (at + OFP_HEADER_SIZE <= bytes.byteLength) {
      const type = view.getUint8(at + 1);
      const len = view.getUint16(at + 2);
      if (len < OFP_HEADER_SIZE || at + len > bytes.byteLength) {
        throw new Error("sink switch: a write ended inside a message");
      }
      this.absorb(type, bytes.subarray(at, at + len), view, at);
      at += len;
    }
    if (at !== bytes.byteLength) throw new Error("sink switch: trailing bytes in a write");
    return true;
  }

  end(): void {}

  private absorb(type: number, msg: Uint8Array, view: DataView, at: number): void {
    switch (type) {
      case OFPT.FLOW_MOD:
        this.flowMods++;
        return;
      case OFPT.EXPERIMENTER: {
        if (view.getUint32(at + 8) !== ONF_VENDOR_ID) return;
        const expType = view.getUint32(at + 12);
        if (expType === ONFT.BUNDLE_ADD_MESSAGE) {
          this.flowMods++;
          return;
        }
        if (expType === ONFT.BUNDLE_CONTROL) {
          const m = decodeMessage(msg);
          // Every *_REQUEST is answered by the *_REPLY one above it.
          if (m.type === "bundle_ctrl") this.reply({ ...m, ctrlType: m.ctrlType + 1 });
        }
        return;
      }
      case OFPT.HELLO:
        this.reply(makeHello(view.getUint32(at + 4), [OFP13_VERSION]));
        return;
      case OFPT.FEATURES_REQUEST:
        this.reply({
          type: "features_reply",
          xid: view.getUint32(at + 4),
          datapathId: 1n,
          nBuffers: 0,
          nTables: 254,
          auxiliaryId: 0,
          capabilities: 0,
          reserved: 0,
        });
        return;
      case OFPT.MULTIPART_REQUEST: {
        const xid = view.getUint32(at + 4);
        const kind = view.getUint16(at + 8);
        if (kind === OFPMP.PORT_DESC) {
          this.reply({
            type: "multipart_reply",
            xid,
            flags: 0,
            body: { kind: "port_desc", entries: [] },
          });
        } else if (kind === OFPMP.FLOW) {
          for (const p of this.dumpParts) {
            const part = p.slice();
            new DataView(part.buffer).setUint32(4, xid);
            this.queue(part);
          }
        }
        return;
      }
      case OFPT.BARRIER_REQUEST:
        this.reply({ type: "barrier_reply", xid: view.getUint32(at + 4) });
        return;
      default:
        return;
    }
  }

  private reply(m: OfMessage): void {
    this.queue(encodeMessage(m).slice());
  }

  private queue(bytes: Uint8Array): void {
    this.replies.push(bytes);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const rs = this.replies;
      this.replies = [];
      for (const r of rs) this.conn.data(r);
    });
  }
}
