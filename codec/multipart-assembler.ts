/**
 * Joins multipart messages split with OFPMPF_REPLY_MORE / OFPMPF_REQ_MORE
 * into one logical message, keyed by xid (OVS `ofpmp_assembler_*`; codec.md
 * §4 "Multipart aggregation").
 *
 * How: the first part with the MORE flag opens an assembly for its
 * (direction, xid); later parts append their entries; the part without the
 * flag completes it and the joined message is returned, with the MORE flag
 * cleared. A part without the flag and no open assembly is returned as is.
 *
 * Time is an argument, never a timer (codec/ is pure): every push takes
 * `now` (ms), and {@link MultipartAssembler.tick} returns the assemblies idle
 * for longer than the timeout, each with the error OVS would report
 * (OFPBRC_MULTIPART_REPLY_TIMEOUT / OFPBRC_MULTIPART_REQUEST_TIMEOUT, ONF
 * 2641 / 2640). The timeout restarts with each part, so a long dump that is
 * still making progress never expires.
 *
 * Errors (OfpError): a part whose multipart type differs from the open
 * assembly's → OFPBRC_BAD_STAT (the assembly is dropped); the MORE flag on a
 * body that has no entries to join (desc, aggregate, group/meter features)
 * → OFPBRC_BAD_STAT. Experimenter bodies are joined by concatenating data.
 */
import { OfpError } from "./errors.js";
import {
  OFPMPF_REPLY_MORE,
  hasEntries,
  multipartType,
  type MultipartReplyBody,
  type MultipartReplyMessage,
  type MultipartRequestBody,
  type MultipartRequestMessage,
} from "./messages/multipart.js";

export type MultipartMessage = MultipartRequestMessage | MultipartReplyMessage;

export interface AssemblerOptions {
  /** Idle time in ms after which an assembly expires. Default 5000. */
  readonly timeoutMs?: number;
  /** Most parts one assembly may collect before it is refused (memory bound). Default 100000. */
  readonly maxParts?: number;
}

export interface MultipartTimeout {
  readonly type: MultipartMessage["type"];
  readonly xid: number;
  readonly parts: number;
  readonly error: OfpError;
}

interface Assembly {
  readonly first: MultipartMessage;
  readonly mpType: number;
  readonly entries: unknown[];
  readonly data: Uint8Array[];
  parts: number;
  deadline: number;
}

export const DEFAULT_ASSEMBLY_TIMEOUT_MS = 5000;

export class MultipartAssembler {
  readonly timeoutMs: number;
  readonly maxParts: number;
  private readonly open = new Map<string, Assembly>();

  constructor(options: AssemblerOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_ASSEMBLY_TIMEOUT_MS;
    this.maxParts = options.maxParts ?? 100_000;
  }

  /** Number of assemblies waiting for more parts. */
  get pending(): number {
    return this.open.size;
  }

  /**
   * Adds one part. Returns the whole message when `m` completes it (or needs
   * no joining), undefined while more parts are expected.
   */
  push<M extends MultipartMessage>(m: M, now: number): M | undefined {
    const key = `${m.type}:${m.xid}`;
    const more = (m.flags & OFPMPF_REPLY_MORE) !== 0;
    const current = this.open.get(key);
    if (current === undefined && !more) return m;
    const mpType = multipartType(m.body);
    if (!hasEntries(m.body) && m.body.kind !== "experimenter") {
      this.open.delete(key);
      throw new OfpError("OFPBRC_BAD_STAT", `${m.body.kind} body cannot span messages`);
    }
    const asm: Assembly = current ?? {
      first: m,
      mpType,
      entries: [],
      data: [],
      parts: 0,
      deadline: 0,
    };
    if (asm.mpType !== mpType) {
      this.open.delete(key);
      throw new OfpError(
        "OFPBRC_BAD_STAT",
        `multipart part type ${mpType} differs from ${asm.mpType} for xid ${m.xid}`,
      );
    }
    if (asm.parts >= this.maxParts) {
      this.open.delete(key);
      throw new OfpError("OFPBRC_MULTIPART_BUFFER_OVERFLOW", `more than ${this.maxParts} parts`);
    }
    const body = m.body;
    if (hasEntries(body)) {
      for (const e of body.entries) asm.entries.push(e);
    } else if (body.kind === "experimenter") {
      asm.data.push(body.data);
    }
    asm.parts++;
    asm.deadline = now + this.timeoutMs;
    if (more) {
      this.open.set(key, asm);
      return undefined;
    }
    this.open.delete(key);
    return join(asm, m) as M;
  }

  /** Removes and reports every assembly idle past its timeout at `now`. */
  tick(now: number): MultipartTimeout[] {
    const expired: MultipartTimeout[] = [];
    for (const [key, asm] of this.open) {
      if (now < asm.deadline) continue;
      this.open.delete(key);
      const request = asm.first.type === "multipart_request";
      const code = request ? "OFPBRC_MULTIPART_REQUEST_TIMEOUT" : "OFPBRC_MULTIPART_REPLY_TIMEOUT";
      expired.push({
        type: asm.first.type,
        xid: asm.first.xid,
        parts: asm.parts,
        error: new OfpError(
          code,
          `multipart xid ${asm.first.xid} incomplete after ${asm.parts} parts`,
        ),
      });
    }
    return expired;
  }

  /** Forgets an assembly (e.g. when its request failed with an OFPT_ERROR). */
  discard(type: MultipartMessage["type"], xid: number): boolean {
    return this.open.delete(`${type}:${xid}`);
  }
}

function join(asm: Assembly, last: MultipartMessage): MultipartMessage {
  const firstBody = asm.first.body;
  let body: MultipartRequestBody | MultipartReplyBody;
  if (firstBody.kind === "experimenter") {
    const size = asm.data.reduce((n, d) => n + d.byteLength, 0);
    const data = new Uint8Array(size);
    let at = 0;
    for (const d of asm.data) {
      data.set(d, at);
      at += d.byteLength;
    }
    body = { ...firstBody, data };
  } else {
    body = { ...firstBody, entries: asm.entries } as MultipartRequestBody | MultipartReplyBody;
  }
  const flags = last.flags & ~OFPMPF_REPLY_MORE;
  return { ...asm.first, flags, body } as MultipartMessage;
}
