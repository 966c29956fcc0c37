/**
 * Whole flows in ovs-ofctl syntax: parsing `add-flow`/`mod-flows`/`del-flows`
 * text into an OF1.3 FLOW_MOD (OVS `parse_ofp_str__`, lib/ofp-flow.c, then
 * `ofputil_encode_flow_mod`), and printing FLOW_MODs and flow-stats entries
 * the way `ovs-ofctl ofp-print` and `dump-flows` do
 * (`ofputil_flow_mod_format`, `ofputil_flow_stats_format`).
 */
import type { Instruction } from "../instructions.js";
import type { Match } from "../oxm.js";
import type { FlowModMessage } from "../messages/flow-mod.js";
import type { FlowStats } from "../messages/multipart-flow.js";
import { hexAlt, ones } from "./addr.js";
import { FlowSyntaxError, parseInstructionsText } from "./actions-parse.js";
import { formatInstructions } from "./actions-format.js";
import { checkInstructionsConsistency } from "./actions-check.js";
import { emptyFlowMatch, flowMatchToEntries, type FlowMatch } from "./flow-match.js";
import { formatFlowMatch, OFP_DEFAULT_PRIORITY } from "./match-format.js";
import { applyFieldItem, applyProtocol, applySubfieldItem } from "./match-parse.js";
import { flowMatchToMatch, matchToFlowMatch } from "./oxm-bridge.js";
import { formatPort16, parsePort, portFromOf11, portToOf11, OFPP10 } from "./ports.js";
import { extractActions, splitKeyValues } from "./tokenizer.js";
import { parseIntString } from "./field-parse.js";

export { FlowSyntaxError };

/** OFPFC_* as the `--command` option names them. */
export const FLOW_COMMANDS = {
  add: 0,
  modify: 1,
  modify_strict: 2,
  delete: 3,
  delete_strict: 4,
} as const;
export type FlowCommand = keyof typeof FLOW_COMMANDS;

/** OF1.3 flow-mod flags and their ovs-ofctl keywords, in OVS's print order. */
export const FLOW_MOD_FLAGS = [
  ["send_flow_rem", 1 << 0],
  ["check_overlap", 1 << 1],
  ["reset_counts", 1 << 2],
  ["no_packet_counts", 1 << 3],
  ["no_byte_counts", 1 << 4],
] as const;

const OFP_NO_BUFFER = 0xffffffff;
const OFPG_ANY = 0xffffffff;
const OFPTT_ALL = 0xff;

/** A parsed flow: the FLOW_MOD fields plus the text layer's view of its match. */
export interface ParsedFlow {
  readonly command: number;
  readonly cookie: bigint;
  readonly cookieMask: bigint;
  readonly tableId: number;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly priority: number;
  readonly bufferId: number;
  readonly outPort: number;
  readonly outGroup: number;
  readonly flags: number;
  readonly match: Match;
  readonly instructions: Instruction[];
  /** The match in OVS's flow/wildcards form (as typed, before OXM normalization). */
  readonly flowMatch: FlowMatch;
  /** Things OVS accepts but changes, e.g. fields dropped for missing prerequisites. */
  readonly warnings: readonly string[];
}

export interface ParseFlowOptions {
  /** Default "add". */
  readonly command?: FlowCommand;
}

/**
 * Parses one flow in ovs-ofctl syntax into an OF1.3 FLOW_MOD as ovs-ofctl
 * would send it. Throws {@link FlowSyntaxError} with OVS's reason when OVS
 * would refuse the flow.
 */
export function parseFlow(text: string, options: ParseFlowOptions = {}): ParsedFlow {
  const commandName = options.command ?? "add";
  const command = FLOW_COMMANDS[commandName];
  const isAdd = command === FLOW_COMMANDS.add;
  const isModify = command === FLOW_COMMANDS.modify || command === FLOW_COMMANDS.modify_strict;
  const isDelete = command === FLOW_COMMANDS.delete || command === FLOW_COMMANDS.delete_strict;
  const allowActions = isAdd || isModify;
  const allowTimeouts = isAdd || isModify;
  const allowPriority = !(command === FLOW_COMMANDS.delete);
  const allowOutPort = isDelete;

  let matchText = text;
  let actionsText: string | undefined;
  if (allowActions) {
    const split = extractActions(text);
    if (split.actions === undefined) throw new FlowSyntaxError("syntax", "must specify an action");
    matchText = split.match;
    actionsText = split.actions;
  }

  const m = emptyFlowMatch();
  let tableId = OFPTT_ALL;
  let priority = OFP_DEFAULT_PRIORITY;
  let idleTimeout = 0;
  let hardTimeout = 0;
  let flags = 0;
  let cookie = 0n;
  let cookieMask = 0n;
  let newCookie: bigint | undefined;
  let outPort: number = OFPP10.ANY;
  let outGroup = OFPG_ANY;
  const warnings: string[] = [];

  const u16 = (name: string, value: string): number => {
    const v = parseIntString(value, 8);
    // str_to_u16 uses base 0 (octal too) and rejects > 65535.
    const n = /^0[0-7]+$/.test(value) ? BigInt(`0o${value.slice(1)}`) : v;
    if (typeof n === "string" || n > 0xffffn)
      throw new FlowSyntaxError("syntax", `invalid ${name} "${value}"`);
    return Number(n);
  };
  // OVS reads cookies with str_to_be64 → strtoull, which takes a leading
  // minus and wraps it modulo 2^64: `cookie=0x5/-1` (ovs-ofctl(8)'s own
  // example of an exact cookie match) has mask 0xffffffffffffffff.
  const u64 = (value: string): bigint => {
    const negative = value.startsWith("-");
    const v = parseIntString(negative ? value.slice(1) : value, 8);
    if (typeof v === "string") throw new FlowSyntaxError("syntax", `invalid cookie "${value}"`);
    return negative ? -v & 0xffff_ffff_ffff_ffffn : v;
  };

  for (const kv of splitKeyValues(matchText)) {
    const name = kv.key;
    const value = kv.value;
    if (applyProtocol(m, name)) continue;
    const flag = FLOW_MOD_FLAGS.find(([n]) => n === name);
    if (flag !== undefined && allowActions) {
      flags |= flag[1];
      continue;
    }
    if (name === "no_readonly_table" || name === "allow_hidden_fields") continue;
    const fieldResult = applyFieldItem(m, name, value);
    if (fieldResult !== false) {
      if (typeof fieldResult === "string") throw new FlowSyntaxError("syntax", fieldResult);
      continue;
    }
    if (name.includes("[")) {
      const err = applySubfieldItem(m, name, value);
      if (err !== undefined) throw new FlowSyntaxError("syntax", err);
      continue;
    }
    if (value === "") throw new FlowSyntaxError("syntax", `field ${name} missing value`);
    if (name === "table") {
      const t = parseIntString(value, 1);
      if (typeof t === "string") throw new FlowSyntaxError("syntax", `unknown table "${value}"`);
      tableId = Number(t);
    } else if (allowOutPort && name === "out_port") {
      const p = parsePort(value);
      if (p === undefined)
        throw new FlowSyntaxError("syntax", `${value} is not a valid OpenFlow port`);
      outPort = p;
    } else if (allowOutPort && name === "out_group") {
      const g =
        value.toUpperCase() === "ANY" || value.toUpperCase() === "ALL"
          ? BigInt(OFPG_ANY)
          : parseIntString(value, 4);
      if (typeof g === "string")
        throw new FlowSyntaxError("syntax", `${value} is not a valid OpenFlow group`);
      outGroup = Number(g);
    } else if (allowPriority && name === "priority") {
      priority = u16("priority", value);
    } else if (allowTimeouts && name === "idle_timeout") {
      idleTimeout = u16("idle_timeout", value);
    } else if (allowTimeouts && name === "hard_timeout") {
      hardTimeout = u16("hard_timeout", value);
    } else if (isAdd && name === "importance") {
      u16("importance", value);
      warnings.push("importance is an OpenFlow 1.4 field; OpenFlow 1.3 drops it");
    } else if (name === "cookie") {
      const slash = value.indexOf("/");
      if (slash >= 0) {
        if (isAdd) throw new FlowSyntaxError("syntax", "flow additions cannot use a cookie mask");
        cookie = u64(value.slice(0, slash));
        cookieMask = u64(value.slice(slash + 1));
      } else {
        if (isDelete) {
          throw new FlowSyntaxError(
            "syntax",
            `cannot set cookie (to match on a cookie, specify a mask, e.g. cookie=${value}/-1)`,
          );
        }
        newCookie = u64(value);
      }
    } else if (["duration", "n_packets", "n_bytes", "idle_age", "hard_age"].includes(name)) {
      // Ignored so that dump-flows output can be fed back in.
    } else {
      throw new FlowSyntaxError("syntax", `unknown keyword ${name}`);
    }
  }

  let instructions: Instruction[] = [];
  if (actionsText !== undefined) {
    const parsed = parseInstructionsText(actionsText, m, tableId);
    // OVS intersects the protocols every part of the flow allows: the OF1.0/NXM-only
    // actions above and an OF1.1+/OF1.3+-only feature leave none at all, which
    // parse_ofp_str__ reports as OFPBAC_MATCH_INCONSISTENT.
    const newer = [...parsed.of11Only];
    if ((flags & (1 << 2)) !== 0) newer.push("reset_counts");
    if ((flags & ((1 << 3) | (1 << 4))) !== 0) newer.push("no_packet_counts/no_byte_counts");
    if (parsed.protocolProblems.length > 0 && newer.length > 0) {
      throw new FlowSyntaxError(
        "inconsistent",
        `actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT): ${parsed.protocolProblems.join("; ")}, ` +
          `but ${newer.join(", ")} needs OpenFlow 1.1 or later`,
      );
    }
    if (parsed.protocolProblems.length > 0) {
      throw new FlowSyntaxError(
        "protocol",
        `no usable protocol: ${parsed.protocolProblems.join("; ")} ` +
          "(OVS can express this only in OpenFlow 1.0 or NXM, not in OpenFlow 1.3)",
      );
    }
    instructions = parsed.instructions;
  }

  const match = flowMatchToMatch(m);
  const typed = formatFlowMatch(m);
  const sent = formatFlowMatch(matchToFlowMatch(match).flow);
  if (typed !== sent) warnings.push(`normalization changed the match: pre: ${typed} post: ${sent}`);

  // ofputil_encode_flow_mod for OF1.1+: ADD carries the new cookie; everything
  // else carries cookie & cookie_mask (so OF1.3 modify cannot change a cookie).
  const wireCookie = isAdd ? (newCookie ?? 0n) : cookie & cookieMask;
  const wireTable = tableId !== OFPTT_ALL || isDelete ? tableId : 0;
  return {
    command,
    cookie: wireCookie,
    cookieMask,
    tableId: wireTable,
    idleTimeout,
    hardTimeout,
    priority,
    bufferId: OFP_NO_BUFFER,
    outPort: portToOf11(outPort),
    outGroup,
    flags,
    match,
    instructions,
    flowMatch: m,
    warnings,
  };
}

/** The FLOW_MOD message for a parsed flow (encode it with codec/message.ts). */
export function flowModMessage(p: ParsedFlow, xid = 0): FlowModMessage {
  return {
    type: "flow_mod",
    xid,
    cookie: p.cookie,
    cookieMask: p.cookieMask,
    tableId: p.tableId,
    command: p.command,
    idleTimeout: p.idleTimeout,
    hardTimeout: p.hardTimeout,
    priority: p.priority,
    bufferId: p.bufferId,
    outPort: p.outPort,
    outGroup: p.outGroup,
    flags: p.flags,
    match: p.match,
    instructions: p.instructions,
  };
}

/** `ofputil_flow_mod_flags_format`: each set flag followed by a space. */
export function formatFlowModFlags(flags: number): string {
  let s = "";
  for (const [name, bit] of FLOW_MOD_FLAGS) if ((flags & bit) !== 0) s += `${name} `;
  return s;
}

/** The match (with priority) as OVS prints it for a decoded `Match`. */
export function formatMatch(match: Match, priority: number = OFP_DEFAULT_PRIORITY): string {
  return formatFlowMatch(matchToFlowMatch(match).flow, { priority });
}

const COMMAND_NAMES = ["ADD", "MOD", "MOD_STRICT", "DEL", "DEL_STRICT"] as const;

/**
 * The body of `OFPT_FLOW_MOD (OF1.3) (xid=..):` as `ovs-ofctl ofp-print`
 * prints it, starting with the space after the colon.
 */
export function formatFlowModBody(m: FlowModMessage): string {
  let s = ` ${COMMAND_NAMES[m.command] ?? `cmd:${m.command}`}`;
  if (m.tableId !== 0) s += ` table:${m.tableId}`;
  s += " ";
  s += formatMatch(m.match, m.priority);
  if (!s.endsWith(" ")) s += " ";
  // ofputil_decode_flow_mod (OF1.3): ADD's cookie is the new cookie; other
  // commands carry a cookie/mask pair to match on.
  if (m.command === FLOW_COMMANDS.add) {
    if (m.cookie !== 0n && m.cookie !== ones(64)) s += `cookie:0x${m.cookie.toString(16)} `;
  } else if (m.cookieMask !== 0n) {
    s += `cookie:0x${m.cookie.toString(16)}/0x${m.cookieMask.toString(16)} `;
  }
  if (m.idleTimeout !== 0) s += `idle:${m.idleTimeout} `;
  if (m.hardTimeout !== 0) s += `hard:${m.hardTimeout} `;
  if (m.bufferId !== OFP_NO_BUFFER) s += `buf:0x${m.bufferId.toString(16)} `;
  if (m.outPort !== 0xffffffff) {
    const p = portFromOf11(m.outPort);
    s += `out_port:${p === undefined ? m.outPort : formatPort16(p)} `;
  }
  s += formatFlowModFlags(m.flags);
  s += `actions=${formatInstructions(m.instructions)}`;
  return s;
}

/**
 * OVS's decode-time consistency check of a FLOW_MOD's actions against its
 * match (`ofpacts_check_consistency`): the error name, or undefined.
 */
export function checkFlowModConsistency(
  m: Pick<FlowModMessage, "instructions" | "match" | "tableId">,
): string | undefined {
  return checkInstructionsConsistency(m.instructions, m.match, m.tableId);
}

/** `ofp_print_duration`: seconds, then .mmm or the exact nanoseconds without trailing zeros. */
export function formatDuration(sec: number, nsec: number): string {
  let s = String(sec);
  if (nsec > 0) {
    const msec = Math.floor(nsec / 1000000);
    if (msec * 1000000 === nsec) s += `.${String(msec).padStart(3, "0")}`;
    else s += `.${String(nsec).padStart(9, "0").replace(/0+$/, "")}`;
  }
  return `${s}s`;
}

export interface FlowFormatOptions {
  /** Print duration/n_packets/n_bytes (dump-flows default); false = `--no-stats`. */
  readonly stats?: boolean;
}

/**
 * One flow-stats entry as `ovs-ofctl dump-flows` prints it (without the
 * leading space OVS puts before each line).
 */
export function formatFlowStats(fs: FlowStats, options: FlowFormatOptions = {}): string {
  const stats = options.stats ?? true;
  let s = "";
  if (stats || fs.cookie !== 0n) s += `cookie=0x${fs.cookie.toString(16)}, `;
  if (stats) s += `duration=${formatDuration(fs.durationSec, fs.durationNsec)}, `;
  if (stats || fs.tableId !== 0) s += `table=${fs.tableId}, `;
  if (stats) {
    s += `n_packets=${fs.packetCount === ones(64) ? "?" : fs.packetCount}, `;
    s += `n_bytes=${fs.byteCount === ones(64) ? "?" : fs.byteCount}, `;
  }
  if (fs.idleTimeout !== 0) s += `idle_timeout=${fs.idleTimeout}, `;
  if (fs.hardTimeout !== 0) s += `hard_timeout=${fs.hardTimeout}, `;
  s += formatFlowModFlags(fs.flags);
  const match = formatMatch(fs.match, fs.priority);
  if (match !== "") s += `${match} `;
  s += `actions=${formatInstructions(fs.instructions)}`;
  return s;
}

/**
 * A FLOW_MOD (e.g. one the controller compiled) printed as a `dump-flows
 * --no-stats` line would show the resulting flow, so desired and installed
 * flows can be diffed as text.
 */
export function formatFlow(m: FlowModMessage | FlowStats, options: FlowFormatOptions = {}): string {
  if ("type" in m) {
    return formatFlowStats(
      {
        tableId: m.tableId,
        durationSec: 0,
        durationNsec: 0,
        priority: m.priority,
        idleTimeout: m.idleTimeout,
        hardTimeout: m.hardTimeout,
        flags: m.flags,
        cookie: m.cookie,
        packetCount: 0n,
        byteCount: 0n,
        match: m.match,
        instructions: m.instructions,
      },
      { stats: options.stats ?? false },
    );
  }
  return formatFlowStats(m, options);
}

/** OXM entries as text-layer wire entries, for tests and diagnostics. */
export { flowMatchToEntries };
export { hexAlt };
