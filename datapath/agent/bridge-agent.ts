/**
 * The OpenFlow side of one bridge in a running switch (OVS `connmgr`): its
 * active controller connections (reconnecting with rconn's backoff), its
 * passive listeners (`ptcp:`/`punix:`, where ovs-ofctl connects), every open
 * {@link SocketChannel}, the fail mode, and the fan-out of the bridge's
 * asynchronous messages (packet-in, flow-removed, port-status) to the
 * connections that take them. Each bridge has its own agent, so each has its
 * own datapath id and its own connections, as in one ovs-vswitchd.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import { unlinkSync } from "node:fs";
import type { Bridge } from "../bridge.js";
import { Backoff, DEFAULT_MAX_BACKOFF_MS } from "./backoff.js";
import { SocketChannel, type ChannelLimits } from "./channel.js";
import { DEFAULT_PROBE_INTERVAL_MS, OfConnection, type ConnectionKind } from "./connection.js";
import { FailOpen, type FailMode } from "./fail-mode.js";
import { silentLog, type AgentLog } from "./log.js";
import {
  activeTargetText,
  passiveTargetText,
  type ActiveTarget,
  type PassiveTarget,
} from "./targets.js";

export interface BridgeAgentOptions {
  readonly controllers?: readonly ActiveTarget[];
  readonly listeners?: readonly PassiveTarget[];
  /** Default "secure". */
  readonly failMode?: FailMode;
  /** Default 5000 ms; 0 disables keep-alive. */
  readonly probeIntervalMs?: number;
  /** Default 8000 ms. */
  readonly maxBackoffMs?: number;
  readonly limits?: ChannelLimits;
  readonly log?: AgentLog;
  readonly clock: () => number;
}

/** A bound listener: where ovs-ofctl can connect. */
export interface ListenAddress {
  readonly target: string;
  /** For ptcp: the bound port (useful with ptcp:0). */
  readonly port?: number;
  readonly host?: string;
  readonly path?: string;
}

class ControllerClient {
  readonly backoff: Backoff;
  private timer: NodeJS.Timeout | null = null;
  private socket: Socket | null = null;
  private stopped = false;
  /** Reconnect delays used so far (ms), for logs and tests. */
  readonly delays: number[] = [];

  constructor(
    readonly target: ActiveTarget,
    private readonly agent: BridgeAgent,
    maxBackoffMs: number,
  ) {
    this.backoff = new Backoff(maxBackoffMs);
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.socket?.destroy();
  }

  private connect(): void {
    this.timer = null;
    if (this.stopped) return;
    const name = activeTargetText(this.target);
    this.agent.log.info({ bridge: this.agent.bridge.name, controller: name }, "connecting...");
    this.backoff.attempt(this.agent.clock());
    const s =
      this.target.kind === "tcp"
        ? connect({ host: this.target.host, port: this.target.port })
        : connect({ path: this.target.path });
    this.socket = s;
    let attached = false;
    s.once("connect", () => {
      attached = true;
      this.agent.attach(s, "controller", name);
    });
    s.on("error", (err) => {
      if (!attached)
        this.agent.log.warn(
          { bridge: this.agent.bridge.name, controller: name, err: err.message },
          "connection failed",
        );
    });
    s.once("close", () => {
      this.socket = null;
      if (this.stopped) return;
      const delay = this.backoff.disconnected(this.agent.clock());
      this.delays.push(delay);
      this.agent.log.info(
        { bridge: this.agent.bridge.name, controller: name, seconds: delay / 1000 },
        `waiting ${delay / 1000} seconds before reconnect`,
      );
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }
}

export class BridgeAgent {
  readonly bridge: Bridge;
  readonly log: AgentLog;
  readonly clock: () => number;
  readonly failOpen: FailOpen;
  readonly channels = new Set<SocketChannel>();
  readonly controllers: ControllerClient[] = [];
  private readonly listenerTargets: readonly PassiveTarget[];
  private readonly servers: Server[] = [];
  readonly addresses: ListenAddress[] = [];
  private readonly probeIntervalMs: number;
  private readonly limits: ChannelLimits | undefined;

  constructor(bridge: Bridge, options: BridgeAgentOptions) {
    this.bridge = bridge;
    this.log = options.log ?? silentLog;
    this.clock = options.clock;
    this.probeIntervalMs = options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    this.limits = options.limits;
    this.failOpen = new FailOpen(options.failMode ?? "secure", this.probeIntervalMs, this.clock());
    for (const t of options.controllers ?? []) {
      this.controllers.push(
        new ControllerClient(t, this, options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS),
      );
    }
    this.listenerTargets = options.listeners ?? [];
  }

  /** Opens the listeners (resolves once all are bound) and starts the controller connections. */
  async start(): Promise<void> {
    for (const t of this.listenerTargets) await this.listen(t);
    for (const c of this.controllers) c.start();
  }

  async stop(): Promise<void> {
    for (const c of this.controllers) c.stop();
    for (const ch of [...this.channels]) ch.close("switch stopping");
    await Promise.all(
      this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
    for (const t of this.listenerTargets) {
      if (t.kind === "punix") tryUnlink(t.path);
    }
  }

  /** Wraps a connected socket in a channel of this bridge. */
  attach(socket: Socket, kind: ConnectionKind, peer: string): SocketChannel {
    const conn = new OfConnection(this.bridge, {
      name: `${this.bridge.name}<->${peer}`,
      kind,
      probeIntervalMs: this.probeIntervalMs,
      log: this.log,
    });
    const ch = new SocketChannel(socket, conn, {
      clock: this.clock,
      log: this.log,
      limits: this.limits,
      onClose: (c) => {
        this.channels.delete(c);
        this.update(this.clock());
      },
      onActivity: () => {
        this.flushAsync();
        this.update(this.clock());
      },
    });
    this.channels.add(ch);
    ch.start();
    return ch;
  }

  /** Periodic work: keep-alive of every connection and the fail mode. */
  tick(nowMs: number): void {
    for (const ch of [...this.channels]) ch.tick(nowMs);
    this.update(nowMs);
  }

  /** Number of controller connections past their handshake. */
  connectedControllers(): number {
    let n = 0;
    for (const ch of this.channels)
      if (ch.conn.kind === "controller" && ch.conn.state === "ready") n++;
    return n;
  }

  /** Hands the bridge's queued asynchronous messages to the connections (or drops them). */
  flushAsync(): void {
    if (this.bridge.outbox.length === 0) return;
    const msgs = this.bridge.drainOutbox();
    for (const ch of this.channels) ch.sendAsync(msgs);
  }

  private update(nowMs: number): void {
    if (this.controllers.length === 0) return;
    const change = this.failOpen.update(this.connectedControllers(), nowMs);
    if (change === "enter") {
      this.log.warn(
        { bridge: this.bridge.name, seconds: this.failOpen.disconnectedSeconds(nowMs) },
        `Could not connect to controller for ${this.failOpen.disconnectedSeconds(nowMs)} seconds, failing open`,
      );
      this.bridge.setFailOpen(true);
    } else if (change === "leave") {
      this.log.warn({ bridge: this.bridge.name }, "No longer in fail-open mode");
      this.bridge.setFailOpen(false);
    }
  }

  private listen(t: PassiveTarget): Promise<void> {
    const server = createServer((socket) => {
      const peer =
        t.kind === "ptcp" ? `tcp:${socket.remoteAddress}:${socket.remotePort}` : `unix:${t.path}`;
      this.log.info({ bridge: this.bridge.name, peer }, "accepted connection");
      this.attach(socket, "service", peer);
    });
    this.servers.push(server);
    if (t.kind === "punix") tryUnlink(t.path);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      const done = (): void => {
        server.off("error", reject);
        server.on("error", (err) =>
          this.log.error({ bridge: this.bridge.name, err: err.message }, "listener error"),
        );
        const a = server.address();
        const addr: ListenAddress =
          t.kind === "ptcp" && a !== null && typeof a === "object"
            ? { target: `ptcp:${a.port}:${a.address}`, port: a.port, host: a.address }
            : { target: passiveTargetText(t), path: t.kind === "punix" ? t.path : undefined };
        this.addresses.push(addr);
        this.log.info(
          { bridge: this.bridge.name, listen: addr.target, port: addr.port, path: addr.path },
          "listening",
        );
        resolve();
      };
      if (t.kind === "ptcp") server.listen(t.port, t.host, done);
      else server.listen(t.path, done);
    });
  }
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
}
