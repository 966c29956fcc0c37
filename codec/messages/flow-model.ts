/**
 * The single import point for the FLOW-MODEL codec (match, actions,
 * instructions) used by the message modules, so the message layer depends on
 * exactly the contract's functions and types.
 */
export { MATCH_OPTIONS, decodeMatch, encodeMatch } from "../match.js";
export type { Match, MatchEntry, OxmEntry, UnknownOxm } from "../match.js";
export { decodeActions, encodeActions } from "../actions.js";
export type { Action } from "../actions.js";
export { decodeInstructionRange, decodeInstructions, encodeInstructions } from "../instructions.js";
export type { Instruction } from "../instructions.js";
