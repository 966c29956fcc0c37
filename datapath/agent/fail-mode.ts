/**
 * What a bridge does while its controllers are away (OVSDB Bridge.fail_mode,
 * reliability.md §3.2, OVS `ofproto/fail-open.c`):
 *
 * - `secure` (dvrflow's default, and what Neutron sets): keep the flow table,
 *   never forward on our own; packet-ins with nobody to take them are dropped.
 * - `standalone` (OVS's default when unset): once no controller has been
 *   connected for `3 × probe interval` (15 s by default; counted from start
 *   when none ever connected), "fail open": the bridge acts as an ordinary
 *   MAC-learning switch (OVS installs a hidden priority-0xF0F0F0 `NORMAL` flow
 *   above every OpenFlow flow; here {@link Bridge.failOpen}). It recovers as soon
 *   as a controller completes its handshake.
 *
 * A bridge configured with no controller at all is a different case in OVS:
 * with `standalone` it gets a visible `priority=0 actions=NORMAL` flow when
 * its table is (re)created (`connmgr_flushed`); the runtime installs that.
 *
 * Pure: time comes in as arguments; the caller applies {@link FailOpen.active}.
 */

export type FailMode = "secure" | "standalone";

export class FailOpen {
  readonly mode: FailMode;
  readonly triggerMs: number;
  private active = false;
  /** Start of the current disconnected period, or -1 while a controller is connected. */
  private disconnectedSinceMs: number;

  constructor(mode: FailMode, probeIntervalMs: number, startMs: number) {
    this.mode = mode;
    this.triggerMs = 3 * Math.max(1000, probeIntervalMs);
    this.disconnectedSinceMs = startMs;
  }

  get isActive(): boolean {
    return this.active;
  }

  /**
   * Re-evaluates with the number of controllers currently past their
   * handshake. Returns "enter"/"leave" when the mode changes, else null.
   */
  update(connectedControllers: number, nowMs: number): "enter" | "leave" | null {
    if (connectedControllers > 0) {
      this.disconnectedSinceMs = -1;
      if (this.active) {
        this.active = false;
        return "leave";
      }
      return null;
    }
    if (this.disconnectedSinceMs < 0) this.disconnectedSinceMs = nowMs;
    if (
      this.mode === "standalone" &&
      !this.active &&
      nowMs - this.disconnectedSinceMs >= this.triggerMs
    ) {
      this.active = true;
      return "enter";
    }
    return null;
  }

  /** Seconds without a controller (for OVS's log line), 0 when connected. */
  disconnectedSeconds(nowMs: number): number {
    return this.disconnectedSinceMs < 0 ? 0 : Math.floor((nowMs - this.disconnectedSinceMs) / 1000);
  }
}
