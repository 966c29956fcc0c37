/**
 * Reconnect backoff for an active controller connection, as OVS's rconn
 * computes it (`lib/rconn.c` `reconnect` and `disconnect`), with time
 * injected:
 *
 * - the first attempt is immediate;
 * - each attempt sets a deadline of "now + current backoff";
 * - when the connection fails or drops before that deadline, the backoff
 *   doubles (from 1 s), capped at `maxBackoffMs` (OVS default 8 s): so a
 *   controller that refuses every connection is retried after 1, 2, 4, 8, 8, … s
 *   (reliability.md §3.1);
 * - a connection that lived past its deadline resets the backoff to 1 s.
 */

/** OVS default `max_backoff` (ms). */
export const DEFAULT_MAX_BACKOFF_MS = 8000;
/** rconn's first and smallest backoff (ms). */
export const MIN_BACKOFF_MS = 1000;

export class Backoff {
  readonly maxBackoffMs: number;
  /** Current backoff in ms (0 before the first failure). */
  backoffMs = 0;
  private deadlineMs = Number.NEGATIVE_INFINITY;

  constructor(maxBackoffMs = DEFAULT_MAX_BACKOFF_MS) {
    this.maxBackoffMs = Math.max(MIN_BACKOFF_MS, maxBackoffMs);
  }

  /** A connection attempt starts now. */
  attempt(nowMs: number): void {
    this.deadlineMs = nowMs + this.backoffMs;
  }

  /** The attempt failed before it could start (e.g. bad address): never resets the backoff. */
  attemptFailed(): void {
    this.deadlineMs = Number.POSITIVE_INFINITY;
  }

  /** The connection failed or dropped now: returns the delay before the next attempt. */
  disconnected(nowMs: number): number {
    if (nowMs >= this.deadlineMs) this.backoffMs = MIN_BACKOFF_MS;
    else if (this.backoffMs < this.maxBackoffMs / 2)
      this.backoffMs = Math.max(MIN_BACKOFF_MS, 2 * this.backoffMs);
    else this.backoffMs = this.maxBackoffMs;
    this.deadlineMs = nowMs + this.backoffMs;
    return this.backoffMs;
  }
}
