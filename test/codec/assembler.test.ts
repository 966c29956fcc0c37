/**
 * Splitting multipart replies over 65535 bytes (OVS `ofpmp_postappend`) and
 * joining them back by xid (OVS `ofpmp_assembler_*`).
 */
import { describe, expect, it } from "vitest";
import { OfpError } from "../../codec/errors.js";
import { decodeMessage, encodeMessage, type MessageOf } from "../../codec/message.js";
import { MultipartAssembler } from "../../codec/multipart-assembler.js";
import { encodeMultipartParts } from "../../codec/messages/multipart-split.js";
import type { FlowStats } from "../../codec/messages/multipart-flow.js";
import { OFPMPF_REPLY_MORE } from "../../codec/messages/multipart.js";
import type { TableFeatures } from "../../codec/messages/table-features.js";

type Reply = MessageOf<"multipart_reply">;
type Request = MessageOf<"multipart_request">;

function flowStats(i: number): FlowStats {
  return {
    tableId: i % 250,
    durationSec: i,
    durationNsec: 0,
    priority: i & 0xffff,
    idleTimeout: 0,
    hardTimeout: 0,
    flags: 0,
    cookie: BigInt(i) << 32n,
    packetCount: BigInt(i * 3),
    byteCount: BigInt(i * 7),
    match: { entries: [] },
    instructions: [],
  };
}

function flowReply(count: number, xid = 42): Reply {
  return {
    type: "multipart_reply",
    xid,
    flags: 0,
    body: { kind: "flow", entries: Array.from({ length: count }, (_, i) => flowStats(i)) },
  };
}

const flagsOf = (b: Uint8Array): number => (b[10]! << 8) | b[11]!;
const lengthOf = (b: Uint8Array): number => (b[2]! << 8) | b[3]!;

describe("encodeMultipartParts", () => {
  it("keeps a reply that fits in one message unchanged", () => {
    const m = flowReply(10);
    const parts = encodeMultipartParts(m);
    expect(parts.length).toBe(1);
    expect(Buffer.from(parts[0]!).equals(Buffer.from(encodeMessage(m)))).toBe(true);
    expect(flagsOf(parts[0]!)).toBe(0);
  });

  it("splits a 3000-flow reply between entries with REPLY_MORE on all but the last", () => {
    // 56-byte entries: (65535 - 16) / 56 = 1169 per message.
    const m = flowReply(3000);
    const parts = encodeMultipartParts(m);
    expect(parts.length).toBe(3);
    expect(parts.map(lengthOf)).toEqual([16 + 1169 * 56, 16 + 1169 * 56, 16 + 662 * 56]);
    expect(parts.map(flagsOf)).toEqual([1, 1, 0]);
    const decoded = parts.map((p) => decodeMessage(p) as Reply);
    for (const d of decoded) expect(d.xid).toBe(42);
    const entries = decoded.flatMap((d) => (d.body.kind === "flow" ? d.body.entries : []));
    expect(entries).toEqual(m.body.kind === "flow" ? m.body.entries : []);
  });

  it("honours a smaller maximum and refuses an entry that cannot fit", () => {
    const parts = encodeMultipartParts(flowReply(5), { maxSize: 16 + 2 * 56 });
    expect(parts.map(lengthOf)).toEqual([128, 128, 72]);
    expect(() => encodeMultipartParts(flowReply(1), { maxSize: 60 })).toThrow(RangeError);
  });

  it("emits one empty message for an empty list", () => {
    const parts = encodeMultipartParts(flowReply(0));
    expect(parts.length).toBe(1);
    expect(lengthOf(parts[0]!)).toBe(16);
  });
});

describe("MultipartAssembler", () => {
  it("joins split parts by xid into the original reply", () => {
    const m = flowReply(3000);
    const asm = new MultipartAssembler();
    const parts = encodeMultipartParts(m).map((p) => decodeMessage(p) as Reply);
    expect(asm.push(parts[0]!, 0)).toBeUndefined();
    expect(asm.push(parts[1]!, 1)).toBeUndefined();
    expect(asm.pending).toBe(1);
    const joined = asm.push(parts[2]!, 2);
    expect(joined).toEqual(m);
    expect(asm.pending).toBe(0);
  });

  it("passes a single-part reply straight through", () => {
    const m = flowReply(2);
    expect(new MultipartAssembler().push(m, 0)).toBe(m);
  });

  it("keeps interleaved xids apart", () => {
    const a = encodeMultipartParts(flowReply(4, 1), { maxSize: 16 + 2 * 56 }).map(
      (p) => decodeMessage(p) as Reply,
    );
    const b = encodeMultipartParts(flowReply(3, 2), { maxSize: 16 + 2 * 56 }).map(
      (p) => decodeMessage(p) as Reply,
    );
    const asm = new MultipartAssembler();
    expect(asm.push(a[0]!, 0)).toBeUndefined();
    expect(asm.push(b[0]!, 0)).toBeUndefined();
    expect(asm.push(b[1]!, 0)).toEqual(flowReply(3, 2));
    expect(asm.push(a[1]!, 0)).toEqual(flowReply(4, 1));
  });

  it("expires an idle assembly on tick with OFPBRC_MULTIPART_REPLY_TIMEOUT", () => {
    const asm = new MultipartAssembler({ timeoutMs: 1000 });
    const parts = encodeMultipartParts(flowReply(5), { maxSize: 16 + 2 * 56 }).map(
      (p) => decodeMessage(p) as Reply,
    );
    expect(parts.length).toBe(3);
    asm.push(parts[0]!, 100);
    expect(asm.tick(1099)).toEqual([]);
    asm.push(parts[1]!, 1000); // progress restarts the clock
    expect(asm.tick(1999)).toEqual([]);
    const expired = asm.tick(2000);
    expect(expired.length).toBe(1);
    expect(expired[0]).toMatchObject({ type: "multipart_reply", xid: 42, parts: 2 });
    expect(expired[0]!.error.code).toBe("OFPBRC_MULTIPART_REPLY_TIMEOUT");
    expect(asm.pending).toBe(0);
  });

  it("rejects a part of another multipart type for the same xid with OFPBRC_BAD_STAT", () => {
    const asm = new MultipartAssembler();
    asm.push({ ...flowReply(1), flags: OFPMPF_REPLY_MORE }, 0);
    const other: Reply = {
      type: "multipart_reply",
      xid: 42,
      flags: 0,
      body: { kind: "table", entries: [] },
    };
    expect(() => asm.push(other, 0)).toThrow(OfpError);
    expect(asm.pending).toBe(0);
    const desc: Reply = {
      type: "multipart_reply",
      xid: 43,
      flags: OFPMPF_REPLY_MORE,
      body: { kind: "aggregate", packetCount: 0n, byteCount: 0n, flowCount: 0 },
    };
    expect(() => asm.push(desc, 0)).toThrow(/cannot span/);
  });

  it("joins REQ_MORE table-features requests and experimenter data", () => {
    const tf = (tableId: number): TableFeatures => ({
      tableId,
      name: `t${tableId}`,
      metadataMatch: 0n,
      metadataWrite: 0n,
      config: 0,
      maxEntries: 10,
      properties: [{ kind: "next_tables", tableIds: [tableId + 1] }],
    });
    const req = (tables: number[], flags: number): Request => ({
      type: "multipart_request",
      xid: 9,
      flags,
      body: { kind: "table_features", entries: tables.map(tf) },
    });
    const asm = new MultipartAssembler();
    expect(asm.push(req([0, 1], 1), 0)).toBeUndefined();
    expect(asm.push(req([2], 0), 0)).toEqual(req([0, 1, 2], 0));

    const exp = (data: number[], flags: number): Reply => ({
      type: "multipart_reply",
      xid: 5,
      flags,
      body: { kind: "experimenter", experimenter: 0x2320, expType: 1, data: new Uint8Array(data) },
    });
    expect(asm.push(exp([1, 2], 1), 0)).toBeUndefined();
    expect(asm.push(exp([3], 0), 0)).toEqual(exp([1, 2, 3], 0));
  });
});
