/**
 * SIGHUP's reload (`RunningController.reload`) and the keys only a restart
 * applies: the OpenFlow listener and the echo keep-alive are read when
 * `dvrflow run` starts, so a reload that changes them applies the rest of
 * the file and says, in a `config.restart_needed` warning, which keys wait
 * for a restart.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { restartNeeded, startRun, type RunningController } from "../../src/cli/commands/run.js";
import { parseTarget } from "../../src/controller/server.js";
import { ROOT } from "../dvr/helpers.js";

const EXAMPLE = readFileSync(join(ROOT, "examples", "two-hosts.yaml"), "utf8");
const CONTROLLER_KEYS = "controller:\n  cookie_prefix: 0xd5\n";
// Seconds are written with a decimal point: the loader reads YAML integers as
// bigints, which the schema's echo_interval/audit_interval (z.number) refuse.

let running: RunningController | undefined;
let dir: string | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** The example topology with `extra` lines under `controller:`. */
function config(extra: string): string {
  if (!EXAMPLE.includes(CONTROLLER_KEYS)) throw new Error("example layout changed");
  return EXAMPLE.replace(CONTROLLER_KEYS, `${CONTROLLER_KEYS}${extra}`);
}

interface LogLine {
  readonly level: number;
  readonly event?: string;
  readonly keys?: string[];
  readonly changes?: { key: string; inForce: unknown; wanted: unknown }[];
  readonly msg: string;
}

async function run(
  first: string,
  listenFlags: boolean,
): Promise<{ file: string; logs: LogLine[]; r: RunningController }> {
  dir = mkdtempSync(join(tmpdir(), "dvrflow-reload-"));
  const file = join(dir, "topo.yaml");
  writeFileSync(file, first);
  const logs: LogLine[] = [];
  const log = pino(
    { level: "info" },
    { write: (s: string) => void logs.push(JSON.parse(s) as LogLine) },
  );
  running = await startRun({
    config: file,
    listen: listenFlags ? [parseTarget("tcp:127.0.0.1:0")] : [],
    log,
  });
  return { file, logs, r: running };
}

const PINO_WARN = 40;
const restartWarnings = (logs: readonly LogLine[]) =>
  logs.filter((l) => l.event === "config.restart_needed");

describe("SIGHUP reload of keys read only at start", () => {
  it("warns, naming the keys and the values in force, and applies the rest", async () => {
    const { file, logs, r } = await run(
      config("  listen: tcp:127.0.0.1:0\n  echo_interval: 5.5\n"),
      false,
    );
    expect(r.listening).toHaveLength(1);
    const generation = r.controller.generation;
    writeFileSync(
      file,
      config(
        "  listen: tcp:127.0.0.1:16999\n  echo_interval: 9.5\n  echo_misses: 4\n  audit_interval: 0.0\n",
      ),
    );
    await r.reload();
    // The rest of the document is in force (a new generation, the audit off)…
    expect(r.controller.generation).toBe(generation + 1);
    expect(r.controller.auditIntervalMs).toBe(0);
    // …and what needs a restart is said once, by name, with the values in force.
    const w = restartWarnings(logs);
    expect(w).toHaveLength(1);
    expect(w[0]!.level).toBe(PINO_WARN);
    expect(w[0]!.keys).toEqual([
      "controller.listen",
      "controller.echo_interval",
      "controller.echo_misses",
    ]);
    expect(w[0]!.changes).toEqual([
      { key: "controller.listen", inForce: "tcp:127.0.0.1:0", wanted: "tcp:127.0.0.1:16999" },
      { key: "controller.echo_interval", inForce: 5.5, wanted: 9.5 },
      { key: "controller.echo_misses", wanted: 4 },
    ]);
    expect(w[0]!.msg).toMatch(/controller\.listen.*restart/);
    // The listener did not move.
    expect(r.listening).toHaveLength(1);
  });

  it("says nothing when those keys are unchanged, or when --listen overrides controller.listen", async () => {
    const { file, logs, r } = await run(config("  echo_misses: 3\n"), true);
    writeFileSync(file, config("  echo_misses: 3\n  audit_interval: 30.0\n"));
    await r.reload();
    writeFileSync(file, config("  echo_misses: 3\n  listen: tcp:127.0.0.1:16999\n"));
    await r.reload();
    expect(logs.filter((l) => l.event === "config.reloaded")).toHaveLength(2);
    expect(restartWarnings(logs)).toEqual([]);
  });

  it("compares listeners as targets, the default included", () => {
    const base = { cookie_prefix: 0xd5 } as Parameters<typeof restartNeeded>[0];
    expect(restartNeeded(base, { ...base, listen: "tcp:127.0.0.1:6653" }, false)).toEqual([]);
    expect(restartNeeded(base, { ...base, listen: "tcp:127.0.0.1" }, false)).toEqual([]);
    expect(
      restartNeeded(base, { ...base, listen: "unix:/run/dvrflow.sock" }, false).map((c) => c.key),
    ).toEqual(["controller.listen"]);
    expect(restartNeeded({ ...base, echo_interval: 5 }, base, true)).toEqual([
      { key: "controller.echo_interval", inForce: 5, wanted: undefined },
    ]);
  });
});
