/**
 * Property and fuzz tests for the codec (reliability.md §2.4 and R2), each run
 * in a worker_thread under a watchdog (test/helpers/fuzz-watchdog.ts): a hang
 * (no heartbeat for 2 s), running out of a 256 MB heap, a slow input
 * (> 500 ms) or a non-OfpError escape fails the test and names the input.
 *
 * Seeds are fixed, so runs are deterministic; set DVRFLOW_FUZZ_RUNS to run a
 * longer campaign (e.g. before a release) and DVRFLOW_FUZZ_SEED to vary it.
 * Every failing input is written to test/regressions/ and replayed below from
 * then on.
 */
import { describe, expect, test } from "vitest";
import type { FuzzOutcome } from "../helpers/fuzz-target.js";
import { loadRegressions, runUnderWatchdog } from "../helpers/fuzz-watchdog.js";

const TARGETS_URL = new URL("../helpers/fuzz-targets.ts", import.meta.url).href;
const PLANTED_URL = new URL("../helpers/planted-targets.ts", import.meta.url).href;
const SEED = Number(process.env.DVRFLOW_FUZZ_SEED ?? 0x0f13);
const RUNS = Number(process.env.DVRFLOW_FUZZ_RUNS ?? 8000);
const SLOW_MS = 500;

/** Targets and their share of the run budget (the structured ones are costlier per input). */
const CAMPAIGN: ReadonlyArray<readonly [string, number]> = [
  ["decode-strict", 1],
  ["decode-loose", 1],
  ["roundtrip", 1],
  ["tlv-tree", 1],
  ["framer", 0.5],
  ["packet-parse", 1],
];

function explain(o: FuzzOutcome): string {
  return o.failure === undefined
    ? ""
    : `${o.failure.kind} on input ${o.failure.input}\n${o.failure.error}`;
}

describe("the watchdog itself catches what an in-process test cannot", () => {
  const options = { targetsUrl: PLANTED_URL, saveRegressions: false } as const;

  test("a planted zero-length-TLV infinite loop is reported as a hang with its input", async () => {
    const o = await runUnderWatchdog(
      { mode: "fuzz", target: "planted-hang", seed: 1, numRuns: 1000, slowMs: 10_000 },
      { ...options, hangMs: 500 },
    );
    expect(o.failure?.kind).toBe("hang");
    // The reported input really has a zero length byte at a TLV boundary.
    expect(o.failure?.input).toMatch(/^([0-9a-f]{2})*$/);
  });

  test("a planted RangeError escape is reported as a property failure, shrunk", async () => {
    const o = await runUnderWatchdog(
      { mode: "fuzz", target: "planted-escape", seed: 1, numRuns: 1000, slowMs: 10_000 },
      options,
    );
    expect(o.failure?.kind).toBe("property");
    expect(o.failure?.error).toContain("RangeError");
    expect(o.failure!.input.length).toBeLessThanOrEqual(8);
  });

  test("a planted allocation blow-up is reported as out-of-memory", async () => {
    const o = await runUnderWatchdog(
      { mode: "fuzz", target: "planted-oom", seed: 1, numRuns: 5, slowMs: 60_000 },
      { ...options, maxOldGenerationSizeMb: 32, hangMs: 30_000 },
    );
    expect(o.failure?.kind).toBe("oom");
  });
});

describe("fuzz targets (seeded, under the watchdog)", () => {
  test.each(CAMPAIGN.map(([t, share]) => [t, Math.max(100, Math.round(RUNS * share))] as const))(
    "%s: %i inputs, only OfpError escapes and the oracle holds",
    async (target, numRuns) => {
      const o = await runUnderWatchdog(
        { mode: "fuzz", target, seed: SEED, numRuns, slowMs: SLOW_MS },
        { targetsUrl: TARGETS_URL },
      );
      expect(explain(o)).toBe("");
      expect(o.runs).toBeGreaterThanOrEqual(numRuns);
    },
  );
});

describe("regressions (test/regressions/*.txt, replayed under the watchdog)", () => {
  test("every kept failing input now passes its target", async () => {
    const regressions = loadRegressions(CAMPAIGN.map(([t]) => t));
    const failures: string[] = [];
    for (const r of regressions) {
      const o = await runUnderWatchdog(
        { mode: "replay", target: r.target, inputs: [r.input], slowMs: SLOW_MS },
        { targetsUrl: TARGETS_URL, saveRegressions: false },
      );
      if (o.failure !== undefined) failures.push(`${r.file}: ${explain(o)}`);
    }
    expect(failures).toEqual([]);
  });
});
