/**
 * Public API of the dvrflow OpenFlow 1.3 codec. Everything here is pure:
 * bytes in, values out; no sockets, timers or logging.
 *
 *   framing:   Framer (stream → frames), FramingError
 *   messages:  decodeMessage / encodeMessage over the OfMessage union,
 *              one module per message family under messages/
 *   multipart: encodeMultipartParts (split > 65535), MultipartAssembler (join)
 *   flow model: OXM fields, matches (canonicalMatch for OVS's order), actions,
 *              instructions, values, ports; validateFlowMod (OVS's FLOW_MOD checks)
 *   errors:    OfpError and the OVS error catalogue
 */
export * from "./errors.js";
export { Reader } from "./reader.js";
export { Writer } from "./writer.js";
export * from "./header.js";
export * from "./framer.js";
export * from "./message.js";
export * from "./multipart-assembler.js";

export * from "./messages/sizes.js";
export * from "./messages/hello.js";
export * from "./messages/error.js";
export * from "./messages/echo.js";
export * from "./messages/experimenter.js";
export * from "./messages/bundle.js";
export * from "./messages/features.js";
export * from "./messages/config.js";
export * from "./messages/barrier.js";
export * from "./messages/packet-in.js";
export * from "./messages/packet-out.js";
export * from "./messages/flow-removed.js";
export * from "./messages/port.js";
export * from "./messages/port-status.js";
export * from "./messages/port-mod.js";
export * from "./messages/flow-mod.js";
export * from "./messages/group-mod.js";
export * from "./messages/table-mod.js";
export * from "./messages/meter-mod.js";
export * from "./messages/role.js";
export * from "./messages/async.js";
export * from "./messages/queue-config.js";
export * from "./messages/multipart.js";
export * from "./messages/multipart-flow.js";
export * from "./messages/multipart-stats.js";
export * from "./messages/multipart-desc.js";
export * from "./messages/table-features.js";
export * from "./messages/multipart-split.js";

// FLOW-MODEL helper's modules.
export * from "./oxm.js";
export * from "./match.js";
export * from "./actions.js";
export * from "./instructions.js";
export * from "./values.js";
export * from "./ports.js";
export { validateFlowMod, type FlowModFields } from "./flow-check.js";
