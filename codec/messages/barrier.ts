/**
 * OFPT_BARRIER_REQUEST / OFPT_BARRIER_REPLY (OF1.3 §7.3.8): header only.
 * The reply carries the request's xid; a controller resolves every request
 * sent before the barrier when it arrives.
 */

export interface BarrierRequestMessage {
  readonly type: "barrier_request";
  readonly xid: number;
}

export interface BarrierReplyMessage {
  readonly type: "barrier_reply";
  readonly xid: number;
}
