/**
 * The controller process of the end-to-end suite: `dvrflow run` as
 * `startRun` builds it (store in memory, topology from the file, OpenFlow
 * on unix sockets inside each host's run directory, REST API and metrics on
 * 127.0.0.1 with free ports), plus host plumbing over OVSDB for every host
 * whose `ovsdb` address the topology gives — the controller creates and
 * keeps br-int, br-tun, br-phy, the patch, VXLAN and VM ports, the
 * datapath ids and its own controller target (issue 5 §2).
 *
 * `dvrflow run` does not take plumbing options yet (datapath type,
 * underlay bridge), so this entry point passes a PlumbingHook to
 * `startRun`, built from src/plumb's PlumbKeeper.
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
import type { PlumbingHook } from "../../src/controller/controller.js";
import { createLogger } from "../../src/log.js";
import { PlumbKeeper, planFromSnapshot, type PlumbOptions } from "../../src/plumb/index.js";
import type { StoreSnapshot } from "../../src/store/store.js";

export interface ControllerSpec {
  readonly config: string;
  /** Unix socket paths to listen on (one inside each host's run directory). */
  readonly listen: readonly string[];
  /** Plumbing options per host that has an `ovsdb` address. */
  readonly plumb: Readonly<Record<string, PlumbOptions>>;
}

/** Keeps every host with an OVSDB address plumbed to the latest committed snapshot. */
class OvsdbPlumbing implements PlumbingHook {
  private readonly keepers = new Map<string, PlumbKeeper>();
  constructor(
    private readonly options: Readonly<Record<string, PlumbOptions>>,
    private readonly log: ReturnType<typeof createLogger>,
  ) {}

  async apply(snap: StoreSnapshot): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const [host, h] of Object.entries(snap.topology.hosts)) {
      if (h.ovsdb === undefined) continue;
      const plan = planFromSnapshot(snap, host, this.options[host] ?? {});
      const keeper = this.keepers.get(host);
      if (keeper !== undefined) {
        waits.push(keeper.setPlan(plan));
        continue;
      }
      const k = new PlumbKeeper(h.ovsdb, plan, {
        onResult: (r) => {
          if (r.changes.length > 0)
            this.log.info(
              { event: "plumb.applied", host, changes: r.changes.length },
              `plumbed ${host}: ${r.changes.length} change(s)`,
            );
        },
        onError: (e) =>
          this.log.warn({ event: "plumb.error", host, err: e.message }, "plumbing failed"),
      });
      this.keepers.set(host, k);
      const settled = k.settled();
      k.start();
      waits.push(settled);
    }
    await Promise.all(waits);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.keepers.values()].map((k) => k.stop()));
  }
}

async function main(): Promise<void> {
  const spec = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as ControllerSpec;
  const log = createLogger({ name: "dvrflow-e2e-controller" });
  const plumbing = new OvsdbPlumbing(spec.plumb, log);
  const running = await startRun({
    config: spec.config,
    listen: spec.listen.map((path) => ({ kind: "unix" as const, path })),
    api: { host: "127.0.0.1", port: 0 },
    metrics: { host: "127.0.0.1", port: 0 },
    log,
    plumbing,
  });
  const m = running.metricsServer?.address() as AddressInfo | undefined;
  process.stdout.write(
    `${JSON.stringify({ apiUrl: running.apiUrl, metricsUrl: m === undefined ? undefined : `http://127.0.0.1:${m.port}/metrics` })}\n`,
  );
  const stop = (): void => {
    void (async () => {
      await plumbing.stop();
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
