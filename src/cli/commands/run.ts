/**
 * `dvrflow run --config topo.yaml [--store PATH] [--listen tcp:HOST:PORT]…
 *  [--listen-unix PATH]… [--api HOST:PORT|off] [--metrics HOST:PORT|off]
 *  [--bundles auto|always|never] [--log-level LEVEL]
 *  [--packet-in-rate CLASS=RATE[/BURST]]…
 *  [--controller-target TARGET] [--datapath-type TYPE] [--dst-port N]
 *  [--vm-port-type TYPE] [--underlay-port IF[,IF…]] [--underlay-bridge BR]
 *  [--underlay-prefix LEN]`
 *
 * The controller daemon: loads the topology (and commits it to the store:
 * an unchanged document keeps its generation, so a restart sends nothing),
 * listens for OpenFlow switches, serves the REST API and the Prometheus
 * metrics (by default on 127.0.0.1:8080 and 127.0.0.1:9302, ecosystem.md
 * §4.1; `off` turns either off), and runs until SIGINT/SIGTERM. SIGHUP re-reads `--config` and
 * applies it like a `PUT /v1/config`. The keys read only at start (the
 * listener, the echo keep-alive) are not changed by a reload: a reload that
 * changes them logs `config.restart_needed` naming them.
 *
 * `--packet-in-rate CLASS=RATE[/BURST]` (repeatable) sets the packet-in
 * token bucket of one class (`arp`, `route_miss`, `other`, or `all`) per
 * bridge: RATE packet-ins per second, BURST banked (default RATE/5, at
 * least 1). Classes not given keep 1000/s, burst 200 (packet-in.ts).
 *
 * Without `--store` the store is in memory and host MACs are derived from
 * host names as `dvrflow compile` derives them, so its output is exactly
 * what this controller installs. With `--store` (SQLite) MACs are drawn at
 * random once, persisted and reused, and API changes survive restarts; a
 * `--config` given at start still wins over the stored document.
 *
 * Hosts with an `ovsdb` address are plumbed and kept plumbed over OVSDB
 * (src/plumb/hook.ts): bridges, patch, VXLAN and VM ports, VM tags, the
 * datapath ids and the controller target. The target is
 * `--controller-target`, else derived from the first OpenFlow listener
 * (`unix:PATH`, or `tcp:HOST:PORT` when HOST is not a wildcard address);
 * the other options are `dvrflow plumb`'s, applied to every such host.
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
import {
  PACKET_IN_CLASSES,
  type PacketInClass,
  type PacketInLimit,
} from "../../controller/packet-in.js";
import type { BundleMode } from "../../controller/reconcile.js";
import { createLogger, type Logger } from "../../log.js";
import { Metrics, serveMetrics } from "../../metrics.js";
import { seededRandomBytes } from "../../store/mac-alloc.js";
import { SqliteStore } from "../../store/sqlite.js";
import { formatIssue, TopologyError } from "../../topology/issues.js";
import { loadTopologyFile } from "../../topology/loader.js";
import { OvsdbPlumbing } from "../../plumb/hook.js";
import type { PlumbOptions } from "../../plumb/plan.js";
import type { StoreSnapshot } from "../../store/store.js";
import type { Topology } from "../../topology/schema.js";
import { DEFAULT_API_LISTEN } from "../api-client.js";
import { parseOptions } from "./compile.js";
import type { CommandIo } from "./ofp-print.js";

const USAGE =
  "usage: dvrflow run --config FILE [--store PATH] [--listen tcp:HOST:PORT]... [--listen-unix PATH]...\n" +
  "                   [--api HOST:PORT|off] [--metrics HOST:PORT|off] [--bundles auto|always|never] [--log-level LEVEL]\n" +
  "                   [--packet-in-rate arp|route_miss|other|all=RATE[/BURST]]...\n" +
  "                   [--controller-target TARGET] [--datapath-type netdev|system] [--dst-port N]\n" +
  "                   [--vm-port-type TYPE] [--underlay-port IF[,IF...]] [--underlay-bridge BR] [--underlay-prefix LEN]\n";

export interface RunOptions {
  readonly config?: string;
  readonly store?: string;
  readonly listen: readonly ListenTarget[];
  /** host:port of the REST API; undefined = no API. */
  readonly api?: { readonly host: string; readonly port: number };
  readonly metrics?: { readonly host: string; readonly port: number };
  readonly bundles?: BundleMode;
  /** Packet-in buckets per bridge and class (`--packet-in-rate`); absent classes keep the default. */
  readonly packetInLimits?: Partial<Record<PacketInClass, PacketInLimit>>;
  readonly log: Logger;
  /** A plumbing hook of the caller's; wins over {@link RunOptions.plumb}. */
  readonly plumbing?: PlumbingHook;
  /**
   * Plumb the hosts that have an `ovsdb` address with these options (one
   * set for every host, or per host). Undefined (and no `plumbing`) = no
   * plumbing. A missing controller target is derived from the listeners.
   */
  readonly plumb?: PlumbOptions | ((host: string) => PlumbOptions);
}

const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", ""]);
/** The OpenFlow listener when neither `--listen` nor `controller.listen` names one. */
const DEFAULT_OPENFLOW_LISTEN = "tcp:127.0.0.1:6653";

/**
 * The target a plumbed switch should connect to, from the controller's
 * listener: a unix socket as is, TCP unless bound to a wildcard address
 * (which names no address a switch could reach).
 */
export function controllerTargetOf(t: ListenTarget): string | undefined {
  if (t.kind === "unix") return formatTarget(t);
  return WILDCARD_HOSTS.has(t.host) ? undefined : formatTarget(t);
}

function buildPlumbing(o: RunOptions): OvsdbPlumbing | undefined {
  const plumb = o.plumb;
  if (o.plumbing !== undefined || plumb === undefined) return undefined;
  const listener = (snap: StoreSnapshot): ListenTarget =>
    o.listen[0] ?? parseTarget(snap.topology.controller.listen ?? DEFAULT_OPENFLOW_LISTEN);
  let warned = false;
  return new OvsdbPlumbing({
    log: o.log,
    optionsFor: (host, snap) => {
      const base = typeof plumb === "function" ? plumb(host) : plumb;
      if (base.controller !== undefined) return base;
      const controller = controllerTargetOf(listener(snap));
      if (controller === undefined) {
        if (!warned)
          o.log.warn(
            { event: "plumb.no_controller_target", listen: formatTarget(listener(snap)) },
            "the OpenFlow listener is a wildcard address: plumbed bridges keep their controller target (use --controller-target)",
          );
        warned = true;
        return base;
      }
      return { ...base, controller };
    },
  });
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
  /** Bound metrics address, e.g. http://127.0.0.1:9302/metrics. */
  readonly metricsUrl: string | undefined;
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

/** Where `dvrflow run` serves Prometheus metrics unless told otherwise (Faucet's port). */
export const DEFAULT_METRICS_LISTEN = "127.0.0.1:9302";

/** `--api`/`--metrics` value: HOST:PORT, or `off` for none. */
function listenOption(
  value: string | undefined,
  fallback: string,
): { readonly host: string; readonly port: number } | undefined {
  const v = value ?? fallback;
  return v === "off" ? undefined : parseHostPort(v);
}

/** Runs `listen`, turning "address in use" and friends into a sentence that says which option to change. */
async function listenOrExplain<T>(
  what: string,
  option: string,
  at: { readonly host: string; readonly port: number },
  listen: () => Promise<T>,
): Promise<T> {
  try {
    return await listen();
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code ?? (e instanceof Error ? e.message : String(e));
    throw new Error(
      `cannot serve the ${what} on ${at.host}:${at.port} (${why}): ` +
        `choose another address with ${option} HOST:PORT, or ${option} off`,
      { cause: e },
    );
  }
}

/** Starts everything `dvrflow run` starts; the caller decides when to close. */
export async function startRun(o: RunOptions): Promise<RunningController> {
  const log = o.log;
  const store =
    o.store === undefined
      ? new SqliteStore(":memory:", { macRandom: (h) => seededRandomBytes(h) })
      : new SqliteStore(o.store);
  const metrics = new Metrics();
  const ownPlumbing = buildPlumbing(o);
  const plumbing = o.plumbing ?? ownPlumbing;
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
    ...(o.packetInLimits === undefined ? {} : { packetInLimits: o.packetInLimits }),
    ...(plumbing === undefined ? {} : { plumbing }),
  });
  let topology;
  try {
    topology = load();
    await controller.init(topology);
  } catch (e) {
    await ownPlumbing?.stop();
    await store.close();
    throw e;
  }
  const cfg = controller.snapshot.topology.controller;
  const openflow = new OpenFlowServer(controller, log, {
    ...(cfg.echo_interval === undefined ? {} : { echoIntervalMs: cfg.echo_interval * 1000 }),
    ...(cfg.echo_misses === undefined ? {} : { echoMisses: cfg.echo_misses }),
  });
  const targets =
    o.listen.length > 0 ? o.listen : [parseTarget(cfg.listen ?? DEFAULT_OPENFLOW_LISTEN)];
  const listening: ListenTarget[] = [];
  let api: FastifyInstance | undefined;
  let apiUrl: string | undefined;
  let metricsServer: Server | undefined;
  let metricsUrl: string | undefined;
  const close = async () => {
    controller.stop();
    await ownPlumbing?.stop();
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
      apiUrl = await listenOrExplain("REST API", "--api", o.api, () =>
        api!.listen({ host: o.api!.host, port: o.api!.port }),
      );
      log.info(
        { event: "api.up", url: apiUrl },
        `REST API on ${apiUrl} (OpenAPI at ${apiUrl}/docs)`,
      );
    }
    if (o.metrics !== undefined) {
      metricsServer = await listenOrExplain("metrics", "--metrics", o.metrics, () =>
        serveMetrics(metrics, o.metrics!.host, o.metrics!.port),
      );
      const a = metricsServer.address();
      const port = typeof a === "object" && a !== null ? a.port : o.metrics.port;
      metricsUrl = `http://${o.metrics.host}:${port}/metrics`;
      log.info({ event: "metrics.up", url: metricsUrl }, `metrics on ${metricsUrl}`);
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
    metricsUrl,
    reload: async () => {
      const t = load();
      if (t === undefined) return;
      const snap = await controller.apply(t);
      log.info({ event: "config.reloaded", generation: snap.generation }, "configuration reloaded");
      const changed = restartNeeded(cfg, snap.topology.controller, o.listen.length > 0);
      if (changed.length > 0)
        log.warn(
          { event: "config.restart_needed", keys: changed.map((c) => c.key), changes: changed },
          `${changed.map((c) => c.key).join(", ")} changed: ` +
            `read only at start, still ${changed.map((c) => `${c.key}=${c.inForce ?? "(default)"}`).join(", ")} ` +
            `until dvrflow run is restarted`,
        );
    },
    close,
  };
}

/** One controller key a reload changed that only a restart applies. */
export interface RestartChange {
  readonly key: string;
  /** The value in force (undefined: the key was not set, the default applies). */
  readonly inForce: string | number | undefined;
  readonly wanted: string | number | undefined;
}

/**
 * The `controller` keys read only when `dvrflow run` starts (the OpenFlow
 * listener, the echo keep-alive of server.ts) whose value in `next`
 * differs from the one in force. `controller.listen` counts only when
 * `--listen`/`--listen-unix` were not given: they win over it, now and
 * after a restart.
 */
export function restartNeeded(
  inForce: Topology["controller"],
  next: Topology["controller"],
  listenFromFlags: boolean,
): RestartChange[] {
  const out: RestartChange[] = [];
  const listenOf = (c: Topology["controller"]) => {
    const text = c.listen ?? DEFAULT_OPENFLOW_LISTEN;
    try {
      return formatTarget(parseTarget(text));
    } catch {
      return text;
    }
  };
  if (!listenFromFlags && listenOf(inForce) !== listenOf(next))
    out.push({ key: "controller.listen", inForce: listenOf(inForce), wanted: listenOf(next) });
  for (const k of ["echo_interval", "echo_misses"] as const) {
    if (inForce[k] !== next[k])
      out.push({ key: `controller.${k}`, inForce: inForce[k], wanted: next[k] });
  }
  return out;
}

/** `--packet-in-rate all=…`: the same limit for every class. */
const PACKET_IN_RATE_ALL = "all";

/**
 * `--packet-in-rate` values (`CLASS=RATE[/BURST]`, later ones win) as
 * per-class limits; a string is a usage error. BURST defaults to RATE/5
 * (the default's ratio, 1000/s with 200), at least 1.
 */
export function parsePacketInRates(
  values: readonly string[],
): Partial<Record<PacketInClass, PacketInLimit>> | string {
  const out: Partial<Record<PacketInClass, PacketInLimit>> = {};
  for (const v of values) {
    const m = /^([a-z_]+)=(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(v);
    const classes = [...PACKET_IN_CLASSES, PACKET_IN_RATE_ALL];
    if (m === null || !classes.includes(m[1]!))
      return `--packet-in-rate "${v}": expected CLASS=RATE[/BURST], CLASS one of ${classes.join(", ")}`;
    const rate = Number(m[2]);
    const burst = m[3] === undefined ? Math.max(1, Math.floor(rate / 5)) : Number(m[3]);
    if (!(rate > 0) || !Number.isFinite(rate))
      return `--packet-in-rate "${v}": RATE must be a positive number of packet-ins per second`;
    if (!Number.isSafeInteger(burst) || burst < 1)
      return `--packet-in-rate "${v}": BURST must be a positive integer`;
    const limit = { rate, burst };
    if (m[1] === PACKET_IN_RATE_ALL) for (const c of PACKET_IN_CLASSES) out[c] = limit;
    else out[m[1] as PacketInClass] = limit;
  }
  return out;
}

export async function runRun(args: readonly string[], io: CommandIo): Promise<number> {
  const err = io.stderr ?? io.stdout;
  // Repeatable options are collected before the generic parser sees them.
  const listen: ListenTarget[] = [];
  const rates: string[] = [];
  const rest: string[] = [];
  try {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      const [name, inline] = a.includes("=")
        ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
        : [a, undefined];
      if (name === "--listen" || name === "--listen-unix" || name === "--packet-in-rate") {
        const v = inline ?? args[++i];
        if (v === undefined) throw new Error(`${name} needs a value`);
        if (name === "--packet-in-rate") rates.push(v);
        else listen.push(name === "--listen" ? parseTarget(v) : { kind: "unix", path: v });
      } else rest.push(a);
    }
  } catch (e) {
    err(`dvrflow run: ${(e as Error).message}\n${USAGE}`);
    return 1;
  }
  const packetInLimits = parsePacketInRates(rates);
  if (typeof packetInLimits === "string") {
    err(`dvrflow run: ${packetInLimits}\n${USAGE}`);
    return 1;
  }
  const opts = parseOptions(
    rest,
    [
      "--config",
      "--store",
      "--api",
      "--metrics",
      "--bundles",
      "--log-level",
      "--controller-target",
      "--datapath-type",
      "--dst-port",
      "--vm-port-type",
      "--underlay-port",
      "--underlay-bridge",
      "--underlay-prefix",
    ],
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
  const plumb = plumbOptionsOf(opts.values);
  if (typeof plumb === "string") {
    err(`dvrflow run: ${plumb}\n${USAGE}`);
    return 1;
  }
  const level = opts.values.get("--log-level");
  const log = createLogger(level === undefined ? {} : { level });
  let running: RunningController;
  try {
    const api = listenOption(opts.values.get("--api"), DEFAULT_API_LISTEN);
    const metrics = listenOption(opts.values.get("--metrics"), DEFAULT_METRICS_LISTEN);
    running = await startRun({
      ...(config === undefined ? {} : { config }),
      ...(store === undefined ? {} : { store }),
      listen,
      ...(api === undefined ? {} : { api }),
      ...(metrics === undefined ? {} : { metrics }),
      ...(bundles === undefined ? {} : { bundles: bundles as BundleMode }),
      ...(rates.length === 0 ? {} : { packetInLimits }),
      log,
      plumb,
    });
  } catch (e) {
    if (e instanceof TopologyError) err(`${e.message}\n`);
    else err(`dvrflow run: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  io.stdout(
    `dvrflow controller: generation ${running.controller.generation}, OpenFlow on ${running.listening.map(formatTarget).join(", ")}` +
      `${running.apiUrl === undefined ? "" : `, API on ${running.apiUrl}`}` +
      `${running.metricsUrl === undefined ? "" : `, metrics on ${running.metricsUrl}`}\n`,
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

function intIn(v: string | undefined, name: string, min: number, max: number): number | string {
  if (v === undefined) return Number.NaN;
  const n = Number(v);
  return /^\d+$/.test(v) && n >= min && n <= max
    ? n
    : `${name} must be an integer in ${min}..${max}`;
}

/** `dvrflow plumb`'s options, for every host with an `ovsdb` address; a string is a usage error. */
export function plumbOptionsOf(values: ReadonlyMap<string, string>): PlumbOptions | string {
  const v = (k: string) => values.get(k);
  const dstPort = intIn(v("--dst-port"), "--dst-port", 1, 65535);
  if (typeof dstPort === "string") return dstPort;
  const prefix = intIn(v("--underlay-prefix"), "--underlay-prefix", 1, 32);
  if (typeof prefix === "string") return prefix;
  const underlayPorts = v("--underlay-port")
    ?.split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const underlayBridge = v("--underlay-bridge");
  if ((underlayBridge !== undefined || !Number.isNaN(prefix)) && underlayPorts === undefined)
    return "--underlay-bridge and --underlay-prefix need --underlay-port";
  const controller = v("--controller-target");
  if (controller !== undefined) {
    try {
      parseTarget(controller.replace(/^ssl:/, "tcp:"));
    } catch (e) {
      return `--controller-target: ${(e as Error).message}`;
    }
  }
  const datapathType = v("--datapath-type");
  const vmType = v("--vm-port-type");
  return {
    ...(controller === undefined ? {} : { controller }),
    ...(datapathType === undefined ? {} : { datapathType }),
    ...(Number.isNaN(dstPort) ? {} : { tunnelDstPort: dstPort }),
    ...(vmType === undefined ? {} : { vmInterfaceType: vmType }),
    ...(underlayPorts === undefined
      ? {}
      : {
          underlay: {
            interfaces: underlayPorts,
            ...(underlayBridge === undefined ? {} : { bridge: underlayBridge }),
            ...(Number.isNaN(prefix) ? {} : { prefixLength: prefix }),
          },
        }),
  };
}
