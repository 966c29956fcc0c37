/**
 * The shape of one fuzz target, shared by the watchdog (main thread), the
 * worker that runs it, and the regression replay.
 *
 * A target is a fast-check arbitrary plus a `run` that throws when the property
 * fails (a non-OfpError escaped, a round trip differed, ...). Inputs must be
 * serializable to text: that text is what the watchdog records before each run
 * (so a hang can be reported with its exact input) and what a regression file
 * under test/regressions/ holds.
 */
import type fc from "fast-check";

export interface FuzzTarget<T> {
  readonly name: string;
  arbitrary(fcApi: typeof fc): fc.Arbitrary<T>;
  /** Runs one input; throws on a property violation. Must be synchronous. */
  run(input: T): void;
  /** Text form of an input (regression file body). */
  serialize(input: T): string;
  /** Inverse of serialize. */
  deserialize(text: string): T;
}

/** Any target (inputs are opaque to the harness). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFuzzTarget = FuzzTarget<any>;

/** A module exporting targets by name (loaded by the worker). */
export interface FuzzTargetModule {
  readonly targets: Readonly<Record<string, AnyFuzzTarget>>;
}

export type FuzzJob =
  | {
      readonly mode: "fuzz";
      readonly target: string;
      readonly seed: number;
      readonly numRuns: number;
      readonly slowMs: number;
    }
  | {
      readonly mode: "replay";
      readonly target: string;
      readonly inputs: readonly string[];
      readonly slowMs: number;
    };

export interface FuzzFailure {
  /** "property": run() threw; "slow": one input took longer than slowMs; "hang"/"oom"/"crash": the worker died. */
  readonly kind: "property" | "slow" | "hang" | "oom" | "crash";
  /** Serialized (minimized, for "property"/"slow") failing input. */
  readonly input: string;
  readonly error: string;
}

export interface FuzzOutcome {
  readonly target: string;
  readonly runs: number;
  readonly slowestMs: number;
  readonly failure: FuzzFailure | undefined;
}

/** Worker → main messages. */
export type WorkerReport =
  | {
      readonly kind: "done";
      readonly runs: number;
      readonly slowestMs: number;
      readonly failure: FuzzFailure | undefined;
    }
  | { readonly kind: "fatal"; readonly error: string };

/** Byte layout of the heartbeat SharedArrayBuffer. */
export const HEARTBEAT = {
  /** Int32 slot: incremented before each input. */
  counter: 0,
  /** Int32 slot: byte length of the current input's text in the data area. */
  length: 1,
  /** Bytes reserved for the header (two Int32 slots, 8-aligned). */
  headerBytes: 8,
  /** Input text longer than this is cut in hang reports (the run itself is unaffected). */
  dataBytes: 1 << 20,
} as const;
