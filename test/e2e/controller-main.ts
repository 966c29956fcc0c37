/**
 * The controller process of the end-to-end suite: `dvrflow run` as
 * `startRun` builds it (store in memory, topology from the file, OpenFlow
 * on unix sockets inside each host's run directory, REST API and metrics on
 * 127.0.0.1 with free ports), plus host plumbing over OVSDB for every host
 * whose `ovsdb` address the topology gives — the controller creates and
 * keeps br-int, br-tun, br-phy, the patch, VXLAN and VM ports, the
 * datapath ids and its own controller target (issue 5 §2).
 *
 * The plumbing is `dvrflow run`'s own (src/plumb/hook.ts, one PlumbKeeper
 * per `ovsdb` host); only its options differ per host here (each host's
 * controller socket and underlay port), so they come from the spec.
 *
 *   node --import tsx test/e2e/controller-main.ts SPEC.json
 *
 * prints one JSON line on stdout ({ apiUrl, metricsUrl }) once everything
 * listens; logs (pino JSON) go to stderr. SIGTERM closes it cleanly;
 * the suite also SIGKILLs it.
 */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { startRun } from "../../src/cli/commands/run.js";
import { createLogger } from "../../src/log.js";
import type { PlumbOptions } from "../../src/plumb/index.js";

export interface ControllerSpec {
  readonly config: string;
  /** Unix socket paths to listen on (one inside each host's run directory). */
  readonly listen: readonly string[];
  /** Plumbing options per host that has an `ovsdb` address. */
  readonly plumb: Readonly<Record<string, PlumbOptions>>;
}

async function main(): Promise<void> {
  const spec = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as ControllerSpec;
  const log = createLogger({ name: "dvrflow-e2e-controller" });
  const running = await startRun({
    config: spec.config,
    listen: spec.listen.map((path) => ({ kind: "unix" as const, path })),
    api: { host: "127.0.0.1", port: 0 },
    metrics: { host: "127.0.0.1", port: 0 },
    log,
    plumb: (host) => spec.plumb[host] ?? {},
  });
  const m = running.metricsServer?.address() as AddressInfo | undefined;
  process.stdout.write(
    `${JSON.stringify({ apiUrl: running.apiUrl, metricsUrl: m === undefined ? undefined : `http://127.0.0.1:${m.port}/metrics` })}\n`,
  );
  const stop = (): void => {
    void (async () => {
      await running.close();
      process.exit(0);
    })();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((e: unknown) => {
  process.stderr.write(
    `controller-main: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
