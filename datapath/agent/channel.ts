/**
 * The I/O edge of one OpenFlow connection: a node:net socket on one side, an
 * {@link OfConnection} (pure) on the other. Per chunk it feeds the machine and
 * writes what comes back; timers are the owner's (it calls {@link tick}).
 *
 * Bounded memory on a slow peer (reliability.md §3.5):
 * - above `highWaterBytes` unsent, reading from the peer pauses (after the
 *   chunk that crossed the mark) until the socket drains, so a peer that
 *   floods requests without reading replies is throttled by TCP (OVS
 *   `OFCONN_REPLY_MAX`: "stops reading that controller's requests");
 * - above `highWaterBytes` asynchronous messages (packet-ins) are dropped and
 *   counted, as OVS drops past `controller_queue_size` (`rconn_overflow`);
 * - a write that would take the unsent bytes past `maxQueuedBytes` drops the
 *   connection with a log line, rather than buffer without bound.
 */
import type { Socket } from "node:net";
import type { OfMessage } from "../../codec/message.js";
import type { ConnectionOutput, OfConnection } from "./connection.js";
import { silentLog, type AgentLog } from "./log.js";

export interface ChannelLimits {
  /** Unsent bytes above which reading pauses and packet-ins are dropped. Default 1 MiB. */
  readonly highWaterBytes?: number;
  /** Unsent bytes above which the connection is dropped. Default 64 MiB. */
  readonly maxQueuedBytes?: number;
}

export const DEFAULT_HIGH_WATER_BYTES = 1 << 20;
export const DEFAULT_MAX_QUEUED_BYTES = 64 << 20;

export class SocketChannel {
  readonly conn: OfConnection;
  private readonly socket: Socket;
  private readonly clock: () => number;
  private readonly log: AgentLog;
  private readonly highWater: number;
  private readonly maxQueued: number;
  private readonly onClose: (ch: SocketChannel) => void;
  private readonly onActivity: () => void;
  private paused = false;
  private closedFlag = false;
  private overflowLogged = false;

  constructor(
    socket: Socket,
    conn: OfConnection,
    options: {
      clock: () => number;
      log?: AgentLog;
      limits?: ChannelLimits;
      /** Called once when the socket is gone. */
      onClose: (ch: SocketChannel) => void;
      /** Called after each received chunk was handled (to flush the bridge's async messages). */
      onActivity: () => void;
    },
  ) {
    this.socket = socket;
    this.conn = conn;
    this.clock = options.clock;
    this.log = options.log ?? silentLog;
    this.highWater = options.limits?.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    this.maxQueued = options.limits?.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.onClose = options.onClose;
    this.onActivity = options.onActivity;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Bytes written but not yet sent (for metrics and tests). */
  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  /** True while reading from the peer is paused because it does not read our replies. */
  get readingPaused(): boolean {
    return this.paused;
  }

  /** Starts the connection (sends HELLO) and wires the socket's events. */
  start(): void {
    const s = this.socket;
    s.setNoDelay(true);
    s.on("data", (chunk: Buffer) => {
      if (this.closedFlag) return;
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      this.apply(this.conn.receive(bytes, this.clock()));
      this.onActivity();
    });
    s.on("drain", () => {
      this.overflowLogged = false;
      if (this.paused && !this.closedFlag) {
        this.paused = false;
        s.resume();
      }
    });
    s.on("error", (err) => {
      this.log.debug({ conn: this.conn.name, err: err.message }, "socket error");
    });
    s.on("close", () => this.finish("connection closed by peer"));
    this.apply(this.conn.open(this.clock()));
  }

  tick(nowMs: number): void {
    if (!this.closedFlag) this.apply(this.conn.tick(nowMs));
  }

  /** Sends the asynchronous messages this connection takes, unless it is congested. */
  sendAsync(msgs: readonly OfMessage[]): void {
    if (this.closedFlag) return;
    const frames = this.conn.asyncMessages(msgs);
    if (frames.length === 0) return;
    if (this.socket.writableLength > this.highWater) {
      this.conn.counters.asyncDropped += frames.length;
      if (!this.overflowLogged) {
        this.overflowLogged = true;
        this.log.warn(
          { conn: this.conn.name, queued: this.socket.writableLength },
          "peer is not reading: dropping asynchronous messages",
        );
      }
      return;
    }
    for (const f of frames) if (!this.write(f)) return;
  }

  /** Closes the socket (no more writes). */
  close(reason: string): void {
    if (this.closedFlag) return;
    this.socket.destroy();
    this.finish(reason);
  }

  private apply(out: ConnectionOutput): void {
    for (const f of out.send) if (!this.write(f)) return;
    if (out.close !== null) {
      // end(): what was written (e.g. HELLO_FAILED) still goes out first.
      this.socket.end();
      this.finish(out.close);
      return;
    }
    if (!this.paused && this.socket.writableLength > this.highWater) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private write(frame: Uint8Array): boolean {
    if (this.socket.writableLength + frame.byteLength > this.maxQueued) {
      this.log.warn(
        { conn: this.conn.name, queued: this.socket.writableLength, max: this.maxQueued },
        "send queue over its limit, dropping connection",
      );
      this.close("send queue overflow");
      return false;
    }
    this.socket.write(frame);
    return true;
  }

  private finish(reason: string): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.conn.closed(reason);
    this.onClose(this);
  }
}
