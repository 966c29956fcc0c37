/**
 * One OpenFlow connection as a pure state machine (style.md §2.6): messages,
 * decode errors and clock ticks go in, messages to send and notices for the
 * controller come out. No sockets, no timers, no logging: the connection
 * layer (connection.ts) feeds it and performs what it returns, and tests
 * drive it with tables of events.
 *
 * Handshake (ecosystem.md §4.4, OVS `lib/vconn.c`):
 *
 *   awaitHello ──HELLO (1.3 offered)──▶ awaitFeatures ──FEATURES_REPLY──▶
 *   awaitPortDesc ──PORT_DESC reply──▶ ready
 *
 * - We send HELLO with a version bitmap holding only 1.3 on `start`. A peer
 *   HELLO with a bitmap must list 1.3; one without a bitmap offers every
 *   version up to its header version (OF1.3 §6.3.1). Anything else gets
 *   OFPT_ERROR HELLO_FAILED/INCOMPATIBLE with OVS's text, and a close.
 * - After FEATURES_REPLY we send SET_CONFIG (miss_send_len) and the
 *   PORT_DESC request; the session is ready when the (possibly multi-part)
 *   PORT_DESC reply is complete. PORT_STATUS that arrives before that is
 *   buffered (bounded) and applied on top of the PORT_DESC snapshot: the
 *   switch sent it after the change, so re-applying it is idempotent.
 * - The whole handshake must finish within `handshakeTimeoutMs`
 *   (reliability.md §4.2: 5 s).
 *
 * Keep-alive (reliability.md §3.1): any received message is liveness. After
 * `echoIntervalMs` of silence we send ECHO_REQUEST, again every interval, and
 * declare the peer dead after `echoMisses` unanswered ones. Echo requests
 * from the switch are answered first, ahead of everything else in the same
 * step.
 *
 * Requests (xid tracking): {@link Session.track} gives a message its xid and
 * records it, in one of two modes:
 * - `reply`: a reply is expected (multipart, barrier, bundle control, role);
 *   multipart parts are joined with the codec's MultipartAssembler and each
 *   part restarts the deadline, so a long dump that makes progress never
 *   times out. The reply, an OFPT_ERROR with its xid, a timeout, or the close
 *   resolves it.
 * - `fenced`: no reply expected (FLOW_MOD, PACKET_OUT, BUNDLE_ADD); success
 *   is known when a later barrier is answered (OF1.3 §6.2: the switch
 *   finishes everything before a barrier before replying to it), failure
 *   when an OFPT_ERROR with its xid arrives first. The session keeps the
 *   request, so an error can name the offending flow.
 *   {@link Session.trackFenced} is the bulk form (a full install tracks one
 *   request per flow): it records a request as an index into a
 *   {@link MessageSource} that can build it again, and consecutive ones as
 *   one run (first xid, count), so a 100k-flow install keeps no message, no
 *   map entry and no object per flow until its barrier; the caller writes
 *   the returned xid into the encoded bytes. The rare notice about one of
 *   them (an error, a close) carries the message rebuilt, with its xid.
 *
 * The session never throws on peer input. A message it cannot decode is
 * answered with OFPT_ERROR (the decoder's type/code, the frame as data) and
 * the connection stays up; framing errors are fatal and belong to the layer
 * that frames.
 */
import { OFPET, type OfpError } from "../../codec/errors.js";
import { OFP13_VERSION } from "../../codec/header.js";
import type { OfMessage } from "../../codec/message.js";
import type { BarrierRequestMessage } from "../../codec/messages/barrier.js";
import { echoReplyFor } from "../../codec/messages/echo.js";
import { errorReplyFor, type ErrorMessage } from "../../codec/messages/error.js";
import type { FeaturesReplyMessage } from "../../codec/messages/features.js";
import { makeHello, type HelloMessage } from "../../codec/messages/hello.js";
import type { MultipartReplyMessage } from "../../codec/messages/multipart.js";
import type { OfpPort } from "../../codec/messages/port.js";
import { OFPPR } from "../../codec/messages/port-status.js";
import { MultipartAssembler } from "../../codec/multipart-assembler.js";

export type SessionState = "awaitHello" | "awaitFeatures" | "awaitPortDesc" | "ready" | "closed";

/** Tunables, with the defaults reliability.md §3.1 and §4.2 recommend. */
export interface SessionOptions {
  /** Silence after which we send ECHO_REQUEST, ms. Default 5000. */
  readonly echoIntervalMs?: number;
  /** Unanswered echo requests before the peer is declared dead. Default 2. */
  readonly echoMisses?: number;
  /** HELLO + FEATURES + PORT_DESC must complete within this, ms. Default 5000. */
  readonly handshakeTimeoutMs?: number;
  /** Default deadline of a `reply` request, ms. Default 30000. */
  readonly requestTimeoutMs?: number;
  /** SET_CONFIG miss_send_len: bytes of a table-miss packet sent to us. Default 128 (reliability.md §4.4). */
  readonly missSendLen?: number;
  /** PORT_STATUS messages kept while the handshake runs. Default 4096. */
  readonly maxBufferedPortStatus?: number;
}

const DEFAULTS = {
  echoIntervalMs: 5000,
  echoMisses: 2,
  handshakeTimeoutMs: 5000,
  requestTimeoutMs: 30_000,
  missSendLen: 128,
  maxBufferedPortStatus: 4096,
} as const satisfies Required<SessionOptions>;

/**
 * Messages a {@link Session.trackFenced} caller can produce again by index:
 * `at(i)` must give the same message every time (an array is a source).
 */
export interface MessageSource {
  readonly length: number;
  at(index: number): OfMessage | undefined;
}

/** Why a tracked request failed. */
export type RequestFailure =
  | { readonly kind: "error"; readonly error: ErrorMessage }
  | { readonly kind: "timeout" }
  | { readonly kind: "closed"; readonly reason: string };

export type PortChange = "add" | "delete" | "modify";

/** What the session tells the controller. */
export type Notice =
  | { readonly kind: "transition"; readonly from: SessionState; readonly to: SessionState }
  | {
      readonly kind: "ready";
      readonly datapathId: bigint;
      readonly features: FeaturesReplyMessage;
      readonly ports: ReadonlyMap<number, OfpPort>;
    }
  | { readonly kind: "port"; readonly change: PortChange; readonly port: OfpPort }
  | { readonly kind: "packetIn"; readonly msg: Extract<OfMessage, { type: "packet_in" }> }
  | { readonly kind: "async"; readonly msg: OfMessage }
  | {
      readonly kind: "reply";
      readonly xid: number;
      readonly request: OfMessage;
      readonly msg: OfMessage;
    }
  | {
      readonly kind: "failed";
      readonly xid: number;
      readonly request: OfMessage;
      readonly mode: TrackMode;
      readonly failure: RequestFailure;
      /** The `fence` given to {@link Session.trackFenced}, if any. */
      readonly fence?: object | undefined;
    }
  /** An OFPT_ERROR for no request we track (logged by the caller). */
  | { readonly kind: "unsolicitedError"; readonly error: ErrorMessage }
  /** A message from the peer we could not decode; we answered it with `reply`. */
  | {
      readonly kind: "badMessage";
      readonly error: OfpError;
      readonly reply: ErrorMessage | undefined;
    }
  | { readonly kind: "echoRtt"; readonly ms: number };

export interface StepResult {
  /** Messages to write, in order. */
  readonly send: OfMessage[];
  readonly notices: Notice[];
  /** Set when the connection must be closed (after writing `send`). */
  readonly close?: string;
}

export type TrackMode = "reply" | "fenced";

interface Pending {
  /** As sent, except that its xid field (and a bundled message's) may be stale: see {@link requestOf}. */
  readonly request: OfMessage;
  readonly mode: TrackMode;
  /** Order of sending, to settle fenced requests at a barrier. */
  readonly seq: number;
  deadline: number;
  /** An opaque value of the caller's, handed back in a `failed` notice. */
  readonly fence: object | undefined;
}

/**
 * `msg` with `xid` in its header, and in its bundled message's: a bundled
 * message carries its BUNDLE_ADD's xid (OVS answers OFPBFC_MSG_BAD_XID
 * otherwise). `msg` itself when it already has it.
 */
function withXid(msg: OfMessage, xid: number): OfMessage {
  if (msg.type === "bundle_add") {
    if (msg.xid === xid && msg.message.xid === xid) return msg;
    return { ...msg, xid, message: { ...msg.message, xid } };
  }
  return msg.xid === xid ? msg : ({ ...msg, xid } as OfMessage);
}

/** The request of `p` as the switch saw it (xid `xid`). */
function requestOf(p: Pending, xid: number): OfMessage {
  return withXid(p.request, xid);
}

/**
 * Fenced requests tracked in one go ({@link Session.trackFenced}): the k-th
 * (k < count) has xid `first + k`, seq `seq + k`, and is `source.at(start + k)`.
 * A run never spans an xid wrap or another tracked request (it would break
 * the arithmetic), which then starts a new run.
 */
interface FencedRun {
  first: number;
  seq: number;
  start: number;
  count: number;
  readonly source: MessageSource;
  readonly fence: object | undefined;
  /** xids that already failed: an error settles its request, a second one is unsolicited. */
  failed: Set<number> | undefined;
}

/** OVS's text in a HELLO_FAILED (`vconn.c` `version_bitmap_to_string` phrasing). */
function incompatibleText(peer: HelloMessage): string {
  const offered = peerVersions(peer)
    .map((v) => `0x${v.toString(16).padStart(2, "0")}`)
    .join(", ");
  return `We support version 0x04, you support ${offered === "" ? "no version" : offered}`;
}

/**
 * The versions a peer's HELLO offers. With a bitmap, exactly those; without,
 * every version up to the header's (OF1.3 §6.3.1), of which 1.3 is the one
 * we care about.
 */
function peerVersions(peer: HelloMessage): number[] {
  const bitmap = peer.elements.find((e) => e.kind === "versionbitmap");
  const out: number[] = [];
  if (bitmap !== undefined && bitmap.kind === "versionbitmap") {
    bitmap.bitmaps.forEach((word, index) => {
      for (let bit = 0; bit < 32; bit++) if ((word >>> bit) & 1) out.push(index * 32 + bit);
    });
    return out;
  }
  const top = peer.version ?? OFP13_VERSION;
  for (let v = 1; v <= top; v++) out.push(v);
  return out;
}

const XID_LIMIT = 0x1_0000_0000;

export class Session {
  readonly options: Readonly<Required<SessionOptions>>;
  state: SessionState = "awaitHello";
  datapathId: bigint | undefined;
  features: FeaturesReplyMessage | undefined;
  /** Ports by number, from PORT_DESC and PORT_STATUS. */
  readonly ports = new Map<number, OfpPort>();

  private nextXid = 1;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  /** Runs of {@link trackFenced} requests, in seq order. */
  private runs: FencedRun[] = [];
  /** `reply` requests, for deadline scans (fenced ones have no deadline). */
  private readonly withDeadline = new Set<number>();
  private readonly assembler: MultipartAssembler;
  private readonly bufferedPortStatus: Extract<OfMessage, { type: "port_status" }>[] = [];
  private startedAt = 0;
  private lastRx = 0;
  /** Echo requests sent since the last message received. */
  private echoesOut = 0;
  private readonly echoSentAt = new Map<number, number>();
  private handshakeXid: number | undefined;

  constructor(options: SessionOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.assembler = new MultipartAssembler({ timeoutMs: this.options.requestTimeoutMs });
  }

  /** Requests waiting for a reply or a barrier. */
  get pendingCount(): number {
    let n = this.pending.size;
    for (const r of this.runs) n += r.count - (r.failed?.size ?? 0);
    return n;
  }

  /** The connection is open: say HELLO. */
  start(now: number): StepResult {
    this.startedAt = now;
    this.lastRx = now;
    const out = result();
    out.send.push(makeHello(this.allocXid(), [OFP13_VERSION]));
    return out;
  }

  /**
   * Gives `msg` a fresh xid and tracks it. Returns the message to write.
   * `timeoutMs` applies to `reply` requests only.
   */
  track(msg: OfMessage, now: number, mode: TrackMode, timeoutMs?: number): OfMessage {
    const xid = this.allocXid();
    const sent = withXid(msg, xid);
    const deadline = now + (timeoutMs ?? this.options.requestTimeoutMs);
    this.pending.set(xid, { request: sent, mode, seq: this.seq++, deadline, fence: undefined });
    if (mode === "reply") this.withDeadline.add(xid);
    return sent;
  }

  /**
   * Tracks `source.at(index)` as a `fenced` request and returns its xid,
   * keeping neither the message nor a copy. The caller must send the
   * message with that xid in its header and, for a BUNDLE_ADD, in the
   * bundled message's header too (patching the 4 xid bytes of the encoded
   * message is enough); the message's own xid fields are ignored. `fence`
   * comes back in the request's `failed` notice.
   */
  trackFenced(source: MessageSource, index: number, fence?: object): number {
    const xid = this.allocXid();
    const seq = this.seq++;
    const last = this.runs[this.runs.length - 1];
    if (
      last !== undefined &&
      last.source === source &&
      last.fence === fence &&
      last.first + last.count === xid &&
      last.seq + last.count === seq &&
      last.start + last.count === index
    ) {
      last.count++;
      return xid;
    }
    this.runs.push({ first: xid, seq, start: index, count: 1, source, fence, failed: undefined });
    return xid;
  }

  /** A barrier request, tracked; its reply settles every fenced request sent before it. */
  barrier(now: number, timeoutMs?: number): BarrierRequestMessage {
    return this.track(
      { type: "barrier_request", xid: 0 },
      now,
      "reply",
      timeoutMs,
    ) as BarrierRequestMessage;
  }

  /** Forgets a request (its sender gave up); a late reply becomes unsolicited. */
  forget(xid: number): void {
    this.pending.delete(xid);
    this.withDeadline.delete(xid);
  }

  /** One decoded message from the peer. */
  receive(msg: OfMessage, now: number): StepResult {
    const out = result();
    if (this.state === "closed") return out;
    this.lastRx = now;
    this.echoesOut = 0;
    switch (msg.type) {
      case "echo_request":
        out.send.push(echoReplyFor(msg));
        return out;
      case "echo_reply": {
        const sentAt = this.echoSentAt.get(msg.xid);
        if (sentAt !== undefined) {
          this.echoSentAt.delete(msg.xid);
          out.notices.push({ kind: "echoRtt", ms: now - sentAt });
        }
        return out;
      }
      case "hello":
        this.onHello(msg, now, out);
        return out;
      case "error":
        this.onError(msg, out);
        return out;
      case "features_reply":
        if (this.state === "awaitFeatures" && msg.xid === this.handshakeXid) {
          this.onFeatures(msg, now, out);
        } else {
          this.settleReply(msg, out);
        }
        return out;
      case "port_status":
        if (this.state === "ready") this.applyPortStatus(msg, out);
        else if (this.bufferedPortStatus.length < this.options.maxBufferedPortStatus) {
          this.bufferedPortStatus.push(msg);
        }
        return out;
      case "packet_in":
        // Before the handshake completes we cannot map ports: drop.
        if (this.state === "ready") out.notices.push({ kind: "packetIn", msg });
        return out;
      case "multipart_reply":
        this.onMultipart(msg, now, out);
        return out;
      default:
        if (this.state === "awaitHello") {
          this.fail(out, `${msg.type} before HELLO`);
          return out;
        }
        if (this.pending.has(msg.xid)) this.settleReply(msg, out);
        else out.notices.push({ kind: "async", msg });
        return out;
    }
  }

  /** A frame the codec rejected: answer it as OVS would, keep the connection. */
  decodeError(error: OfpError, frame: Uint8Array, now: number): StepResult {
    const out = result();
    if (this.state === "closed") return out;
    this.lastRx = now;
    this.echoesOut = 0;
    // Never answer an error with an error (two peers could loop forever).
    const isError = frame.byteLength >= 2 && frame[1] === 1;
    const reply = isError ? undefined : errorReplyFor(error, frame);
    if (reply !== undefined) out.send.push(reply);
    out.notices.push({ kind: "badMessage", error, reply });
    return out;
  }

  /** The clock moved: keep-alive, request deadlines, handshake deadline. */
  tick(now: number): StepResult {
    const out = result();
    if (this.state === "closed") return out;
    const o = this.options;
    if (this.state !== "ready" && now - this.startedAt >= o.handshakeTimeoutMs) {
      this.fail(
        out,
        `handshake not complete after ${o.handshakeTimeoutMs} ms (state ${this.state})`,
      );
      return out;
    }
    const idle = now - this.lastRx;
    if (idle >= o.echoIntervalMs * (o.echoMisses + 1)) {
      this.fail(
        out,
        `no response to ${this.echoesOut} echo requests after ${idle} ms: peer is dead`,
      );
      return out;
    }
    if (idle >= o.echoIntervalMs * (this.echoesOut + 1)) {
      const xid = this.allocXid();
      this.echoSentAt.set(xid, now);
      this.echoesOut++;
      out.send.push({ type: "echo_request", xid, data: new Uint8Array(0) });
    }
    for (const xid of this.withDeadline) {
      const p = this.pending.get(xid);
      if (p === undefined || p.deadline > now) continue;
      this.withDeadline.delete(xid);
      this.pending.delete(xid);
      this.assembler.discard("multipart_reply", xid);
      out.notices.push({
        kind: "failed",
        xid,
        request: requestOf(p, xid),
        mode: p.mode,
        fence: p.fence,
        failure: { kind: "timeout" },
      });
      if (xid === this.handshakeXid)
        this.fail(out, `handshake request ${p.request.type} timed out`);
    }
    for (const t of this.assembler.tick(now)) {
      const p = this.pending.get(t.xid);
      if (p === undefined) continue;
      this.forget(t.xid);
      out.notices.push({
        kind: "failed",
        xid: t.xid,
        request: requestOf(p, t.xid),
        mode: p.mode,
        fence: p.fence,
        failure: { kind: "timeout" },
      });
    }
    return out;
  }

  /** Ends the session; every tracked request fails with `reason`. */
  close(reason: string): StepResult {
    const out = result();
    if (this.state === "closed") return out;
    this.transition(out, "closed");
    for (const [xid, p] of this.pending) {
      out.notices.push({
        kind: "failed",
        xid,
        request: requestOf(p, xid),
        mode: p.mode,
        fence: p.fence,
        failure: { kind: "closed", reason },
      });
    }
    for (const r of this.runs) {
      for (let k = 0; k < r.count; k++) {
        const xid = r.first + k;
        const request = r.failed?.has(xid) === true ? undefined : runRequest(r, xid);
        if (request === undefined) continue;
        out.notices.push({
          kind: "failed",
          xid,
          request,
          mode: "fenced",
          failure: { kind: "closed", reason },
          fence: r.fence,
        });
      }
    }
    this.pending.clear();
    this.withDeadline.clear();
    this.runs = [];
    return out;
  }

  /** The port number of a port name, if the switch has it. */
  portNumber(name: string): number | undefined {
    for (const p of this.ports.values()) if (p.name === name) return p.portNo;
    return undefined;
  }

  // ------------------------------------------------------------------ internals

  /** The run holding the unsettled fenced request `xid`, if any. */
  private runOf(xid: number): FencedRun | undefined {
    for (const r of this.runs) {
      const k = xid - r.first;
      if (k >= 0 && k < r.count && r.failed?.has(xid) !== true) return r;
    }
    return undefined;
  }

  private allocXid(): number {
    const xid = this.nextXid;
    this.nextXid = this.nextXid + 1 >= XID_LIMIT ? 1 : this.nextXid + 1;
    return xid;
  }

  private transition(out: StepResult, to: SessionState): void {
    const from = this.state;
    if (from === to) return;
    const allowed: Record<SessionState, readonly SessionState[]> = {
      awaitHello: ["awaitFeatures", "closed"],
      awaitFeatures: ["awaitPortDesc", "closed"],
      awaitPortDesc: ["ready", "closed"],
      ready: ["closed"],
      closed: [],
    };
    if (!allowed[from].includes(to)) throw new Error(`session: no transition ${from} -> ${to}`);
    this.state = to;
    out.notices.push({ kind: "transition", from, to });
  }

  /** Closes with `reason` (the caller writes `send` first). */
  private fail(out: StepResult, reason: string): void {
    const closed = this.close(reason);
    out.notices.push(...closed.notices);
    (out as { close?: string }).close = reason;
  }

  private onHello(msg: HelloMessage, now: number, out: StepResult): void {
    if (this.state !== "awaitHello") return; // a second HELLO is harmless (OVS ignores it)
    if (!peerVersions(msg).includes(OFP13_VERSION)) {
      out.send.push({
        type: "error",
        xid: msg.xid,
        version: OFP13_VERSION,
        error: { kind: "standard", type: OFPET.HELLO_FAILED, code: HELLO_FAILED_INCOMPATIBLE },
        data: new TextEncoder().encode(incompatibleText(msg)),
      });
      this.fail(out, `version negotiation failed: ${incompatibleText(msg)}`);
      return;
    }
    this.transition(out, "awaitFeatures");
    const req = this.track(
      { type: "features_request", xid: 0 },
      now,
      "reply",
      this.options.handshakeTimeoutMs,
    );
    this.handshakeXid = req.xid;
    out.send.push(req);
  }

  private onFeatures(msg: FeaturesReplyMessage, now: number, out: StepResult): void {
    this.forget(msg.xid);
    if (msg.auxiliaryId !== 0) {
      this.fail(out, `auxiliary connection ${msg.auxiliaryId} is not supported`);
      return;
    }
    this.datapathId = msg.datapathId;
    this.features = msg;
    this.transition(out, "awaitPortDesc");
    out.send.push({
      type: "set_config",
      xid: this.allocXid(),
      flags: 0,
      missSendLen: this.options.missSendLen,
    });
    const req = this.track(
      { type: "multipart_request", xid: 0, flags: 0, body: { kind: "port_desc" } },
      now,
      "reply",
      this.options.handshakeTimeoutMs,
    );
    this.handshakeXid = req.xid;
    out.send.push(req);
  }

  private onMultipart(msg: MultipartReplyMessage, now: number, out: StepResult): void {
    const p = this.pending.get(msg.xid);
    if (p === undefined) {
      out.notices.push({ kind: "async", msg });
      return;
    }
    let whole: MultipartReplyMessage | undefined;
    try {
      whole = this.assembler.push(msg, now);
    } catch (e) {
      this.forget(msg.xid);
      out.notices.push({
        kind: "failed",
        xid: msg.xid,
        request: requestOf(p, msg.xid),
        mode: p.mode,
        fence: p.fence,
        failure: {
          kind: "error",
          error: errorReplyFor(e as OfpError, new Uint8Array(0)),
        },
      });
      return;
    }
    if (whole === undefined) {
      p.deadline = now + this.options.requestTimeoutMs; // progress restarts the clock
      return;
    }
    if (
      this.state === "awaitPortDesc" &&
      msg.xid === this.handshakeXid &&
      whole.body.kind === "port_desc"
    ) {
      this.forget(msg.xid);
      this.handshakeXid = undefined;
      for (const port of whole.body.entries) this.ports.set(port.portNo, port);
      for (const ps of this.bufferedPortStatus.splice(0)) this.applyPortStatus(ps, undefined);
      this.transition(out, "ready");
      out.notices.push({
        kind: "ready",
        datapathId: this.datapathId!,
        features: this.features!,
        ports: this.ports,
      });
      return;
    }
    this.settleReply(whole, out);
  }

  private settleReply(msg: OfMessage, out: StepResult): void {
    const p = this.pending.get(msg.xid);
    if (p === undefined) {
      out.notices.push({ kind: "async", msg });
      return;
    }
    this.forget(msg.xid);
    if (msg.type === "barrier_reply") this.settleFenced(p.seq);
    out.notices.push({ kind: "reply", xid: msg.xid, request: requestOf(p, msg.xid), msg });
  }

  /** A barrier sent at `seq` was answered: every fenced request before it succeeded. */
  private settleFenced(seq: number): void {
    // `pending` iterates in insertion order, which is `seq` order (each
    // request is inserted once, with the next seq): stop at the first one
    // sent after the barrier instead of scanning every pending request.
    for (const [xid, p] of this.pending) {
      if (p.seq >= seq) break;
      if (p.mode === "fenced") this.pending.delete(xid);
    }
    let settled = 0;
    for (const r of this.runs) {
      if (r.seq >= seq) break;
      if (r.seq + r.count <= seq) {
        settled++;
        continue;
      }
      // Not produced by trackFenced (a barrier ends a run), but kept exact:
      // only the requests sent before the barrier are settled.
      const k = seq - r.seq;
      r.first += k;
      r.seq += k;
      r.start += k;
      r.count -= k;
      break;
    }
    if (settled > 0) this.runs.splice(0, settled);
  }

  private onError(msg: ErrorMessage, out: StepResult): void {
    const e = msg.error;
    if (e.kind === "standard" && e.type === OFPET.HELLO_FAILED) {
      out.notices.push({ kind: "unsolicitedError", error: msg });
      this.fail(out, "peer refused the HELLO");
      return;
    }
    const p = this.pending.get(msg.xid);
    if (p === undefined) {
      const run = this.runOf(msg.xid);
      const request = run === undefined ? undefined : runRequest(run, msg.xid);
      if (run === undefined || request === undefined) {
        out.notices.push({ kind: "unsolicitedError", error: msg });
        return;
      }
      (run.failed ??= new Set()).add(msg.xid);
      out.notices.push({
        kind: "failed",
        xid: msg.xid,
        request,
        mode: "fenced",
        failure: { kind: "error", error: msg },
        fence: run.fence,
      });
      return;
    }
    this.forget(msg.xid);
    this.assembler.discard("multipart_reply", msg.xid);
    out.notices.push({
      kind: "failed",
      xid: msg.xid,
      request: requestOf(p, msg.xid),
      mode: p.mode,
      fence: p.fence,
      failure: { kind: "error", error: msg },
    });
    if (msg.xid === this.handshakeXid) this.fail(out, `switch refused ${p.request.type}`);
  }

  /** Applies one PORT_STATUS; `out` undefined while replaying the handshake buffer. */
  private applyPortStatus(
    msg: Extract<OfMessage, { type: "port_status" }>,
    out: StepResult | undefined,
  ): void {
    const change: PortChange =
      msg.reason === OFPPR.DELETE ? "delete" : msg.reason === OFPPR.ADD ? "add" : "modify";
    if (change === "delete") this.ports.delete(msg.port.portNo);
    else this.ports.set(msg.port.portNo, msg.port);
    out?.notices.push({ kind: "port", change, port: msg.port });
  }
}

/** Request `xid` of `run`, rebuilt by its source, with its xid; undefined if the source has none. */
function runRequest(run: FencedRun, xid: number): OfMessage | undefined {
  const m = run.source.at(run.start + (xid - run.first));
  return m === undefined ? undefined : withXid(m, xid);
}

/** OFPHFC_INCOMPATIBLE. */
const HELLO_FAILED_INCOMPATIBLE = 0;

function result(): StepResult {
  return { send: [], notices: [] };
}
