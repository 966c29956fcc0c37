/**
 * Errors of the OVSDB client. Every failure a caller can see is one of
 * these, so a plumbing report can say what went wrong without string
 * matching:
 *
 * - {@link OvsdbConnectionError}: could not connect, or the connection was
 *   lost or corrupted (pending requests fail with it).
 * - {@link OvsdbTimeoutError}: no reply within the request's time limit.
 * - {@link OvsdbRpcError}: the server answered a request with an error
 *   (RFC 7047 §4.1: e.g. "unknown database").
 * - {@link OvsdbTransactionError}: a `transact` was rejected; nothing of it
 *   was applied (§5.2: an operation failed, or the commit did — a
 *   "constraint violation" or "referential integrity violation").
 */

export class OvsdbConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OvsdbConnectionError";
  }
}

export class OvsdbTimeoutError extends Error {
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`OVSDB ${method}: no reply within ${timeoutMs} ms`);
    this.name = "OvsdbTimeoutError";
  }
}

export class OvsdbRpcError extends Error {
  constructor(
    readonly method: string,
    readonly error: unknown,
  ) {
    super(`OVSDB ${method} failed: ${describe(error)}`);
    this.name = "OvsdbRpcError";
  }
}

/** One failed element of a transact result. */
export interface TransactionFailure {
  /** Index of the failed operation; `operations` (one past the last) for a commit-time error. */
  readonly index: number;
  readonly error: string;
  readonly details?: string;
  /** The operation's `op`, or "commit". */
  readonly op: string;
}

export class OvsdbTransactionError extends Error {
  constructor(readonly failures: readonly TransactionFailure[]) {
    super(
      `OVSDB transaction rejected: ${failures
        .map(
          (f) =>
            `${f.op}${f.op === "commit" ? "" : ` #${f.index}`}: ${f.error}${f.details === undefined ? "" : ` (${f.details})`}`,
        )
        .join("; ")}`,
    );
    this.name = "OvsdbTransactionError";
  }
}

function describe(error: unknown): string {
  if (typeof error === "string") return error;
  if (error !== null && typeof error === "object") {
    const e = error as { error?: unknown; details?: unknown };
    if (typeof e.error === "string") {
      return typeof e.details === "string" ? `${e.error} (${e.details})` : e.error;
    }
  }
  return JSON.stringify(error);
}
