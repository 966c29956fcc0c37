/**
 * Keeping a host plumbed (issue 5 §2: the controller "creates and keeps"
 * the bridges and ports): apply the plan, then watch the vswitch tables
 * with an OVSDB `monitor` and re-apply whenever someone changes them; on a
 * lost connection, reconnect with exponential backoff and apply again.
 *
 * Reconciles are serialised and debounced: a burst of updates (ovs-vsctl
 * commands, our own transaction echoing back) costs one read, and a second
 * request during a run schedules exactly one more run. Our own transaction's
 * echo finds nothing to do, so the loop settles.
 */
import { OvsdbClient, type MonitorRequest, type OvsdbClientOptions } from "../ovsdb/client.js";
import { applyPlumbing, type PlumbResult } from "./apply.js";
import { VSWITCH_DB, type PlumbPlan } from "./model.js";

export interface KeeperOptions {
  readonly client?: OvsdbClientOptions;
  /** Quiet time after a change before reconciling (default 50 ms). */
  readonly debounceMs?: number;
  /** First and largest reconnect delay (default 250 ms, 30 s). */
  readonly backoffMs?: { readonly initial: number; readonly max: number };
  /** Every reconcile's outcome, including "nothing to do". */
  readonly onResult?: (r: PlumbResult) => void;
  /** Connection and transaction failures (the keeper keeps going). */
  readonly onError?: (e: Error) => void;
}

export interface KeeperStatus {
  readonly connected: boolean;
  readonly reconciles: number;
  readonly lastResult: PlumbResult | undefined;
  readonly lastError: Error | undefined;
}

const MONITOR_ID = "dvrflow-plumb";
/** The columns the plan manages: a change anywhere else wakes nobody. */
const WATCH: Record<string, MonitorRequest> = {
  Open_vSwitch: { columns: ["bridges"] },
  Bridge: {
    columns: [
      "name",
      "datapath_type",
      "fail_mode",
      "protocols",
      "other_config",
      "controller",
      "ports",
    ],
  },
  Port: { columns: ["name", "tag", "external_ids", "interfaces"] },
  Interface: { columns: ["name", "type", "options", "ofport_request", "external_ids"] },
  Controller: { columns: ["target"] },
};

export class PlumbKeeper {
  private client: OvsdbClient | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private again = false;
  private debounce: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private delay: number;
  private reconciles = 0;
  private lastResult: PlumbResult | undefined;
  private lastError: Error | undefined;
  private readonly settledWaiters: (() => void)[] = [];

  constructor(
    readonly remote: string,
    private plan: PlumbPlan,
    private readonly options: KeeperOptions = {},
  ) {
    this.delay = options.backoffMs?.initial ?? 250;
  }

  get status(): KeeperStatus {
    return {
      connected: this.client !== undefined && this.client.closeReason === undefined,
      reconciles: this.reconciles,
      lastResult: this.lastResult,
      lastError: this.lastError,
    };
  }

  /** Connects and keeps reconnecting until {@link stop}. */
  start(): void {
    void this.connect();
  }

  /** Replaces the plan (topology change) and reconciles at once. */
  setPlan(plan: PlumbPlan): Promise<void> {
    this.plan = plan;
    return this.reconcileNow();
  }

  /** Resolves after the next reconcile that runs to its end. */
  settled(): Promise<void> {
    return new Promise((r) => this.settledWaiters.push(r));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.debounce);
    clearTimeout(this.retry);
    await this.running?.catch(() => {});
    await this.client?.close();
    this.client = undefined;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let client: OvsdbClient;
    try {
      client = await OvsdbClient.connect(this.remote, this.options.client);
    } catch (e) {
      this.fail(e);
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) {
      await client.close();
      return;
    }
    this.client = client;
    void client.closed().then((reason) => {
      if (this.client === client) this.client = undefined;
      if (reason !== undefined && !this.stopped) {
        this.fail(reason);
        this.scheduleReconnect();
      }
    });
    try {
      await client.monitor(VSWITCH_DB, MONITOR_ID, WATCH, () => this.schedule());
      this.delay = this.options.backoffMs?.initial ?? 250;
      await this.reconcileNow();
    } catch (e) {
      this.fail(e);
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retry !== undefined) return;
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, this.options.backoffMs?.max ?? 30_000);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect();
    }, wait);
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reconcileNow(), this.options.debounceMs ?? 50);
  }

  private reconcileNow(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        const client = this.client;
        if (client === undefined || this.stopped) break;
        try {
          const r = await applyPlumbing(client, this.plan);
          this.reconciles++;
          this.lastResult = r;
          this.lastError = undefined;
          this.options.onResult?.(r);
        } catch (e) {
          this.fail(e);
        }
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
      for (const w of this.settledWaiters.splice(0)) w();
    });
    return this.running;
  }

  private fail(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    this.lastError = err;
    this.options.onError?.(err);
  }
}
