/**
 * Tracing a packet through a topology's compiled DVR tables, host to host:
 * the entry points for the CLI (`dvrflow trace --config`) and the REST API
 * (`POST /v1/trace {host, microflow | packet_hex, format}`).
 */
import type { StoreSnapshot } from "../store/store.js";
import { formatTopologyTrace, traceJson, type TraceFormat, type TraceJson } from "./format.js";
import { buildTopologyReplica, type ReplicaOptions } from "./replica.js";
import { traceOnReplica, type TopologyTrace, type TopologyTraceRequest } from "./topology-trace.js";

export { TraceRequestError } from "./in-port.js";
export { TRACE_FORMATS, isTraceFormat, formatTopologyTrace, traceJson } from "./format.js";
export type { TraceFormat, TraceJson } from "./format.js";
export { DEFAULT_MAX_HOPS, traceOnReplica, traceTopology } from "./topology-trace.js";
export type { TopologyTrace, TopologyTraceRequest, TraceOutcome } from "./topology-trace.js";
export { buildTopologyReplica } from "./replica.js";
export type { TopologyReplica } from "./replica.js";

export interface TraceRun {
  readonly trace: TopologyTrace;
  readonly format: TraceFormat;
  /** The trace printed in `format` (for `json`, the JSON text of {@link json}). */
  readonly text: string;
  readonly json: TraceJson;
}

/**
 * Traces `request` on the flows the controller would compile from
 * `snapshot` (a fresh replica each call: no MACs learned by earlier traces).
 * Throws `TraceRequestError` for bad input (unknown host or port, bad
 * microflow or packet): a 400, not a 500.
 */
export function runTopologyTrace(
  snapshot: StoreSnapshot,
  request: TopologyTraceRequest & { readonly format?: TraceFormat },
  options: ReplicaOptions = {},
): TraceRun {
  const trace = traceOnReplica(buildTopologyReplica(snapshot, options), request);
  const format = request.format ?? "detailed";
  return { trace, format, text: formatTopologyTrace(trace, format), json: traceJson(trace) };
}
