/**
 * codec/text: OpenFlow 1.3 messages in the words of `ovs-ofctl`.
 *
 * - {@link parseFlow}: `add-flow`/`mod-flows`/`del-flows` syntax → the FLOW_MOD OVS
 *   would send ({@link flowModMessage} makes it an OfMessage).
 * - {@link ofpPrint}: one message as `ovs-ofctl -O OpenFlow13 ofp-print` prints it.
 * - {@link formatFlow} / {@link formatFlowStats}: `dump-flows` lines.
 * - {@link formatMatch}, {@link formatActions}, {@link formatInstructions}: the parts.
 */
export {
  FLOW_COMMANDS,
  FlowSyntaxError,
  checkFlowModConsistency,
  flowModMessage,
  formatDuration,
  formatFlow,
  formatFlowModBody,
  formatFlowStats,
  formatMatch,
  parseFlow,
  type FlowCommand,
  type FlowFormatOptions,
  type ParseFlowOptions,
  type ParsedFlow,
} from "./flow.js";
export { formatAction, formatActions, formatInstructions } from "./actions-format.js";
export { parseActionsText, parseInstructionsText } from "./actions-parse.js";
export { ofpPrint, parseHex, formatPhyPort } from "./ofp-print.js";
export { packetSummary } from "./packet-summary.js";
export { hexDump } from "./hexdump.js";
export { formatFlowMatch } from "./match-format.js";
export { flowMatchToMatch, matchToFlowMatch } from "./oxm-bridge.js";
export type { FlowMatch } from "./flow-match.js";
