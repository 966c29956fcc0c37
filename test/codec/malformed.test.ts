/**
 * The malformed-input catalogue (malformed-cases.ts) against our decoder and
 * against Open vSwitch.
 *
 * For every case: `decodeMessage(bytes, { strict: true })` must throw an
 * OfpError whose `code` is exactly the expected OVS error name, and nothing
 * else may escape. When `ovs-ofctl` is installed, the cases marked `ovs: true`
 * are re-checked against OVS 3.1 (`ofp-print` prints `***decode error: NAME***`)
 * in one batch, so the catalogue's verdicts stay those of the oracle.
 */
import { describe, expect, test } from "vitest";
import { ERROR_NAMES, isOfpError } from "../../codec/errors.js";
import { decodeMessage } from "../../codec/message.js";
import { toHex } from "../helpers/hex.js";
import { hasTool, ovsOfpPrint } from "../helpers/tools.js";
import { MALFORMED_CASES, type MalformedCase } from "./malformed-cases.js";

/** Runs the strict decoder; returns the error code, "accepted", or a description of a foreign throw. */
function verdict(c: MalformedCase): string {
  try {
    decodeMessage(c.bytes, { strict: true });
    return "accepted";
  } catch (e) {
    if (isOfpError(e)) return e.code;
    return `non-OfpError escaped: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  }
}

describe("malformed catalogue", () => {
  test("holds at least 250 distinct cases (names and bytes unique)", () => {
    const names = new Set(MALFORMED_CASES.map((c) => c.name));
    const bytes = new Set(MALFORMED_CASES.map((c) => toHex(c.bytes)));
    expect(names.size).toBe(MALFORMED_CASES.length);
    expect(bytes.size).toBe(MALFORMED_CASES.length);
    expect(MALFORMED_CASES.length).toBeGreaterThanOrEqual(250);
  });

  test("most verdicts are verified against OVS (at least 80%)", () => {
    const verified = MALFORMED_CASES.filter((c) => c.ovs === true).length;
    expect(verified / MALFORMED_CASES.length).toBeGreaterThanOrEqual(0.8);
  });

  test("every expected code is a name the codec's error catalogue can raise", () => {
    const known = new Set(ERROR_NAMES);
    const missing = [...new Set(MALFORMED_CASES.map((c) => c.code))].filter(
      (code) => !known.has(code),
    );
    expect(missing).toEqual([]);
  });
});

describe("decodeMessage(strict) rejects each malformed case with OVS's error", () => {
  test.each(MALFORMED_CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expect(verdict(c), `bytes ${toHex(c.bytes)}`).toBe(c.code);
  });
});

describe.skipIf(!hasTool("ovs-ofctl"))("OVS 3.1 agrees with the catalogue", () => {
  test("ovs-ofctl ofp-print names the same error for every case marked ovs: true", () => {
    const checked = MALFORMED_CASES.filter((c) => c.ovs === true);
    const answers = ovsOfpPrint(checked.map((c) => c.bytes));
    const disagreements = checked.flatMap((c, i) => {
      const ovs = answers[i]!.error;
      return ovs === c.code
        ? []
        : [`${c.name}: catalogue ${c.code}, OVS ${ovs ?? "accepted"} (${toHex(c.bytes)})`];
    });
    expect(disagreements).toEqual([]);
  });
});
