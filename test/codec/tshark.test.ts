/**
 * Wireshark's `openflow_v4` dissector as an independent decoder of what our
 * encoder writes (codec.md §7). Every Ryu vector is decoded and re-encoded by
 * our codec; the encoder's output goes into ONE pcap (one TCP segment per
 * message, so frame N+1 is message N) and tshark reads it once.
 *
 * Oracle: tshark sees every frame as OpenFlow 1.3 of the right type and marks
 * no frame malformed in `openflow_v4`, except the dissector's known false
 * alarms below (each with its reason; README of the vectors and codec.md §7).
 * tshark cannot check Nicira/NXM content (it shows it as opaque), so this is a
 * necessary check for standard content, not an oracle for extensions.
 *
 * A second capture packs several whole messages into each TCP segment (seeded
 * group sizes): tshark must dissect all of them, in order. Cuts inside a
 * message are not checked here: tshark 4.0.17 lost the rest of the stream
 * after some mid-message cuts of these very bytes (e.g. one cut 24 bytes into
 * an 88-byte FLOW_MOD), so that property is left to the framer fuzz target.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { decodeMessage, encodeMessage } from "../../codec/message.js";
import { concat } from "../helpers/hex.js";
import { pcapOfMessages, writePcap } from "../helpers/pcap.js";
import { hasTool, tsharkFrames } from "../helpers/tools.js";
import { SHARED } from "../shared-path.js";

const VECTORS = process.env.DVRFLOW_RYU_VECTORS ?? `${SHARED}/openflow-vectors/ryu-of13`;

/** Vectors whose re-encoding tshark flags although the bytes are valid OF1.3. */
const KNOWN_FALSE_ALARMS: Readonly<Record<string, string>> = {
  "4-15-ofp_error_msg":
    "tshark dissects ERROR data as an embedded OpenFlow message; here it is the text 'fugafuga'",
  "libofproto-OFP13-error_msg":
    "tshark dissects ERROR data as an embedded message; here it is a bare 8-byte FLOW_MOD header",
  "4-45-ofp_meter_mod": "dissector quirk: an experimenter meter band with an empty body",
  "4-62-ofp_experimenter_reply": "dissector quirk in the experimenter multipart reply",
};

interface Encoded {
  readonly name: string;
  readonly bytes: Uint8Array;
}

function encodedVectors(): Encoded[] {
  const index = JSON.parse(readFileSync(join(VECTORS, "index.json"), "utf8")) as {
    packet: string | null;
  }[];
  return index
    .filter((row): row is { packet: string } => row.packet?.endsWith(".packet") === true)
    .flatMap((row) => {
      const name = row.packet.replace(/^packet\//, "").replace(/\.packet$/, "");
      const wire = new Uint8Array(readFileSync(join(VECTORS, row.packet)));
      try {
        return [{ name, bytes: encodeMessage(decodeMessage(wire, { strict: false })) }];
      } catch {
        return []; // decode failures are ryu-vectors.test.ts's business; here we test what the encoder writes
      }
    });
}

/** A deterministic PRNG (mulberry32) for the cut points. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const ready = hasTool("tshark") && existsSync(join(VECTORS, "index.json"));

describe.skipIf(!ready)("tshark decodes what our encoder writes", () => {
  const encoded = ready ? encodedVectors() : [];

  test("the batch holds (almost) every vector", () => {
    expect(encoded.length).toBeGreaterThanOrEqual(95);
  });

  test("one pcap, one message per frame: right type, no openflow_v4 malformation beyond the known false alarms", () => {
    const frames = tsharkFrames(pcapOfMessages(encoded.map((e) => e.bytes)));
    expect(frames).toHaveLength(encoded.length);
    const problems: string[] = [];
    const alarmsSeen = new Set<string>();
    encoded.forEach((e, i) => {
      const f = frames[i]!;
      if (f.types[0] !== e.bytes[1])
        problems.push(`${e.name}: tshark type ${String(f.types[0])}, ours ${e.bytes[1]}`);
      if (!f.malformed.includes("openflow_v4")) return;
      if (KNOWN_FALSE_ALARMS[e.name] !== undefined) alarmsSeen.add(e.name);
      else problems.push(`${e.name}: malformed in openflow_v4 (${f.expert})`);
    });
    expect(problems).toEqual([]);
    // The allowlist must not rot: every listed alarm still happens (or its vector is absent).
    const listedPresent = Object.keys(KNOWN_FALSE_ALARMS).filter((n) =>
      encoded.some((e) => e.name === n),
    );
    expect([...alarmsSeen].sort()).toEqual(listedPresent.sort());
  });

  test("several messages per TCP segment are all dissected, in order", () => {
    // The false-alarm messages are left out: after one, tshark's reassembly loses the stream.
    const clean = encoded.filter((e) => KNOWN_FALSE_ALARMS[e.name] === undefined);
    const next = rng(0x6653);
    const segments: Uint8Array[] = [];
    for (let i = 0; i < clean.length;) {
      const n = 1 + Math.floor(next() * 6);
      segments.push(concat(...clean.slice(i, i + n).map((e) => e.bytes)));
      i += n;
    }
    const frames = tsharkFrames(writePcap(segments));
    expect(frames).toHaveLength(segments.length);
    expect(frames.flatMap((f) => f.types)).toEqual(clean.map((e) => e.bytes[1]));
  });
});
