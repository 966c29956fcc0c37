/**
 * One OpenFlow connection of a bridge, as a pure state machine: bytes and
 * clock ticks in, bytes out and "close now" decisions. No sockets, no timers
 * (style.md §2.6): channel.ts feeds it from a node:net socket; tests feed it
 * directly with injected time.
 *
 * What it does, after OVS (`lib/vconn.c`, `lib/rconn.c`, `ofproto/connmgr.c`):
 *
 * - **Handshake.** On open it sends HELLO with a version bitmap (OF1.3 only:
 *   OVS sends the bitmap whenever its versions are not "1..n"). On the peer's
 *   HELLO the highest common version is chosen (versions.ts); none →
 *   OFPT_ERROR HELLO_FAILED/INCOMPATIBLE with OVS's text, then close. Any other
 *   message before HELLO closes the connection without a reply (OVS:
 *   "received message while expecting hello", EPROTO).
 * - **Requests.** Every frame is decoded and answered by the bridge's
 *   {@link OpenFlowHandler} (errors as OVS sends them, the whole request
 *   echoed). A frame in another version gets OFPBRC_BAD_VERSION and is
 *   otherwise ignored, as `vconn_recv` does. Multipart replies are split at
 *   65535 bytes between entries (`encodeMultipartParts`), as `ofpmp_postappend`
 *   does. A framing error (length < 8) cannot be resynchronised: close.
 * - **Keep-alive** (rconn's ACTIVE/IDLE states, reliability.md §3.1): after
 *   `probeIntervalMs` with nothing received, send ECHO_REQUEST; after a
 *   further `probeIntervalMs` with still nothing, close with OVS's "no
 *   response to inactivity probe" message. Anything received counts as
 *   liveness. A connection that never completes its HELLO is closed after
 *   the same two intervals.
 * - **Asynchronous messages** (packet-in, flow-removed, port-status) are
 *   filtered per connection as connmgr does: none before the handshake; a
 *   service connection (ptcp/punix, e.g. ovs-ofctl) gets them only after it
 *   set a non-zero miss_send_len with SET_CONFIG (`ofconn_receives_async_msg`);
 *   a slave controller gets only port-status (OF1.3 default async config).
 */
import { OfpError } from "../../codec/errors.js";
import { Framer, FramingError } from "../../codec/framer.js";
import { encodeMessage, decodeMessage, type OfMessage } from "../../codec/message.js";
import { errorReplyFor, type ErrorMessage } from "../../codec/messages/error.js";
import { makeHello } from "../../codec/messages/hello.js";
import { encodeMultipartParts } from "../../codec/messages/multipart-split.js";
import { OFP13_VERSION } from "../../codec/header.js";
import type { Bridge } from "../bridge.js";
import { OFPCR_ROLE, OpenFlowHandler } from "../openflow-handler.js";
import { silentLog, type AgentLog } from "./log.js";
import { OF13_ONLY, helloBitmap, highestVersion, incompatibleText } from "./versions.js";

/** OVS `RECONNECT_DEFAULT_PROBE_INTERVAL` (ms); rconn clamps lower values to 5 s. */
export const DEFAULT_PROBE_INTERVAL_MS = 5000;

/**
 * `controller`: we connected out to a controller (OVS OFCONN_PRIMARY).
 * `service`: a peer connected to our listener (OFCONN_SERVICE, e.g. ovs-ofctl).
 */
export type ConnectionKind = "controller" | "service";

export type ConnectionState = "awaitHello" | "ready" | "closed";

export interface ConnectionOptions {
  /** For logs, e.g. "br-int<->tcp:127.0.0.1:6653". */
  readonly name: string;
  readonly kind: ConnectionKind;
  /** Inactivity probe interval in ms; 0 disables keep-alive. Default 5000. */
  readonly probeIntervalMs?: number;
  readonly log?: AgentLog;
}

/** What the caller must do after feeding an event. */
export interface ConnectionOutput {
  /** Whole OpenFlow messages to write, in order. */
  readonly send: Uint8Array[];
  /** Non-null: write `send`, then close the connection; the text says why. */
  close: string | null;
}

/** Transitions a connection may make (anything else is a bug). */
const TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  awaitHello: ["ready", "closed"],
  ready: ["closed"],
  closed: [],
};

export class OfConnection {
  readonly name: string;
  readonly kind: ConnectionKind;
  readonly handler: OpenFlowHandler;
  readonly probeIntervalMs: number;
  private readonly log: AgentLog;
  private readonly framer = new Framer();
  private stateValue: ConnectionState = "awaitHello";
  /** Negotiated wire version (4), or -1 before the handshake. */
  version = -1;
  /** Versions the peer announced (bitmap), 0 before its HELLO. */
  peerVersions = 0;
  private openedMs = 0;
  private lastRxMs = 0;
  /** When the outstanding inactivity probe was sent, or -1. */
  private probeSentMs = -1;
  private nextXid = 1;
  /** A service connection's miss_send_len (0 = no async messages). */
  private serviceMissSendLen = 0;
  /** Counters, for logs and metrics. */
  readonly counters = { rxMessages: 0, txMessages: 0, errorsSent: 0, asyncDropped: 0 };

  constructor(bridge: Bridge, options: ConnectionOptions) {
    this.name = options.name;
    this.kind = options.kind;
    this.handler = new OpenFlowHandler(bridge);
    this.probeIntervalMs = options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    this.log = options.log ?? silentLog;
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  get bridge(): Bridge {
    return this.handler.bridge;
  }

  private transition(to: ConnectionState): void {
    const from = this.stateValue;
    if (from === to) return;
    if (!TRANSITIONS[from].includes(to)) throw new Error(`connection ${from} -> ${to}`);
    this.stateValue = to;
    this.log.info({ conn: this.name, from, to }, `${from} -> ${to}`);
  }

  /** The socket is up: send our HELLO. */
  open(nowMs: number): ConnectionOutput {
    this.openedMs = nowMs;
    this.lastRxMs = nowMs;
    return { send: [encodeMessage(makeHello(this.xid(), [OFP13_VERSION]))], close: null };
  }

  /** The socket closed (either side); nothing more is sent. */
  closed(reason: string): void {
    if (this.stateValue === "closed") return;
    this.log.info({ conn: this.name, reason }, "connection closed");
    this.transition("closed");
  }

  /** Bytes arrived. */
  receive(chunk: Uint8Array, nowMs: number): ConnectionOutput {
    const out: ConnectionOutput = { send: [], close: null };
    if (this.stateValue === "closed") return out;
    this.lastRxMs = nowMs;
    this.probeSentMs = -1;
    let frames: Uint8Array[];
    try {
      frames = this.framer.push(chunk);
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      for (const f of err.frames) {
        this.frame(f, nowMs, out);
        if (out.close !== null) return out;
      }
      this.log.warn({ conn: this.name, err: err.message }, "framing error, disconnecting");
      out.close = `framing error: ${err.message}`;
      return out;
    }
    for (const f of frames) {
      this.frame(f, nowMs, out);
      if (out.close !== null) break;
    }
    return out;
  }

  /**
   * Time passed: keep-alive (rconn run_ACTIVE / run_IDLE). Call it at least
   * a few times per probe interval.
   */
  tick(nowMs: number): ConnectionOutput {
    const out: ConnectionOutput = { send: [], close: null };
    const probe = this.probeIntervalMs;
    if (this.stateValue === "closed" || probe <= 0) return out;
    if (this.stateValue === "awaitHello") {
      if (nowMs - this.openedMs >= 2 * probe) {
        out.close = `no hello after ${Math.round((nowMs - this.openedMs) / 1000)} seconds, disconnecting`;
        this.log.warn({ conn: this.name }, out.close);
      }
      return out;
    }
    if (this.probeSentMs < 0) {
      if (nowMs - this.lastRxMs >= probe) {
        this.log.debug(
          { conn: this.name },
          `idle ${Math.floor((nowMs - this.lastRxMs) / 1000)} seconds, sending inactivity probe`,
        );
        this.probeSentMs = nowMs;
        out.send.push(
          encodeMessage({ type: "echo_request", xid: this.xid(), data: new Uint8Array(0) }),
        );
        this.counters.txMessages++;
      }
    } else if (nowMs - this.probeSentMs >= probe) {
      out.close = `no response to inactivity probe after ${Math.floor((nowMs - this.probeSentMs) / 1000)} seconds, disconnecting`;
      this.log.error({ conn: this.name }, out.close);
    }
    return out;
  }

  /**
   * Encodes the asynchronous messages this connection should receive (see
   * the file comment); the rest are skipped.
   */
  asyncMessages(msgs: readonly OfMessage[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.stateValue !== "ready") return out;
    if (this.kind === "service" && this.serviceMissSendLen === 0) return out;
    const slave = this.handler.role === OFPCR_ROLE.SLAVE;
    for (const m of msgs) {
      if (slave && m.type !== "port_status") continue;
      out.push(encodeMessage(m));
      this.counters.txMessages++;
    }
    return out;
  }

  private xid(): number {
    const x = this.nextXid;
    this.nextXid = (this.nextXid + 1) >>> 0 || 1;
    return x;
  }

  /** One whole frame. */
  private frame(f: Uint8Array, nowMs: number, out: ConnectionOutput): void {
    this.counters.rxMessages++;
    if (this.stateValue === "awaitHello") {
      this.handshake(f, out);
      return;
    }
    let msg: OfMessage;
    try {
      msg = decodeMessage(f);
    } catch (err) {
      if (!(err instanceof OfpError)) {
        // A decoder bug must not take the switch down: answer as OVS does for
        // what it cannot parse, and log loudly.
        this.log.error({ conn: this.name, err: String(err) }, "decoder failure");
        this.reply(errorReplyFor(new OfpError("OFPBRC_EPERM", String(err)), f), out);
        return;
      }
      this.log.debug({ conn: this.name, err: err.message }, "bad message");
      this.reply(errorReplyFor(err, f), out);
      return;
    }
    if (msg.type === "echo_reply" || msg.type === "hello") return;
    if (msg.type === "set_config" && this.kind === "service") {
      this.serviceMissSendLen = msg.missSendLen;
    }
    let replies: OfMessage[];
    try {
      replies = this.handler.handle(msg, nowMs, f);
    } catch (err) {
      this.log.error({ conn: this.name, type: msg.type, err: String(err) }, "handler failure");
      replies = [errorReplyFor(new OfpError("OFPBRC_EPERM", String(err)), f)];
    }
    for (const r of replies) this.reply(r, out);
  }

  private reply(m: OfMessage, out: ConnectionOutput): void {
    if (m.type === "error") this.counters.errorsSent++;
    if (m.type === "multipart_reply") {
      for (const part of encodeMultipartParts(m)) out.send.push(part);
    } else {
      out.send.push(encodeMessage(m));
    }
    this.counters.txMessages++;
  }

  private handshake(f: Uint8Array, out: ConnectionOutput): void {
    let msg: OfMessage | undefined;
    try {
      msg = decodeMessage(f, { strict: false });
    } catch {
      msg = undefined;
    }
    if (msg === undefined || msg.type !== "hello") {
      out.close = `received message while expecting hello${msg === undefined ? "" : `: ${msg.type}`}`;
      this.log.warn({ conn: this.name }, out.close);
      return;
    }
    const peer = helloBitmap(msg);
    this.peerVersions = peer;
    const common = (peer & OF13_ONLY) >>> 0;
    if (common === 0) {
      const text = incompatibleText(OF13_ONLY, peer);
      const err: ErrorMessage = {
        type: "error",
        xid: 0,
        version: Math.max(1, highestVersion(peer)),
        error: new OfpError("OFPHFC_INCOMPATIBLE", text).encoding,
        data: new TextEncoder().encode(text),
      };
      this.reply(err, out);
      out.close = `version negotiation failed: ${text}`;
      this.log.warn({ conn: this.name }, out.close);
      return;
    }
    this.version = highestVersion(common);
    this.transition("ready");
  }
}
