/**
 * The controller's {@link PlumbingHook} over OVSDB: every committed snapshot
 * is handed to one {@link PlumbKeeper} per host that has an `ovsdb` address
 * (created on first sight), so the controller "creates and keeps" br-int,
 * br-tun, the patch, VXLAN and VM ports, VM port tags, the datapath ids and
 * its own controller target (issue 5 §2). Hosts without `ovsdb` (e.g. a
 * `dvrflow switch`) are left alone: nothing can plumb them remotely.
 *
 * A host removed from the topology, or whose `ovsdb` address changed, gets
 * its keeper stopped (and a new one for the new address): what is on the
 * switch stays, as a stopped Neutron agent leaves its bridges.
 *
 * Each plumbing result also says which br-tun ports are tunnels to which
 * host (`PlumbResult.tunnelPorts`, read from `options:remote_ip`); the
 * controller maps them onto the compiler's tunnel port names
 * ({@link OvsdbPlumbing.tunnelPorts}), so a tunnel is recognised whatever
 * its name (issue 5 §2).
 */
import type { PlumbingHook } from "../controller/controller.js";
import type { Logger } from "../log.js";
import type { StoreSnapshot } from "../store/store.js";
import { planFromSnapshot } from "./index.js";
import { PlumbKeeper, type KeeperOptions } from "./keeper.js";
import type { PlumbOptions } from "./plan.js";

export interface OvsdbPlumbingOptions {
  /** Plumbing options of one host (controller target, datapath type, underlay …). */
  readonly optionsFor: (host: string, snap: StoreSnapshot) => PlumbOptions;
  readonly log: Logger;
  /** Passed to every keeper (client options, debounce, backoff). */
  readonly keeper?: Omit<KeeperOptions, "onResult" | "onError">;
  /**
   * How long {@link OvsdbPlumbing.apply} waits for a new host's first
   * plumbing (default 10 s). An unreachable OVSDB must not hold the
   * controller's start or a commit forever: its keeper keeps retrying.
   */
  readonly settleTimeoutMs?: number;
}

const DEFAULT_SETTLE_TIMEOUT_MS = 10_000;

interface Kept {
  readonly remote: string;
  readonly keeper: PlumbKeeper;
}

function sameMap(a: ReadonlyMap<string, string> | undefined, b: ReadonlyMap<string, string>) {
  if (a === undefined || a.size !== b.size) return false;
  for (const [k, v] of b) if (a.get(k) !== v) return false;
  return true;
}

export class OvsdbPlumbing implements PlumbingHook {
  private readonly keepers = new Map<string, Kept>();
  /** Per host, the tunnel ports its database last showed (port name → host). */
  private readonly tunnels = new Map<string, ReadonlyMap<string, string>>();
  private readonly tunnelListeners: ((host: string) => void)[] = [];
  private stopped = false;

  constructor(private readonly options: OvsdbPlumbingOptions) {}

  /** Hosts currently kept (for status and tests). */
  get hosts(): readonly string[] {
    return [...this.keepers.keys()].sort();
  }

  tunnelPorts(host: string): ReadonlyMap<string, string> | undefined {
    return this.tunnels.get(host);
  }

  onTunnelPorts(listener: (host: string) => void): void {
    this.tunnelListeners.push(listener);
  }

  private setTunnels(host: string, ports: ReadonlyMap<string, string> | undefined): void {
    const was = this.tunnels.get(host);
    if (ports === undefined) {
      if (!this.tunnels.delete(host)) return;
    } else {
      if (sameMap(was, ports)) return;
      this.tunnels.set(host, new Map(ports));
    }
    for (const l of this.tunnelListeners) l(host);
  }

  /**
   * Plans every `ovsdb` host from `snap` and waits until each keeper has
   * applied it once (successfully or not: failures are logged and retried
   * by the keeper), so the controller's commit returns after plumbing.
   */
  async apply(snap: StoreSnapshot): Promise<void> {
    if (this.stopped) return;
    const waits: Promise<void>[] = [];
    const wanted = new Set<string>();
    for (const [host, h] of Object.entries(snap.topology.hosts)) {
      if (h.ovsdb === undefined) continue;
      wanted.add(host);
      const plan = planFromSnapshot(snap, host, this.options.optionsFor(host, snap));
      const kept = this.keepers.get(host);
      if (kept !== undefined && kept.remote === h.ovsdb) {
        waits.push(kept.keeper.setPlan(plan));
        continue;
      }
      if (kept !== undefined) {
        this.setTunnels(host, undefined);
        waits.push(kept.keeper.stop());
      }
      const log = this.options.log;
      const keeper = new PlumbKeeper(h.ovsdb, plan, {
        ...this.options.keeper,
        onResult: (r) => {
          // Only the keeper in charge of the host speaks for its tunnels.
          if (this.keepers.get(host)?.keeper === keeper) this.setTunnels(host, r.tunnelPorts);
          if (r.changes.length > 0)
            log.info(
              { event: "plumb.applied", host, changes: r.changes.length },
              `plumbed ${host}: ${r.changes.length} change(s)`,
            );
        },
        onError: (e) => log.warn({ event: "plumb.error", host, err: e.message }, "plumbing failed"),
      });
      this.keepers.set(host, { remote: h.ovsdb, keeper });
      const settled = this.bounded(keeper.settled(), host);
      keeper.start();
      waits.push(settled);
    }
    for (const [host, kept] of this.keepers) {
      if (wanted.has(host)) continue;
      this.keepers.delete(host);
      this.setTunnels(host, undefined);
      waits.push(kept.keeper.stop());
    }
    await Promise.all(waits);
  }

  private bounded(p: Promise<void>, host: string): Promise<void> {
    const ms = this.options.settleTimeoutMs ?? DEFAULT_SETTLE_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.options.log.warn(
          { event: "plumb.pending", host, ms },
          `${host} not plumbed yet after ${ms} ms: continuing, its keeper keeps trying`,
        );
        resolve();
      }, ms);
      timer.unref?.();
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  /** Stops every keeper; the switches keep what was plumbed. */
  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.keepers.values()];
    this.keepers.clear();
    await Promise.all(all.map((k) => k.keeper.stop()));
  }
}
