/**
 * The NXAST_LEARN action: build, from the packet being processed, the flow the
 * learn action describes (OVS lib/learn.c `learn_execute`), as a FLOW_MOD ADD.
 *
 * - match specs set `dst[ofs..]` in the new flow's match to the source bits
 *   (a packet field or an immediate); several specs on one field combine, so
 *   `NXM_OF_VLAN_TCI[0..11]` gives `vlan_tci=0x0001/0x0fff`.
 * - load specs become `load:VALUE->dst[..]` actions with the value read now.
 * - output specs become `output:PORT` with the port read now.
 * The new flow gets the learn action's table, priority, timeouts and cookie,
 * and send_flow_rem when NX_LEARN_F_SEND_FLOW_REM is set. Installing it
 * (refresh when an identical flow is there, as OVS's learned-flow refresh
 * does) is the bridge's job.
 *
 * Allocates (BigInt, objects): learning is a slow-path event, and a walk that
 * learns is never cached.
 */
import type { Action, LearnAction } from "../codec/actions.js";
import { NX_LEARN_FLAGS } from "../codec/nx/learn.js";
import type { FlowModMessage } from "../codec/messages/flow-mod.js";
import { OFPFC, OFPFF, OFP_NO_BUFFER, OFPG_ANY } from "../codec/messages/flow-mod.js";
import { entry as oxmEntry } from "../codec/match.js";
import type { OxmField, OxmEntry } from "../codec/oxm.js";
import { OFPP } from "../codec/ports.js";
import { readFieldBig } from "./actions/field-access.js";

function bigToBytes(v: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = v;
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

function bytesToBig(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = 0; i < b.length; i++) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

function ones(n: number): bigint {
  return (1n << BigInt(n)) - 1n;
}

/** The FLOW_MOD a learn action installs for a packet whose key words are `w`. */
export function learnedFlowMod(a: LearnAction, w: Uint32Array): FlowModMessage {
  const matchFields = new Map<OxmField, { value: bigint; mask: bigint }>();
  const actions: Action[] = [];
  for (const s of a.specs) {
    const value =
      s.src.kind === "immediate"
        ? bytesToBig(s.src.value) & ones(s.nBits)
        : readFieldBig(w, s.src.field.field, s.src.field.ofs, s.src.field.nBits);
    switch (s.dst) {
      case "match": {
        const d = s.dstField!;
        const cur = matchFields.get(d.field) ?? { value: 0n, mask: 0n };
        const m = ones(s.nBits) << BigInt(d.ofs);
        cur.value = (cur.value & ~m) | ((value << BigInt(d.ofs)) & m);
        cur.mask |= m;
        matchFields.set(d.field, cur);
        break;
      }
      case "load":
        actions.push({ type: "reg_load", dst: s.dstField!, value });
        break;
      case "output":
        actions.push({ type: "output", port: Number(value & 0xffffffffn) >>> 0, maxLen: 0 });
        break;
    }
  }
  const entries: OxmEntry[] = [];
  for (const [field, { value, mask }] of matchFields) {
    const full = ones(field.size * 8);
    entries.push(
      oxmEntry(
        field,
        bigToBytes(value, field.size),
        (mask & full) === full || !field.maskable ? undefined : bigToBytes(mask, field.size),
      ),
    );
  }
  return {
    type: "flow_mod",
    xid: 0,
    cookie: a.cookie,
    cookieMask: 0n,
    tableId: a.tableId,
    command: OFPFC.ADD,
    idleTimeout: a.idleTimeout,
    hardTimeout: a.hardTimeout,
    priority: a.priority,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG_ANY,
    flags: (a.flags & NX_LEARN_FLAGS.SEND_FLOW_REM) !== 0 ? OFPFF.SEND_FLOW_REM : 0,
    match: { entries },
    instructions: actions.length === 0 ? [] : [{ type: "apply_actions", actions }],
  };
}
