/**
 * `dvrflow run` as a library (startRun): OpenFlow listeners (TCP and unix),
 * REST API and metrics on real sockets, and the CLI's argument errors.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import {
  parseHostPort,
  runRun,
  startRun,
  type RunningController,
} from "../../src/cli/commands/run.js";
import { parseTarget } from "../../src/controller/server.js";
import { Datapath } from "../../datapath/datapath.js";
import { ROOT } from "../dvr/helpers.js";
import { SwitchAgent, until } from "./helpers.js";

const CONFIG = join(ROOT, "examples", "two-hosts.yaml");
let running: RunningController | undefined;
let dir: string | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("dvrflow run", () => {
  it("serves OpenFlow on TCP and a unix socket, the API and the metrics; a switch syncs", async () => {
    dir = mkdtempSync(join(tmpdir(), "dvrflow-run-"));
    running = await startRun({
      config: CONFIG,
      store: join(dir, "store.db"),
      listen: [parseTarget("tcp:127.0.0.1:0"), { kind: "unix", path: join(dir, "of.sock") }],
      api: { host: "127.0.0.1", port: 0 },
      metrics: { host: "127.0.0.1", port: 0 },
      log: pino({ level: "silent" }),
    });
    const tcp = running.listening[0]!;
    expect(tcp.kind === "tcp" && tcp.port).toBeGreaterThan(0);
    const agent = new SwitchAgent(new Datapath().addBridge({ name: "br-tun", datapathId: 0x12n }));
    await agent.connect(tcp.kind === "tcp" ? tcp.port : 0);
    await until(
      () => running!.controller.status().hosts["compute-1"]!["br-tun"].synced_generation === 1,
      5000,
      "sync",
    );
    const status = (await (await fetch(`${running.apiUrl}/v1/status`)).json()) as {
      hosts: Record<string, Record<string, { connected: boolean; flows_installed: number }>>;
    };
    expect(status.hosts["compute-1"]!["br-tun"]!.connected).toBe(true);
    expect(status.hosts["compute-1"]!["br-tun"]!.flows_installed).toBe(agent.flowMods().length);
    const a = running.metricsServer!.address();
    const port = typeof a === "object" && a !== null ? a.port : 0;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^switches_connected 1$/m);
    expect(metrics).toMatch(
      /of_flowmsgs_sent_total\{dpid="0x0000000000000012",command="add"\} \d+/,
    );
    await agent.disconnect();
  });

  it("refuses bad arguments with a usage line and status 1", async () => {
    const out: string[] = [];
    const io = {
      stdin: () => Promise.resolve(""),
      stdout: (s: string) => void out.push(s),
      stderr: (s: string) => void out.push(s),
    };
    expect(await runRun(["--listen", "udp:1"], io)).toBe(1);
    expect(await runRun([], io)).toBe(1);
    expect(await runRun(["--config", CONFIG, "--bundles", "maybe"], io)).toBe(1);
    expect(out.join("")).toMatch(/usage: dvrflow run/);
    expect(parseHostPort("8080")).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseHostPort("[::1]:9")).toEqual({ host: "::1", port: 9 });
    expect(parseTarget("ptcp:6653")).toEqual({ kind: "tcp", host: "0.0.0.0", port: 6653 });
  });
});
