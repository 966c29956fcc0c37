/**
 * tshark's `openflow_v4` dissector on what encode-flow produces: the 112
 * flows of shared/dvr-bench and 2,000 seeded random flows from the generator
 * the OVS differential test uses (test/ovs/flow-arbitrary.ts), all in ONE
 * pcap. Every FLOW_MOD must be seen as a FLOW_MOD and none marked malformed
 * in `openflow_v4`. tshark shows Nicira actions and NXM-class OXMs as opaque
 * bodies, so for those this checks the framing (lengths, padding) only; their
 * content is checked against ovs-ofctl in test/ovs/.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { encodeMessage } from "../../codec/message.js";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import { flowArb } from "../ovs/flow-arbitrary.js";
import { pcapOfMessages } from "../helpers/pcap.js";
import { hasTool, tsharkFrames } from "../helpers/tools.js";
import { SHARED } from "../shared-path.js";

const SEED = 20261201;
const RANDOM_FLOWS = 2000;
const OFPT_FLOW_MOD = 14;

function encodeAll(texts: readonly string[]): { text: string; bytes: Uint8Array }[] {
  const out: { text: string; bytes: Uint8Array }[] = [];
  texts.forEach((text, i) => {
    // A flow the text layer refuses (as OVS would) has no bytes to check.
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(flowModMessage(parseFlow(text), i + 1)).slice();
    } catch {
      return;
    }
    out.push({ text, bytes });
  });
  return out;
}

const ready = hasTool("tshark");

describe.skipIf(!ready)("tshark decodes encode-flow output", () => {
  test("DVR bench flows and seeded random flows: all FLOW_MODs, none malformed", () => {
    const dvr = readFileSync(`${SHARED}/dvr-bench/flows.txt`, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("#"));
    const random = fc.sample(flowArb(), { seed: SEED, numRuns: RANDOM_FLOWS }).map((g) => g.text);
    const encoded = encodeAll([...dvr, ...random]);
    expect(encoded.length).toBeGreaterThan(dvr.length + RANDOM_FLOWS * 0.9);

    const frames = tsharkFrames(pcapOfMessages(encoded.map((e) => e.bytes)));
    expect(frames).toHaveLength(encoded.length);
    const problems: string[] = [];
    encoded.forEach((e, i) => {
      const f = frames[i]!;
      if (f.types.length !== 1 || f.types[0] !== OFPT_FLOW_MOD)
        problems.push(`${e.text}: tshark saw types ${JSON.stringify(f.types)}`);
      if (f.malformed.includes("openflow_v4"))
        problems.push(`${e.text}: malformed in openflow_v4 (${f.expert})`);
    });
    expect(problems.slice(0, 10)).toEqual([]);
  });
});
