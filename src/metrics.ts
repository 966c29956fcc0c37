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
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

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
    help: "Packet-ins received, by what became of them",
    labelNames: ["dpid", "reason", "table"] as const,
    registers: [this.registry],
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

  constructor(options: { readonly defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  text(): Promise<string> {
    return this.registry.metrics();
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
