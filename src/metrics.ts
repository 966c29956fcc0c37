/**
 * Prometheus metrics (prom-client), named as ecosystem.md §4.5 lists them —
 * Faucet's names where Faucet has one, so its dashboards and alerts carry
 * over — and served on their own address (Faucet-style `:9302`), separate
 * from the API.
 *
 * One {@link Metrics} per controller, each with its own registry (tests run
 * several controllers in one process).
 */
import { createServer, type Server } from "node:http";
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type LabelValues,
} from "prom-client";

export class Metrics {
  readonly registry = new Registry();

  readonly connections = new Counter({
    name: "of_dp_connections_total",
    help: "OpenFlow connections that completed the handshake",
    labelNames: ["dpid", "host", "bridge"] as const,
    registers: [this.registry],
  });
  readonly disconnections = new Counter({
    name: "of_dp_disconnections_total",
    help: "OpenFlow connections closed after the handshake",
    labelNames: ["dpid", "host", "bridge"] as const,
    registers: [this.registry],
  });
  readonly unknownDatapaths = new Counter({
    name: "of_dp_unknown_total",
    help: "Connections from datapath ids not in the topology (refused)",
    labelNames: ["dpid"] as const,
    registers: [this.registry],
  });
  readonly switchesConnected = new Gauge({
    name: "switches_connected",
    help: "Bridges connected and known to the topology",
    registers: [this.registry],
  });
  readonly dpStatus = new Gauge({
    name: "dp_status",
    help: "1 when the bridge is connected and synced to the current generation, else 0",
    labelNames: ["dpid", "host", "bridge"] as const,
    registers: [this.registry],
  });
  readonly flowMsgsSent = new Counter({
    name: "of_flowmsgs_sent_total",
    help: "FLOW_MODs sent by reconciliation",
    labelNames: ["dpid", "command"] as const,
    registers: [this.registry],
  });
  readonly ofErrors = new Counter({
    name: "of_errors_total",
    help: "OFPT_ERROR messages received",
    labelNames: ["dpid", "type", "code"] as const,
    registers: [this.registry],
  });
  readonly packetIns = new Counter({
    name: "of_packet_ins_total",
    help: "Packet-ins received, by what became of them and by rate-limit class",
    labelNames: ["dpid", "reason", "table", "class"] as const,
    registers: [this.registry],
    // Packet-ins are tallied in plain numbers per bridge (BridgeMetrics) and
    // added here when the registry is read: counting one costs an increment.
    collect: () => {
      for (const b of this.bridges) b.flushPacketIns();
    },
  });
  readonly echoRtt = new Histogram({
    name: "of_echo_rtt_seconds",
    help: "Round-trip time of our echo requests",
    labelNames: ["dpid"] as const,
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly generation = new Gauge({
    name: "config_generation",
    help: "Generation of the topology in force",
    registers: [this.registry],
  });
  readonly appliedRatio = new Gauge({
    name: "config_applied_ratio",
    help: "Share of connected bridges synced to the current generation",
    registers: [this.registry],
  });
  readonly flowsDesired = new Gauge({
    name: "flows_desired",
    help: "Flows the compiler wants on the bridge",
    labelNames: ["dpid", "host", "bridge"] as const,
    registers: [this.registry],
  });
  readonly flowsInstalled = new Gauge({
    name: "flows_installed",
    help: "Flows of ours (learned ones aside) on the bridge after the last reconcile",
    labelNames: ["dpid", "host", "bridge"] as const,
    registers: [this.registry],
  });
  readonly reconcileSeconds = new Histogram({
    name: "reconcile_seconds",
    help: "Time of one reconciliation (dump, diff, send, barrier)",
    labelNames: ["dpid"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly reconcileFlows = new Counter({
    name: "reconcile_flows_total",
    help: "Flows changed by reconciliation",
    labelNames: ["dpid", "op"] as const,
    registers: [this.registry],
  });
  readonly reconciles = new Counter({
    name: "reconciles_total",
    help: "Reconciliation runs by outcome (applied, skipped without a dump, refused, failed)",
    labelNames: ["dpid", "outcome"] as const,
    registers: [this.registry],
  });
  readonly compileSeconds = new Histogram({
    name: "compile_seconds",
    help: "Time to compile one host",
    buckets: [0.0001, 0.001, 0.01, 0.1, 1],
    registers: [this.registry],
  });

  /** Bridges with series, for the packet-in flush. */
  private readonly bridges = new Set<BridgeMetrics>();

  constructor(options: { readonly defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** The series of one bridge of the topology, labels bound once (see {@link BridgeMetrics}). */
  bridge(labels: BridgeLabels): BridgeMetrics {
    const b = new BridgeMetrics(this, labels);
    this.bridges.add(b);
    return b;
  }

  /** @internal {@link BridgeMetrics.remove}'s half. */
  forget(b: BridgeMetrics): void {
    this.bridges.delete(b);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** The identity labels of one bridge of the topology. */
export interface BridgeLabels {
  readonly dpid: string;
  readonly host: string;
  readonly bridge: string;
}

/** What prom-client's Counter, Gauge and Histogram have in common for removal. */
interface Removable {
  remove(labels: LabelValues<string>): void;
}

/** One packet-in label set, counted in a plain number until the registry is read. */
interface Tally {
  readonly labels: LabelValues<"dpid" | "reason" | "table" | "class">;
  count: number;
}

/**
 * Every series of one bridge of the topology (identified by datapath id,
 * host and bridge), with its label objects built once. The controller holds
 * one per bridge and calls {@link BridgeMetrics.remove} when the bridge
 * leaves the topology (or its datapath id moves to another host or bridge):
 * prom-client keeps a label set until it is removed, so without that the
 * series of bridges long gone would be exported for ever.
 *
 * Packet-ins are the hot path (a flood is 100k/s): they are tallied per
 * (table, reason) in plain numbers and added to `of_packet_ins_total` when
 * the registry is read. A prom-client child (`counter.labels(…)`) would not
 * do: its `inc` hashes the label set again on every call (prom-client
 * 15.1 `Counter#labels` binds `inc` to the label object).
 */
export class BridgeMetrics {
  private removed = false;
  /** Label sets touched, per metric, by a key unique within the metric. */
  private readonly series = new Map<Removable, Map<string, LabelValues<string>>>();
  /** Packet-in tallies by table id, then reason. */
  private readonly packetIns: (Map<string, Tally> | undefined)[] = [];

  constructor(
    private readonly metrics: Metrics,
    readonly labels: BridgeLabels,
  ) {}

  connected(): void {
    if (!this.removed) this.metrics.connections.inc(this.labels);
  }

  disconnected(): void {
    if (!this.removed) this.metrics.disconnections.inc(this.labels);
  }

  /** `dp_status`: 1 connected and synced, else 0. */
  status(synced: boolean): void {
    if (!this.removed) this.metrics.dpStatus.set(this.labels, synced ? 1 : 0);
  }

  flowsDesired(n: number): void {
    if (!this.removed) this.metrics.flowsDesired.set(this.labels, n);
  }

  flowsInstalled(n: number): void {
    if (!this.removed) this.metrics.flowsInstalled.set(this.labels, n);
  }

  flowMsgsSent(command: string, n: number): void {
    if (!this.removed)
      this.metrics.flowMsgsSent.inc(this.one(this.metrics.flowMsgsSent, "command", command), n);
  }

  reconcileFlows(op: string, n: number): void {
    if (!this.removed)
      this.metrics.reconcileFlows.inc(this.one(this.metrics.reconcileFlows, "op", op), n);
  }

  reconciled(outcome: string): void {
    if (!this.removed)
      this.metrics.reconciles.inc(this.one(this.metrics.reconciles, "outcome", outcome));
  }

  reconcileSeconds(s: number): void {
    if (!this.removed)
      this.metrics.reconcileSeconds.observe(this.dpidOnly(this.metrics.reconcileSeconds), s);
  }

  echoRtt(s: number): void {
    if (!this.removed) this.metrics.echoRtt.observe(this.dpidOnly(this.metrics.echoRtt), s);
  }

  ofError(type: number, code: number): void {
    if (this.removed) return;
    const m = this.metrics.ofErrors;
    const key = `${type}/${code}`;
    let labels = this.known(m).get(key);
    if (labels === undefined) {
      labels = { dpid: this.labels.dpid, type: String(type), code: String(code) };
      this.known(m).set(key, labels);
    }
    m.inc(labels);
  }

  /**
   * One packet-in of `table` that ended as `reason`; `cls` (its rate-limit
   * class, a function of the bridge and table) only labels a new series.
   */
  packetIn(reason: string, table: number, cls: string): void {
    let byReason = this.packetIns[table];
    if (byReason === undefined) this.packetIns[table] = byReason = new Map();
    let t = byReason.get(reason);
    if (t === undefined) {
      t = {
        labels: { dpid: this.labels.dpid, reason, table: String(table), class: cls },
        count: 0,
      };
      byReason.set(reason, t);
    }
    t.count++;
  }

  /** Adds the packet-ins tallied since the last read to the counter. */
  flushPacketIns(): void {
    if (this.removed) return;
    for (const byReason of this.packetIns) {
      if (byReason === undefined) continue;
      for (const t of byReason.values()) {
        if (t.count === 0) continue;
        this.metrics.packetIns.inc(t.labels, t.count);
        t.count = 0;
      }
    }
  }

  /** Drops every series of this bridge; later calls change nothing. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    this.metrics.forget(this);
    const m = this.metrics;
    for (const g of [m.connections, m.disconnections, m.dpStatus, m.flowsDesired, m.flowsInstalled])
      g.remove(this.labels);
    for (const byReason of this.packetIns)
      for (const t of byReason?.values() ?? []) m.packetIns.remove(t.labels);
    for (const [metric, sets] of this.series)
      for (const labels of sets.values()) metric.remove(labels);
    this.series.clear();
    this.packetIns.length = 0;
  }

  private known(metric: Removable): Map<string, LabelValues<string>> {
    let sets = this.series.get(metric);
    if (sets === undefined) this.series.set(metric, (sets = new Map()));
    return sets;
  }

  /** The label set `{ dpid, [name]: value }` of `metric`, remembered for removal. */
  private one(metric: Removable, name: string, value: string): LabelValues<string> {
    const sets = this.known(metric);
    let labels = sets.get(value);
    if (labels === undefined) {
      labels = { dpid: this.labels.dpid, [name]: value };
      sets.set(value, labels);
    }
    return labels;
  }

  private dpidOnly(metric: Removable): LabelValues<string> {
    const sets = this.known(metric);
    let labels = sets.get("");
    if (labels === undefined) {
      labels = { dpid: this.labels.dpid };
      sets.set("", labels);
    }
    return labels;
  }
}

/** Serves `GET /metrics` on host:port; resolves with the server once listening. */
export function serveMetrics(metrics: Metrics, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url !== "/metrics" && req.url !== "/")) {
      res.writeHead(404).end();
      return;
    }
    metrics.text().then(
      (body) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
