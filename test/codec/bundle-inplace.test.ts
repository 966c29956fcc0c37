/**
 * BUNDLE_ADD encodes its bundled message in place (straight into the outer
 * writer, codec/messages/bundle.ts) instead of encoding it apart and copying
 * it in. The bytes must be exactly what the two-step encoding gave: this
 * builds that reference here, independently (the inner message encoded on
 * its own, then the EXT-230 framing around it, byte by byte), and compares
 * on seeded random flows (test/ovs/flow-arbitrary.ts), with and without
 * properties, and on inner messages of odd lengths, where the pad before the
 * properties matters.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ONF_VENDOR_ID } from "../../codec/errors.js";
import { OFPT, OFP13_VERSION } from "../../codec/header.js";
import {
  decodeMessage,
  encodeMessage,
  encodeMessageTo,
  type OfMessage,
} from "../../codec/message.js";
import { BUNDLE_ADD_MESSAGE_OFFSET, ONFT } from "../../codec/messages/bundle.js";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import { Writer } from "../../codec/writer.js";
import { flowArb } from "../ovs/flow-arbitrary.js";

const SEED = 20261201;
const FLOWS = 400;

type BundleAdd = Extract<OfMessage, { type: "bundle_add" }>;

/** The former encoding: the inner message as its own buffer, then copied after the framing. */
function twoStep(m: BundleAdd): Uint8Array {
  const inner = encodeMessage(m.message).slice();
  const pad = m.properties.byteLength > 0 ? (8 - (inner.byteLength % 8)) % 8 : 0;
  const length = BUNDLE_ADD_MESSAGE_OFFSET + inner.byteLength + pad + m.properties.byteLength;
  const out = new Uint8Array(length);
  const v = new DataView(out.buffer);
  v.setUint8(0, OFP13_VERSION);
  v.setUint8(1, OFPT.EXPERIMENTER);
  v.setUint16(2, length);
  v.setUint32(4, m.xid);
  v.setUint32(8, ONF_VENDOR_ID);
  v.setUint32(12, ONFT.BUNDLE_ADD_MESSAGE);
  v.setUint32(16, m.bundleId);
  v.setUint16(20, 0);
  v.setUint16(22, m.flags);
  out.set(inner, BUNDLE_ADD_MESSAGE_OFFSET);
  out.set(m.properties, BUNDLE_ADD_MESSAGE_OFFSET + inner.byteLength + pad);
  return out;
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Random flows the text layer accepts (it refuses a few forms, as OVS does). */
function seededFlowMods(): OfMessage[] {
  const out: OfMessage[] = [];
  for (const g of fc.sample(flowArb(), { seed: SEED, numRuns: FLOWS })) {
    try {
      out.push(flowModMessage(parseFlow(g.text), 0));
    } catch {
      continue;
    }
  }
  return out;
}

const wrapper = fc.record({
  xid: fc.integer({ min: 0, max: 0xffff_ffff }),
  bundleId: fc.integer({ min: 0, max: 0xffff_ffff }),
  flags: fc.integer({ min: 0, max: 3 }),
  properties: fc.oneof(
    fc.constant(new Uint8Array(0)),
    fc.uint8Array({ minLength: 1, maxLength: 24 }),
  ),
});

describe("BUNDLE_ADD encoded in place", () => {
  const flowMods = seededFlowMods();
  const wrappers = fc.sample(wrapper, { seed: SEED + 1, numRuns: flowMods.length });

  it("has enough seeded flows to mean something", () => {
    expect(flowMods.length).toBeGreaterThan(FLOWS * 0.9);
  });

  it("equals the two-step encoding on seeded random FLOW_MODs, and decodes back", () => {
    let withProperties = 0;
    flowMods.forEach((fm, i) => {
      const m: BundleAdd = { type: "bundle_add", message: fm, ...wrappers[i]! };
      if (m.properties.byteLength > 0) withProperties++;
      const bytes = encodeMessage(m);
      expect(hexOf(bytes)).toBe(hexOf(twoStep(m)));
      const back = decodeMessage(bytes) as BundleAdd;
      expect(back.message).toEqual(decodeMessage(encodeMessage(fm)));
      expect(back.properties).toEqual(m.properties);
    });
    expect(withProperties).toBeGreaterThan(flowMods.length / 4);
  });

  it("pads an inner message of odd length before the properties, as before", () => {
    const inners: OfMessage[] = [
      { type: "echo_request", xid: 3, data: new Uint8Array([1, 2, 3]) },
      {
        type: "packet_out",
        xid: 4,
        bufferId: 0xffff_ffff,
        inPort: 1,
        actions: [],
        data: new Uint8Array(61).fill(0xab),
      },
      { type: "barrier_request", xid: 5 },
    ];
    for (const message of inners) {
      for (const properties of [new Uint8Array(0), new Uint8Array([9, 8, 7, 6, 5])]) {
        const m: BundleAdd = {
          type: "bundle_add",
          xid: 77,
          bundleId: 1,
          flags: 3,
          message,
          properties,
        };
        const bytes = encodeMessage(m);
        expect(hexOf(bytes)).toBe(hexOf(twoStep(m)));
        const back = decodeMessage(bytes) as BundleAdd;
        expect(back.message).toEqual(decodeMessage(encodeMessage(message)));
        expect(back.properties).toEqual(properties);
      }
    }
  });

  it("is the same bytes when encoded after other messages in one batch writer", () => {
    // The controller packs many BUNDLE_ADDs into one writer: the inner
    // message's length and pad are relative to its own start, not the batch's.
    const w = new Writer(64);
    const expected: string[] = [];
    flowMods.slice(0, 50).forEach((fm, i) => {
      const m: BundleAdd = { type: "bundle_add", message: fm, ...wrappers[i]! };
      encodeMessageTo(w, m);
      expected.push(hexOf(twoStep(m)));
      // An odd-length message between them puts the next one at an odd offset.
      const echo: OfMessage = { type: "echo_request", xid: i, data: new Uint8Array(i % 7) };
      encodeMessageTo(w, echo);
      expected.push(hexOf(encodeMessage(echo)));
    });
    expect(hexOf(w.finish())).toBe(expected.join(""));
  });
});
