/**
 * The codec's fuzz targets (reliability.md §2.4, R2), loaded by the worker in
 * fuzz-worker.ts. Each is seeded from the Ryu vectors, the malformed
 * catalogue, and structure-aware generators; each states its oracle:
 *
 * - `decode-strict` / `decode-loose`: mutated messages (bit flips, length
 *   fields set to {0, 1, header−1, …, 65535}, truncation, insertion, deletion,
 *   splicing) → decodeMessage throws nothing but OfpError.
 * - `roundtrip`: whatever decodes re-encodes, and decode∘encode is then the
 *   identity: encode(decode(encode(m))) = encode(m) and the decoded values are
 *   deep-equal.
 * - `tlv-tree`: FLOW_MODs built from random instruction/action/OXM TLV trees
 *   with adversarial lengths → only OfpError (the zero-length-TLV class).
 * - `framer`: a stream of messages cut at random points yields the same frames
 *   as one push; garbage streams raise only OfpError (FramingError).
 * - `packet-parse`: mutated Ethernet frames → parseFrame never throws.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type fc from "fast-check";
import { isOfpError } from "../../codec/errors.js";
import { Framer } from "../../codec/framer.js";
import { decodeMessage, encodeMessage } from "../../codec/message.js";
import { FlowKey } from "../../codec/packet/flow-key.js";
import { parseFrame } from "../../codec/packet/parse.js";
import { MALFORMED_CASES } from "../codec/malformed-cases.js";
import type { FuzzTarget } from "./fuzz-target.js";
import { bytesEqual, concat, hex, toHex } from "./hex.js";
import * as B from "./ofp-build.js";
import { SHARED } from "../shared-path.js";

const VECTORS = process.env.DVRFLOW_RYU_VECTORS ?? `${SHARED}/openflow-vectors/ryu-of13`;

/** Seed messages: every Ryu vector (when present), every malformed case, and a few built ones. */
function loadSeeds(): Uint8Array[] {
  const seeds: Uint8Array[] = [];
  if (existsSync(join(VECTORS, "index.json"))) {
    const index = JSON.parse(readFileSync(join(VECTORS, "index.json"), "utf8")) as {
      packet: string | null;
    }[];
    for (const row of index) {
      if (row.packet?.endsWith(".packet"))
        seeds.push(new Uint8Array(readFileSync(join(VECTORS, row.packet))));
    }
  }
  for (const c of MALFORMED_CASES) if (c.bytes.length >= 8) seeds.push(c.bytes);
  seeds.push(B.flowModApplying([B.output(1), B.nxResubmitTable(0xfff8, 3)], [B.ETH_TYPE_IPV4]));
  return seeds;
}

export const SEEDS: readonly Uint8Array[] = loadSeeds();

/** Seeds that decode loosely (the starting points for round trips). */
const VALID_SEEDS: readonly Uint8Array[] = SEEDS.filter((s) => {
  try {
    decodeMessage(s, { strict: false });
    return true;
  } catch {
    return false;
  }
});

/** Ethernet frames carried by seed PACKET_IN/PACKET_OUT messages, plus hand-made ones. */
const FRAME_SEEDS: readonly Uint8Array[] = [
  ...VALID_SEEDS.flatMap((s) => {
    const m = decodeMessage(s, { strict: false }) as { type: string; data?: Uint8Array };
    return (m.type === "packet_in" || m.type === "packet_out") &&
      m.data instanceof Uint8Array &&
      m.data.length > 0
      ? [m.data]
      : [];
  }),
  // ARP request in a VLAN tag.
  hex(
    "ffffffffffff 020000000001 8100 0005 0806 0001 0800 0604 0001 020000000001 0a000001 000000000000 0a000002",
  ),
  // IPv6 neighbour solicitation.
  hex(
    "3333ff000002 020000000001 86dd 6000000000203aff fe800000000000000000000000000001 ff0200000000000000000001ff000002 8700 0000 00000000 fe800000000000000000000000000002 0101020000000001",
  ),
];

/** Lengths that break parsers (reliability.md §2.4, generators). */
const INTERESTING_U16 = [
  0, 1, 2, 3, 4, 7, 8, 9, 12, 15, 16, 17, 23, 24, 255, 256, 0x7fff, 0x8000, 0xfffe, 0xffff,
];

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "u16"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; count: number }
  | { kind: "splice"; at: number; other: number; from: number };

function mutation(fcApi: typeof fc): fc.Arbitrary<Mutation> {
  const at = fcApi.nat({ max: 4096 });
  return fcApi.oneof(
    fcApi.record({ kind: fcApi.constant("flip" as const), at, bit: fcApi.nat({ max: 7 }) }),
    fcApi.record({
      kind: fcApi.constant("u16" as const),
      at,
      value: fcApi.constantFrom(...INTERESTING_U16),
    }),
    fcApi.record({ kind: fcApi.constant("truncate" as const), at }),
    fcApi.record({
      kind: fcApi.constant("insert" as const),
      at,
      bytes: fcApi.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
    fcApi.record({
      kind: fcApi.constant("delete" as const),
      at,
      count: fcApi.integer({ min: 1, max: 16 }),
    }),
    fcApi.record({
      kind: fcApi.constant("splice" as const),
      at,
      other: fcApi.nat(),
      from: fcApi.nat({ max: 4096 }),
    }),
  );
}

function applyMutation(b: Uint8Array, m: Mutation, pool: readonly Uint8Array[]): Uint8Array {
  if (b.length === 0) return b;
  const at = m.at % b.length;
  switch (m.kind) {
    case "flip": {
      const out = b.slice();
      out[at] = out[at]! ^ (1 << m.bit);
      return out;
    }
    case "u16": {
      const out = b.slice();
      const p = Math.min(at, b.length - 2);
      if (p < 0) return out;
      out[p] = m.value >> 8;
      out[p + 1] = m.value & 0xff;
      return out;
    }
    case "truncate":
      return b.slice(0, at);
    case "insert":
      return concat(b.subarray(0, at), m.bytes, b.subarray(at));
    case "delete":
      return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + m.count)));
    case "splice": {
      const other = pool[m.other % pool.length]!;
      const from = other.length === 0 ? 0 : m.from % other.length;
      return concat(b.subarray(0, at), other.subarray(from));
    }
  }
}

/** A seed, up to 4 mutations, and whether to patch the header length to the new size. */
interface MutatedInput {
  readonly bytes: Uint8Array;
}

function mutatedMessages(
  fcApi: typeof fc,
  pool: readonly Uint8Array[],
): fc.Arbitrary<MutatedInput> {
  return fcApi
    .tuple(
      fcApi.nat({ max: pool.length - 1 }),
      fcApi.array(mutation(fcApi), { minLength: 1, maxLength: 4 }),
      fcApi.boolean(),
    )
    .map(([i, muts, fixLength]) => {
      let b = pool[i]!;
      for (const m of muts) b = applyMutation(b, m, pool);
      // Mostly keep the header consistent, so mutations reach the body decoders.
      if (fixLength && b.length >= 4 && b.length <= 0xffff) b = B.withU16(b, 2, b.length);
      return { bytes: b };
    });
}

const bytesInput = {
  serialize: (i: MutatedInput): string => toHex(i.bytes),
  deserialize: (t: string): MutatedInput => ({ bytes: hex(t) }),
};

/** Runs `f`; a throw that is not an OfpError is the failure. */
function onlyOfpErrors(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!isOfpError(e))
      throw new Error(
        `non-OfpError escaped: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      );
  }
}

function roundTrip(bytes: Uint8Array): void {
  let m;
  try {
    m = decodeMessage(bytes, { strict: false });
  } catch (e) {
    if (isOfpError(e)) return;
    throw e;
  }
  const once = encodeMessage(m);
  const m2 = decodeMessage(once, { strict: false });
  const twice = encodeMessage(m2);
  if (!bytesEqual(once, twice))
    throw new Error(`encode∘decode not stable: ${toHex(once)} → ${toHex(twice)}`);
  const m3 = decodeMessage(twice, { strict: false });
  if (!isDeepStrictEqual(m2, m3))
    throw new Error("decode∘encode is not the identity on a decoded message");
}

// ------------------------------------------------------------ structure-aware TLV trees

interface TlvTree {
  readonly matchTlvs: Uint8Array[];
  readonly instructions: Uint8Array[];
}

function tlvTree(fcApi: typeof fc): fc.Arbitrary<TlvTree> {
  const len = fcApi.option(fcApi.constantFrom(...INTERESTING_U16), { nil: undefined, freq: 3 });
  const oxmTlv = fcApi
    .tuple(
      fcApi.constantFrom(0x8000, 0x0000, 0x0001, 0xffff),
      fcApi.nat({ max: 127 }),
      fcApi.uint8Array({ maxLength: 20 }),
      fcApi.boolean(),
      fcApi.option(fcApi.nat({ max: 255 }), { nil: undefined, freq: 4 }),
    )
    .map(([cls, field, value, hasmask, length]) =>
      B.oxm(cls, field, value, undefined, { hasmask, ...(length === undefined ? {} : { length }) }),
    );
  const action = fcApi
    .tuple(
      fcApi.constantFrom(0, 11, 17, 18, 22, 25, 0xffff, 3, 99),
      fcApi.uint8Array({ maxLength: 28 }),
      len,
    )
    .map(([type, body, length]) => {
      if (type === 0xffff)
        return B.nxAction(body[0] ?? 14, body.subarray(1), length === undefined ? {} : { length });
      return B.action(type, body, length === undefined ? {} : { length });
    });
  const instruction = fcApi
    .tuple(
      fcApi.constantFrom(1, 2, 3, 4, 5, 6, 0xffff, 9),
      fcApi.array(action, { maxLength: 4 }),
      fcApi.uint8Array({ maxLength: 20 }),
      len,
    )
    .map(([type, actions, raw, length]) =>
      type === 3 || type === 4
        ? B.actionsInstruction(type, actions, length === undefined ? {} : { length })
        : B.instruction(type, raw, length === undefined ? {} : { length }),
    );
  return fcApi.record({
    matchTlvs: fcApi.array(oxmTlv, { maxLength: 6 }),
    instructions: fcApi.array(instruction, { maxLength: 4 }),
  });
}

function tlvTreeMessage(t: TlvTree): Uint8Array {
  const body = B.flowMod({ match: B.match(t.matchTlvs), instructions: t.instructions });
  return body.length <= 0xffff ? B.withU16(body, 2, body.length) : body.slice(0, 0xffff);
}

// ------------------------------------------------------------ framer

interface FramerInput {
  readonly stream: Uint8Array;
  readonly cuts: number[];
}

function framesOf(
  stream: Uint8Array,
  cuts: readonly number[],
): { frames: string[]; error: string | undefined } {
  const f = new Framer();
  const frames: string[] = [];
  let from = 0;
  try {
    for (const cut of [
      ...cuts.filter((c) => c > 0 && c < stream.length).sort((a, b) => a - b),
      stream.length,
    ]) {
      if (cut < from) continue;
      for (const fr of f.push(stream.subarray(from, cut))) frames.push(toHex(fr));
      from = cut;
    }
    return { frames, error: undefined };
  } catch (e) {
    if (!isOfpError(e)) throw e;
    // A FramingError carries the whole frames that preceded the bad header in the same push.
    const before = (e as { frames?: readonly Uint8Array[] }).frames ?? [];
    for (const fr of before) frames.push(toHex(fr));
    return { frames, error: e.code };
  }
}

// ------------------------------------------------------------ targets

export const targets = {
  "decode-strict": {
    name: "decode-strict",
    arbitrary: (fcApi) => mutatedMessages(fcApi, SEEDS),
    run: (i) => onlyOfpErrors(() => decodeMessage(i.bytes, { strict: true })),
    ...bytesInput,
  } satisfies FuzzTarget<MutatedInput>,

  "decode-loose": {
    name: "decode-loose",
    arbitrary: (fcApi) => mutatedMessages(fcApi, SEEDS),
    run: (i) => onlyOfpErrors(() => decodeMessage(i.bytes, { strict: false })),
    ...bytesInput,
  } satisfies FuzzTarget<MutatedInput>,

  roundtrip: {
    name: "roundtrip",
    arbitrary: (fcApi) =>
      fcApi.oneof(
        fcApi.nat({ max: VALID_SEEDS.length - 1 }).map((i) => ({ bytes: VALID_SEEDS[i]! })),
        mutatedMessages(fcApi, VALID_SEEDS),
      ),
    run: (i) => roundTrip(i.bytes),
    ...bytesInput,
  } satisfies FuzzTarget<MutatedInput>,

  "tlv-tree": {
    name: "tlv-tree",
    arbitrary: (fcApi) => tlvTree(fcApi).map((t) => ({ bytes: tlvTreeMessage(t) })),
    run: (i) => {
      onlyOfpErrors(() => decodeMessage(i.bytes, { strict: true }));
      onlyOfpErrors(() => roundTrip(i.bytes));
    },
    ...bytesInput,
  } satisfies FuzzTarget<MutatedInput>,

  framer: {
    name: "framer",
    arbitrary: (fcApi) =>
      fcApi
        .tuple(
          fcApi.array(fcApi.nat({ max: VALID_SEEDS.length - 1 }), { minLength: 1, maxLength: 8 }),
          fcApi.option(fcApi.uint8Array({ minLength: 1, maxLength: 24 }), {
            nil: undefined,
            freq: 4,
          }),
          fcApi.array(fcApi.nat({ max: 8192 }), { maxLength: 12 }),
        )
        .map(([picks, garbage, cuts]) => ({
          stream: concat(...picks.map((p) => VALID_SEEDS[p]!), garbage ?? new Uint8Array(0)),
          cuts,
        })),
    run: (i) => {
      const whole = framesOf(i.stream, []);
      const split = framesOf(i.stream, i.cuts);
      if (!isDeepStrictEqual(whole, split)) {
        throw new Error(
          `split stream framed differently: ${JSON.stringify(whole).slice(0, 200)} vs ${JSON.stringify(split).slice(0, 200)}`,
        );
      }
      // Every frame is one whole message whose length field matches.
      for (const fr of whole.frames) {
        const b = hex(fr);
        if (((b[2]! << 8) | b[3]!) !== b.length)
          throw new Error(`frame length mismatch ${fr.slice(0, 16)}`);
      }
    },
    serialize: (i) => `${toHex(i.stream)}\n${i.cuts.join(",")}`,
    deserialize: (t) => {
      const [stream = "", cuts = ""] = t.split("\n");
      return { stream: hex(stream), cuts: cuts === "" ? [] : cuts.split(",").map(Number) };
    },
  } satisfies FuzzTarget<FramerInput>,

  "packet-parse": {
    name: "packet-parse",
    arbitrary: (fcApi) =>
      fcApi.oneof(
        mutatedMessages(fcApi, FRAME_SEEDS),
        fcApi.uint8Array({ maxLength: 128 }).map((bytes) => ({ bytes })),
      ),
    run: (i) => {
      const key = new FlowKey();
      for (const vlanLimit of [1, 2]) {
        const status = parseFrame(i.bytes, key, { vlanLimit });
        if (typeof status !== "number") throw new Error(`parseFrame returned ${String(status)}`);
      }
    },
    ...bytesInput,
  } satisfies FuzzTarget<MutatedInput>,
};

/** Guards against an empty seed pool (a silently vacuous campaign). */
export const SEED_COUNTS = {
  all: SEEDS.length,
  valid: VALID_SEEDS.length,
  frames: FRAME_SEEDS.length,
};
