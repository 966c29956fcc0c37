/**
 * What a table walk consulted and what it did, recorded so the datapath can
 * install a megaflow (OVS ofproto-dpif-xlate: the walk accumulates
 * `struct flow_wildcards` while it translates, and the result becomes one
 * datapath flow: the un-wildcarded bits of the packet as the match, the
 * datapath actions as the program).
 *
 * Two bit sets over the FlowKey words are kept while the walk runs:
 *  - `wc` ("consulted"): every input bit the outcome depends on — the masks
 *    of every classifier subtable a lookup probed, hits and misses alike
 *    (FlowTable.unwildcard), the prerequisites and sources actions read, and
 *    the bits OVS always un-wildcards (in_port, dl_type, nw_frag; here also
 *    nw_proto and the VLAN structure, which decide where headers sit).
 *  - `written`: the bits actions have set. A written bit's value is a
 *    function of consulted bits and constants, so it is the same for every
 *    packet of the megaflow; a later read of it consults nothing new. Saved
 *    and restored with the packet around patch ports and group buckets.
 *
 * At each output the key is recorded as (word, written mask, value) triples
 * relative to the input: output key = (input & ~mask) | value. Each table
 * lookup is recorded the same way (for precise invalidation: could a new
 * rule match the key this lookup saw?), with the entry it hit. Counters the
 * walk touched (flows, tables, patch ports) are recorded with the frame-length
 * change at that point, so a replay credits them exactly.
 *
 * Slow path only (it allocates); the packet path never records.
 */
import { ETH_TYPE, VLAN } from "../codec/packet/constants.js";
import { FK } from "../codec/packet/flow-key.js";
import type { Prereq } from "../codec/oxm.js";
import type { BitRun, MoveRun } from "./actions/field-access.js";
import type { Bridge } from "./bridge.js";
import type { FlowEntry } from "./flow-entry.js";
import type { FlowTable } from "./flow-table.js";
import type { StagedTunnel } from "./pipeline.js";
import type { Port } from "./ports.js";

/** One output of the walk. */
export interface RecordedOutput {
  readonly bridge: Bridge;
  readonly port: Port;
  /** Outer header of a VXLAN output (constant within the megaflow), or null. */
  readonly tunnel: StagedTunnel | null;
  /** Key state at the output: (word, mask, value) triples, output = (input & ~mask) | value. */
  readonly writes: Int32Array;
  /** Frame length at the output minus the input length. */
  readonly lenDelta: number;
}

/** One table lookup: the table, the entry hit (or null) and the key it saw, as write triples. */
export interface RecordedVisit {
  readonly table: FlowTable;
  readonly entry: FlowEntry | null;
  readonly writes: Int32Array;
}

/** A finished recording. */
export interface Recording {
  /** Consulted input bits per FlowKey word. */
  readonly wc: Int32Array;
  readonly outputs: readonly RecordedOutput[];
  readonly visits: readonly RecordedVisit[];
  /** Flow entries hit, and the frame-length change at each hit. */
  readonly hits: readonly FlowEntry[];
  readonly hitLenDelta: readonly number[];
  /** Patch-port crossings: the patch port's tx and its peer's rx, with the length change. */
  readonly patchTx: readonly Port[];
  readonly patchRx: readonly Port[];
  readonly patchLenDelta: readonly number[];
}

const ALL = -1;
const IP_FRAG_WORDS_MASK = ALL;

/** Words a prerequisite reads (OVS un-wildcards the prerequisite fields, `mf_are_prereqs_ok` with wc). */
function prereqWords(p: Prereq): readonly number[] {
  switch (p) {
    case "none":
    case "in_port":
      return NONE;
    case "vlan_vid":
      return [FK.VLAN_TCI];
    case "ipv4":
    case "ipv6":
    case "ip_any":
    case "arp":
      return [FK.ETH_TYPE];
    case "tcp":
    case "udp":
    case "sctp":
      return [FK.ETH_TYPE, FK.NW_PROTO, FK.NW_FRAG];
    case "icmpv4":
    case "icmpv6":
      return [FK.ETH_TYPE, FK.NW_PROTO];
    case "nd":
    case "nd_solicit":
    case "nd_advert":
      return [FK.ETH_TYPE, FK.NW_PROTO, FK.ICMP_TYPE, FK.ICMP_CODE];
    case "mpls":
    case "pbb":
    case "ct_valid":
      return NONE;
  }
}
const NONE: readonly number[] = [];

function lowMask(n: number): number {
  return n >= 32 ? ALL : (1 << n) - 1;
}

const EMPTY = new Int32Array(0);
const tripleScratch = new Int32Array(FK.SIZE * 3);

/**
 * The (word, mask, value) triples of the words with written bits; `last` is
 * returned instead of a new array when equal (consecutive lookups often see
 * the same writes).
 */
function writeTriples(w: Uint32Array, written: Uint32Array, last: Int32Array): Int32Array {
  const t = tripleScratch;
  let j = 0;
  for (let i = 0; i < FK.SIZE; i++) {
    const m = written[i]! | 0;
    if (m === 0) continue;
    t[j] = i;
    t[j + 1] = m;
    t[j + 2] = w[i]! & m;
    j += 3;
  }
  if (j === 0) return EMPTY;
  if (j === last.length) {
    let k = 0;
    while (k < j && last[k] === t[k]) k++;
    if (k === j) return last;
  }
  return t.slice(0, j);
}

export class Recorder {
  /** Consulted bits (int32 per word). */
  readonly wc = new Int32Array(FK.SIZE);
  /** Written bits; shared with the walk (pipeline.ts keeps it current, also for traces). */
  readonly written: Uint32Array;
  private startLen = 0;
  private outputs: RecordedOutput[] = [];
  private visits: RecordedVisit[] = [];
  private hits: FlowEntry[] = [];
  private hitLenDelta: number[] = [];
  private patchTx: Port[] = [];
  private patchRx: Port[] = [];
  private patchLenDelta: number[] = [];
  /** The last triples made (reused when the next are equal). */
  private lastWrites: Int32Array = EMPTY;

  constructor(written: Uint32Array) {
    this.written = written;
  }

  /** A walk starts on the parsed packet `w` of `len` bytes. */
  begin(w: Uint32Array, len: number): void {
    const wc = this.wc;
    wc.fill(0);
    this.written.fill(0);
    this.startLen = len;
    this.outputs = [];
    this.visits = [];
    this.hits = [];
    this.hitLenDelta = [];
    this.patchTx = [];
    this.patchRx = [];
    this.patchLenDelta = [];
    this.lastWrites = EMPTY;
    // Always exact (OVS xlate_wc_init: in_port, dl_type, and nw_frag for IP). The
    // VLAN tag's presence and TPID and nw_proto also decide where headers sit and
    // how rewrites patch checksums, so every packet of a megaflow has the same layout.
    wc[FK.IN_PORT] = ALL;
    wc[FK.ETH_TYPE] = ALL;
    wc[FK.VLAN_TCI] = VLAN.CFI;
    wc[FK.VLAN_TPID] = ALL;
    // (The inner tag words are always 0 on input: the datapath parses one tag.)
    const et = w[FK.ETH_TYPE];
    if (et === ETH_TYPE.IPV4 || et === ETH_TYPE.IPV6) {
      wc[FK.NW_FRAG] = IP_FRAG_WORDS_MASK;
      wc[FK.NW_PROTO] = ALL;
    }
  }

  /** The walk read `mask` bits of `word` (bits it wrote itself consult nothing). */
  read(word: number, mask: number): void {
    this.wc[word] = this.wc[word]! | (mask & ~this.written[word]!);
  }

  readPrereq(p: Prereq): void {
    const words = prereqWords(p);
    for (let i = 0; i < words.length; i++) this.read(words[i]!, ALL);
  }

  readRuns(runs: readonly BitRun[]): void {
    for (let i = 0; i < runs.length; i++) {
      const r = runs[i]!;
      this.read(r.word, lowMask(r.nBits) << r.shift);
    }
  }

  readMoveSources(moves: readonly MoveRun[]): void {
    for (let i = 0; i < moves.length; i++) {
      const m = moves[i]!;
      this.read(m.srcWord, lowMask(m.nBits) << m.srcShift);
    }
  }

  /** A table lookup on key `w` (with `lookupInPort` in place of in_port when ≥ 0) hit `entry`. */
  lookup(
    table: FlowTable,
    entry: FlowEntry | null,
    w: Uint32Array,
    lookupInPort: number,
    len: number,
  ): void {
    table.unwildcard(this.wc, this.written);
    let writes = (this.lastWrites = writeTriples(w, this.written, this.lastWrites));
    if (lookupInPort >= 0) {
      // resubmit(port,table): the lookup saw this in_port (a constant of the action).
      const n = writes.length;
      const out = new Int32Array(n + 3);
      let j = 0;
      for (let i = 0; i < n; i += 3) {
        if (writes[i] === FK.IN_PORT) continue;
        out[j] = writes[i]!;
        out[j + 1] = writes[i + 1]!;
        out[j + 2] = writes[i + 2]!;
        j += 3;
      }
      out[j] = FK.IN_PORT;
      out[j + 1] = ALL;
      out[j + 2] = lookupInPort | 0;
      writes = out.subarray(0, j + 3);
    }
    this.visits.push({ table, entry, writes });
    if (entry !== null) {
      this.hits.push(entry);
      this.hitLenDelta.push(len - this.startLen);
    }
  }

  /** A frame leaves by `port` with key `w`. */
  output(
    bridge: Bridge,
    port: Port,
    tunnel: StagedTunnel | null,
    w: Uint32Array,
    len: number,
  ): void {
    this.outputs.push({
      bridge,
      port,
      tunnel: tunnel === null ? null : { ...tunnel },
      writes: (this.lastWrites = writeTriples(w, this.written, this.lastWrites)),
      lenDelta: len - this.startLen,
    });
  }

  /** The frame crosses patch port `port` into its peer. */
  patch(port: Port, peer: Port, len: number): void {
    this.patchTx.push(port);
    this.patchRx.push(peer);
    this.patchLenDelta.push(len - this.startLen);
  }

  /** The recording (its `wc` is the recorder's own array: valid until the next walk). */
  finish(): Recording {
    return {
      wc: this.wc,
      outputs: this.outputs,
      visits: this.visits,
      hits: this.hits,
      hitLenDelta: this.hitLenDelta,
      patchTx: this.patchTx,
      patchRx: this.patchRx,
      patchLenDelta: this.patchLenDelta,
    };
  }
}
