/**
 * An OVSDB client (RFC 7047) over a plain `node:net` stream.
 *
 * The wire is JSON-RPC 1.0 (§4): requests `{method, params, id}`, responses
 * `{result, error, id}`, notifications with `id: null`. Both ends may send
 * requests; the server sends `echo` as its inactivity probe and drops a
 * client that does not answer (ovsdb-server: probe after the remote's
 * `inactivity_probe`, disconnect after as long again), so every echo is
 * answered at once, whatever else is in flight.
 *
 * Methods: `list_dbs`, `get_schema`, `transact`, `monitor` (+ `update`
 * notifications, `monitor_cancel`) and `echo`. Each request has a time
 * limit; a late reply to a timed-out request is dropped. When the
 * connection ends, every pending request fails with
 * {@link OvsdbConnectionError}.
 */
import { connect as netConnect, type Socket } from "node:net";
import { JsonStreamParser } from "./json-stream.js";
import {
  OvsdbConnectionError,
  OvsdbRpcError,
  OvsdbTimeoutError,
  OvsdbTransactionError,
  type TransactionFailure,
} from "./errors.js";
import type { Operation, OperationResult } from "./operations.js";
import { formatOvsdbRemote, parseOvsdbRemote, type OvsdbRemote } from "./remote.js";

export interface OvsdbClientOptions {
  /** Per-request time limit (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** Time limit of the connect itself (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** Largest accepted message (default 64 MiB). */
  readonly maxMessageBytes?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** What `monitor` asks per table (§4.1.5 `<monitor-request>`). */
export interface MonitorRequest {
  readonly columns?: readonly string[];
  readonly select?: {
    readonly initial?: boolean;
    readonly insert?: boolean;
    readonly delete?: boolean;
    readonly modify?: boolean;
  };
}

/** §4.1.6 `<row-update>`: `old` absent on insert, `new` absent on delete. */
export interface RowUpdate {
  readonly old?: Record<string, unknown>;
  readonly new?: Record<string, unknown>;
}
/** table → row uuid → change. */
export type TableUpdates = Record<string, Record<string, RowUpdate>>;

export type UpdateHandler = (updates: TableUpdates) => void;

/** The parts of a database schema (§3.2) a client needs to reason about columns. */
export interface DatabaseSchema {
  readonly name: string;
  readonly version: string;
  readonly tables: Record<
    string,
    { readonly columns: Record<string, { readonly type: unknown }>; readonly isRoot?: boolean }
  >;
}

interface Pending {
  readonly method: string;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface RpcMessage {
  readonly method?: unknown;
  readonly params?: unknown;
  readonly result?: unknown;
  readonly error?: unknown;
  readonly id?: unknown;
}

export class OvsdbClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly monitors = new Map<string, UpdateHandler>();
  private readonly parser: JsonStreamParser;
  private closedWith: Error | undefined;
  /** {@link close} was called: waiters see a clean end, not an error. */
  private closedByUs = false;
  private readonly closeWaiters: ((e: Error | undefined) => void)[] = [];
  private readonly requestTimeoutMs: number;
  /** Echo requests from the server answered so far (observability, tests). */
  echoesAnswered = 0;

  private constructor(
    private readonly socket: Socket,
    readonly remote: string,
    options: OvsdbClientOptions,
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.parser = new JsonStreamParser(options.maxMessageBytes);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (e) => this.shutdown(new OvsdbConnectionError(`${remote}: ${e.message}`)));
    socket.on("close", () =>
      this.shutdown(new OvsdbConnectionError(`${remote}: connection closed`)),
    );
  }

  /** Connects to `tcp:HOST[:PORT]` or `unix:PATH`. */
  static connect(
    remote: string | OvsdbRemote,
    options: OvsdbClientOptions = {},
  ): Promise<OvsdbClient> {
    const r = typeof remote === "string" ? parseOvsdbRemote(remote) : remote;
    const name = formatOvsdbRemote(r);
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const socket =
        r.kind === "unix"
          ? netConnect({ path: r.path })
          : netConnect({ host: r.host, port: r.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new OvsdbConnectionError(`${name}: connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (e: Error): void => {
        clearTimeout(timer);
        reject(new OvsdbConnectionError(`${name}: ${e.message}`, { cause: e }));
      };
      socket.once("error", onError);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.off("error", onError);
        socket.setNoDelay(true);
        resolve(new OvsdbClient(socket, name, options));
      });
    });
  }

  /** Wraps an already-connected socket (tests, custom transports). */
  static fromSocket(socket: Socket, name: string, options: OvsdbClientOptions = {}): OvsdbClient {
    return new OvsdbClient(socket, name, options);
  }

  /** Undefined while open; the reason once closed. */
  get closeReason(): Error | undefined {
    return this.closedWith;
  }

  /** Resolves when the connection ends (with the reason; undefined after {@link close}). */
  closed(): Promise<Error | undefined> {
    if (this.closedWith !== undefined) return Promise.resolve(this.closeReasonForWaiters());
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  private closeReasonForWaiters(): Error | undefined {
    return this.closedByUs ? undefined : this.closedWith;
  }

  /** Sends a request and resolves with its `result` (rejects on `error`, timeout or loss). */
  request(method: string, params: readonly unknown[], timeoutMs?: number): Promise<unknown> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    const limit = timeoutMs ?? this.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new OvsdbTimeoutError(method, limit));
      }, limit);
      this.pending.set(id, { method, resolve, reject, timer });
      this.send({ method, params, id });
    });
  }

  listDbs(): Promise<string[]> {
    return this.request("list_dbs", []).then((r) => {
      if (!Array.isArray(r) || !r.every((x) => typeof x === "string"))
        throw new OvsdbRpcError("list_dbs", "malformed result");
      return r as string[];
    });
  }

  getSchema(db: string): Promise<DatabaseSchema> {
    return this.request("get_schema", [db]).then((r) => {
      if (r === null || typeof r !== "object" || !("tables" in r))
        throw new OvsdbRpcError("get_schema", "malformed result");
      return r as DatabaseSchema;
    });
  }

  /**
   * Runs `operations` as one transaction. Resolves with one result per
   * operation; rejects with {@link OvsdbTransactionError} when the server
   * rejected it (then nothing was applied).
   */
  async transact(db: string, operations: readonly Operation[]): Promise<OperationResult[]> {
    const r = await this.request("transact", [db, ...operations]);
    if (!Array.isArray(r)) throw new OvsdbRpcError("transact", "result is not an array");
    const failures: TransactionFailure[] = [];
    r.forEach((x: unknown, index) => {
      if (x !== null && typeof x === "object" && "error" in x) {
        const e = x as { error: unknown; details?: unknown };
        failures.push({
          index,
          op: operations[index]?.op ?? "commit",
          error: String(e.error),
          ...(typeof e.details === "string" ? { details: e.details } : {}),
        });
      }
    });
    if (failures.length > 0) throw new OvsdbTransactionError(failures);
    return r.slice(0, operations.length) as OperationResult[];
  }

  /**
   * Starts monitor `id` (§4.1.5) and resolves with the initial contents;
   * later changes arrive through `onUpdate` until {@link monitorCancel}.
   */
  async monitor(
    db: string,
    id: string,
    requests: Readonly<Record<string, MonitorRequest | readonly MonitorRequest[]>>,
    onUpdate: UpdateHandler,
  ): Promise<TableUpdates> {
    if (this.monitors.has(id)) throw new Error(`monitor id "${id}" is already in use`);
    this.monitors.set(id, onUpdate);
    try {
      const r = await this.request("monitor", [db, id, requests]);
      return (r ?? {}) as TableUpdates;
    } catch (e) {
      this.monitors.delete(id);
      throw e;
    }
  }

  async monitorCancel(id: string): Promise<void> {
    await this.request("monitor_cancel", [id]);
    this.monitors.delete(id);
  }

  /** Our own liveness check: resolves with the round-trip time in ms. */
  async echo(timeoutMs?: number): Promise<number> {
    const t0 = performance.now();
    await this.request("echo", ["dvrflow"], timeoutMs);
    return performance.now() - t0;
  }

  /** Closes the connection; pending requests fail. Resolves once the socket is closed. */
  close(): Promise<void> {
    if (this.closedWith !== undefined) return Promise.resolve();
    this.closedByUs = true;
    return new Promise((resolve) => {
      this.socket.once("close", () => resolve());
      this.shutdown(new OvsdbConnectionError(`${this.remote}: closed by client`));
      this.socket.end();
      // A peer that never closes its side must not keep us waiting.
      setTimeout(() => this.socket.destroy(), 1000).unref();
    });
  }

  private send(msg: object): void {
    this.socket.write(JSON.stringify(msg));
  }

  private onData(chunk: Buffer): void {
    let messages: unknown[];
    try {
      messages = this.parser.push(chunk);
    } catch (e) {
      this.shutdown(new OvsdbConnectionError(`${this.remote}: ${(e as Error).message}`));
      this.socket.destroy();
      return;
    }
    for (const m of messages) this.dispatch(m);
  }

  private dispatch(raw: unknown): void {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return;
    const m = raw as RpcMessage;
    if (typeof m.method === "string") {
      this.onServerMessage(m.method, m.params, m.id);
      return;
    }
    if (typeof m.id !== "number") return; // a response to nothing we sent
    const p = this.pending.get(m.id);
    if (p === undefined) return; // timed out earlier: dropped
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.error !== null && m.error !== undefined) p.reject(new OvsdbRpcError(p.method, m.error));
    else p.resolve(m.result);
  }

  private onServerMessage(method: string, params: unknown, id: unknown): void {
    const isRequest = id !== null && id !== undefined;
    if (method === "echo" && isRequest) {
      // §4.1.11: reply with the same params.
      this.echoesAnswered++;
      this.send({ result: params, error: null, id });
      return;
    }
    if (method === "update" && Array.isArray(params) && params.length === 2) {
      const handler = this.monitors.get(typeof params[0] === "string" ? params[0] : "");
      if (handler !== undefined) handler((params[1] ?? {}) as TableUpdates);
      return;
    }
    if (isRequest) this.send({ result: null, error: `unknown method ${method}`, id });
  }

  private shutdown(reason: Error): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = reason;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(reason);
    }
    this.pending.clear();
    const value = this.closeReasonForWaiters();
    for (const w of this.closeWaiters.splice(0)) w(value);
  }
}
