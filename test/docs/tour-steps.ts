/**
 * The runnable steps of docs/tour.md, and a runner that executes them the way
 * the tour's "Trying it on one machine" setup says a reader should: each step
 * on the host it names, through the shell function `on` that the setup
 * defines (network namespace + that host's private Open vSwitch directory).
 *
 * A step is a ```sh block preceded by an annotation (an HTML comment, which
 * Markdown renders as nothing):
 *
 *     <!-- tour-step: on=HOST [id=NAME] [background] [retry=SECONDS] [skip] -->
 *
 * - `on=machine`: the machine itself (the one-machine setup's own blocks);
 *   any other HOST (controller, compute-1, vm-a1, …): `on HOST bash -e -c BLOCK`.
 * - `background`: a server; started, left running, stopped at the end.
 * - `retry=S`: something that becomes true after a moment (switches
 *   connecting): rerun until it exits 0, for up to S seconds.
 * - `id=NAME`: the test checks this step's output (and that it exists).
 * - `skip`: not run (installing dvrflow, benchmarks); may still carry an id.
 *
 * Every ```sh block of the tour must carry an annotation, so a command added
 * to the tour is either walked by the test or visibly left out.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const MACHINE = "machine";

export interface TourStep {
  /** 1-based line of the annotation in the document. */
  readonly line: number;
  readonly on: string;
  readonly id: string | undefined;
  readonly background: boolean;
  readonly retryS: number | undefined;
  readonly skip: boolean;
  /** The block's text, indentation removed, ending with a newline. */
  readonly script: string;
  /**
   * The prose paragraph that leads to the block (the nearest one above it,
   * past other blocks): what a reader sees, since the annotation is hidden.
   */
  readonly lead: string;
}

const ANNOTATION = /^<!-- tour-step: (.*) -->$/;
const SH_FENCE = /^```sh\s*$/;
const FLAGS = ["background", "skip"] as const;

function parseAnnotation(
  text: string,
  line: number,
): Omit<TourStep, "script" | "line" | "lead"> & { line: number } {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (const word of text.trim().split(/\s+/)) {
    const eq = word.indexOf("=");
    if (eq > 0) values.set(word.slice(0, eq), word.slice(eq + 1));
    else if ((FLAGS as readonly string[]).includes(word)) flags.add(word);
    else throw new Error(`line ${line}: unknown tour-step word "${word}"`);
  }
  for (const k of values.keys()) {
    if (!["on", "id", "retry"].includes(k))
      throw new Error(`line ${line}: unknown tour-step key "${k}"`);
  }
  const on = values.get("on");
  if (on === undefined) throw new Error(`line ${line}: tour-step without on=HOST`);
  const retry = values.get("retry");
  if (retry !== undefined && !/^\d+$/.test(retry))
    throw new Error(`line ${line}: retry must be whole seconds`);
  return {
    line,
    on,
    id: values.get("id"),
    background: flags.has("background"),
    retryS: retry === undefined ? undefined : Number(retry),
    skip: flags.has("skip"),
  };
}

/**
 * The annotated blocks of a Markdown document, in order. Throws when a
 * ```sh block has no annotation, or an annotation no block.
 */
export function parseTourSteps(markdown: string): TourStep[] {
  const lines = markdown.split("\n");
  const steps: TourStep[] = [];
  let pending: ReturnType<typeof parseAnnotation> | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    const a = ANNOTATION.exec(trimmed);
    if (a !== null) {
      if (pending !== undefined)
        throw new Error(`line ${pending.line}: tour-step annotation without a sh block`);
      pending = parseAnnotation(a[1]!, i + 1);
      continue;
    }
    if (SH_FENCE.test(trimmed)) {
      if (pending === undefined)
        throw new Error(
          `line ${i + 1}: sh block without a <!-- tour-step: … --> annotation (run it, or mark it skip)`,
        );
      const indent = raw.length - raw.trimStart().length;
      const body: string[] = [];
      for (i++; i < lines.length && lines[i]!.trim() !== "```"; i++)
        body.push(lines[i]!.slice(indent));
      if (i >= lines.length) throw new Error(`line ${pending.line}: unterminated sh block`);
      steps.push({
        ...pending,
        script: body.join("\n") + "\n",
        lead: leadOf(lines, pending.line - 1),
      });
      pending = undefined;
      continue;
    }
    if (pending !== undefined && trimmed !== "")
      throw new Error(`line ${pending.line}: tour-step annotation not followed by a sh block`);
  }
  if (pending !== undefined)
    throw new Error(`line ${pending.line}: tour-step annotation at the end`);
  return steps;
}

/** The prose paragraph above line index `at`, skipping blank lines, fenced blocks and comments. */
function leadOf(lines: readonly string[], at: number): string {
  const para: string[] = [];
  let inFence = false;
  for (let i = at - 1; i >= 0; i--) {
    const t = lines[i]!.trim();
    if (t.startsWith("```")) {
      inFence = !inFence;
      continue;
    }
    if (inFence || t.startsWith("<!--")) continue;
    if (t === "") {
      if (para.length > 0) break;
      continue;
    }
    para.unshift(t);
  }
  return para.join(" ");
}

export function readTourSteps(file: string): TourStep[] {
  return parseTourSteps(readFileSync(file, "utf8"));
}

/** The one-line definition of the setup's `on` function (`on() { … }`). */
export function onFunction(steps: readonly TourStep[]): string {
  for (const s of steps) {
    if (s.on !== MACHINE) continue;
    const def = s.script.split("\n").find((l) => /^on\(\) \{.*\}$/.test(l));
    if (def !== undefined) return def;
  }
  throw new Error("no `on() { … }` definition in the tour's on=machine blocks");
}

export interface StepRun {
  readonly code: number | null;
  /** stdout and stderr, interleaved as written. */
  readonly output: string;
}

export interface RunnerOptions {
  /** The `on` function's definition, prepended to every step. */
  readonly on: string;
  /** Working directory of every step. */
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Rewrites a block's text before it runs (the test's path substitutions). */
  readonly rewrite: (script: string) => string;
}

/** bash's argv for one step: on the machine, or `on HOST bash -e -c BLOCK`. */
function bashArgs(step: TourStep, o: RunnerOptions): string[] {
  const script = o.rewrite(step.script);
  if (step.on === MACHINE) return ["-e", "-c", `${o.on}\n${script}`];
  return ["-e", "-c", `${o.on}\non "$0" bash -e -c "$1"`, step.on, script];
}

/** Runs a step to its end (killing it after `timeoutMs`). */
export function runStep(step: TourStep, o: RunnerOptions, timeoutMs: number): Promise<StepRun> {
  return new Promise((resolve) => {
    const child = spawn("bash", bashArgs(step, o), {
      cwd: o.cwd,
      env: o.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (output += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (output += d));
    const timer = setTimeout(() => {
      output += `\n[killed after ${timeoutMs} ms]`;
      killGroup(child);
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Reruns a step until it exits 0 or `seconds` have passed; returns the last run. */
export async function runStepUntilOk(
  step: TourStep,
  o: RunnerOptions,
  seconds: number,
): Promise<StepRun & { attempts: number }> {
  const end = Date.now() + seconds * 1000;
  let attempts = 0;
  for (;;) {
    attempts++;
    const r = await runStep(step, o, Math.max(5_000, end - Date.now()));
    if (r.code === 0 || Date.now() >= end) return { ...r, attempts };
    await new Promise((res) => setTimeout(res, 1_000));
  }
}

/** A background step: its process (group leader) and the file its output goes to. */
export interface Background {
  readonly step: TourStep;
  readonly child: ChildProcess;
  readonly log: string;
}

export function startBackground(step: TourStep, o: RunnerOptions, log: string): Background {
  const fd = openSync(log, "a");
  try {
    const child = spawn("bash", bashArgs(step, o), {
      cwd: o.cwd,
      env: o.env,
      stdio: ["ignore", fd, fd],
      detached: true,
    });
    return { step, child, log };
  } finally {
    closeSync(fd);
  }
}

/** SIGTERM to a step's whole process group (bash, ip netns exec, the program). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): void {
  // The group may outlive its leader (bash gone, the program in the namespace not).
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/**
 * One walk at a time on this machine: the tour's names (`tour-…`, its
 * addresses, /tmp/tour-compute-N) are fixed by the document, so a second run
 * of the test (another `vitest run test/docs`) would tear down the first one's
 * hosts. A directory made with mkdir (atomic) holding the owner's pid; a lock
 * whose owner is gone is taken over. Resolves to the release function.
 */
export async function machineLock(dir: string, waitMs: number): Promise<() => void> {
  const end = Date.now() + waitMs;
  const pidFile = join(dir, "pid");
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(pidFile, `${process.pid}\n`);
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const raw = readPid(pidFile);
    const owner = Number(raw);
    if (!(owner > 0 && alive(owner))) {
      // Gone (or still writing its pid: give it a moment before taking over).
      await new Promise((r) => setTimeout(r, 200));
      if (readPid(pidFile) === raw) rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > end)
      throw new Error(`another tour walk (pid ${owner}) still holds ${dir} after ${waitMs} ms`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

function readPid(file: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return "";
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
