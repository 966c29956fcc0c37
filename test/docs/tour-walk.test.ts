/**
 * docs/tour.md, walked as a new user would: every command block of the tour,
 * in order, on the tour's own "Trying it on one machine" setup (network
 * namespaces for the controller host, compute-1, compute-2 and the VMs; a
 * private ovsdb-server + `ovs-vswitchd --disable-system` per compute host),
 * then the outcomes the tour promises: the bridges connect and sync
 * (`/readyz`), OVS's own `ovs-ofctl diff-flows` finds no difference from
 * `dvrflow compile`, `ofproto/trace` shows the routed packet leaving with the
 * DVR MAC, VMs ping across subnets and hosts (routed replies with TTL 63),
 * the API call adding a port answers 200 and the new VM answers at once, and
 * `dvrflow switch` holds the desired flows. Edit a command in the tour and
 * break it, and this test fails.
 *
 * Which blocks run, where, and how: the `<!-- tour-step: … -->` annotations
 * (tour-steps.ts). The commands run exactly as written, from a scratch
 * directory holding links to the clone's `examples/` and `docs/`, with two
 * differences, both named here:
 *
 * - `dvrflow` on PATH runs this working tree's sources through tsx (a new
 *   user's `npm ci && npm link` runs dist/, built from the same sources);
 * - STATE_DIR (`/var/lib/dvrflow`, the controller's store) is moved into the
 *   scratch directory: the test never touches the machine's own, and always
 *   starts on a fresh store (the tour's `If-Match: "1"` needs one).
 *
 * Everything the setup creates is named `tour-…`; the tour's own clean-up
 * block runs before (leftovers of a crashed run or a walk by hand) and after.
 * The end-to-end suite (test/e2e, `dvfe2e-…`) shares no name with it.
 *
 * Needs root, Open vSwitch, ethtool, curl, ping and ip; skips loudly without
 * them (an error under DVRFLOW_REQUIRE_SYSTEM_TOOLS=1).
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipLoudly } from "../helpers/tools.js";
import { OVS_TOOLS, ovsSchemaPresent } from "../e2e/hosts/ovs-host.js";
import { missingTools, netnsWithPrefix } from "../e2e/sys.js";
import {
  MACHINE,
  killGroup,
  machineLock,
  onFunction,
  readTourSteps,
  runStep,
  runStepUntilOk,
  startBackground,
  type Background,
  type RunnerOptions,
  type TourStep,
} from "./tour-steps.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const TOUR = join(ROOT, "docs", "tour.md");
/** The controller host's state directory in the tour; the test moves it to scratch. */
const STATE_DIR = "/var/lib/dvrflow";
/** Every namespace the one-machine setup creates starts with this. */
const NS_PREFIX = "tour-";
/** A step that is not retried must finish within this. */
const STEP_MS = 60_000;
/** How long to wait for another run of this walk on the machine to finish. */
const LOCK_WAIT_MS = 240_000;

const steps = readTourSteps(TOUR);
const byId = (id: string): TourStep | undefined => steps.find((s) => s.id === id);

/** `64 bytes from IP: icmp_seq=N ttl=T …` → the TTLs of IP's replies. */
function replyTtls(out: string, ip: string): number[] {
  const re = new RegExp(`bytes from ${ip.replaceAll(".", "\\.")}: icmp_seq=\\d+ ttl=(\\d+)`, "g");
  return [...out.matchAll(re)].map((m) => Number(m[1]));
}

function expectReplies(out: string, ip: string, ttl: number, what: string): void {
  const ttls = replyTtls(out, ip);
  expect(ttls.length, `${what}: no reply from ${ip}\n${out}`).toBeGreaterThan(0);
  expect(new Set(ttls), `${what}: reply TTLs from ${ip}`).toEqual(new Set([ttl]));
}

/**
 * What the tour promises of the steps it names, beyond their exit status
 * (every step must exit 0: the blocks run under `bash -e`).
 */
const CHECKS: Readonly<Record<string, (out: string) => void>> = {
  ready(out) {
    expect(out).toMatch(/"ready":true/);
    expect(out.match(/"connected":true/g)?.length, "bridges connected in /v1/status").toBe(4);
  },
  "on-host"(out) {
    // diff-flows printed nothing (it exits 2 on a difference); dump-flows and trace ran.
    expect(out.split("\n")[0], "ovs-ofctl diff-flows output").toMatch(/^OFPST_FLOW reply/);
    expect(out).toMatch(/^bridge\("br-tun"\)/m);
    expect(out, "routed on compute-1, leaving with its DVR MAC").toMatch(
      /set_field:fa:16:3f:00:00:01->eth_src/,
    );
  },
  ping(out) {
    expectReplies(out, "203.0.113.74", 63, "vm-a1 → vm-b1, routed on the host");
    expectReplies(out, "203.0.113.11", 64, "vm-a1 → vm-a2, switched across hosts");
    expectReplies(out, "203.0.113.75", 63, "vm-a1 → vm-b2, routed across hosts");
  },
  "put-port"(out) {
    expect(out).toMatch(/^HTTP\/1\.1 200 /m);
    expect(out).toMatch(/"generation":2/);
  },
  "ping-new"(out) {
    expectReplies(out, "203.0.113.12", 63, "vm-b1 → vm-a3, routed across hosts");
  },
  switch(out) {
    expect(out).toMatch(/^OFPST_FLOW reply/m);
    expect(out).toMatch(/cookie=0x/);
  },
};

describe("docs/tour.md steps", () => {
  it("marks every sh block as a step, and names the steps the walk checks", () => {
    // readTourSteps (at load) already threw on an unannotated block.
    expect(steps.length).toBeGreaterThan(10);
    for (const id of [...Object.keys(CHECKS), "cleanup", "bench"])
      expect(byId(id), `no step with id=${id} in docs/tour.md`).toBeDefined();
    const ids = steps.flatMap((s) => (s.id === undefined ? [] : [s.id]));
    expect(new Set(ids).size, "step ids are unique").toBe(ids.length);
    expect(byId("cleanup")!.on).toBe(MACHINE);
  });

  it("tells the reader where each step runs (the annotation is invisible)", () => {
    for (const s of steps) {
      if (s.skip) continue;
      const where =
        s.on === MACHINE
          ? /\bmachine\b/
          : s.on === "controller"
            ? /controller host/
            : new RegExp(`\\b${s.on}\\b`);
      expect(
        s.lead,
        `line ${s.line}: the text above the block should say it runs on ${s.on}`,
      ).toMatch(where);
    }
  });

  it("defines `on`, which every host step runs through", () => {
    expect(onFunction(steps)).toMatch(/ip netns exec .*OVS_RUNDIR=/);
  });

  it("names benchmark files and flags that exist", () => {
    const bench = byId("bench")!;
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    let files = 0;
    for (const line of bench.script.split("\n")) {
      const cmd = line.replace(/#.*/, "").trim();
      if (cmd === "") continue;
      const npm = /^npm run (\S+)$/.exec(cmd);
      if (npm !== null) {
        expect(scripts[npm[1]!], `npm script ${npm[1]}`).toBeDefined();
        continue;
      }
      const m = /^node (?:--\S+ )*(?:--import tsx )?(bench\/\S+\.ts)((?: --\S+)*)$/.exec(cmd);
      expect(m, `unrecognised benchmark command: ${cmd}`).not.toBeNull();
      const file = join(ROOT, m![1]!);
      expect(existsSync(file), file).toBe(true);
      const source = readFileSync(file, "utf8");
      for (const flag of m![2]!.trim().split(/\s+/).filter(Boolean))
        expect(source, `${m![1]} handles ${flag}`).toContain(`"${flag}"`);
      files++;
    }
    expect(files).toBeGreaterThan(0);
  });
});

function skipReason(): string | null {
  if (process.getuid?.() !== 0) return "not root (network namespaces need it)";
  const missing = missingTools(["ip", "ethtool", "ping", "curl", ...OVS_TOOLS, "ovsdb-tool"]);
  if (missing.length > 0) return `missing ${missing.join(", ")}`;
  if (!ovsSchemaPresent()) return "vswitch.ovsschema missing";
  return null;
}

const skip = skipReason();
const NAME = "docs/tour.md walked on one machine";

if (skip !== null) {
  skipLoudly(`${NAME} (tour-walk)`, skip);
  describe(NAME, () => {
    it.skip(`SKIPPED: ${skip}`, () => {});
  });
} else {
  describe(NAME, () => {
    let scratch = "";
    let opts: RunnerOptions;
    const background: Background[] = [];
    let failed: string | undefined;
    let cleaned = false;
    let release: (() => void) | undefined;
    const started = performance.now();
    const cleanup = byId("cleanup")!;

    /** Log tails for a failure message: servers, and each host's ovs-vswitchd. */
    function diagnostics(): string {
      const tail = (f: string, n = 15): string =>
        existsSync(f) ? readFileSync(f, "utf8").split("\n").slice(-n).join("\n") : "(none)";
      const parts = background.map(
        (b, i) => `--- background ${i + 1} (line ${b.step.line}, on ${b.step.on})\n${tail(b.log)}`,
      );
      for (const h of ["compute-1", "compute-2"])
        parts.push(`--- ${h} ovs-vswitchd.log\n${tail(`/tmp/tour-${h}/ovs-vswitchd.log`, 8)}`);
      return parts.join("\n");
    }

    beforeAll(
      async () => {
        release = await machineLock(join(tmpdir(), "dvrflow-tour-walk.lock"), LOCK_WAIT_MS);
        scratch = mkdtempSync(join(tmpdir(), "dvrflow-tour-walk-"));
        const bin = join(scratch, "bin");
        mkdirSync(bin);
        mkdirSync(join(scratch, "state"));
        // The clone's files the tour names, seen from the steps' working directory.
        for (const d of ["examples", "docs"]) symlinkSync(join(ROOT, d), join(scratch, d), "dir");
        // `dvrflow`: this tree's CLI from the sources (bin/dvrflow.js runs dist/).
        const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
        const main = pathToFileURL(join(ROOT, "src", "cli", "main.ts")).href;
        writeFileSync(
          join(bin, "dvrflow.mjs"),
          `import { main } from ${JSON.stringify(main)};\n` +
            `process.stdout.on("error", (e) => { if (e.code === "EPIPE") process.exit(0); throw e; });\n` +
            `process.exitCode = await main(process.argv);\n`,
        );
        writeFileSync(
          join(bin, "dvrflow"),
          `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} --import ${JSON.stringify(tsx)} ` +
            `${JSON.stringify(join(bin, "dvrflow.mjs"))} "$@"\n`,
          { mode: 0o755 },
        );
        const state = join(scratch, "state");
        opts = {
          on: onFunction(steps),
          cwd: scratch,
          env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
          rewrite: (script) => script.replaceAll(STATE_DIR, state),
        };
        // Leftovers of an earlier run (or of a walk by hand) go first.
        const r = await runStep(cleanup, opts, STEP_MS);
        if (r.code !== 0) failed = `the tour's clean-up failed before the walk:\n${r.output}`;
      },
      LOCK_WAIT_MS + STEP_MS + 10_000,
    );

    afterAll(async () => {
      for (const b of background) killGroup(b.child);
      if (!cleaned && opts !== undefined) await runStep(cleanup, opts, STEP_MS);
      if (scratch !== "") rmSync(scratch, { recursive: true, force: true });
      release?.();
      console.log(`[tour-walk] total ${Math.round(performance.now() - started)} ms`);
    }, STEP_MS + 10_000);

    for (const step of steps) {
      if (step.skip || step === cleanup) continue;
      const first = step.script.split("\n").find((l) => l.trim() !== "" && !l.startsWith("#"));
      const title =
        `line ${step.line}, on ${step.on}${step.background ? " (background)" : ""}: ` +
        `${(first ?? "").trim().slice(0, 70)}`;
      const timeout = (step.retryS ?? 0) * 1000 + STEP_MS + 5_000;
      it(
        title,
        async () => {
          if (failed !== undefined) throw new Error(`not run: ${failed}`);
          try {
            if (step.background) {
              const log = join(scratch, `background-${background.length + 1}.log`);
              background.push(startBackground(step, opts, log));
              return;
            }
            const t0 = performance.now();
            const r =
              step.retryS === undefined
                ? { ...(await runStep(step, opts, STEP_MS)), attempts: 1 }
                : await runStepUntilOk(step, opts, step.retryS);
            const ms = Math.round(performance.now() - t0);
            expect(
              r.code,
              `exit status of the block at line ${step.line} (${r.attempts} attempt(s), ${ms} ms):\n${r.output}`,
            ).toBe(0);
            const check = step.id === undefined ? undefined : CHECKS[step.id];
            check?.(r.output);
          } catch (e) {
            failed = `the step at line ${step.line} failed`;
            if (e instanceof Error) e.message += `\n${diagnostics()}`;
            throw e;
          }
        },
        timeout,
      );
    }

    it(
      "the tour's clean-up leaves no namespace behind",
      async () => {
        for (const b of background) killGroup(b.child);
        const r = await runStep(cleanup, opts, STEP_MS);
        cleaned = true;
        expect(r.code, r.output).toBe(0);
        expect(netnsWithPrefix(NS_PREFIX)).toEqual([]);
        expect(existsSync("/tmp/tour-compute-1")).toBe(false);
      },
      STEP_MS + 5_000,
    );
  });
}
