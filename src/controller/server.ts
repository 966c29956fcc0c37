/**
 * The only socket code of the controller (style.md §2.6): OpenFlow
 * listeners on TCP and/or unix sockets, one {@link Connection} per accepted
 * socket, and one clock that ticks every connection.
 *
 * Per socket it does three things: bytes in → `Connection.data` (which
 * answers everything one read asks for in one write), `drain` →
 * `Connection.drain`, close/error → `Connection.transportClosed`. Writes go
 * through the {@link Transport} wrapper, whose `write` returning false is
 * the backpressure signal.
 *
 * Limits (reliability.md §4.2): at most `maxHandshaking` connections may be
 * mid-handshake at once (more are refused on accept), and each has
 * `handshakeTimeoutMs` to finish (the session enforces it). Plain TCP on a
 * non-loopback address is allowed (Neutron's layout puts the controller on
 * 127.0.0.1, OVS in other namespaces reach a unix socket), but logged.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { existsSync, unlinkSync } from "node:fs";
import type { Logger } from "../log.js";
import {
  formatStreamTarget,
  OPENFLOW_DEFAULT_PORT,
  parseListenTarget,
  type ListenTarget,
} from "../util/targets.js";
import {
  Connection,
  type ConnectionHandler,
  type ConnectionOptions,
  type Transport,
} from "./connection.js";

export type { ListenTarget };

/**
 * Parses a listener target (`tcp:127.0.0.1:6653`, `tcp:[::1]:6653`, `ptcp:6653`,
 * `unix:/run/x.sock`, `punix:…`); throws on a bad one. The grammar lives in
 * util/targets.ts, shared with the topology schema's `controller.listen`.
 */
export function parseTarget(text: string, defaultPort = OPENFLOW_DEFAULT_PORT): ListenTarget {
  const r = parseListenTarget(text, defaultPort);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

export function formatTarget(t: ListenTarget): string {
  return formatStreamTarget(t);
}

export interface OpenFlowServerOptions extends ConnectionOptions {
  /** Connections allowed mid-handshake at once. Default 64. */
  readonly maxHandshaking?: number;
  /** How often every connection's clock ticks, ms. Default 250. */
  readonly tickMs?: number;
  readonly clock?: () => number;
}

function socketTransport(socket: Socket): Transport {
  const remote =
    socket.remoteAddress === undefined
      ? "unix"
      : `${socket.remoteAddress}:${socket.remotePort ?? 0}`;
  return {
    remote,
    write: (bytes) => socket.write(bytes),
    end: () => {
      socket.end();
      // A peer that never reads would keep a half-closed socket forever.
      setTimeout(() => socket.destroy(), 2000).unref();
    },
    get writableLength() {
      return socket.writableLength;
    },
  };
}

export class OpenFlowServer {
  private readonly servers: Server[] = [];
  private readonly connections = new Set<Connection>();
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly clock: () => number;
  private readonly unixPaths: string[] = [];

  constructor(
    private readonly handler: ConnectionHandler,
    private readonly log: Logger,
    private readonly options: OpenFlowServerOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.timer = setInterval(() => {
      for (const c of this.connections) c.tick();
    }, options.tickMs ?? 250);
    this.timer.unref();
  }

  /** Starts a listener; resolves with the bound target (port 0 → the real port). */
  listen(target: ListenTarget): Promise<ListenTarget> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      const done = () => {
        server.off("error", reject);
        server.on("error", (e) =>
          this.log.error({ event: "listener.error", err: e.message }, "listener error"),
        );
        const a = server.address();
        const bound: ListenTarget =
          target.kind === "unix" || a === null || typeof a === "string"
            ? target
            : { kind: "tcp", host: target.host, port: a.port };
        if (bound.kind === "tcp" && !isLoopback(bound.host)) {
          this.log.warn(
            { event: "listener.insecure", target: formatTarget(bound) },
            "plain TCP on a non-loopback address",
          );
        }
        this.log.info(
          { event: "listener.up", target: formatTarget(bound) },
          `OpenFlow listening on ${formatTarget(bound)}`,
        );
        resolve(bound);
      };
      if (target.kind === "unix") {
        if (existsSync(target.path)) unlinkSync(target.path);
        this.unixPaths.push(target.path);
        server.listen(target.path, done);
      } else {
        server.listen(target.port, target.host, done);
      }
    });
  }

  /** Connects out to a switch that listens (`ovs-vsctl set-controller br ptcp:…`, a mgmt socket). */
  connect(target: ListenTarget): Connection {
    const socket =
      target.kind === "unix"
        ? createConnection(target.path)
        : createConnection(target.port, target.host);
    const conn = this.wrap(socket);
    socket.once("connect", () => conn.start());
    return conn;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stops listening and closes every connection (flows stay on the switches). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const c of this.connections) c.shutdown("controller stopping");
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    for (const p of this.unixPaths) if (existsSync(p)) unlinkSync(p);
  }

  private accept(socket: Socket): void {
    let handshaking = 0;
    for (const c of this.connections) if (c.session.state !== "ready") handshaking++;
    if (handshaking >= (this.options.maxHandshaking ?? 64)) {
      this.log.warn(
        { event: "switch.refused", remote: socket.remoteAddress },
        "too many connections mid-handshake",
      );
      socket.destroy();
      return;
    }
    this.wrap(socket).start();
  }

  private wrap(socket: Socket): Connection {
    socket.setNoDelay(true);
    const conn = new Connection(
      socketTransport(socket),
      this.handler,
      this.log,
      this.clock,
      this.options,
    );
    this.connections.add(conn);
    // A plain Uint8Array view of the chunk (no copy): the framer and the
    // decoders then only ever see one array class, and what they cut from it
    // is not a Buffer (a Buffer#subarray is a FastBuffer construction).
    socket.on("data", (chunk: Buffer) =>
      conn.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
    );
    socket.on("drain", () => conn.drain());
    socket.on("error", (e) =>
      conn.log.debug({ event: "socket.error", err: e.message }, "socket error"),
    );
    socket.on("close", () => {
      this.connections.delete(conn);
      conn.transportClosed("connection closed by peer");
    });
    return conn;
  }
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}
