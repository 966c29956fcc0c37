/**
 * The hot FLOW_MOD encoder (direct stores into `Writer.reserve`d blocks,
 * flow-mod.ts, oxm.ts, actions.ts, instructions.ts, nx/constants.ts) against
 * a reference written the plain way, field by field into a number array,
 * from the OF1.3 layouts (§7.3.4.1 flow_mod, §7.2.3 OXM, §7.2.5 actions,
 * §7.2.4 instructions) and OVS's `nx_action_reg_move`. Actions the reference
 * does not spell out are taken from `encodeAction` on a fresh, garbage-filled
 * writer, so every byte the hot path leaves unwritten shows up as a
 * difference. Flows come from the ovs-ofctl flow generator (DVR-shaped and
 * more); a second property encodes them into a dirty, tiny writer that must
 * grow mid-structure.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OFPAT, encodeAction, type Action } from "../../codec/actions.js";
import { encodeMessage, encodeMessageTo } from "../../codec/message.js";
import type { FlowModMessage } from "../../codec/messages/flow-mod.js";
import type { MatchEntry } from "../../codec/oxm.js";
import type { Instruction } from "../../codec/instructions.js";
import { FlowSyntaxError, flowModMessage, parseFlow } from "../../codec/text/flow.js";
import { Writer } from "../../codec/writer.js";
import { flowArb } from "../ovs/flow-arbitrary.js";

const OFP13_VERSION = 4;
const OFPT_FLOW_MOD = 14;
const OFPMT_OXM = 1;
const OFPIT = {
  GOTO_TABLE: 1,
  WRITE_METADATA: 2,
  WRITE_ACTIONS: 3,
  APPLY_ACTIONS: 4,
  CLEAR_ACTIONS: 5,
  METER: 6,
} as const;
const NX_VENDOR_ID = 0x2320;
const NXAST_REG_MOVE = 6;
const GARBAGE = 0xa5;

/** Big-endian bytes into a plain array, lengths patched by hand. */
class RefBytes {
  readonly b: number[] = [];
  u8(v: number): void {
    this.b.push(v & 0xff);
  }
  u16(v: number): void {
    this.u8(v >>> 8);
    this.u8(v);
  }
  u32(v: number): void {
    this.u16(v >>> 16);
    this.u16(v & 0xffff);
  }
  u64(v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.u32(Number(u >> 32n));
    this.u32(Number(u & 0xffffffffn));
  }
  raw(bytes: Uint8Array): void {
    for (const x of bytes) this.b.push(x);
  }
  zeros(n: number): void {
    for (let i = 0; i < n; i++) this.b.push(0);
  }
  patch16(at: number, v: number): void {
    this.b[at] = (v >>> 8) & 0xff;
    this.b[at + 1] = v & 0xff;
  }
  /** Pads to 8 from `start`. */
  pad8(start: number): void {
    while ((this.b.length - start) % 8 !== 0) this.b.push(0);
  }
}

function refEntry(r: RefBytes, e: MatchEntry): void {
  if (e.field === undefined) throw new Error("the generator makes known fields only");
  const f = e.field;
  const masked = e.mask !== undefined;
  const exp = f.experimenter === undefined ? 0 : 4;
  const width = e.value.length;
  const header = f.header + (masked ? 0x100 : 0) + exp + (masked ? 2 * width : width);
  r.u32(header);
  if (f.experimenter !== undefined) r.u32(f.experimenter);
  r.raw(e.value);
  if (e.mask !== undefined) r.raw(e.mask);
}

/** An action through the codec, from a writer full of garbage (catches unwritten bytes). */
function viaCodec(r: RefBytes, a: Action): void {
  const w = new Writer(8);
  w.reserve(512).fill(GARBAGE);
  encodeAction(w, a);
  r.raw(w.written());
}

function refAction(r: RefBytes, a: Action): void {
  const start = r.b.length;
  const eight = (type: number, arg16: number): void => {
    r.u16(type);
    r.u16(8);
    r.u16(arg16);
    r.zeros(2);
  };
  switch (a.type) {
    case "output":
      r.u16(OFPAT.OUTPUT);
      r.u16(16);
      r.u32(a.port);
      r.u16(a.maxLen);
      r.zeros(6);
      return;
    case "set_field":
      r.u16(OFPAT.SET_FIELD);
      r.u16(0);
      refEntry(r, a.entry);
      r.pad8(start);
      r.patch16(start + 2, r.b.length - start);
      return;
    case "push_vlan":
      return eight(OFPAT.PUSH_VLAN, a.ethertype);
    case "push_mpls":
      return eight(OFPAT.PUSH_MPLS, a.ethertype);
    case "pop_mpls":
      return eight(OFPAT.POP_MPLS, a.ethertype);
    case "push_pbb":
      return eight(OFPAT.PUSH_PBB, a.ethertype);
    case "pop_vlan":
      return eight(OFPAT.POP_VLAN, 0);
    case "pop_pbb":
      return eight(OFPAT.POP_PBB, 0);
    case "copy_ttl_out":
      return eight(OFPAT.COPY_TTL_OUT, 0);
    case "copy_ttl_in":
      return eight(OFPAT.COPY_TTL_IN, 0);
    case "dec_mpls_ttl":
      return eight(OFPAT.DEC_MPLS_TTL, 0);
    case "dec_nw_ttl":
      return eight(OFPAT.DEC_NW_TTL, 0);
    case "reg_move": {
      r.u16(0xffff);
      r.u16(0);
      r.u32(NX_VENDOR_ID);
      r.u16(NXAST_REG_MOVE);
      r.u16(a.src.nBits);
      r.u16(a.src.ofs);
      r.u16(a.dst.ofs);
      for (const f of [a.src.field, a.dst.field]) {
        r.u32(f.header + f.size + (f.experimenter === undefined ? 0 : 4));
        if (f.experimenter !== undefined) r.u32(f.experimenter);
      }
      r.pad8(start);
      r.patch16(start + 2, r.b.length - start);
      return;
    }
    default:
      return viaCodec(r, a);
  }
}

function refInstruction(r: RefBytes, ins: Instruction): void {
  const start = r.b.length;
  switch (ins.type) {
    case "goto_table":
      r.u16(OFPIT.GOTO_TABLE);
      r.u16(8);
      r.u8(ins.tableId);
      r.zeros(3);
      return;
    case "write_metadata":
      r.u16(OFPIT.WRITE_METADATA);
      r.u16(24);
      r.zeros(4);
      r.u64(ins.metadata);
      r.u64(ins.mask);
      return;
    case "clear_actions":
      r.u16(OFPIT.CLEAR_ACTIONS);
      r.u16(8);
      r.zeros(4);
      return;
    case "meter":
      r.u16(OFPIT.METER);
      r.u16(8);
      r.u32(ins.meterId);
      return;
    case "apply_actions":
    case "write_actions":
      r.u16(ins.type === "apply_actions" ? OFPIT.APPLY_ACTIONS : OFPIT.WRITE_ACTIONS);
      r.u16(0);
      r.zeros(4);
      for (const a of ins.actions) refAction(r, a);
      r.patch16(start + 2, r.b.length - start);
      return;
    case "experimenter":
      throw new Error("the generator makes no experimenter instructions");
  }
}

function referenceFlowMod(m: FlowModMessage): Uint8Array {
  const r = new RefBytes();
  r.u8(OFP13_VERSION);
  r.u8(OFPT_FLOW_MOD);
  r.u16(0);
  r.u32(m.xid);
  r.u64(m.cookie);
  r.u64(m.cookieMask);
  r.u8(m.tableId);
  r.u8(m.command);
  r.u16(m.idleTimeout);
  r.u16(m.hardTimeout);
  r.u16(m.priority);
  r.u32(m.bufferId);
  r.u32(m.outPort);
  r.u32(m.outGroup);
  r.u16(m.flags);
  r.zeros(2);
  const matchAt = r.b.length;
  r.u16(OFPMT_OXM);
  r.u16(0);
  for (const e of m.match.entries) refEntry(r, e);
  r.patch16(matchAt + 2, r.b.length - matchAt); // ofp_match length excludes its pad
  r.pad8(matchAt);
  for (const ins of m.instructions) refInstruction(r, ins);
  r.patch16(2, r.b.length);
  return Uint8Array.from(r.b);
}

/**
 * Generated flows as FLOW_MODs. The generator also makes a few flows OVS
 * refuses (and so do we: FlowSyntaxError); those have no bytes to compare.
 */
const flowMods = flowArb()
  .map(({ text }) => {
    try {
      return flowModMessage(parseFlow(text), 0x1234_5678);
    } catch (e) {
      if (e instanceof FlowSyntaxError) return undefined;
      throw e;
    }
  })
  .filter((m): m is FlowModMessage => m !== undefined);
const RUNS = 400;

describe("FLOW_MOD encode against a plain reference", () => {
  it("encodeMessage writes the reference bytes for generated flows", () => {
    fc.assert(
      fc.property(flowMods, (m) => {
        expect(Buffer.from(encodeMessage(m)).toString("hex")).toBe(
          Buffer.from(referenceFlowMod(m)).toString("hex"),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it("a dirty writer that must grow mid-structure gives the same bytes", () => {
    fc.assert(
      fc.property(flowMods, fc.integer({ min: 1, max: 64 }), (m, size) => {
        const w = new Writer(size);
        w.reserve(size).fill(GARBAGE);
        encodeMessageTo(w, m);
        expect(Buffer.from(w.written()).toString("hex")).toBe(
          Buffer.from(encodeMessage(m)).toString("hex"),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it("the reference notices a wrong byte (the comparison can fail)", () => {
    const m = flowModMessage(
      parseFlow(
        "table=3,priority=7,ip,nw_dst=10.0.0.0/8,actions=mod_dl_dst:fa:16:3e:00:00:01,output:2",
      ),
      1,
    );
    const ours = encodeMessage(m);
    const ref = referenceFlowMod(m);
    expect(ours).toEqual(ref);
    const changed = flowModMessage(
      parseFlow(
        "table=3,priority=8,ip,nw_dst=10.0.0.0/8,actions=mod_dl_dst:fa:16:3e:00:00:01,output:2",
      ),
      1,
    );
    expect(encodeMessage(changed)).not.toEqual(ref);
  });
});
