/**
 * A controller with examples/two-hosts.yaml's hosts connected as our
 * userspace switch over TCP, and its REST API (fastify inject): the rig of
 * e2e.test.ts, shared by the dry-run and skip/audit tests.
 */
import { pino } from "pino";
import type { FastifyInstance } from "fastify";
import type { OfMessage } from "../../codec/message.js";
import { formatFlow } from "../../codec/text/index.js";
import { buildApi } from "../../src/api/server.js";
import { Controller, type ControllerOptions } from "../../src/controller/controller.js";
import { OpenFlowServer } from "../../src/controller/server.js";
import { Metrics } from "../../src/metrics.js";
import { seededRandomBytes } from "../../src/store/mac-alloc.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import type { Topology } from "../../src/topology/schema.js";
import { loadExample } from "../dvr/helpers.js";
import { buildHost, until, type SwitchAgent, type TestHost } from "./helpers.js";
import { flowDumpRequest } from "../../codec/messages/multipart.js";

export interface Rig {
  readonly t: Topology;
  readonly store: SqliteStore;
  readonly ctl: Controller;
  readonly server: OpenFlowServer;
  /** The OpenFlow listener's TCP port. */
  readonly port: number;
  readonly metrics: Metrics;
  readonly api: FastifyInstance;
  readonly hosts: readonly [TestHost, TestHost];
  close(): Promise<void>;
}

export interface RigOptions {
  /** Edits the example topology before the controller starts. */
  readonly topology?: (t: Topology) => Topology;
  readonly controller?: Partial<Pick<ControllerOptions, "auditIntervalMs">>;
}

/** Starts the controller and connects both hosts' bridges; resolves once every bridge is applied. */
export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const base = loadExample("two-hosts.yaml");
  const t = options.topology?.(base) ?? base;
  const store = new SqliteStore(":memory:", { macRandom: (h) => seededRandomBytes(h) });
  const metrics = new Metrics({ defaultMetrics: false });
  const ctl = new Controller({
    store,
    log: pino({ level: "silent" }),
    metrics,
    ...options.controller,
  });
  await ctl.init(t);
  const server = new OpenFlowServer(ctl, pino({ level: "silent" }), { tickMs: 50 });
  const bound = await server.listen({ kind: "tcp", host: "127.0.0.1", port: 0 });
  if (bound.kind !== "tcp") throw new Error("tcp expected");
  const api = await buildApi(ctl, { defaultWaitMs: 5000 });
  const snap = ctl.snapshot;
  const hosts = [
    buildHost(t, "compute-1", snap.localVlans.get("compute-1")!),
    buildHost(t, "compute-2", snap.localVlans.get("compute-2")!),
  ] as const;
  const rig: Rig = {
    t,
    store,
    ctl,
    server,
    port: bound.port,
    metrics,
    api,
    hosts,
    close: async () => {
      for (const h of hosts) {
        await h.int.disconnect();
        await h.tun.disconnect();
      }
      ctl.stop();
      await server.close();
      await api.close();
      await store.close();
    },
  };
  for (const h of hosts) {
    await h.int.connect(bound.port);
    await h.tun.connect(bound.port);
  }
  await until(() => allApplied(rig), 5000, "every bridge applied");
  return rig;
}

/** Every bridge connected and synced to the controller's generation. */
export function allApplied(r: { readonly ctl: Controller }): boolean {
  const s = r.ctl.status();
  return Object.values(s.hosts).every((b) =>
    Object.values(b).every((x) => x.connected && x.synced_generation === s.generation),
  );
}

/** Every agent of the rig by `host/bridge`. */
export function agents(r: Rig): Record<string, SwitchAgent> {
  const out: Record<string, SwitchAgent> = {};
  for (const h of r.hosts) {
    out[`${h.name}/br-int`] = h.int;
    out[`${h.name}/br-tun`] = h.tun;
  }
  return out;
}

/** FLOW_STATS requests (dumps) the switch received. */
export function dumpRequests(a: SwitchAgent): number {
  return a.received.filter((m) => m.type === "multipart_request" && m.body.kind === "flow").length;
}

/** The bridge's flows as `dump-flows --no-stats` lines, sorted (read from the switch directly). */
export function installed(agent: SwitchAgent): string[] {
  const reply = agent.handler.handle(flowDumpRequest(9), Date.now())[0]!;
  if (reply.type !== "multipart_reply" || reply.body.kind !== "flow") throw new Error("no dump");
  return reply.body.entries.map((f) => formatFlow(f, { stats: false })).sort();
}

export type FlowModMsg = Extract<OfMessage, { type: "flow_mod" }>;
