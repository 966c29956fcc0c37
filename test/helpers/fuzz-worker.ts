/**
 * Worker side of the fuzz watchdog. Runs one job (a fast-check campaign or a
 * regression replay) over one target and reports the outcome.
 *
 * Before every input it publishes a heartbeat: the input's serialized text into
 * the shared buffer, then an atomic increment of the counter. A synchronous
 * infinite loop in the decoder stops the counter; the main thread notices and
 * terminates this worker, reading the offending input back from the buffer
 * (reliability.md §2.4: a hang cannot be caught in-process).
 */
import fc from "fast-check";
import { parentPort, workerData } from "node:worker_threads";
import { performance } from "node:perf_hooks";
import type {
  AnyFuzzTarget,
  FuzzFailure,
  FuzzJob,
  FuzzTargetModule,
  WorkerReport,
} from "./fuzz-target.js";
import { HEARTBEAT } from "./fuzz-target.js";

interface WorkerInput {
  readonly targetsUrl: string;
  readonly job: FuzzJob;
  readonly heartbeat: SharedArrayBuffer;
}

const { targetsUrl, job, heartbeat } = workerData as WorkerInput;
const slots = new Int32Array(heartbeat, 0, 2);
const data = new Uint8Array(heartbeat, HEARTBEAT.headerBytes);
const encoder = new TextEncoder();

function beat(text: string): void {
  const { written } = encoder.encodeInto(text, data);
  Atomics.store(slots, HEARTBEAT.length, written);
  Atomics.add(slots, HEARTBEAT.counter, 1);
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  return String(e);
}

class SlowInput extends Error {
  override readonly name = "SlowInput";
}

function post(report: WorkerReport): void {
  parentPort!.postMessage(report);
}

async function main(): Promise<void> {
  const mod = (await import(targetsUrl)) as FuzzTargetModule;
  const target: AnyFuzzTarget | undefined = mod.targets[job.target];
  if (target === undefined) throw new Error(`no fuzz target ${job.target}`);
  let runs = 0;
  let slowestMs = 0;

  const runOne = (input: unknown): void => {
    beat(target.serialize(input));
    runs++;
    const t0 = performance.now();
    target.run(input);
    const ms = performance.now() - t0;
    if (ms > slowestMs) slowestMs = ms;
    if (ms > job.slowMs)
      throw new SlowInput(`one input took ${ms.toFixed(1)} ms (limit ${job.slowMs} ms)`);
  };

  let failure: FuzzFailure | undefined;
  if (job.mode === "replay") {
    for (const text of job.inputs) {
      try {
        runOne(target.deserialize(text));
      } catch (e) {
        failure = {
          kind: e instanceof SlowInput ? "slow" : "property",
          input: text,
          error: describe(e),
        };
        break;
      }
    }
  } else {
    const details = fc.check(
      fc.property(target.arbitrary(fc), (input) => {
        runOne(input);
      }),
      { seed: job.seed, numRuns: job.numRuns },
    );
    if (details.failed && details.counterexample !== null) {
      const err = details.errorInstance;
      failure = {
        kind: err instanceof SlowInput ? "slow" : "property",
        input: target.serialize(details.counterexample[0]),
        error: `${describe(err)}\n(seed ${job.seed}, path ${details.counterexamplePath ?? "?"})`,
      };
    } else if (details.failed) {
      failure = { kind: "property", input: "", error: describe(details.errorInstance) };
    }
  }
  post({ kind: "done", runs, slowestMs, failure });
}

main().catch((e: unknown) => post({ kind: "fatal", error: describe(e) }));
