/**
 * `dvrflow run --config topo.yaml [--store PATH] [--listen tcp:HOST:PORT]…
 *  [--listen-unix PATH]… [--api HOST:PORT] [--metrics HOST:PORT]
 *  [--bundles auto|always|never] [--log-level LEVEL]`
 *
 * The controller daemon: loads the topology (and commits it to the store:
 * an unchanged document keeps its generation, so a restart sends nothing),
 * listens for OpenFlow switches, serves the REST API and the Prometheus
 * metrics, and runs until SIGINT/SIGTERM. SIGHUP re-reads `--config` and
 * applies it like a `PUT /v1/config`.
 *
 * Without `--store` the store is in memory and host MACs are derived from
 * host names as `dvrflow compile` derives them, so its output is exactly
 * what this controller installs. With `--store` (SQLite) MACs are drawn at
 * random once, persisted and reused, and API changes survive restarts; a
 * `--config` given at start still wins over the stored document.
 *
 * Shutdown deletes no flow: switches in fail_mode=secure keep forwarding.
 */
import type { Server } from "node:http";
import type { FastifyInstance } from "fastify";
import { buildApi } from "../../api/server.js";
import { Controller, type PlumbingHook } from "../../controller/controller.js";
import {
  OpenFlowServer,
  formatTarget,
  parseTarget,
  type ListenTarget,
} from "../../controller/server.js";
import type { BundleMode } from "../../controller/reconcile.js";
import { createLogger, type Logger } from "../../log.js";
import { Metrics, serveMetrics } from "../../metrics.js";
import { seededRandomBytes } from "../../store/mac-alloc.js";
import { SqliteStore } from "../../store/sqlite.js";
import { formatIssue, TopologyError } from "../../topology/issues.js";
import { loadTopologyFile } from "../../topology/loader.js";
import { parseOptions } from "./compile.js";
import type { CommandIo } from "./ofp-print.js";

const USAGE =
  "usage: dvrflow run --config FILE [--store PATH] [--listen tcp:HOST:PORT]... [--listen-unix PATH]...\n" +
  "                   [--api HOST:PORT] [--metrics HOST:PORT] [--bundles auto|always|never] [--log-level LEVEL]\n";

export interface RunOptions {
  readonly config?: string;
  readonly store?: string;
  readonly listen: readonly ListenTarget[];
  /** host:port of the REST API; undefined = no API. */
  readonly api?: { readonly host: string; readonly port: number };
  readonly metrics?: { readonly host: string; readonly port: number };
  readonly bundles?: BundleMode;
  readonly log: Logger;
  readonly plumbing?: PlumbingHook;
}

export interface RunningController {
  readonly controller: Controller;
  readonly openflow: OpenFlowServer;
  /** Bound OpenFlow targets (port 0 resolved). */
  readonly listening: readonly ListenTarget[];
  readonly api: FastifyInstance | undefined;
  /** Bound API address, e.g. http://127.0.0.1:8080. */
  readonly apiUrl: string | undefined;
  readonly metricsServer: Server | undefined;
  /** Re-reads the config file and applies it. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/** `HOST:PORT` (or `[v6]:PORT`, or just `PORT` → 127.0.0.1). */
export function parseHostPort(text: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  const m = v6 ?? /^(?:([^:]+):)?(\d+)$/.exec(text);
  if (m === null) throw new Error(`"${text}": expected HOST:PORT`);
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`"${text}": bad port`);
  return { host: m[1] ?? "127.0.0.1", port };
}

/** Starts everything `dvrflow run` starts; the caller decides when to close. */
export async function startRun(o: RunOptions): Promise<RunningController> {
  const log = o.log;
  const store =
    o.store === undefined
      ? new SqliteStore(":memory:", { macRandom: (h) => seededRandomBytes(h) })
      : new SqliteStore(o.store);
  const metrics = new Metrics();
  const load = () => {
    if (o.config === undefined) return undefined;
    const { topology, warnings } = loadTopologyFile(o.config);
    for (const w of warnings) log.warn({ event: "config.warning" }, formatIssue(w, o.config));
    return topology;
  };
  const controller = new Controller({
    store,
    log,
    metrics,
    ...(o.bundles === undefined ? {} : { bundles: o.bundles }),
    ...(o.plumbing === undefined ? {} : { plumbing: o.plumbing }),
  });
  let topology;
  try {
    topology = load();
    await controller.init(topology);
  } catch (e) {
    await store.close();
    throw e;
  }
  const cfg = controller.snapshot.topology.controller;
  const openflow = new OpenFlowServer(controller, log, {
    ...(cfg.echo_interval === undefined ? {} : { echoIntervalMs: cfg.echo_interval * 1000 }),
    ...(cfg.echo_misses === undefined ? {} : { echoMisses: cfg.echo_misses }),
  });
  const targets =
    o.listen.length > 0 ? o.listen : [parseTarget(cfg.listen ?? "tcp:127.0.0.1:6653")];
  const listening: ListenTarget[] = [];
  let api: FastifyInstance | undefined;
  let apiUrl: string | undefined;
  let metricsServer: Server | undefined;
  const close = async () => {
    controller.stop();
    await openflow.close();
    if (api !== undefined) await api.close();
    if (metricsServer !== undefined)
      await new Promise<void>((r) => metricsServer!.close(() => r()));
    await store.close();
  };
  try {
    for (const t of targets) listening.push(await openflow.listen(t));
    if (o.api !== undefined) {
      api = await buildApi(controller);
      apiUrl = await api.listen({ host: o.api.host, port: o.api.port });
      log.info(
        { event: "api.up", url: apiUrl },
        `REST API on ${apiUrl} (OpenAPI at ${apiUrl}/docs)`,
      );
    }
    if (o.metrics !== undefined) {
      metricsServer = await serveMetrics(metrics, o.metrics.host, o.metrics.port);
      const a = metricsServer.address();
      const port = typeof a === "object" && a !== null ? a.port : o.metrics.port;
      log.info({ event: "metrics.up" }, `metrics on http://${o.metrics.host}:${port}/metrics`);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return {
    controller,
    openflow,
    listening,
    api,
    apiUrl,
    metricsServer,
    reload: async () => {
      const t = load();
      if (t === undefined) return;
      const snap = await controller.apply(t);
      log.info({ event: "config.reloaded", generation: snap.generation }, "configuration reloaded");
    },
    close,
  };
}

export async function runRun(args: readonly string[], io: CommandIo): Promise<number> {
  const err = io.stderr ?? io.stdout;
  // Repeatable options are collected before the generic parser sees them.
  const listen: ListenTarget[] = [];
  const rest: string[] = [];
  try {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      const [name, inline] = a.includes("=")
        ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
        : [a, undefined];
      if (name === "--listen" || name === "--listen-unix") {
        const v = inline ?? args[++i];
        if (v === undefined) throw new Error(`${name} needs a value`);
        listen.push(name === "--listen" ? parseTarget(v) : { kind: "unix", path: v });
      } else rest.push(a);
    }
  } catch (e) {
    err(`dvrflow run: ${(e as Error).message}\n${USAGE}`);
    return 1;
  }
  const opts = parseOptions(
    rest,
    ["--config", "--store", "--api", "--metrics", "--bundles", "--log-level"],
    [],
  );
  if (typeof opts === "string") {
    err(`dvrflow run: ${opts}\n${USAGE}`);
    return 1;
  }
  const config = opts.values.get("--config");
  const store = opts.values.get("--store");
  if (config === undefined && store === undefined) {
    err(`dvrflow run: --config (or an existing --store) is required\n${USAGE}`);
    return 1;
  }
  const bundles = opts.values.get("--bundles");
  if (bundles !== undefined && !["auto", "always", "never"].includes(bundles)) {
    err(`dvrflow run: --bundles must be auto, always or never\n`);
    return 1;
  }
  const level = opts.values.get("--log-level");
  const log = createLogger(level === undefined ? {} : { level });
  let running: RunningController;
  try {
    const api = opts.values.get("--api");
    const metrics = opts.values.get("--metrics");
    running = await startRun({
      ...(config === undefined ? {} : { config }),
      ...(store === undefined ? {} : { store }),
      listen,
      ...(api === undefined ? {} : { api: parseHostPort(api) }),
      ...(metrics === undefined ? {} : { metrics: parseHostPort(metrics) }),
      ...(bundles === undefined ? {} : { bundles: bundles as BundleMode }),
      log,
    });
  } catch (e) {
    if (e instanceof TopologyError) err(`${e.message}\n`);
    else err(`dvrflow run: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  io.stdout(
    `dvrflow controller: generation ${running.controller.generation}, OpenFlow on ${running.listening.map(formatTarget).join(", ")}` +
      `${running.apiUrl === undefined ? "" : `, API on ${running.apiUrl}`}\n`,
  );
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info({ event: "shutdown", signal }, "stopping (flows stay on the switches)");
      process.off("SIGHUP", hup);
      running.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    const hup = () => {
      running.reload().catch((e: unknown) => {
        log.error(
          { event: "config.rejected", err: e instanceof Error ? e.message : String(e) },
          "reload rejected",
        );
      });
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGHUP", hup);
  });
}
