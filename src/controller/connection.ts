/**
 * The async face of one switch connection: a {@link Session} (pure) plus a
 * byte {@link Transport} (a socket, in server.ts; anything in tests). It
 * frames and decodes what arrives, feeds the session, writes what the
 * session returns, and turns tracked requests into promises.
 *
 * Backpressure (reliability.md §3.5). When the transport's buffer is full
 * (`write` returned false) the connection is *congested* until `drain`:
 * - producers that can wait (reconciliation) `await drained()` between
 *   batches, so at most one batch (~64 KiB) sits in our buffers per switch;
 * - producers that cannot (packet-outs for packet-ins) are dropped and
 *   counted while congested, as OVS drops packet-ins past its queue.
 * Reading never stops: the switch's replies (barriers, dumps) must keep
 * flowing, and OVS itself stops reading us when 100 of its replies are
 * unsent, so pausing our reads on write congestion could deadlock both.
 *
 * Input is bounded by the framer (one partial message, at most 64 KiB) and
 * by handling every frame synchronously as it is cut.
 *
 * Writes are batched. What the connection sends while it handles one read
 * (replies, echo answers, the packet-outs answering that read's packet-ins)
 * is encoded into one output buffer and written once when the read is
 * handled, rather than one transport write (one syscall, one wake-up of the
 * peer) per message: that was about half the controller's CPU under a
 * packet-in load. The buffer is flushed early past {@link BATCH_BYTES}, so
 * it is bounded like a reconcile batch, and it counts toward the
 * packet-out drop threshold. {@link Connection.fenced} packs its messages
 * (and the barrier closing them) into batches of the same size, one write
 * each. Order is kept: a direct write flushes the buffer first.
 */
import { FramingError, Framer } from "../../codec/framer.js";
import { isOfpError } from "../../codec/errors.js";
import {
  decodeMessage,
  encodeMessage,
  encodeMessageTo,
  type OfMessage,
} from "../../codec/message.js";
import { BUNDLE_ADD_MESSAGE_OFFSET } from "../../codec/messages/bundle.js";
import { errorName, type ErrorMessage } from "../../codec/messages/error.js";
import type { FlowStats } from "../../codec/messages/multipart-flow.js";
import type { OfpPort } from "../../codec/messages/port.js";
import { Writer } from "../../codec/writer.js";
import type { Logger } from "../log.js";
import { describeOfError } from "./of-error.js";
import {
  Session,
  type MessageSource,
  type Notice,
  type PortChange,
  type RequestFailure,
  type SessionOptions,
  type StepResult,
} from "./session.js";
import { flowDumpRequest } from "../../codec/messages/multipart.js";

export type { MessageSource } from "./session.js";

/** Where bytes go. `write` returns false when the caller should wait for `drain`. */
export interface Transport {
  write(bytes: Uint8Array): boolean;
  /** Close after writing what is buffered. */
  end(): void;
  /** Bytes buffered and not yet sent. */
  readonly writableLength: number;
  readonly remote: string;
}

/** What a connection reports to its owner (the controller). */
export interface ConnectionHandler {
  ready(conn: Connection): void;
  port(conn: Connection, change: PortChange, port: OfpPort): void;
  packetIn(conn: Connection, msg: Extract<OfMessage, { type: "packet_in" }>): void;
  closed(conn: Connection, reason: string): void;
  /** An OFPT_ERROR, already described (for metrics). */
  ofError?(conn: Connection, err: ErrorMessage): void;
  echoRtt?(conn: Connection, ms: number): void;
}

export class RequestError extends Error {
  constructor(
    readonly request: OfMessage,
    readonly failure: RequestFailure,
  ) {
    super(
      failure.kind === "error"
        ? `${request.type} refused: ${describeOfError(failure.error, request).name}`
        : failure.kind === "timeout"
          ? `${request.type} timed out`
          : `${request.type} aborted: connection closed (${failure.reason})`,
    );
    this.name = "RequestError";
  }
}

/** The outcome of messages fenced by one barrier. */
export interface FenceResult {
  readonly errors: readonly { readonly request: OfMessage; readonly error: ErrorMessage }[];
}

export interface RequestOptions {
  /**
   * OFPT_ERROR names (OVS spelling, "OFPBRC_BAD_TYPE") that are an expected
   * answer to this request, e.g. to a probe of an optional feature: such a
   * refusal still rejects the promise, but is logged at debug level and not
   * reported to {@link ConnectionHandler.ofError} (no error metric). Any
   * other error stays a warning.
   */
  readonly expectedErrors?: ReadonlySet<string>;
}

interface Waiter {
  resolve(m: OfMessage): void;
  reject(e: Error): void;
  readonly expectedErrors: ReadonlySet<string> | undefined;
}

/** The messages of one {@link Connection.fenced} call: handed to the session as their fence tag. */
interface FenceGroup {
  readonly errors: { request: OfMessage; error: ErrorMessage }[];
}

/** Messages are packed into writes of about this size. */
const BATCH_BYTES = 64 * 1024;
/** Initial size of the per-read output buffer (it grows to about BATCH_BYTES at most). */
const OUT_INITIAL_BYTES = 2048;
/** Offset of the xid in an ofp_header. */
const XID_OFFSET = 4;

/**
 * Appends `m` to `w` with `xid` in its header and, for a BUNDLE_ADD, in the
 * bundled message's header (see {@link Session.trackFenced}): the 4 bytes
 * are patched in place, so the message object is never copied to set them.
 */
function encodeWithXid(w: Writer, m: OfMessage, xid: number): void {
  const start = w.pos;
  encodeMessageTo(w, m);
  w.setU32(start + XID_OFFSET, xid);
  if (m.type === "bundle_add") w.setU32(start + BUNDLE_ADD_MESSAGE_OFFSET + XID_OFFSET, xid);
}

export interface ConnectionOptions extends SessionOptions {
  /** Buffered bytes above which packet-outs are dropped. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
  /** Log every message at trace level, as ofp-print text would show it. */
  readonly ofchannelLog?: boolean;
}

let nextConnectionId = 1;

export class Connection {
  readonly id = nextConnectionId++;
  readonly session: Session;
  log: Logger;
  private readonly framer = new Framer();
  private readonly waiters = new Map<number, Waiter>();
  /** Output of the read being handled, written when it is done (see the file comment). */
  private readonly out = new Writer(OUT_INITIAL_BYTES);
  /** > 0 while a read is handled: messages go to `out`. */
  private batchDepth = 0;
  private drainWaiters: (() => void)[] = [];
  private congested = false;
  private closedReason: string | undefined;
  private readonly maxBufferedBytes: number;
  /** Packet-outs dropped while congested. */
  droppedForBackpressure = 0;
  readonly connectedAt: number;

  constructor(
    readonly transport: Transport,
    private readonly handler: ConnectionHandler,
    log: Logger,
    private readonly clock: () => number,
    options: ConnectionOptions = {},
  ) {
    this.session = new Session(options);
    this.log = log.child({ conn: this.id, remote: transport.remote });
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1 << 20;
    this.connectedAt = clock();
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  get isCongested(): boolean {
    return this.congested;
  }

  get datapathId(): bigint | undefined {
    return this.session.datapathId;
  }

  /** The transport is open: start the handshake. */
  start(): void {
    this.apply(this.session.start(this.clock()));
  }

  /**
   * Bytes from the transport. Everything sent while they are handled leaves
   * in one write at the end (or in ~64 KiB writes, if more).
   */
  data(chunk: Uint8Array): void {
    if (this.closed) return;
    this.batchDepth++;
    try {
      this.handleChunk(chunk);
    } catch (e) {
      // A bug handling one switch's bytes must not take the controller and
      // every other switch down with it: this connection is closed (the
      // switch reconnects and is resynced) and the error is logged.
      this.log.error(
        { event: "of.internal_error", err: e instanceof Error ? e.stack : String(e) },
        "internal error handling the switch's messages: closing the connection",
      );
      this.shutdown(`internal error: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.batchDepth--;
      if (this.batchDepth === 0) this.flush();
    }
  }

  /** The transport can take more bytes. */
  drain(): void {
    this.congested = false;
    const ws = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of ws) w();
  }

  /** The clock ticked (the server calls this for every connection). */
  tick(): void {
    if (this.closed) return;
    this.apply(this.session.tick(this.clock()));
  }

  /** The transport closed under us (peer hung up, socket error). */
  transportClosed(reason: string): void {
    if (this.closed) return;
    this.closedReason = reason;
    this.apply(this.session.close(reason), true);
    this.drain();
    this.handler.closed(this, reason);
  }

  /** We close the connection (after writing what is queued). */
  shutdown(reason: string): void {
    if (this.closed) return;
    this.log.info({ event: "switch.close", reason }, "closing connection");
    this.flush();
    this.closedReason = reason;
    this.apply(this.session.close(reason), true);
    this.transport.end();
    this.drain();
    this.handler.closed(this, reason);
  }

  /** Resolves when the transport has room (immediately when it has). */
  drained(): Promise<void> {
    if (!this.congested || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Sends a request that expects a reply; multipart replies arrive joined. */
  request(msg: OfMessage, timeoutMs?: number, options?: RequestOptions): Promise<OfMessage> {
    if (this.closed) return Promise.reject(new Error(`connection closed (${this.closedReason})`));
    const sent = this.session.track(msg, this.clock(), "reply", timeoutMs);
    const p = new Promise<OfMessage>((resolve, reject) => {
      this.waiters.set(sent.xid, { resolve, reject, expectedErrors: options?.expectedErrors });
    });
    this.send(sent);
    return p;
  }

  /**
   * Sends `msgs` (no replies expected) and a barrier after them; resolves
   * when the barrier is answered, with the OFPT_ERRORs any of them got.
   * Writes in batches of about 64 KiB (the barrier in the last one) and
   * waits for the transport to drain between them, so a slow switch holds
   * at most one batch in our buffers.
   */
  fenced(msgs: readonly OfMessage[]): Promise<FenceResult> {
    return this.fencedFrom(msgs);
  }

  /**
   * {@link fenced} for messages built on demand: each is asked for when it
   * is encoded (and again only if the switch refuses it, to name it), so a
   * large install holds no message until its barrier, only its source.
   */
  async fencedFrom(msgs: MessageSource): Promise<FenceResult> {
    const group: FenceGroup = { errors: [] };
    const w = new Writer(BATCH_BYTES + 4096);
    const trace = this.ofchannelLog;
    for (let i = 0; i < msgs.length; i++) {
      if (this.closed) throw new Error(`connection closed (${this.closedReason})`);
      const m = msgs.at(i);
      if (m === undefined) throw new Error(`message source has no message ${i} of ${msgs.length}`);
      const xid = this.session.trackFenced(msgs, i, group);
      if (trace) this.log.trace({ event: "of.tx", msg: m.type, xid });
      encodeWithXid(w, m, xid);
      if (w.pos >= BATCH_BYTES) {
        this.writeBytes(w.finish());
        w.pos = 0;
        await this.drained();
      }
    }
    if (this.closed) throw new Error(`connection closed (${this.closedReason})`);
    const barrier = this.session.barrier(this.clock());
    const done = new Promise<OfMessage>((resolve, reject) =>
      this.waiters.set(barrier.xid, { resolve, reject, expectedErrors: undefined }),
    );
    if (this.ofchannelLog) this.log.trace({ event: "of.tx", msg: barrier.type, xid: barrier.xid });
    encodeMessageTo(w, barrier);
    this.writeBytes(w.finish());
    await done;
    return group;
  }

  /**
   * Sends a message nobody waits for (packet-out). Returns false, and drops
   * it, while the transport is congested past `maxBufferedBytes`.
   */
  sendUnreliable(msg: OfMessage): boolean {
    if (this.closed) return false;
    if (this.congested && this.transport.writableLength + this.out.pos > this.maxBufferedBytes) {
      this.droppedForBackpressure++;
      return false;
    }
    try {
      this.send(msg);
    } catch (e) {
      // A packet-out the codec cannot encode (a captured frame too large to
      // fit under OpenFlow's 16-bit length) is dropped like a congested one.
      if (!(e instanceof RangeError)) throw e;
      this.log.debug({ event: "of.unsendable", msg: msg.type, err: e.message }, "dropped");
      return false;
    }
    return true;
  }

  /** Every flow under `cookie/cookieMask` (one multipart dump, joined). */
  async dumpFlows(cookie: bigint, cookieMask: bigint, timeoutMs?: number): Promise<FlowStats[]> {
    const reply = await this.request(flowDumpRequest(0, cookie, cookieMask), timeoutMs);
    if (reply.type !== "multipart_reply" || reply.body.kind !== "flow") {
      throw new Error(`flow dump answered with ${reply.type}`);
    }
    return [...reply.body.entries];
  }

  // ------------------------------------------------------------------ internals

  private handleChunk(chunk: Uint8Array): void {
    let frames: Uint8Array[];
    try {
      frames = this.framer.push(chunk);
    } catch (e) {
      if (!(e instanceof FramingError)) throw e;
      for (const f of e.frames) this.frame(f);
      this.shutdown(`framing error: ${e.message}`);
      return;
    }
    for (const f of frames) {
      if (this.closed) return;
      this.frame(f);
    }
  }

  private frame(f: Uint8Array): void {
    const now = this.clock();
    let msg: OfMessage;
    try {
      msg = decodeMessage(f);
    } catch (e) {
      if (!isOfpError(e)) throw e;
      this.apply(this.session.decodeError(e, f, now));
      return;
    }
    if (this.ofchannelLog) this.log.trace({ event: "of.rx", msg: msg.type, xid: msg.xid });
    this.apply(this.session.receive(msg, now));
  }

  private get ofchannelLog(): boolean {
    return this.log.isLevelEnabled("trace");
  }

  /** One message: into the read's batch while a read is handled, else written now. */
  private send(m: OfMessage): void {
    if (this.ofchannelLog) this.log.trace({ event: "of.tx", msg: m.type, xid: m.xid });
    if (this.batchDepth === 0) {
      this.writeBytes(encodeMessage(m));
      return;
    }
    // A message the codec refuses (over 65535 bytes, say) must leave no
    // half-written bytes behind: the batch goes out whole at the end of the read.
    const at = this.out.pos;
    try {
      encodeMessageTo(this.out, m);
    } catch (e) {
      this.out.pos = at;
      throw e;
    }
    if (this.out.pos >= BATCH_BYTES) this.flush();
  }

  /** Writes the read's batch, if any. */
  private flush(): void {
    if (this.out.pos === 0) return;
    const bytes = this.out.finish();
    this.out.pos = 0;
    // After a close under us there is no one to write to.
    if (this.closedReason === undefined) this.transportWrite(bytes);
  }

  /** Writes `bytes` after whatever the read's batch holds, keeping the order of sending. */
  private writeBytes(bytes: Uint8Array): void {
    this.flush();
    this.transportWrite(bytes);
  }

  private transportWrite(bytes: Uint8Array): void {
    if (!this.transport.write(bytes)) this.congested = true;
  }

  private apply(r: StepResult, closing = false): void {
    if (
      r.send.length > 0 &&
      !(closing && this.closedReason !== undefined && r.close === undefined)
    ) {
      for (const m of r.send) this.send(m);
    }
    for (const n of r.notices) this.notice(n);
    if (r.close !== undefined && !closing) this.shutdown(r.close);
  }

  private notice(n: Notice): void {
    switch (n.kind) {
      case "transition":
        this.log.debug({ event: "session.transition" }, `${n.from} -> ${n.to}`);
        if (n.to === "awaitPortDesc" && this.session.datapathId !== undefined) {
          this.log = this.log.child({ dpid: dpidText(this.session.datapathId) });
        }
        return;
      case "ready":
        this.handler.ready(this);
        return;
      case "port":
        this.handler.port(this, n.change, n.port);
        return;
      case "packetIn":
        this.handler.packetIn(this, n.msg);
        return;
      case "async":
        this.log.debug(
          { event: "of.async", msg: n.msg.type, xid: n.msg.xid },
          "unexpected message",
        );
        return;
      case "reply": {
        const w = this.waiters.get(n.xid);
        this.waiters.delete(n.xid);
        w?.resolve(n.msg);
        return;
      }
      case "failed": {
        if (n.mode === "fenced") {
          if (n.failure.kind !== "error") return;
          this.reportError(n.failure.error, n.request);
          // The only fence tags are this connection's FenceGroups.
          (n.fence as FenceGroup | undefined)?.errors.push({
            request: n.request,
            error: n.failure.error,
          });
          return;
        }
        const w = this.waiters.get(n.xid);
        this.waiters.delete(n.xid);
        if (n.failure.kind === "error") {
          const name = errorName(n.failure.error);
          if (name !== undefined && w?.expectedErrors?.has(name) === true) {
            this.log.debug(
              { event: "of.refused", xid: n.xid, request: n.request.type, error: name },
              `switch refused ${n.request.type} with ${name}, as it may`,
            );
          } else {
            this.reportError(n.failure.error, n.request);
          }
        }
        w?.reject(new RequestError(n.request, n.failure));
        return;
      }
      case "unsolicitedError":
        this.reportError(n.error, undefined);
        return;
      case "badMessage":
        this.log.warn(
          { event: "of.bad_message", err: n.error.message },
          "undecodable message from switch",
        );
        return;
      case "echoRtt":
        this.handler.echoRtt?.(this, n.ms);
        return;
      default: {
        const never: never = n;
        throw new Error(`unhandled notice ${JSON.stringify(never)}`);
      }
    }
  }

  private reportError(err: ErrorMessage, request: OfMessage | undefined): void {
    const d = describeOfError(err, request);
    this.log.warn(
      {
        event: "of.error",
        xid: err.xid,
        type: d.type,
        code: d.code,
        error: d.name,
        request: d.request,
        flow: d.flow,
      },
      d.flow === undefined
        ? `switch error ${d.name}`
        : `switch error ${d.name} for flow: ${d.flow}`,
    );
    this.handler.ofError?.(this, err);
  }
}

/** `0x0000000000000011`. */
export function dpidText(dpid: bigint): string {
  return `0x${dpid.toString(16).padStart(16, "0")}`;
}
