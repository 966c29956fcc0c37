/**
 * A megaflow's actions, compiled from the walk's recording into what OVS
 * calls datapath actions: for each output, the header changes since the
 * previous output (OVS `commit_odp_actions`), then the output.
 *
 * Two forms:
 *  - **fast**: a flat Int32Array program (opcode, operands...) run in place
 *    on the frame, no allocation, no FlowKey: MAC rewrites, VLAN push/pop/TCI
 *    rewrite, IPv4 TTL (with the RFC 1624 incremental checksum), outputs.
 *    Outputs are handed to the sink in place (the TxSink contract: the bytes
 *    are only valid during the call), so no output is copied; later ops keep
 *    changing the same bytes for the next output, as OVS's datapath executes
 *    its action list on one packet.
 *  - **generic**: for anything else (IPv6, L4 and ARP rewrites, masked
 *    writes that keep input bits, VXLAN outputs): per output, the key words
 *    to set (relative to the input key) and the header classes to resync,
 *    run on a PacketBuffer + FlowKey with the same rewrite helpers the walk
 *    uses (actions/rewrite.ts), and transmitted by the bridge.
 *
 * Both reproduce the walk's frames byte for byte: each header the walk
 * synced is rewritten from the same key values with the same incremental
 * checksum arithmetic.
 */
import { ETH_TYPE, HDR, VLAN } from "../codec/packet/constants.js";
import { FK } from "../codec/packet/flow-key.js";
import { PARSE_STATUS } from "../codec/packet/parse.js";
import { REWRITE, type RewriteClass } from "./actions/rewrite.js";
import type { Bridge } from "./bridge.js";
import { WORD_CLASS, type StagedTunnel } from "./pipeline.js";
import type { Port } from "./ports.js";
import type { RecordedOutput } from "./recorder.js";

/** Fast-program opcodes; operands follow each opcode. */
export const MFOP = {
  /** End of program. */
  END: 0,
  /** OUTPUT index: send the frame to outPorts[index] of outBridges[index]. */
  OUTPUT: 1,
  /** ETH_DST hi16 lo32. */
  ETH_DST: 2,
  ETH_SRC: 3,
  /** PUSH_VLAN tpid tci(wire, DEI clear): a new outer tag after the MACs. */
  PUSH_VLAN: 4,
  /** POP_VLAN: removes the outer tag. */
  POP_VLAN: 5,
  /** SET_TCI mask value: wire TCI = ((tci & ~mask) | value) & 0xefff. */
  SET_TCI: 6,
  /** IPV4_TTL l3-offset ttl: rewrites the TTL and patches the header checksum. */
  IPV4_TTL: 7,
} as const;

/** Operands per opcode (for walkers of the program: tests, formatting). */
export const MFOP_ARGS: readonly number[] = [0, 1, 2, 2, 2, 0, 2, 2];

/** One output of the generic replay. */
export interface GenericOutput {
  /** (word, mask, value) triples: key word = (input & ~mask) | value. */
  readonly writes: Int32Array;
  /** Headers to resync, VLAN first. */
  readonly classes: readonly RewriteClass[];
  readonly bridge: Bridge;
  readonly port: Port;
  readonly tunnel: StagedTunnel | null;
}

export interface CompiledActions {
  readonly fast: Int32Array | null;
  readonly outPorts: Port[];
  readonly outBridges: Bridge[];
  readonly modifies: boolean;
  readonly generic: GenericOutput[] | null;
}

/** Dense (mask, value) of an output's write triples. */
function dense(writes: Int32Array, m: Int32Array, v: Int32Array): void {
  m.fill(0);
  v.fill(0);
  for (let k = 0; k < writes.length; k += 3) {
    m[writes[k]!] = writes[k + 1]!;
    v[writes[k]!] = writes[k + 2]!;
  }
}

const TAG_OFS = 12;

/** Scratch key states for compilation (previous and current output; compilation is not re-entrant). */
const PM = new Int32Array(FK.SIZE);
const PV = new Int32Array(FK.SIZE);
const CM = new Int32Array(FK.SIZE);
const CV = new Int32Array(FK.SIZE);

/**
 * Compiles the outputs of a recording. `input` is the key the walk started
 * from (the megaflow fixes its VLAN structure, eth_type and parse status).
 */
export function compileActions(
  outputs: readonly RecordedOutput[],
  input: Uint32Array,
  status: number,
): CompiledActions {
  const fast = compileFast(outputs, input, status);
  if (fast !== null) return fast;
  return {
    fast: null,
    outPorts: [],
    outBridges: [],
    modifies: true,
    generic: compileGeneric(outputs),
  };
}

function compileFast(
  outputs: readonly RecordedOutput[],
  input: Uint32Array,
  status: number,
): CompiledActions | null {
  const prog: number[] = [];
  const outPorts: Port[] = [];
  const outBridges: Bridge[] = [];
  const pm = PM.fill(0);
  const pv = PV.fill(0);
  const cm = CM;
  const cv = CV;
  const inputTagged = (input[FK.VLAN_TCI]! & VLAN.CFI) !== 0;
  let tagged = inputTagged;
  let modifies = false;
  for (const out of outputs) {
    if (out.port.spec.kind === "vxlan" || out.port.kind === "patch") return null;
    dense(out.writes, cm, cv);
    let vlan = false;
    let ethSrc = false;
    let ethDst = false;
    let ttl = false;
    for (let i = 0; i < FK.SIZE; i++) {
      if (cm[i] === pm[i] && cv[i] === pv[i]) continue;
      const c = WORD_CLASS[i]!;
      if (c === REWRITE.NONE) continue;
      if (c === REWRITE.VLAN) vlan = true;
      else if (c === REWRITE.ETH_SRC) ethSrc = true;
      else if (c === REWRITE.ETH_DST) ethDst = true;
      else if (c === REWRITE.NW_TTL) ttl = true;
      else return null;
    }
    if (cm[FK.ETH_TYPE] !== 0) return null;
    if (vlan) {
      const tciM = cm[FK.VLAN_TCI]!;
      const tciV = cv[FK.VLAN_TCI]!;
      const after = (tciM & VLAN.CFI) !== 0 ? (tciV & VLAN.CFI) !== 0 : inputTagged;
      if (!tagged && after) {
        const tpidM = cm[FK.VLAN_TPID]!;
        const tpid =
          tpidM === -1 ? cv[FK.VLAN_TPID]! : (input[FK.VLAN_TPID]! & ~tpidM) | cv[FK.VLAN_TPID]!;
        // The TCI must be all constants: an untagged input has TCI 0; a tagged one
        // (popped by an earlier output) needs every bit written.
        if (inputTagged && (tciM & 0xffff) !== 0xffff) return null;
        prog.push(MFOP.PUSH_VLAN, tpid === 0 ? ETH_TYPE.VLAN : tpid, tciV & 0xefff);
      } else if (tagged && !after) {
        prog.push(MFOP.POP_VLAN);
      } else if (tagged && after) {
        // Same tag, new TCI bits; input bits kept where not written. Needs the
        // written bits to only grow (no restore in between) and the same TPID.
        const tpidNow = (input[FK.VLAN_TPID]! & ~cm[FK.VLAN_TPID]!) | cv[FK.VLAN_TPID]!;
        const tpidPrev = (input[FK.VLAN_TPID]! & ~pm[FK.VLAN_TPID]!) | pv[FK.VLAN_TPID]!;
        if (tpidNow !== tpidPrev || !inputTagged) return null;
        if ((pm[FK.VLAN_TCI]! & ~tciM) !== 0) return null;
        prog.push(MFOP.SET_TCI, tciM & 0xffff, tciV & 0xffff);
      }
      tagged = after;
      modifies = true;
    }
    if (ethDst) {
      if ((cm[FK.ETH_DST_HI]! & 0xffff) !== 0xffff || cm[FK.ETH_DST_LO] !== -1) return null;
      prog.push(MFOP.ETH_DST, cv[FK.ETH_DST_HI]! & 0xffff, cv[FK.ETH_DST_LO]!);
      modifies = true;
    }
    if (ethSrc) {
      if ((cm[FK.ETH_SRC_HI]! & 0xffff) !== 0xffff || cm[FK.ETH_SRC_LO] !== -1) return null;
      prog.push(MFOP.ETH_SRC, cv[FK.ETH_SRC_HI]! & 0xffff, cv[FK.ETH_SRC_LO]!);
      modifies = true;
    }
    if (ttl) {
      // writeNwTtl only touches a whole IPv4 header (parse got to L4).
      if (input[FK.ETH_TYPE] !== ETH_TYPE.IPV4) return null;
      if (status !== PARSE_STATUS.OK && status !== PARSE_STATUS.L4_TRUNCATED) return null;
      if ((cm[FK.NW_TTL]! & 0xff) !== 0xff) return null;
      prog.push(MFOP.IPV4_TTL, HDR.ETH + (tagged ? HDR.VLAN_TAG : 0), cv[FK.NW_TTL]! & 0xff);
      modifies = true;
    }
    prog.push(MFOP.OUTPUT, outPorts.length);
    outPorts.push(out.port);
    outBridges.push(out.bridge);
    pm.set(cm);
    pv.set(cv);
  }
  prog.push(MFOP.END);
  return { fast: Int32Array.from(prog), outPorts, outBridges, modifies, generic: null };
}

function compileGeneric(outputs: readonly RecordedOutput[]): GenericOutput[] {
  const result: GenericOutput[] = [];
  const pm = PM.fill(0);
  const pv = PV.fill(0);
  const cm = CM;
  const cv = CV;
  for (const out of outputs) {
    dense(out.writes, cm, cv);
    const writes: number[] = [];
    const classes = new Set<RewriteClass>();
    let vlan = false;
    for (let i = 0; i < FK.SIZE; i++) {
      if (cm[i] === 0 && pm[i] === 0) continue;
      // Every word written now or before is set from the input (reverting what a restore undid).
      writes.push(i, cm[i]!, cv[i]!);
      if (cm[i] === pm[i] && cv[i] === pv[i]) continue;
      const c = WORD_CLASS[i]!;
      if (c === REWRITE.VLAN) vlan = true;
      else if (c !== REWRITE.NONE) classes.add(c);
    }
    result.push({
      writes: Int32Array.from(writes),
      classes: vlan ? [REWRITE.VLAN, ...classes] : [...classes],
      bridge: out.bridge,
      port: out.port,
      tunnel: out.tunnel,
    });
    pm.set(cm);
    pv.set(cv);
  }
  return result;
}

/**
 * IPv4 TTL rewrite at `l3` with the incremental header checksum (RFC 1624
 * eqn. 3, the same arithmetic as codec `csumReplace16`, which writeNwTtl
 * uses: a sum of three 16-bit words folds in two steps).
 */
export function setIpv4Ttl(v: DataView, l3: number, ttl: number): void {
  const o = l3 + 8;
  const oldWord = v.getUint16(o);
  const newWord = (ttl << 8) | (oldWord & 0xff);
  v.setUint16(o, newWord);
  const hc = l3 + 10;
  let sum = (~v.getUint16(hc) & 0xffff) + (~oldWord & 0xffff) + newWord;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(hc, ~sum & 0xffff);
}

/** Opens a 4-byte tag after the MACs: moves the MACs into the headroom when there is some, else the tail right. */
export function pushTag(
  b: Uint8Array,
  off: number,
  len: number,
  tpid: number,
  tci: number,
): number {
  let start = off;
  if (off >= HDR.VLAN_TAG) {
    start = off - HDR.VLAN_TAG;
    b.copyWithin(start, off, off + TAG_OFS);
  } else {
    b.copyWithin(off + TAG_OFS + HDR.VLAN_TAG, off + TAG_OFS, off + len);
  }
  const t = start + TAG_OFS;
  b[t] = tpid >>> 8;
  b[t + 1] = tpid;
  b[t + 2] = tci >>> 8;
  b[t + 3] = tci;
  return start;
}

/** Removes the outer tag by moving the MACs right; returns the new frame start. */
export function popTag(b: Uint8Array, off: number): number {
  b.copyWithin(off + HDR.VLAN_TAG, off, off + TAG_OFS);
  return off + HDR.VLAN_TAG;
}
