/**
 * The controller: the topology in force (from the store), the bridges it
 * expects (the datapath-id allowlist), their connections, and the work that
 * keeps each bridge equal to its compiled flows.
 *
 * - A bridge is known by the datapath id the topology gives it
 *   (`hosts.H.datapath_ids`). A connection whose FEATURES_REPLY names any
 *   other id gets no flows: it is logged, counted and closed
 *   (reliability.md §4.2). A second connection with a known id replaces the
 *   first ("last wins", as os-ken does: a restarted switch reconnects before
 *   the old TCP connection times out).
 * - Reconciliation (reconcile.ts) runs per bridge on connect, on every
 *   committed topology change, on port changes (PORT_STATUS moves ofports),
 *   after a route-miss packet-in and on the periodic audit. Runs never
 *   overlap on one bridge; a trigger during a run makes one more run
 *   afterwards.
 * - Skipping unchanged bridges. Each bridge keeps a digest of the desired
 *   set it last applied (desired-digest.ts). A topology change that leaves
 *   that set alone marks the bridge synced to the new generation without a
 *   dump, provided its last reconciliation succeeded and nothing since
 *   could have changed its flows: a (re)connect, a PORT_STATUS, a route
 *   miss, an OFPT_ERROR about a FLOW_MOD, a refused or failed
 *   reconciliation, an explicit resync. Each of those makes the next run
 *   dump. At 1,000 hosts, a change confined to one host's flows dumps that
 *   host's bridges, not all 2,000.
 * - The audit (topology `controller.audit_interval`, seconds, default 60,
 *   0 = off) dumps every connected bridge periodically all the same: flows
 *   removed behind our back (`ovs-ofctl del-flows`) come back within one
 *   interval, as Neutron's agent re-syncs on its periodic loop.
 * - A bridge is *applied* at generation G when a reconciliation computed
 *   from G finished with every barrier answered and no OFPT_ERROR.
 *   {@link Controller.waitApplied} waits for every connected bridge to
 *   reach G (the API's `?wait=applied`).
 * - Shutdown closes connections and deletes nothing: with fail_mode=secure
 *   the switches keep forwarding on their flows (reliability.md §3.2).
 *
 * {@link PlumbingHook} receives every committed snapshot before the
 * commit returns; src/plumb/hook.ts implements it over OVSDB (bridges,
 * patch, VXLAN and VM ports, VM port tags, issue §2). A bridge whose flows
 * need a topology port the switch has not reported yet (plumbing adds it
 * after the commit) is not *applied* until the reconciliation that port's
 * PORT_STATUS triggers.
 */
import type { OfMessage } from "../../codec/message.js";
import type { OfpPort } from "../../codec/messages/port.js";
import type { ErrorMessage } from "../../codec/messages/error.js";
import type { FlowStats } from "../../codec/messages/multipart-flow.js";
import {
  compileHost,
  defaultOfports,
  PATCH_INT,
  tunnelPortName,
  type CompileInput,
  type HostOfports,
} from "../dvr/compile/index.js";
import type { DesiredFlow } from "../dvr/flow.js";
import { compileInputFromSnapshot } from "../dvr/offline.js";
import { BRIDGE_NAMES, COOKIE, type BridgeName } from "../dvr/tables.js";
import type { Logger } from "../log.js";
import type { BridgeMetrics, Metrics } from "../metrics.js";
import {
  mapSwitchTunnelPorts,
  type TunnelPortView,
  type UnmappedTunnelPort,
} from "../plumb/tunnels.js";
import type { CommitOptions, StoreSnapshot, TopologyStore } from "../store/store.js";
import { topologyToJson, type Topology } from "../topology/schema.js";
import { dpidText, type Connection, type ConnectionHandler } from "./connection.js";
import { desiredDigest } from "./desired-digest.js";
import {
  diffDesired,
  flowDiffText,
  isEmptyChange,
  newAllocations,
  placementChange,
  routersOf,
  scratchSnapshot,
  type BridgeDryRun,
  type DryRunReport,
  type HostDryRun,
  type RouterPlacementChange,
  type SwitchPreview,
} from "./dry-run.js";
import { describeOfError } from "./of-error.js";
import {
  PACKET_IN_REASON,
  PacketInIntent,
  PacketInLimiter,
  DEFAULT_PACKET_IN_LIMIT,
  handlePacketIn,
  packetInClass,
  packetInLimits,
  withFrame,
  type PacketInClass,
  type PacketInLimit,
  type PacketInLimits,
  type PacketInSwitch,
} from "./packet-in.js";
import {
  DumpFailedError,
  diffFlows,
  reconcileBridge,
  type BundleMode,
  type ReconcileResult,
} from "./reconcile.js";
import type { PortChange, Session } from "./session.js";

/** Receives every committed topology (e.g. to plumb hosts over OVSDB). */
export interface PlumbingHook {
  apply(snapshot: StoreSnapshot): Promise<void>;
  /**
   * The tunnel ports of `host`'s tunnel bridge as its OVSDB says (port
   * name → the host it leads to, by `options:remote_ip`), or undefined when
   * the hook has no database data for the host (no `ovsdb` address, not
   * reached yet). The controller then maps tunnels by name alone.
   */
  tunnelPorts?(host: string): ReadonlyMap<string, string> | undefined;
  /** Registers `listener`, called with a host whenever its {@link tunnelPorts} change. */
  onTunnelPorts?(listener: (host: string) => void): void;
}

export interface ControllerOptions {
  readonly store: TopologyStore;
  readonly log: Logger;
  readonly metrics?: Metrics;
  /** ONF bundles for reconciliation. Default "auto". */
  readonly bundles?: BundleMode;
  /**
   * Packet-in token buckets per bridge and class (packet-in.ts
   * {@link PacketInClass}): a class not given here gets
   * `packetInRate`/`packetInBurst`, else DEFAULT_PACKET_IN_LIMIT (1000/s,
   * burst 200).
   */
  readonly packetInLimits?: Partial<Record<PacketInClass, PacketInLimit>>;
  /** Packet-ins handled per second per bridge and class, for classes not in `packetInLimits`. */
  readonly packetInRate?: number;
  /** Burst of those buckets. */
  readonly packetInBurst?: number;
  readonly plumbing?: PlumbingHook;
  /** ms clock. Default Date.now. */
  readonly clock?: () => number;
  /**
   * Audit period, ms, over the topology's `controller.audit_interval`
   * (seconds, default 60); 0 disables the audit.
   */
  readonly auditIntervalMs?: number;
}

/** Audit period when the topology does not set `controller.audit_interval`, seconds. */
export const DEFAULT_AUDIT_INTERVAL_S = 60;

/**
 * Why a bridge is reconciled. Only a topology change may be satisfied
 * without a dump (see "skipping unchanged bridges" above); every other
 * trigger says the switch's flows may not be what we last applied.
 */
export type ReconcileTrigger = "topology" | "connect" | "port" | "route_miss" | "audit" | "resync";

/** Outcomes of one reconciliation run, the `outcome` label of `reconciles_total`. */
export const RECONCILE_OUTCOME = {
  /** Dumped, diffed, sent what differed, barrier-confirmed. */
  applied: "applied",
  /** Desired set unchanged and nothing happened to the bridge: synced without a dump. */
  skipped: "skipped",
  /** The switch answered OFPT_ERROR to a FLOW_MOD. */
  refused: "refused",
  /** The dump (or the sending) failed: state unknown. */
  failed: "failed",
} as const;

/** Highest ordinary port number (OFPP_MAX is 0xffffff00; ours stop at 0xfeff). */
const MAX_TRACE_OFPORT = 0xfeff;

/** Offending requests whose refusal may leave a bridge's flows other than we think. */
const FLOW_CHANGING_REQUESTS: ReadonlySet<string> = new Set(["flow_mod", "bundle_add"]);

export interface ReconcileSummary {
  readonly at: number;
  readonly generation: number;
  readonly ms: number;
  readonly added: number;
  readonly modified: number;
  readonly deleted: number;
  readonly bundle: boolean;
  readonly canaryMissing: boolean;
}

/** One expected bridge and what we know of it. */
interface BridgeSlot {
  readonly host: string;
  readonly bridge: BridgeName;
  readonly dpid: bigint;
  conn: Connection | undefined;
  /** Generation last installed and barrier-confirmed, -1 for none. */
  applied: number;
  /** Generation of the last reconciliation that finished, successful or not. */
  attempted: number;
  lastError: string | undefined;
  lastReconcile: ReconcileSummary | undefined;
  flowsDesired: number;
  flowsInstalled: number | undefined;
  /**
   * Topology ports the last reconciliation needed but the switch had not
   * reported (their flows were skipped). While any is missing the bridge
   * does not count as applied: the port's flows come with the reconciliation
   * its PORT_STATUS triggers.
   */
  missingPorts: readonly string[];
  /**
   * br-tun ports that may be tunnels but can be mapped to no host (no OVSDB
   * data, not Neutron's name), at the last reconciliation; and those already
   * logged (`tunnel.unmapped` once per port while it stays unmapped).
   */
  unmappedPorts: readonly UnmappedTunnelPort[];
  readonly warnedUnmapped: Set<string>;
  /** How the last reconciliation that did not apply ended. */
  lastFailure: "refused" | "failed" | undefined;
  /** Digest of the desired set last applied on this connection; undefined when not known good. */
  appliedDigest: string | undefined;
  /** Something may have changed the switch's flows since the last dump: the next run dumps. */
  mustDump: boolean;
  running: boolean;
  dirty: boolean;
  readonly bundleSupport: { supported: boolean | undefined };
  bundleId: number;
  /** Packet-in buckets, one per class. */
  readonly limiter: PacketInLimiter;
  /** The bridge's series, labels bound once; undefined without metrics. */
  readonly metrics: BridgeMetrics | undefined;
  /** What a packet-in is read against; made at `ready()` for the connection. */
  packetInSwitch: PacketInSwitch | undefined;
}

/**
 * A bridge's ports for packet-ins, read live from the connection's session
 * (PORT_STATUS updates it): one object per connection, not closures per
 * packet-in.
 */
class SessionSwitch implements PacketInSwitch {
  constructor(
    readonly host: string,
    readonly bridge: BridgeName,
    private readonly session: Session,
  ) {}

  portName(no: number): string | undefined {
    return this.session.ports.get(no)?.name;
  }

  portNumber(name: string): number | undefined {
    return this.session.portNumber(name);
  }
}

export interface BridgeStatus {
  readonly dpid: string;
  readonly connected: boolean;
  readonly synced_generation: number | null;
  readonly flows_desired: number;
  readonly flows_installed: number | null;
  readonly last_reconcile: ReconcileSummary | null;
  readonly last_error: string | null;
  readonly ports: number;
  /** Topology ports the flows need and the switch has not reported (their flows wait). */
  readonly missing_ports: readonly string[];
  /**
   * br-tun only: ports that look like tunnels but map to no host (no OVSDB
   * data for the host and not named `vxlan-<remote IP in hex>`): they get no
   * flows; `expected` are the tunnel names the switch lacks.
   */
  readonly unmapped_ports?: readonly UnmappedTunnelPort[];
}

export interface ControllerStatus {
  readonly generation: number;
  readonly hosts: Record<string, Record<BridgeName, BridgeStatus>>;
}

/**
 * Where one bridge stands with a generation ({@link Controller.waitApplied}).
 * The first four are final: waiting longer changes nothing by itself.
 */
export const BRIDGE_APPLY_STATUS = {
  /** Installed and barrier-confirmed, every port its flows need present. */
  applied: "applied",
  /** No connection: reconciled when the bridge connects (nothing confirmed). */
  notConnected: "not_connected",
  /** The switch answered OFPT_ERROR to a FLOW_MOD (`error` names it and the flow). */
  refused: "refused",
  /** The dump or the sending failed: the switch's state is unknown. */
  failed: "failed",
  /**
   * br-tun lacks a tunnel its flows need and has a port that may be it but
   * cannot be mapped (no OVSDB data, not Neutron's name): no flows come for
   * it until the port is renamed or the host gets an `ovsdb` address.
   */
  tunnelUnmapped: "tunnel_unmapped",
  /** Connected, its reconciliation at this generation not finished yet. */
  pending: "pending",
  /** Installed, but ports its flows need are not on the switch yet (plumbing adds them). */
  waitingForPorts: "waiting_for_ports",
} as const;
export type BridgeApplyStatus = (typeof BRIDGE_APPLY_STATUS)[keyof typeof BRIDGE_APPLY_STATUS];

/** Statuses that more waiting may still turn into `applied`. */
const WAITING_STATUSES: ReadonlySet<BridgeApplyStatus> = new Set([
  BRIDGE_APPLY_STATUS.pending,
  BRIDGE_APPLY_STATUS.waitingForPorts,
]);

export interface BridgeApplyResult {
  readonly host: string;
  readonly bridge: BridgeName;
  readonly connected: boolean;
  readonly applied: boolean;
  readonly status: BridgeApplyStatus;
  readonly error?: string;
}

export interface ApplyReport {
  readonly generation: number;
  /** No bridge is still on its way: each is applied, not connected, refused, failed or unmapped. */
  readonly done: boolean;
  /** Every bridge of the topology applied `generation`. */
  readonly applied: boolean;
  readonly bridges: readonly BridgeApplyResult[];
}

interface Waiter {
  readonly generation: number;
  readonly resolve: (r: ApplyReport) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Raised by {@link Controller.apply} callers' lookups of hosts/bridges. */
export class UnknownBridgeError extends Error {
  constructor(host: string, bridge: string) {
    super(`no bridge ${bridge} on host ${host}`);
    this.name = "UnknownBridgeError";
  }
}

export class Controller implements ConnectionHandler {
  private snap!: StoreSnapshot;
  private compileBase!: CompileInput;
  private intent!: PacketInIntent;
  /** By datapath id. */
  private slots = new Map<bigint, BridgeSlot>();
  private readonly waiters = new Set<Waiter>();
  private commitChain: Promise<unknown> = Promise.resolve();
  private readonly clock: () => number;
  private auditTimer: ReturnType<typeof setInterval> | undefined;
  private auditMs = 0;
  readonly log: Logger;
  private stopped = false;
  /** Packet-in buckets of every bridge, per class. */
  readonly packetInLimits: PacketInLimits;

  constructor(private readonly options: ControllerOptions) {
    this.clock = options.clock ?? Date.now;
    this.log = options.log;
    this.packetInLimits = packetInLimits(
      options.packetInLimits,
      options.packetInRate === undefined && options.packetInBurst === undefined
        ? undefined
        : {
            rate: options.packetInRate ?? DEFAULT_PACKET_IN_LIMIT.rate,
            burst: options.packetInBurst ?? DEFAULT_PACKET_IN_LIMIT.burst,
          },
    );
    // The tunnels OVSDB showed for a host changed: its br-tun's port mapping did.
    options.plumbing?.onTunnelPorts?.((host) => {
      const s = this.slotOf(host, "br-tun");
      if (s !== undefined) this.kick(s, "port");
    });
  }

  /**
   * Loads the store and, when `topology` is given, commits it (an identical
   * document keeps its generation, so a restart changes nothing).
   */
  async init(topology?: Topology): Promise<StoreSnapshot> {
    let snap = await this.options.store.load();
    if (topology !== undefined) snap = await this.options.store.commit(topology);
    if (snap === undefined) throw new Error("the store is empty and no topology was given");
    this.install(snap);
    await this.plumb(snap);
    return snap;
  }

  get snapshot(): StoreSnapshot {
    return this.snap;
  }

  get generation(): number {
    return this.snap.generation;
  }

  /**
   * Validates and commits a new topology, then reconciles every connected
   * bridge. Serialized: concurrent calls commit one after another. Throws
   * the store's errors (TopologyError, GenerationConflictError, …) with
   * nothing changed.
   */
  apply(topology: Topology, options: CommitOptions = {}): Promise<StoreSnapshot> {
    const run = this.commitChain.then(async () => {
      const before = this.snap.generation;
      const snap = await this.options.store.commit(topology, options);
      if (snap.generation !== before) {
        this.install(snap);
        await this.plumb(snap);
      }
      return snap;
    });
    this.commitChain = run.catch(() => undefined);
    return run;
  }

  /**
   * Resolves once no bridge is on its way to `generation` any more (each is
   * applied, not connected, refused, failed or has an unmapped tunnel), or
   * after `timeoutMs` with `done: false`. Bridges that are not connected are
   * not waited for: they are reconciled when they connect.
   */
  waitApplied(generation: number, timeoutMs: number): Promise<ApplyReport> {
    const now = this.report(generation);
    if (now.done) return Promise.resolve(now);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        generation,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(this.report(generation));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Per host and bridge: connection, sync and flow counts (`GET /v1/status`). */
  status(): ControllerStatus {
    const hosts: Record<string, Record<string, BridgeStatus>> = {};
    for (const s of this.slots.values()) {
      (hosts[s.host] ??= {})[s.bridge] = {
        dpid: dpidText(s.dpid),
        connected: s.conn !== undefined,
        synced_generation: s.applied < 0 ? null : s.applied,
        flows_desired: s.flowsDesired,
        flows_installed: s.flowsInstalled ?? null,
        last_reconcile: s.lastReconcile ?? null,
        last_error: s.lastError ?? null,
        ports: s.conn?.session.ports.size ?? 0,
        missing_ports: s.conn === undefined ? [] : s.missingPorts,
        ...(s.bridge === "br-tun"
          ? { unmapped_ports: s.conn === undefined ? [] : this.tunnelView(s.host).unmapped }
          : {}),
      };
    }
    return { generation: this.snap.generation, hosts: hosts as ControllerStatus["hosts"] };
  }

  /** The compiled flows of one bridge, with the switch's port numbers when connected. */
  desiredFlows(host: string, bridge: BridgeName): readonly DesiredFlow[] {
    const slot = this.slotOf(host, bridge);
    if (slot === undefined) throw new UnknownBridgeError(host, bridge);
    return this.compile(slot);
  }

  /** Live dump of our flows on one bridge (undefined when not connected). */
  async installedFlows(host: string, bridge: BridgeName): Promise<FlowStats[] | undefined> {
    const slot = this.slotOf(host, bridge);
    if (slot === undefined) throw new UnknownBridgeError(host, bridge);
    if (slot.conn === undefined) return undefined;
    const prefix = BigInt(this.snap.topology.controller.cookie_prefix) << COOKIE.prefixShift;
    return slot.conn.dumpFlows(prefix, COOKIE.ownerMask);
  }

  /**
   * What committing `topology` would do, with nothing committed, allocated
   * in the store or sent (the API's `?dry_run=true`, dry-run.ts). The
   * switch side comes from a live dump of each connected bridge the commit
   * would dump; a bridge the commit would skip (in sync, flows unchanged)
   * is `unchanged` without one. Throws what a commit throws.
   */
  async dryRun(topology: Topology): Promise<DryRunReport> {
    const current = this.snap;
    const currentBase = this.compileBase;
    const next = await scratchSnapshot(current, topology);
    const nextBase = compileInputFromSnapshot(next);
    const names = [
      ...new Set([...currentBase.index.hosts, ...nextBase.index.hosts].map((h) => h.name)),
    ].sort();
    const perHost = await Promise.all(
      names.map(async (host) => {
        const entries = await Promise.all(
          BRIDGE_NAMES.map(
            async (bridge) =>
              [bridge, await this.dryRunBridge(host, bridge, currentBase, nextBase)] as const,
          ),
        );
        const bridges = Object.fromEntries(entries) as Record<BridgeName, BridgeDryRun>;
        const status: HostDryRun["status"] =
          currentBase.index.host(host) === undefined
            ? "added"
            : nextBase.index.host(host) === undefined
              ? "removed"
              : entries.some(([, b]) => !isEmptyChange(b.desired))
                ? "changed"
                : "unchanged";
        const placement = placementChange(
          routersOf(currentBase.index, host),
          routersOf(nextBase.index, host),
        );
        return { host, status, bridges, placement };
      }),
    );
    const hosts: Record<string, HostDryRun> = {};
    const unchangedHosts: string[] = [];
    const routerPlacement: Record<string, RouterPlacementChange> = {};
    const desired = { add: 0, modify: 0, delete: 0 };
    const sent = { add: 0, modify: 0, delete: 0 };
    for (const h of perHost) {
      if (h.placement !== undefined) routerPlacement[h.host] = h.placement;
      let quiet = h.status === "unchanged" && h.placement === undefined;
      for (const b of Object.values(h.bridges)) {
        for (const op of ["add", "modify", "delete"] as const) {
          desired[op] += b.desired.counts[op];
          if (b.switch.status === "diff") sent[op] += b.switch.counts[op];
        }
        if (
          b.switch.status === "unknown" ||
          (b.switch.status === "diff" && !isEmptyChange(b.switch))
        )
          quiet = false;
      }
      if (quiet) unchangedHosts.push(h.host);
      else hosts[h.host] = { status: h.status, bridges: h.bridges };
    }
    return {
      dry_run: true,
      valid: true,
      generation: current.generation,
      changed:
        JSON.stringify(topologyToJson(current.topology)) !==
        JSON.stringify(topologyToJson(next.topology)),
      allocations: newAllocations(current, next),
      router_placement: routerPlacement,
      hosts,
      unchanged_hosts: unchangedHosts,
      totals: { desired, switch: sent },
    };
  }

  /** One bridge of {@link dryRun}: compiled with the switch's ports when connected, else offline. */
  private async dryRunBridge(
    host: string,
    bridge: BridgeName,
    currentBase: CompileInput,
    nextBase: CompileInput,
  ): Promise<BridgeDryRun> {
    const h = nextBase.index.host(host);
    const dpid = h === undefined ? undefined : bridge === "br-int" ? h.brIntDpid : h.brTunDpid;
    const slot = dpid === undefined ? undefined : this.slots.get(dpid);
    const conn =
      slot?.host === host && slot.bridge === bridge && slot.conn?.session.state === "ready"
        ? slot.conn
        : undefined;
    // Without a connection, plumb's numbering (what `dvrflow compile` shows).
    const ofports = conn === undefined ? undefined : new Map([[host, this.hostOfports(host)]]);
    const compile = (base: CompileInput) =>
      base.index.host(host) === undefined
        ? undefined
        : compileHost(ofports === undefined ? base : { ...base, ofports }, host);
    const before = compile(currentBase);
    const after = compile(nextBase);
    const proposed = after?.bridges[bridge] ?? [];
    const waiting =
      conn === undefined || after === undefined
        ? []
        : [...new Set(after.skipped.filter((k) => k.bridge === bridge).map((k) => k.port))].sort();
    let preview: SwitchPreview;
    if (after === undefined) preview = { status: "removed" };
    else if (conn === undefined || slot === undefined) preview = { status: "not_connected" };
    else if (!slot.mustDump && slot.appliedDigest === desiredDigest(proposed)) {
      preview = { status: "unchanged" };
    } else {
      const prefix = nextBase.index.topology.controller.cookie_prefix;
      try {
        const installed = await conn.dumpFlows(
          BigInt(prefix & 0xff) << COOKIE.prefixShift,
          COOKIE.ownerMask,
        );
        preview = { status: "diff", ...flowDiffText(diffFlows(proposed, installed, prefix)) };
      } catch (e) {
        preview = { status: "unknown", reason: e instanceof Error ? e.message : String(e) };
      }
    }
    return {
      connected: conn !== undefined,
      ofports: conn === undefined ? "offline" : "switch",
      desired: diffDesired(before?.bridges[bridge] ?? [], proposed),
      switch: preview,
      ...(waiting.length > 0 ? { waiting_for_ports: waiting } : {}),
    };
  }

  /** Asks for a reconciliation, with a dump, of every connected bridge. */
  resyncAll(): void {
    for (const s of this.slots.values()) this.kick(s, "resync");
  }

  /** Audit period in force, ms (0 = off). */
  get auditIntervalMs(): number {
    return this.auditMs;
  }

  /** Closes every connection; installs and deletes nothing. */
  stop(): void {
    this.stopped = true;
    this.armAudit(0);
    for (const s of this.slots.values()) s.conn?.shutdown("controller stopping");
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(this.report(w.generation));
    }
    this.waiters.clear();
  }

  // ---------------------------------------------------------------- ConnectionHandler

  ready(conn: Connection): void {
    const dpid = conn.datapathId!;
    const slot = this.slots.get(dpid);
    const m = this.options.metrics;
    if (slot === undefined || this.stopped) {
      this.log.warn(
        { event: "switch.unknown", dpid: dpidText(dpid), remote: conn.transport.remote },
        "datapath id not in the topology: no flows, closing",
      );
      m?.unknownDatapaths.inc({ dpid: dpidText(dpid) });
      conn.shutdown("unknown datapath id");
      return;
    }
    const old = slot.conn;
    slot.conn = conn;
    // A new connection's flows are unknown until it is reconciled.
    slot.applied = -1;
    slot.attempted = -1;
    slot.flowsInstalled = undefined;
    slot.appliedDigest = undefined;
    slot.bundleSupport.supported = undefined;
    slot.packetInSwitch = new SessionSwitch(slot.host, slot.bridge, conn.session);
    conn.log = conn.log.child({ host: slot.host, bridge: slot.bridge });
    if (old !== undefined && old !== conn) {
      this.log.warn(
        { event: "switch.duplicate", dpid: dpidText(dpid), host: slot.host, bridge: slot.bridge },
        "a new connection claims this datapath id: replacing the old one",
      );
      old.shutdown("replaced by a newer connection with the same datapath id");
    }
    conn.log.info(
      { event: "switch.connected", ports: conn.session.ports.size },
      `${slot.host} ${slot.bridge} connected`,
    );
    slot.metrics?.connected();
    this.updateGauges();
    this.kick(slot, "connect");
  }

  port(conn: Connection, change: PortChange, port: OfpPort): void {
    const slot = this.slotOfConn(conn);
    if (slot === undefined) return;
    conn.log.info(
      { event: "port.status", change, port: port.name, ofport: port.portNo },
      `port ${change}`,
    );
    this.kick(slot, "port");
  }

  /**
   * The hot path of a packet-in flood: no closure, label object or string
   * is made per packet-in (the switch view is the connection's, the counts
   * are the bridge's tallies).
   */
  packetIn(conn: Connection, msg: Extract<OfMessage, { type: "packet_in" }>): void {
    const slot = this.slotOfConn(conn);
    const sw = slot?.packetInSwitch;
    if (slot === undefined || sw === undefined) return;
    const table = msg.tableId;
    const cls = packetInClass(slot.bridge, table);
    if (!slot.limiter.take(cls, this.clock())) {
      slot.metrics?.packetIn(PACKET_IN_REASON.rateLimited, table, cls);
      return;
    }
    if (conn.isCongested) {
      slot.metrics?.packetIn(PACKET_IN_REASON.backpressure, table, cls);
      return;
    }
    const decision = handlePacketIn(this.intent, sw, msg);
    if (decision.kind === "drop") {
      slot.metrics?.packetIn(decision.reason, table, cls);
      if (conn.log.isLevelEnabled("debug"))
        conn.log.debug(
          { event: "packet_in.drop", reason: decision.reason, table, class: cls },
          "packet-in dropped",
        );
      return;
    }
    // One count per packet-in: what became of it.
    const sent = conn.sendUnreliable(withFrame(decision.packetOut, msg.data));
    slot.metrics?.packetIn(sent ? decision.reason : PACKET_IN_REASON.backpressure, table, cls);
    if (decision.resync) this.kick(slot, "route_miss");
  }

  closed(conn: Connection, reason: string): void {
    const slot = this.slotOfConn(conn);
    if (slot === undefined) return;
    slot.conn = undefined;
    slot.packetInSwitch = undefined;
    this.log.info(
      {
        event: "switch.disconnected",
        host: slot.host,
        bridge: slot.bridge,
        dpid: dpidText(slot.dpid),
        reason,
      },
      `${slot.host} ${slot.bridge} disconnected`,
    );
    slot.metrics?.disconnected();
    this.updateGauges();
    this.checkWaiters();
  }

  ofError(conn: Connection, err: ErrorMessage): void {
    const d = describeOfError(err);
    const dpid = conn.datapathId;
    const bridgeMetrics = this.slotOfConn(conn)?.metrics;
    if (bridgeMetrics !== undefined) bridgeMetrics.ofError(d.type, d.code);
    else
      this.options.metrics?.ofErrors.inc({
        dpid: dpid === undefined ? "unknown" : dpidText(dpid),
        type: String(d.type),
        code: String(d.code),
      });
    // A refused FLOW_MOD (or one we cannot identify) means the table may not
    // be what we last applied: no skipping until a dump says what it is. A
    // refused bundle OPEN (switches without bundles) or packet-out changes
    // no flow.
    if (d.request === undefined || FLOW_CHANGING_REQUESTS.has(d.request)) {
      const slot = this.slotOfConn(conn);
      if (slot !== undefined) slot.mustDump = true;
    }
  }

  echoRtt(conn: Connection, ms: number): void {
    this.slotOfConn(conn)?.metrics?.echoRtt(ms / 1000);
  }

  // ---------------------------------------------------------------- internals

  private slotOf(host: string, bridge: BridgeName): BridgeSlot | undefined {
    for (const s of this.slots.values()) if (s.host === host && s.bridge === bridge) return s;
    return undefined;
  }

  private slotOfConn(conn: Connection): BridgeSlot | undefined {
    const dpid = conn.datapathId;
    if (dpid === undefined) return undefined;
    const s = this.slots.get(dpid);
    return s?.conn === conn ? s : undefined;
  }

  /** Makes `snap` the topology in force: allowlist, intent, and a resync of every bridge. */
  private install(snap: StoreSnapshot): void {
    this.snap = snap;
    this.compileBase = compileInputFromSnapshot(snap);
    this.intent = new PacketInIntent(this.compileBase.index, snap.localVlans);
    const old = this.slots;
    const slots = new Map<bigint, BridgeSlot>();
    for (const h of this.compileBase.index.hosts) {
      for (const bridge of BRIDGE_NAMES) {
        const dpid = bridge === "br-int" ? h.brIntDpid : h.brTunDpid;
        const prev = old.get(dpid);
        if (prev !== undefined && prev.host === h.name && prev.bridge === bridge) {
          slots.set(dpid, prev);
          continue;
        }
        slots.set(dpid, {
          host: h.name,
          bridge,
          dpid,
          // A datapath id that now names another host or bridge does not keep
          // its connection (closed below): a run of the old role may still be
          // in flight on it, and its logger names the old role.
          conn: undefined,
          applied: -1,
          attempted: -1,
          lastError: undefined,
          lastReconcile: undefined,
          flowsDesired: 0,
          flowsInstalled: undefined,
          missingPorts: [],
          unmappedPorts: [],
          warnedUnmapped: new Set(),
          lastFailure: undefined,
          appliedDigest: undefined,
          mustDump: true,
          running: false,
          dirty: false,
          bundleSupport: { supported: undefined },
          bundleId: 0,
          limiter: new PacketInLimiter(this.packetInLimits),
          metrics: this.options.metrics?.bridge({ dpid: dpidText(dpid), host: h.name, bridge }),
          packetInSwitch: undefined,
        });
      }
    }
    this.slots = slots;
    for (const [dpid, s] of old) {
      if (slots.get(dpid) === s) continue;
      // The bridge left the topology, or its datapath id now names another
      // host or bridge: its series go (the new slot starts its own).
      s.metrics?.remove();
      if (s.conn === undefined) continue;
      if (!slots.has(dpid)) {
        this.log.warn(
          { event: "switch.removed", dpid: dpidText(dpid), host: s.host },
          "bridge left the topology",
        );
        s.conn.shutdown("datapath id removed from the topology");
      } else {
        const now = slots.get(dpid)!;
        this.log.warn(
          {
            event: "switch.moved",
            dpid: dpidText(dpid),
            from: `${s.host}/${s.bridge}`,
            to: `${now.host}/${now.bridge}`,
          },
          "datapath id now names another bridge: reconnecting it",
        );
        s.conn.shutdown(`datapath id now names ${now.host}/${now.bridge}`);
      }
    }
    this.options.metrics?.generation.set(snap.generation);
    this.log.info(
      { event: "config.applied", generation: snap.generation },
      `topology generation ${snap.generation}`,
    );
    for (const s of slots.values()) this.kick(s, "topology");
    this.updateGauges();
    const auditS = snap.topology.controller.audit_interval ?? DEFAULT_AUDIT_INTERVAL_S;
    this.armAudit(this.options.auditIntervalMs ?? auditS * 1000);
  }

  /** (Re)starts the audit timer with period `ms`; 0 stops it. */
  private armAudit(ms: number): void {
    if (ms === this.auditMs && (ms === 0) === (this.auditTimer === undefined)) return;
    if (this.auditTimer !== undefined) clearInterval(this.auditTimer);
    this.auditTimer = undefined;
    this.auditMs = this.stopped ? 0 : ms;
    if (this.auditMs <= 0) return;
    this.auditTimer = setInterval(() => this.audit(), this.auditMs);
    // The audit alone never keeps the process alive.
    this.auditTimer.unref();
  }

  /** Dumps and repairs every connected bridge, whatever we believe of it. */
  private audit(): void {
    this.log.debug({ event: "reconcile.audit" }, "audit: re-dumping every connected bridge");
    for (const s of this.slots.values()) this.kick(s, "audit");
  }

  private async plumb(snap: StoreSnapshot): Promise<void> {
    const p = this.options.plumbing;
    if (p === undefined) return;
    try {
      await p.apply(snap);
    } catch (e) {
      this.log.error(
        { event: "plumbing.error", err: e instanceof Error ? e.message : String(e) },
        "plumbing failed",
      );
    }
  }

  /**
   * The switch's port numbers of `host` for the compiler. br-tun's go
   * through the tunnel mapping ({@link tunnelView}): a tunnel the host's
   * OVSDB names otherwise is entered under the compiler's name.
   */
  private hostOfports(host: string): HostOfports {
    const m = new Map<string, number>();
    const s = this.slotOf(host, "br-int");
    if (s?.conn !== undefined)
      for (const p of s.conn.session.ports.values()) m.set(p.name, p.portNo);
    return { "br-int": m, "br-tun": this.tunnelView(host).ofports };
  }

  /**
   * br-tun's ports of `host` mapped onto the compiler's tunnel names, by the
   * host's OVSDB data when the plumbing hook has it, else by Neutron's
   * naming convention (plumb/tunnels.ts `mapSwitchTunnelPorts`).
   */
  private tunnelView(host: string): TunnelPortView {
    const s = this.slotOf(host, "br-tun");
    const ports = s?.conn === undefined ? [] : s.conn.session.ports.values();
    const peers = this.compileBase.index.hosts
      .filter((h) => h.name !== host)
      .map((h) => ({ host: h.name, portName: tunnelPortName(h.tunnelIp) }));
    const fromOvsdb = this.options.plumbing?.tunnelPorts?.(host);
    return mapSwitchTunnelPorts(ports, peers, fromOvsdb, new Set([PATCH_INT, "br-tun"]));
  }

  /** Logs each newly unmapped br-tun port once (`tunnel.unmapped`), forgets the ones gone. */
  private warnUnmapped(slot: BridgeSlot, conn: Connection): void {
    const now = new Set(slot.unmappedPorts.map((u) => u.port));
    for (const name of slot.warnedUnmapped) if (!now.has(name)) slot.warnedUnmapped.delete(name);
    for (const u of slot.unmappedPorts) {
      if (slot.warnedUnmapped.has(u.port)) continue;
      slot.warnedUnmapped.add(u.port);
      const expected = u.expected.length === 0 ? "none missing" : u.expected.join(", ");
      conn.log.warn(
        { event: "tunnel.unmapped", port: u.port, ofport: u.ofport, expected: u.expected },
        `br-tun port ${u.port} of ${slot.host} maps to no host: it is not named ` +
          `vxlan-<remote tunnel IP in hex> and there is no OVSDB data for ${slot.host} ` +
          `(no ovsdb address, or not reached) to read its remote_ip, so it gets no flows; ` +
          `tunnel ports expected: ${expected}`,
      );
    }
  }

  /**
   * Port numbers for tracing (`POST /v1/trace`): per host and bridge the
   * connected switch's (tunnels mapped as for compiling), else `dvrflow
   * plumb`'s numbering; reserved numbers (the bridge's LOCAL port) left out.
   */
  traceOfports(): {
    readonly ofports: Map<string, HostOfports>;
    readonly source: Record<string, Record<BridgeName, "switch" | "offline">>;
  } {
    const ofports = new Map<string, HostOfports>();
    const source: Record<string, Record<BridgeName, "switch" | "offline">> = {};
    const index = this.compileBase.index;
    for (const h of index.hosts) {
      const live = this.hostOfports(h.name);
      const offline = defaultOfports(index, h.name);
      const pick = (bridge: BridgeName) => {
        const connected = this.slotOf(h.name, bridge)?.conn !== undefined;
        const m = new Map<string, number>();
        for (const [name, no] of connected ? live[bridge] : offline[bridge])
          if (no >= 1 && no <= MAX_TRACE_OFPORT) m.set(name, no);
        return { m, from: connected ? ("switch" as const) : ("offline" as const) };
      };
      const int = pick("br-int");
      const tun = pick("br-tun");
      ofports.set(h.name, { "br-int": int.m, "br-tun": tun.m });
      source[h.name] = { "br-int": int.from, "br-tun": tun.from };
    }
    return { ofports, source };
  }

  private compile(slot: BridgeSlot): readonly DesiredFlow[] {
    return this.compileWithMissing(slot).flows;
  }

  /** The bridge's flows, and the topology ports they need that the switch lacks. */
  private compileWithMissing(slot: BridgeSlot): {
    flows: readonly DesiredFlow[];
    missing: readonly string[];
    unmapped: readonly UnmappedTunnelPort[];
  } {
    const started = performance.now();
    const input: CompileInput = {
      ...this.compileBase,
      ofports: new Map([[slot.host, this.hostOfports(slot.host)]]),
    };
    const host = compileHost(input, slot.host);
    this.options.metrics?.compileSeconds.observe((performance.now() - started) / 1000);
    const missing = [
      ...new Set(host.skipped.filter((k) => k.bridge === slot.bridge).map((k) => k.port)),
    ].sort();
    const unmapped = slot.bridge === "br-tun" ? this.tunnelView(slot.host).unmapped : [];
    return { flows: host.bridges[slot.bridge], missing, unmapped };
  }

  private kick(slot: BridgeSlot, trigger: ReconcileTrigger): void {
    if (trigger !== "topology") slot.mustDump = true;
    if (slot.conn === undefined || slot.conn.session.state !== "ready" || this.stopped) return;
    if (slot.running) {
      slot.dirty = true;
      return;
    }
    void this.run(slot);
  }

  private async run(slot: BridgeSlot): Promise<void> {
    slot.running = true;
    try {
      do {
        slot.dirty = false;
        const conn = slot.conn;
        if (conn === undefined || conn.closed || this.slots.get(slot.dpid) !== slot) break;
        await this.reconcileOnce(slot, conn);
      } while (slot.dirty);
    } finally {
      slot.running = false;
      this.updateGauges();
      this.checkWaiters();
    }
  }

  private async reconcileOnce(slot: BridgeSlot, conn: Connection): Promise<void> {
    const generation = this.snap.generation;
    const prefix = this.snap.topology.controller.cookie_prefix;
    const { flows: desired, missing, unmapped } = this.compileWithMissing(slot);
    slot.flowsDesired = desired.length;
    slot.unmappedPorts = unmapped;
    this.warnUnmapped(slot, conn);
    const m = slot.metrics;
    m?.flowsDesired(desired.length);
    const digest = desiredDigest(desired);
    if (!slot.mustDump && slot.appliedDigest === digest) {
      // The flows we applied and confirmed are still the ones wanted, and
      // nothing since could have changed them: synced without a dump.
      slot.missingPorts = missing;
      slot.attempted = Math.max(slot.attempted, generation);
      slot.applied = Math.max(slot.applied, generation);
      m?.reconciled(RECONCILE_OUTCOME.skipped);
      conn.log.debug(
        { event: "reconcile.skipped", generation },
        "flows unchanged: synced without a dump",
      );
      return;
    }
    // From here the switch's state is what the dump says; an event during
    // this run sets mustDump again and makes the next run dump too.
    slot.mustDump = false;
    slot.appliedDigest = undefined;
    let r: ReconcileResult;
    try {
      r = await reconcileBridge(conn, desired, {
        cookiePrefix: prefix,
        bundles: this.options.bundles ?? "auto",
        bundleSupport: slot.bundleSupport,
        bundleId: ++slot.bundleId,
      });
    } catch (e) {
      // A run on a connection that has since been replaced says nothing
      // about the bridge: the new connection's own run reports it.
      if (slot.conn !== conn) return;
      const msg = e instanceof Error ? e.message : String(e);
      slot.attempted = Math.max(slot.attempted, generation);
      slot.lastError = msg;
      slot.lastFailure = "failed";
      slot.flowsInstalled = undefined;
      slot.mustDump = true;
      m?.reconciled(RECONCILE_OUTCOME.failed);
      conn.log.warn(
        { event: "reconcile.failed", generation, unknown: e instanceof DumpFailedError, err: msg },
        "reconciliation failed",
      );
      return;
    }
    if (slot.conn !== conn) return;
    m?.reconcileSeconds(r.ms / 1000);
    m?.flowMsgsSent("add", r.sent.add + r.sent.modify);
    m?.flowMsgsSent("delete_strict", r.sent.delete);
    m?.reconcileFlows("add", r.sent.add);
    m?.reconcileFlows("modify", r.sent.modify);
    m?.reconcileFlows("delete", r.sent.delete);
    slot.lastReconcile = {
      at: this.clock(),
      generation,
      ms: Math.round(r.ms * 1000) / 1000,
      added: r.sent.add,
      modified: r.sent.modify,
      deleted: r.sent.delete,
      bundle: r.usedBundle,
      canaryMissing: r.canaryMissing,
    };
    slot.attempted = Math.max(slot.attempted, generation);
    if (r.errors.length > 0) {
      const first = r.errors[0]!;
      const d = describeOfError(first.error, first.request);
      slot.lastError = `${r.errors.length} flow(s) refused; first: ${d.name}${d.flow === undefined ? "" : ` for ${d.flow}`}`;
      slot.lastFailure = "refused";
      slot.flowsInstalled = undefined;
      slot.mustDump = true;
      m?.reconciled(RECONCILE_OUTCOME.refused);
      conn.log.warn(
        {
          event: "reconcile.errors",
          generation,
          errors: r.errors.length,
          first: d.name,
          flow: d.flow,
        },
        "switch refused flows",
      );
      return;
    }
    slot.missingPorts = missing;
    slot.applied = Math.max(slot.applied, generation);
    slot.appliedDigest = digest;
    slot.lastError = undefined;
    slot.lastFailure = undefined;
    slot.flowsInstalled = r.installedAfter;
    m?.reconciled(RECONCILE_OUTCOME.applied);
    m?.flowsInstalled(r.installedAfter);
    const changed = r.sent.add + r.sent.modify + r.sent.delete;
    conn.log[changed > 0 || r.canaryMissing ? "info" : "debug"](
      {
        event: "reconcile.done",
        generation,
        add: r.sent.add,
        modify: r.sent.modify,
        delete: r.sent.delete,
        unchanged: r.diff.unchanged,
        learned: r.diff.ignored.learned,
        bundle: r.usedBundle,
        canary_missing: r.canaryMissing,
        ms: Math.round(r.ms),
      },
      changed > 0 ? `reconciled: +${r.sent.add} ~${r.sent.modify} -${r.sent.delete}` : "in sync",
    );
  }

  private report(generation: number): ApplyReport {
    const bridges: BridgeApplyResult[] = [];
    let done = true;
    let applied = true;
    for (const s of this.slots.values()) {
      const r = this.bridgeResult(s, generation);
      if (WAITING_STATUSES.has(r.status)) done = false;
      if (r.status !== BRIDGE_APPLY_STATUS.applied) applied = false;
      bridges.push(r);
    }
    return { generation, done, applied, bridges };
  }

  /** Where `s` stands with `generation` (see {@link BRIDGE_APPLY_STATUS}). */
  private bridgeResult(s: BridgeSlot, generation: number): BridgeApplyResult {
    const connected = s.conn !== undefined;
    const result = (status: BridgeApplyStatus, error?: string): BridgeApplyResult => ({
      host: s.host,
      bridge: s.bridge,
      connected,
      applied: status === BRIDGE_APPLY_STATUS.applied,
      status,
      ...(error === undefined ? {} : { error }),
    });
    if (!connected) return result(BRIDGE_APPLY_STATUS.notConnected);
    if (s.attempted < generation) return result(BRIDGE_APPLY_STATUS.pending);
    if (s.applied < generation) {
      return result(
        s.lastFailure === "refused" ? BRIDGE_APPLY_STATUS.refused : BRIDGE_APPLY_STATUS.failed,
        s.lastError,
      );
    }
    if (s.missingPorts.length === 0) return result(BRIDGE_APPLY_STATUS.applied);
    // Installed at `generation`, but without the flows of ports the switch
    // has not reported yet (plumbing adds them after the commit): not
    // applied until the reconciliation their PORT_STATUS triggers…
    const missing = `port(s) ${s.missingPorts.join(", ")}`;
    if (s.unmappedPorts.length === 0)
      return result(BRIDGE_APPLY_STATUS.waitingForPorts, `waiting for ${missing} on the switch`);
    // …unless the switch has ports it cannot tell us are those tunnels.
    const which = s.unmappedPorts.map((u) => u.port).join(", ");
    return result(
      BRIDGE_APPLY_STATUS.tunnelUnmapped,
      `${missing} missing; br-tun port(s) ${which} map to no host (no OVSDB data, ` +
        `not named vxlan-<remote tunnel IP in hex>): rename them or give the host an ovsdb address`,
    );
  }

  private checkWaiters(): void {
    for (const w of this.waiters) {
      const r = this.report(w.generation);
      if (!r.done) continue;
      clearTimeout(w.timer);
      this.waiters.delete(w);
      w.resolve(r);
    }
  }

  private updateGauges(): void {
    const m = this.options.metrics;
    if (m === undefined) return;
    let connected = 0;
    let synced = 0;
    for (const s of this.slots.values()) {
      if (s.conn === undefined) {
        s.metrics?.status(false);
        continue;
      }
      connected++;
      const ok = s.applied >= this.snap.generation;
      if (ok) synced++;
      s.metrics?.status(ok);
    }
    m.switchesConnected.set(connected);
    m.appliedRatio.set(connected === 0 ? 1 : synced / connected);
  }
}
