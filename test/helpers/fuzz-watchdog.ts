/**
 * Main-thread side of the fuzz harness: runs a target in a worker_thread and
 * fails on a hang, an out-of-memory, or a crash, not only on a thrown error.
 *
 * - Hang: the worker bumps a shared counter before each input. If the counter
 *   has not moved for `hangMs`, the worker is terminated and the input it was
 *   on (read back from the shared buffer) is reported.
 * - Memory: the worker runs with `resourceLimits.maxOldGenerationSizeMb`
 *   (reliability.md R2: heap ≤ 256 MB); running out ends it with
 *   ERR_WORKER_OUT_OF_MEMORY, reported with the last input.
 * - Every failing input is written to test/regressions/ (OVS's fuzz-regression
 *   pattern), where test/codec/fuzz.test.ts replays it from then on.
 *
 * The worker loads TypeScript through tsx's ESM API, because a worker does not
 * inherit vitest's transform pipeline.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { FuzzFailure, FuzzJob, FuzzOutcome, WorkerReport } from "./fuzz-target.js";
import { HEARTBEAT } from "./fuzz-target.js";

export const REGRESSIONS_DIR = fileURLToPath(new URL("../regressions/", import.meta.url));
const WORKER_URL = new URL("./fuzz-worker.ts", import.meta.url).href;
const TSX_API_URL = tsxEsmApiUrl();

/** The ESM build of tsx's API, found through the package's own `exports` map. */
function tsxEsmApiUrl(): string {
  const pkgJson = createRequire(import.meta.url).resolve("tsx/package.json");
  const pkg = JSON.parse(readFileSync(pkgJson, "utf8")) as {
    exports: Record<string, { import: { default: string } }>;
  };
  const entry = pkg.exports["./esm/api"]?.import.default;
  if (entry === undefined) throw new Error("tsx has no ./esm/api export");
  return pathToFileURL(join(dirname(pkgJson), entry)).href;
}

/** Bootstrap evaluated in the worker: install tsx's loader, then start the TS worker. */
const BOOT = `(async () => {
  const { register } = await import(${JSON.stringify(TSX_API_URL)});
  register();
  await import(${JSON.stringify(WORKER_URL)});
})().catch((e) => { require("node:worker_threads").parentPort.postMessage({ kind: "fatal", error: String(e && e.stack || e) }); });`;

export interface WatchdogOptions {
  /** URL of a module exporting `targets` (see fuzz-target.ts). */
  readonly targetsUrl: string;
  /** No heartbeat for this long = hang. */
  readonly hangMs?: number;
  readonly maxOldGenerationSizeMb?: number;
  /** Write failing inputs to test/regressions/ (default true). */
  readonly saveRegressions?: boolean;
}

/** Runs one job under the watchdog. Resolves (never rejects) with the outcome. */
export function runUnderWatchdog(job: FuzzJob, options: WatchdogOptions): Promise<FuzzOutcome> {
  const hangMs = options.hangMs ?? 2000;
  const heartbeat = new SharedArrayBuffer(HEARTBEAT.headerBytes + HEARTBEAT.dataBytes);
  const slots = new Int32Array(heartbeat, 0, 2);
  const data = new Uint8Array(heartbeat, HEARTBEAT.headerBytes);
  const lastInput = (): string =>
    new TextDecoder().decode(data.slice(0, Atomics.load(slots, HEARTBEAT.length)));

  return new Promise<FuzzOutcome>((resolve) => {
    const worker = new Worker(BOOT, {
      eval: true,
      workerData: { targetsUrl: options.targetsUrl, job, heartbeat },
      resourceLimits: { maxOldGenerationSizeMb: options.maxOldGenerationSizeMb ?? 256 },
      stdout: false,
      stderr: false,
    });
    let settled = false;
    let lastCount = -1;
    let lastMove = Date.now();
    const finish = (outcome: FuzzOutcome): void => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      void worker.terminate();
      if (outcome.failure !== undefined && options.saveRegressions !== false) {
        saveRegression(job.target, outcome.failure);
      }
      resolve(outcome);
    };
    const fail = (failure: FuzzFailure): void =>
      finish({
        target: job.target,
        runs: Atomics.load(slots, HEARTBEAT.counter),
        slowestMs: NaN,
        failure,
      });

    const timer = setInterval(() => {
      const count = Atomics.load(slots, HEARTBEAT.counter);
      const now = Date.now();
      if (count !== lastCount) {
        lastCount = count;
        lastMove = now;
      } else if (count > 0 && now - lastMove > hangMs) {
        fail({
          kind: "hang",
          input: lastInput(),
          error: `no progress for ${now - lastMove} ms on this input`,
        });
      } else if (count === 0 && now - lastMove > hangMs + 30_000) {
        // Worker never started its first input (module load takes a few seconds at most).
        fail({ kind: "crash", input: "", error: "worker did not start" });
      }
    }, 50);

    worker.on("message", (report: WorkerReport) => {
      if (report.kind === "fatal") fail({ kind: "crash", input: lastInput(), error: report.error });
      else
        finish({
          target: job.target,
          runs: report.runs,
          slowestMs: report.slowestMs,
          failure: report.failure,
        });
    });
    worker.on("error", (e: Error & { code?: string }) => {
      const kind = e.code === "ERR_WORKER_OUT_OF_MEMORY" ? "oom" : "crash";
      fail({ kind, input: lastInput(), error: `${e.name}: ${e.message}` });
    });
    worker.on("exit", (code) => {
      if (!settled)
        fail({ kind: "crash", input: lastInput(), error: `worker exited with code ${code}` });
    });
  });
}

/** Where a failing input is kept: `<target>-<sha256 prefix>.txt`. */
export function regressionFileName(target: string, input: string): string {
  const digest = createHash("sha256").update(input).digest("hex").slice(0, 12);
  return `${target}-${digest}.txt`;
}

function saveRegression(target: string, failure: FuzzFailure): void {
  if (failure.input === "") return;
  const file = join(REGRESSIONS_DIR, regressionFileName(target, failure.input));
  if (existsSync(file)) return;
  // First line: a comment with the failure kind and first line of the error (ignored on replay).
  const note = `# ${failure.kind}: ${failure.error.split("\n")[0] ?? ""}\n`;
  writeFileSync(file, note + failure.input + "\n");
}

export interface Regression {
  readonly file: string;
  readonly target: string;
  /** The serialized input, comment lines removed. */
  readonly input: string;
}

/** Every regression file, with the target named by its file name prefix. */
export function loadRegressions(knownTargets: readonly string[]): Regression[] {
  if (!existsSync(REGRESSIONS_DIR)) return [];
  const out: Regression[] = [];
  for (const file of readdirSync(REGRESSIONS_DIR).sort()) {
    if (!file.endsWith(".txt")) continue;
    // Longest matching name wins, so "decode-message-loose-…" is not read as "decode-message".
    const target = knownTargets
      .filter((t) => file.startsWith(`${t}-`))
      .sort((a, b) => b.length - a.length)[0];
    if (target === undefined) throw new Error(`regression ${file} names no known fuzz target`);
    const input = readFileSync(join(REGRESSIONS_DIR, file), "utf8")
      .split("\n")
      .filter((line) => !line.startsWith("#"))
      .join("\n")
      .trim();
    out.push({ file, target, input });
  }
  return out;
}
