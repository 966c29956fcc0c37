/**
 * Catalogue of malformed OpenFlow 1.3 messages, each with the exact error OVS
 * names for it (reliability.md R1, codec.md §5).
 *
 * Built systematically, structure × malformation: the header, every message's
 * fixed layout, multipart bodies, the match and its OXM TLVs, instructions,
 * actions (standard, set_field, Nicira), packet-out, and the other messages'
 * nested TLVs. Bytes come from test/helpers/ofp-build.ts, which writes raw
 * layouts without the codec, so a case can say what an encoder never would.
 *
 * `ovs`:
 * - `true`: OVS 3.1 `ovs-ofctl -O OpenFlow13 ofp-print HEX` prints
 *   `***decode error: <code>***` for these exact bytes. test/codec/malformed.test.ts
 *   re-checks every such case against the installed ovs-ofctl, so the verdicts
 *   cannot drift from the oracle.
 * - a string: why ofp-print cannot serve as the oracle for this case (it
 *   reports truncation in its own words, or speaks versions dvrflow rejects);
 *   the expected code is then the one codec.md §5 assigns.
 *
 * Every case is decoded with `{ strict: true }` (FLOW_MOD semantics, as OVS's
 * `ofputil_decode_flow_mod` applies them).
 */
import { be, concat } from "../helpers/hex.js";
import {
  ETH_TYPE_ARP,
  ETH_TYPE_IPV4,
  ETH_TYPE_IPV6,
  ETH_TYPE_MPLS,
  IP_PROTO_ICMPV6,
  IP_PROTO_TCP,
  IP_PROTO_UDP,
  NX_VENDOR,
  OFB,
  OFPAT,
  OFPIT,
  OFPMP,
  OFPP,
  OFPT,
  OXM_CLASS,
  ONF_VENDOR,
  action,
  action0,
  action16,
  applyActions,
  clearActions,
  experimenterAction,
  flowMod,
  flowModApplying,
  flowStatsRequestBody,
  gotoTable,
  instruction,
  match,
  meterInstruction,
  msg,
  multipart,
  nxAction,
  nxRegLoad,
  nxRegMove,
  nxResubmitTable,
  ofb,
  output,
  oxm,
  packetOut,
  port,
  setField,
  withU16,
  writeActions,
  writeMetadata,
  zeros,
} from "../helpers/ofp-build.js";

export interface MalformedCase {
  /** Unique sentence naming the structure and the defect. */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Expected `OfpError.code` (OVS's error name). */
  readonly code: string;
  /** `true` = verified against `ovs-ofctl ofp-print`; a string = why OVS is not the oracle here. */
  readonly ovs: true | string;
}

const cases: MalformedCase[] = [];
const add = (name: string, bytes: Uint8Array, code: string, ovs: true | string = true): void => {
  cases.push({ name, bytes, code, ovs });
};

const NOT_TRUNCATION_ORACLE =
  "ofp-print reports a short or truncated buffer in prose, not as a decode error";

/** Resizes a valid message to `size` bytes (cutting or zero-extending) and fixes the header length. */
function resized(valid: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(valid.subarray(0, Math.min(size, valid.length)));
  return withU16(out, 2, size);
}

// ============================================================== 1. header

add("empty input", new Uint8Array(0), "OFPBRC_BAD_LEN", NOT_TRUNCATION_ORACLE);
for (let n = 1; n < 8; n++) {
  add(
    `input of ${n} bytes, shorter than ofp_header`,
    msg(OFPT.BARRIER_REQUEST).subarray(0, n),
    "OFPBRC_BAD_LEN",
    NOT_TRUNCATION_ORACLE,
  );
}
for (const len of [0, 1, 4, 7]) {
  add(
    `header length ${len} < 8`,
    msg(OFPT.BARRIER_REQUEST, zeros(0), { length: len }),
    "OFPBRC_BAD_LEN",
    NOT_TRUNCATION_ORACLE,
  );
}
add(
  "header length 56 but only 8 bytes present",
  msg(OFPT.FLOW_MOD, zeros(0), { length: 56 }),
  "OFPBRC_BAD_LEN",
  NOT_TRUNCATION_ORACLE,
);
add(
  "header length 16 but 12 bytes present",
  msg(OFPT.ECHO_REQUEST, zeros(4), { length: 16 }),
  "OFPBRC_BAD_LEN",
  NOT_TRUNCATION_ORACLE,
);
add(
  "header length 8 with 8 trailing bytes after the message",
  msg(OFPT.BARRIER_REQUEST, zeros(8), { length: 8 }),
  "OFPBRC_BAD_LEN",
  "ofp-print decodes the first message and notes the unused bytes",
);

for (const version of [0x00, 0x07, 0x08, 0x40, 0x7f, 0x80, 0xff]) {
  add(
    `version 0x${version.toString(16)} (unknown to any OpenFlow)`,
    msg(OFPT.FEATURES_REQUEST, zeros(0), { version }),
    "OFPBRC_BAD_VERSION",
    "ofp-print answers OFPBRC_BAD_TYPE (it has no type table for the version); a live OVS answers OFPBRC_BAD_VERSION (lib/vconn.c), which is the codec.md §5 verdict",
  );
}
for (const version of [0x01, 0x02, 0x03, 0x05, 0x06]) {
  add(
    `version 0x0${version} FEATURES_REQUEST (not OpenFlow 1.3)`,
    msg(OFPT.FEATURES_REQUEST, zeros(0), { version }),
    "OFPBRC_BAD_VERSION",
    "OVS speaks this version; dvrflow's codec is OpenFlow 1.3 only (OVS answers BAD_VERSION after negotiating 1.3, reliability.md §1.3 #2)",
  );
}
for (const type of [30, 31, 32, 35, 40, 64, 99, 128, 200, 254, 255]) {
  add(`message type ${type} (not in OF1.3)`, msg(type), "OFPBRC_BAD_TYPE");
}

// ============================================================== 2. fixed layouts per message type

/** A valid instance of every fixed-layout message, at its exact size. */
const validFixed: ReadonlyArray<readonly [string, Uint8Array]> = [
  [
    "FEATURES_REPLY",
    msg(
      OFPT.FEATURES_REPLY,
      concat(be(1n, 8), be(0, 4), new Uint8Array([254, 0]), zeros(2), be(0, 4), be(0, 4)),
    ),
  ],
  ["GET_CONFIG_REPLY", msg(OFPT.GET_CONFIG_REPLY, concat(be(0, 2), be(128, 2)))],
  ["SET_CONFIG", msg(OFPT.SET_CONFIG, concat(be(0, 2), be(128, 2)))],
  ["PORT_STATUS", msg(OFPT.PORT_STATUS, concat(new Uint8Array([0]), zeros(7), port()))],
  [
    "PORT_MOD",
    msg(
      OFPT.PORT_MOD,
      concat(
        be(1, 4),
        zeros(4),
        new Uint8Array([2, 0, 0, 0, 0, 1]),
        zeros(2),
        be(0, 4),
        be(0, 4),
        be(0, 4),
        zeros(4),
      ),
    ),
  ],
  ["TABLE_MOD", msg(OFPT.TABLE_MOD, concat(new Uint8Array([0]), zeros(3), be(0, 4)))],
  ["QUEUE_GET_CONFIG_REQUEST", msg(OFPT.QUEUE_GET_CONFIG_REQUEST, concat(be(1, 4), zeros(4)))],
  ["ROLE_REQUEST", msg(OFPT.ROLE_REQUEST, concat(be(0, 4), zeros(4), be(0n, 8)))],
  ["ROLE_REPLY", msg(OFPT.ROLE_REPLY, concat(be(1, 4), zeros(4), be(0n, 8)))],
  ["GET_ASYNC_REPLY", msg(OFPT.GET_ASYNC_REPLY, zeros(24))],
  ["SET_ASYNC", msg(OFPT.SET_ASYNC, zeros(24))],
];
for (const [name, valid] of validFixed) {
  const size = valid.length;
  for (const bad of [8, size - 1, size + 1, size + 8]) {
    if (bad < 8) continue;
    add(
      `${name} of ${bad} bytes (layout is exactly ${size})`,
      resized(valid, bad),
      "OFPBRC_BAD_LEN",
    );
  }
}

/** Messages whose layout is exactly the 8-byte header. */
for (const [name, type] of [
  ["FEATURES_REQUEST", OFPT.FEATURES_REQUEST],
  ["GET_CONFIG_REQUEST", OFPT.GET_CONFIG_REQUEST],
  ["BARRIER_REQUEST", OFPT.BARRIER_REQUEST],
  ["BARRIER_REPLY", OFPT.BARRIER_REPLY],
  ["GET_ASYNC_REQUEST", OFPT.GET_ASYNC_REQUEST],
] as const) {
  for (const extra of [4, 8])
    add(
      `${name} with ${extra} body bytes (layout is the bare header)`,
      msg(type, zeros(extra)),
      "OFPBRC_BAD_LEN",
    );
}

/** Messages with a minimum size. */
const validMin: ReadonlyArray<readonly [string, Uint8Array]> = [
  ["ERROR", msg(OFPT.ERROR, concat(be(1, 2), be(6, 2)))],
  [
    "PACKET_IN",
    msg(
      OFPT.PACKET_IN,
      concat(be(0xffffffff, 4), be(0, 2), new Uint8Array([0, 0]), be(0n, 8), match(), zeros(2)),
    ),
  ],
  ["PACKET_OUT", packetOut([])],
  ["MULTIPART_REQUEST", multipart(true, OFPMP.DESC)],
  ["MULTIPART_REPLY", multipart(false, OFPMP.PORT_DESC)],
  ["EXPERIMENTER", msg(OFPT.EXPERIMENTER, concat(be(NX_VENDOR, 4), be(0, 4)))],
];
for (const [name, valid] of validMin) {
  for (const bad of new Set([8, valid.length - 4, valid.length - 1])) {
    if (bad < 8) continue; // A PACKET_IN cut inside its match fails in the match (OVS pulls the fixed 24 bytes first).
    const code = name === "PACKET_IN" && bad > 24 && bad < 32 ? "OFPBMC_BAD_LEN" : "OFPBRC_BAD_LEN";
    add(`${name} of ${bad} bytes (minimum ${valid.length})`, resized(valid, bad), code);
  }
}

/** Messages of a fixed part plus 8-byte multiples (OVS: "exactly N or longer by a multiple of 8"). */
const validStride: ReadonlyArray<readonly [string, Uint8Array]> = [
  ["FLOW_MOD", flowMod()],
  [
    "FLOW_REMOVED",
    msg(
      OFPT.FLOW_REMOVED,
      concat(
        be(0n, 8),
        be(0x8000, 2),
        new Uint8Array([0, 0]),
        be(0, 4),
        be(0, 4),
        be(0, 2),
        be(0, 2),
        be(0n, 8),
        be(0n, 8),
        match(),
      ),
    ),
  ],
  ["GROUP_MOD", msg(OFPT.GROUP_MOD, concat(be(0, 2), new Uint8Array([0, 0]), be(1, 4)))],
  ["METER_MOD", msg(OFPT.METER_MOD, concat(be(0, 2), be(0, 2), be(1, 4)))],
  ["QUEUE_GET_CONFIG_REPLY", msg(OFPT.QUEUE_GET_CONFIG_REPLY, concat(be(1, 4), zeros(4)))],
];
for (const [name, valid] of validStride) {
  for (const bad of [8, valid.length - 1, valid.length + 1, valid.length + 4]) {
    add(
      `${name} of ${bad} bytes (not its fixed part plus a multiple of 8)`,
      resized(valid, bad),
      "OFPBRC_BAD_LEN",
    );
  }
}

// ============================================================== 3. multipart

for (const mpType of [14, 15, 16, 100, 0x8000, 0xfffe]) {
  add(`multipart request of unknown type ${mpType}`, multipart(true, mpType), "OFPBRC_BAD_STAT");
  add(`multipart reply of unknown type ${mpType}`, multipart(false, mpType), "OFPBRC_BAD_STAT");
}
const mpRequestBodies: ReadonlyArray<readonly [string, number, number]> = [
  // name, type, exact body size
  ["DESC", OFPMP.DESC, 0],
  ["TABLE", OFPMP.TABLE, 0],
  ["GROUP_DESC", OFPMP.GROUP_DESC, 0],
  ["GROUP_FEATURES", OFPMP.GROUP_FEATURES, 0],
  ["METER_FEATURES", OFPMP.METER_FEATURES, 0],
  ["PORT_DESC", OFPMP.PORT_DESC, 0],
  ["PORT_STATS", OFPMP.PORT_STATS, 8],
  ["QUEUE", OFPMP.QUEUE, 8],
  ["GROUP", OFPMP.GROUP, 8],
  ["METER", OFPMP.METER, 8],
  ["METER_CONFIG", OFPMP.METER_CONFIG, 8],
];
for (const [name, type, size] of mpRequestBodies) {
  for (const bad of size === 0 ? [8] : [0, 4, size + 8]) {
    add(
      `${name} request with a ${bad}-byte body (expects ${size})`,
      multipart(true, type, zeros(bad)),
      "OFPBRC_BAD_LEN",
    );
  }
}
for (const [name, type] of [
  ["FLOW", OFPMP.FLOW],
  ["AGGREGATE", OFPMP.AGGREGATE],
] as const) {
  const body = flowStatsRequestBody(); // OVS pulls the 32 fixed bytes, then fails reading the match.
  add(
    `${name} request with a 32-byte body and no match`,
    multipart(true, type, body.subarray(0, 32)),
    "OFPBMC_BAD_LEN",
  );
  add(
    `${name} request with a 16-byte body`,
    multipart(true, type, body.subarray(0, 16)),
    "OFPBRC_BAD_LEN",
  );
  add(
    `${name} request whose match has type 2`,
    multipart(true, type, flowStatsRequestBody(match([], { type: 2 }))),
    "OFPBMC_BAD_TYPE",
  );
  // OVS reads type 0 as OF1.1's OFPMT_STANDARD, which must be 88 bytes long.
  add(
    `${name} request whose match has type 0 and length 4`,
    multipart(true, type, flowStatsRequestBody(match([], { type: 0 }))),
    "OFPBMC_BAD_LEN",
  );
  add(
    `${name} request whose match length overruns the body`,
    multipart(true, type, flowStatsRequestBody(match([], { length: 64 }))),
    "OFPBMC_BAD_LEN",
  );
}
const mpReplyBodies: ReadonlyArray<readonly [string, number, number]> = [
  ["DESC", OFPMP.DESC, 1056],
  ["AGGREGATE", OFPMP.AGGREGATE, 24],
  ["TABLE", OFPMP.TABLE, 24],
  ["PORT_STATS", OFPMP.PORT_STATS, 112],
  ["QUEUE", OFPMP.QUEUE, 40],
  ["GROUP_FEATURES", OFPMP.GROUP_FEATURES, 40],
  ["METER_FEATURES", OFPMP.METER_FEATURES, 16],
  ["PORT_DESC", OFPMP.PORT_DESC, 64],
];
for (const [name, type, size] of mpReplyBodies) {
  for (const bad of [size - 8, size + 8 === 1064 ? 1064 : size - 1]) {
    add(
      `${name} reply with a ${bad}-byte body (entry is ${size})`,
      multipart(false, type, zeros(bad)),
      "OFPBRC_BAD_LEN",
    );
  }
}
/** ofp_flow_stats entry: length, table, pad, duration s/ns, priority, idle, hard, flags, pad 4, cookie, packets, bytes, match. */
function flowStatsEntry(
  length?: number,
  m: Uint8Array = match(),
  instructions: readonly Uint8Array[] = [],
): Uint8Array {
  const rest = concat(
    new Uint8Array([0, 0]),
    be(0, 4),
    be(0, 4),
    be(0x8000, 2),
    be(0, 2),
    be(0, 2),
    be(0, 2),
    zeros(4),
    be(0n, 8),
    be(0n, 8),
    be(0n, 8),
    m,
    ...instructions,
  );
  return concat(be(length ?? 2 + rest.length, 2), rest);
}
add(
  "FLOW reply entry with length 0",
  multipart(false, OFPMP.FLOW, flowStatsEntry(0)),
  "OFPBRC_BAD_LEN",
);
add(
  "FLOW reply entry with length 8",
  multipart(false, OFPMP.FLOW, flowStatsEntry(8)),
  "OFPBRC_BAD_LEN",
);
// OVS takes the instruction length from the entry length, so the overrun surfaces there.
add(
  "FLOW reply entry whose length overruns the message",
  multipart(false, OFPMP.FLOW, flowStatsEntry(200)),
  "OFPBIC_BAD_LEN",
);
add(
  "FLOW reply entry with an instruction of length 0",
  multipart(
    false,
    OFPMP.FLOW,
    flowStatsEntry(undefined, match(), [instruction(OFPIT.APPLY_ACTIONS, zeros(4), { length: 0 })]),
  ),
  "OFPBIC_BAD_LEN",
);
add(
  "FLOW reply entry whose match has type 2",
  multipart(false, OFPMP.FLOW, flowStatsEntry(undefined, match([], { type: 2 }))),
  "OFPBMC_BAD_TYPE",
);
add(
  "GROUP reply entry with length 0",
  multipart(false, OFPMP.GROUP, concat(be(0, 2), zeros(38))),
  "OFPBRC_BAD_LEN",
);
add(
  "METER reply entry with length 0",
  multipart(false, OFPMP.METER, concat(be(1, 4), be(0, 2), zeros(34))),
  "OFPBRC_BAD_LEN",
);
add(
  "GROUP_DESC reply entry with length 0",
  multipart(false, OFPMP.GROUP_DESC, concat(be(0, 2), new Uint8Array([0, 0]), be(1, 4))),
  "OFPBRC_BAD_LEN",
);
add(
  "METER_CONFIG reply entry with length 0",
  multipart(false, OFPMP.METER_CONFIG, concat(be(0, 2), be(0, 2), be(1, 4))),
  "OFPBRC_BAD_LEN",
);
// OFPBPC_BAD_LEN is OVS's name for OF1.3 (13, 3) (`ovs-ofctl print-error OFPBPC_BAD_LEN`).
add(
  "TABLE_FEATURES request entry with length 0",
  multipart(true, OFPMP.TABLE_FEATURES, concat(be(0, 2), zeros(62))),
  "OFPBPC_BAD_LEN",
);
add(
  "TABLE_FEATURES reply entry with length 0",
  multipart(false, OFPMP.TABLE_FEATURES, concat(be(0, 2), zeros(62))),
  "OFPBPC_BAD_LEN",
);
add(
  "EXPERIMENTER multipart request with a 4-byte body",
  multipart(true, OFPMP.EXPERIMENTER, be(NX_VENDOR, 4)),
  "OFPBRC_BAD_LEN",
);

// ============================================================== 4. match and OXM (FLOW_MOD, strict)

const fm = (tlvs: readonly Uint8Array[]): Uint8Array => flowMod({ match: match(tlvs) });

for (const type of [2, 3, 0x00ff, 0xffff]) {
  add(
    `match type ${type} (only OFPMT_OXM = 1 in OF1.3)`,
    flowMod({ match: match([], { type }) }),
    "OFPBMC_BAD_TYPE",
  );
}
// OVS reads type 0 as OF1.1's OFPMT_STANDARD, whose length must be 88: so BAD_LEN, not BAD_TYPE.
add("match type 0 with length 4", flowMod({ match: match([], { type: 0 }) }), "OFPBMC_BAD_LEN");
for (const length of [0, 1, 2, 3]) {
  add(`match length ${length} < 4`, flowMod({ match: match([], { length }) }), "OFPBMC_BAD_LEN");
}
add(
  "match length 64 overruns the message",
  flowMod({ match: match([], { length: 64 }) }),
  "OFPBMC_BAD_LEN",
);
add(
  "match length 6 leaves a 2-byte partial OXM header",
  flowMod({ match: match([], { length: 6 }) }),
  "OFPBMC_BAD_LEN",
);
add(
  "match length 7 leaves a 3-byte partial OXM header",
  flowMod({ match: match([], { length: 7 }) }),
  "OFPBMC_BAD_LEN",
);
add(
  "OXM in_port whose payload overruns the match",
  flowMod({ match: match([ofb(OFB.IN_PORT, 4, 1).subarray(0, 6)]) }),
  "OFPBMC_BAD_LEN",
);
add(
  "OXM eth_dst cut after 2 value bytes",
  flowMod({ match: match([ofb(OFB.ETH_DST, 6, 1).subarray(0, 6)]) }),
  "OFPBMC_BAD_LEN",
);
add(
  "OXM ipv6_src with length 255 overruns the match",
  fm([oxm(OXM_CLASS.BASIC, OFB.IPV6_SRC, zeros(16), undefined, { length: 255 })]),
  "OFPBMC_BAD_LEN",
);

// OXM header length that does not fit the field: OVS treats the header as unknown.
for (const [name, field, length] of [
  ["in_port", OFB.IN_PORT, 0],
  ["in_port", OFB.IN_PORT, 2],
  ["in_port", OFB.IN_PORT, 8],
  ["eth_type", OFB.ETH_TYPE, 4],
  ["eth_dst", OFB.ETH_DST, 4],
  ["vlan_vid", OFB.VLAN_VID, 1],
  ["metadata", OFB.METADATA, 4],
  ["tunnel_id", OFB.TUNNEL_ID, 4],
] as const) {
  add(
    `OXM ${name} with payload length ${length}`,
    fm([oxm(OXM_CLASS.BASIC, field, zeros(length))]),
    "OFPBMC_BAD_FIELD",
  );
}
// 42-44 are OF1.5 basic fields (tcp_flags, actset_output, packet_type) that OVS partly accepts.
for (const field of [40, 41, 45, 46, 50, 99, 127]) {
  add(
    `unknown OpenFlow-basic OXM field ${field}`,
    fm([oxm(OXM_CLASS.BASIC, field, zeros(4))]),
    "OFPBMC_BAD_FIELD",
  );
}
for (const cls of [0x0002, 0x0003, 0x1234, 0x7fff, 0x8002, 0xfffe]) {
  add(
    `OXM of unknown class 0x${cls.toString(16)}`,
    fm([oxm(cls, 1, zeros(4))]),
    "OFPBMC_BAD_FIELD",
  );
}
add("NXM1 OXM of unknown field 127", fm([oxm(OXM_CLASS.NXM1, 127, zeros(4))]), "OFPBMC_BAD_FIELD");
add(
  "experimenter OXM with an unknown experimenter id",
  fm([oxm(OXM_CLASS.EXPERIMENTER, 1, zeros(4), undefined, { experimenter: 0x12345678 })]),
  "OFPBMC_BAD_FIELD",
);

// Masks on fields that take none.
for (const [name, field, width, prereqs] of [
  ["in_port", OFB.IN_PORT, 4, []],
  ["eth_type", OFB.ETH_TYPE, 2, []],
  ["ip_proto", OFB.IP_PROTO, 1, [ETH_TYPE_IPV4]],
  ["ip_dscp", OFB.IP_DSCP, 1, [ETH_TYPE_IPV4]],
  ["icmpv4_type", OFB.ICMPV4_TYPE, 1, [ETH_TYPE_IPV4, ofb(OFB.IP_PROTO, 1, 1)]],
  ["arp_op", OFB.ARP_OP, 2, [ETH_TYPE_ARP]],
  ["vlan_pcp", OFB.VLAN_PCP, 1, [ofb(OFB.VLAN_VID, 2, 0x1005)]],
  ["mpls_tc", OFB.MPLS_TC, 1, [ETH_TYPE_MPLS]],
] as const) {
  // A partial mask: OVS reads an all-ones mask as exact and an all-zeros one as a wildcard.
  const partial = (1n << BigInt(8 * width - 1)) | 1n;
  add(
    `masked ${name} (not maskable)`,
    fm([...prereqs, ofb(field, width, 0, partial)]),
    "OFPBMC_BAD_MASK",
  );
}

// Value bits outside the mask.
for (const [name, tlvs] of [
  ["eth_dst", [ofb(OFB.ETH_DST, 6, 0x0000000000ffn, 0xffffffffff00n)]],
  ["eth_src", [ofb(OFB.ETH_SRC, 6, 1n, 0n)]],
  ["metadata", [ofb(OFB.METADATA, 8, 0xffn, 0xf0n)]],
  ["ipv4_src", [ETH_TYPE_IPV4, ofb(OFB.IPV4_SRC, 4, 0x0a000001, 0xffffff00)]],
  ["ipv4_dst", [ETH_TYPE_IPV4, ofb(OFB.IPV4_DST, 4, 0x0a000001, 0)]],
  ["tunnel_id", [ofb(OFB.TUNNEL_ID, 8, 3n, 2n)]],
  ["vlan_vid", [ofb(OFB.VLAN_VID, 2, 0x1005, 0x1000)]],
  ["reg0", [oxm(OXM_CLASS.NXM1, 0, be(0xff, 4), be(0x0f, 4))]],
  ["arp_tpa", [ETH_TYPE_ARP, ofb(OFB.ARP_TPA, 4, 0x0a000001, 0xffff0000)]],
] as const) {
  add(`${name} value has bits outside its mask`, fm(tlvs), "OFPBMC_BAD_WILDCARDS");
}

// Prerequisites (OVS checks them in TLV order, nx-match.c).
for (const [name, tlvs] of [
  ["ipv4_src without eth_type", [ofb(OFB.IPV4_SRC, 4, 0x0a000001)]],
  ["ipv4_dst with eth_type arp", [ETH_TYPE_ARP, ofb(OFB.IPV4_DST, 4, 0x0a000001)]],
  ["arp_tpa before eth_type", [ofb(OFB.ARP_TPA, 4, 0x0a000001), ETH_TYPE_ARP]],
  ["arp_op with eth_type ipv4", [ETH_TYPE_IPV4, ofb(OFB.ARP_OP, 2, 1)]],
  ["ip_proto without eth_type", [IP_PROTO_TCP]],
  ["tcp_dst without ip_proto", [ETH_TYPE_IPV4, ofb(OFB.TCP_DST, 2, 80)]],
  ["tcp_src with ip_proto udp", [ETH_TYPE_IPV4, IP_PROTO_UDP, ofb(OFB.TCP_SRC, 2, 80)]],
  ["udp_dst with ip_proto tcp", [ETH_TYPE_IPV4, IP_PROTO_TCP, ofb(OFB.UDP_DST, 2, 53)]],
  ["sctp_src with ip_proto tcp", [ETH_TYPE_IPV4, IP_PROTO_TCP, ofb(OFB.SCTP_SRC, 2, 1)]],
  ["icmpv4_type with ip_proto tcp", [ETH_TYPE_IPV4, IP_PROTO_TCP, ofb(OFB.ICMPV4_TYPE, 1, 8)]],
  ["icmpv6_type over ipv4", [ETH_TYPE_IPV4, IP_PROTO_ICMPV6, ofb(OFB.ICMPV6_TYPE, 1, 135)]],
  [
    "ipv6_nd_target with icmpv6_type 128",
    [ETH_TYPE_IPV6, IP_PROTO_ICMPV6, ofb(OFB.ICMPV6_TYPE, 1, 128), ofb(OFB.IPV6_ND_TARGET, 16, 1n)],
  ],
  [
    "ipv6_nd_sll with icmpv6_type 136",
    [ETH_TYPE_IPV6, IP_PROTO_ICMPV6, ofb(OFB.ICMPV6_TYPE, 1, 136), ofb(OFB.IPV6_ND_SLL, 6, 1n)],
  ],
  ["ipv6_src with eth_type ipv4", [ETH_TYPE_IPV4, ofb(OFB.IPV6_SRC, 16, 1n)]],
  ["ipv6_flabel without eth_type", [ofb(OFB.IPV6_FLABEL, 4, 1)]],
  ["mpls_label without eth_type", [ofb(OFB.MPLS_LABEL, 4, 1)]],
  ["vlan_pcp without vlan_vid", [ofb(OFB.VLAN_PCP, 1, 3)]],
  ["ip_dscp with eth_type arp", [ETH_TYPE_ARP, ofb(OFB.IP_DSCP, 1, 1)]],
  ["arp_sha (NXM1) without eth_type", [oxm(OXM_CLASS.NXM1, 17, zeros(6))]],
] as const) {
  add(`prerequisite missing: ${name}`, fm(tlvs), "OFPBMC_BAD_PREREQ");
}

// Duplicates, including one logical field under two headers.
for (const [name, tlvs] of [
  ["in_port twice", [ofb(OFB.IN_PORT, 4, 1), ofb(OFB.IN_PORT, 4, 2)]],
  ["eth_type twice", [ETH_TYPE_IPV4, ETH_TYPE_IPV4]],
  ["eth_dst twice", [ofb(OFB.ETH_DST, 6, 1n), ofb(OFB.ETH_DST, 6, 2n)]],
  ["metadata twice (exact then masked)", [ofb(OFB.METADATA, 8, 1n), ofb(OFB.METADATA, 8, 0n, 1n)]],
  ["reg0 twice", [oxm(OXM_CLASS.NXM1, 0, be(1, 4)), oxm(OXM_CLASS.NXM1, 0, be(2, 4))]],
  [
    "tunnel_id as OXM 38 and as NXM tun_id",
    [ofb(OFB.TUNNEL_ID, 8, 1n), oxm(OXM_CLASS.NXM1, 16, be(1n, 8))],
  ],
  ["ipv4_src twice", [ETH_TYPE_IPV4, ofb(OFB.IPV4_SRC, 4, 1), ofb(OFB.IPV4_SRC, 4, 1)]],
  ["eth_src as OXM and as NXM0", [ofb(OFB.ETH_SRC, 6, 1n), oxm(OXM_CLASS.NXM0, 2, be(1n, 6))]],
] as const) {
  add(`duplicate field: ${name}`, fm(tlvs), "OFPBMC_DUP_FIELD");
}

// Illegal values.
for (const [name, tlvs] of [
  ["vlan_vid 0x2000 (13 bits)", [ofb(OFB.VLAN_VID, 2, 0x2000)]],
  ["vlan_vid 0xffff", [ofb(OFB.VLAN_VID, 2, 0xffff)]],
  ["vlan_pcp 8", [ofb(OFB.VLAN_VID, 2, 0x1005), ofb(OFB.VLAN_PCP, 1, 8)]],
  ["ip_dscp 64", [ETH_TYPE_IPV4, ofb(OFB.IP_DSCP, 1, 64)]],
  ["ip_ecn 4", [ETH_TYPE_IPV4, ofb(OFB.IP_ECN, 1, 4)]],
  ["mpls_label 0x100000 (20 bits)", [ETH_TYPE_MPLS, ofb(OFB.MPLS_LABEL, 4, 0x100000)]],
  ["mpls_tc 8", [ETH_TYPE_MPLS, ofb(OFB.MPLS_TC, 1, 8)]],
  ["mpls_bos 2", [ETH_TYPE_MPLS, ofb(OFB.MPLS_BOS, 1, 2)]],
  ["ipv6_flabel 0x100000 (20 bits)", [ETH_TYPE_IPV6, ofb(OFB.IPV6_FLABEL, 4, 0x100000)]],
  ["in_port 0x10000 (outside OVS's port range)", [ofb(OFB.IN_PORT, 4, 0x10000)]],
  ["in_port 0x05060708 (Ryu 4-60's value)", [ofb(OFB.IN_PORT, 4, 0x05060708)]],
  ["in_port 0xfffffeff", [ofb(OFB.IN_PORT, 4, 0xfffffeff)]],
] as const) {
  add(`bad value: ${name}`, fm(tlvs), "OFPBMC_BAD_VALUE");
}

// ============================================================== 5. instructions

const fmI = (instructions: readonly Uint8Array[], tableId = 0): Uint8Array =>
  flowMod({ tableId, instructions });

add(
  "instruction of length 0",
  fmI([instruction(OFPIT.APPLY_ACTIONS, zeros(4), { length: 0 })]),
  "OFPBIC_BAD_LEN",
);
add(
  "instruction of length 4",
  fmI([instruction(OFPIT.APPLY_ACTIONS, zeros(4), { length: 4 })]),
  "OFPBIC_BAD_LEN",
);
add(
  "apply_actions of length 12 (not a multiple of 8)",
  fmI([concat(applyActions([], { length: 12 }), zeros(8))]),
  "OFPBIC_BAD_LEN",
);
add(
  "apply_actions whose length overruns the message",
  fmI([applyActions([], { length: 64 })]),
  "OFPBIC_BAD_LEN",
);
// OVS checks the message against its 48 + 8n stride before it parses instructions.
add(
  "instruction list ending in a 4-byte fragment",
  fmI([gotoTable(1), zeros(4)]),
  "OFPBRC_BAD_LEN",
);
add(
  "goto_table of length 16",
  fmI([concat(gotoTable(1, { length: 16 }), zeros(8))]),
  "OFPBIC_BAD_LEN",
);
add(
  "write_metadata of length 16",
  fmI([writeMetadata(1n, 1n, { length: 16 }).subarray(0, 16)]),
  "OFPBIC_BAD_LEN",
);
add(
  "write_metadata of length 32",
  fmI([concat(writeMetadata(1n, 1n, { length: 32 }), zeros(8))]),
  "OFPBIC_BAD_LEN",
);
add(
  "meter of length 16",
  fmI([concat(meterInstruction(1, { length: 16 }), zeros(8))]),
  "OFPBIC_BAD_LEN",
);
add(
  "clear_actions of length 16",
  fmI([concat(clearActions({ length: 16 }), zeros(8))]),
  "OFPBIC_BAD_LEN",
);
for (const type of [0, 7, 8, 100, 0x7fff, 0xfffe]) {
  add(
    `unknown instruction type ${type}`,
    fmI([instruction(type, zeros(4))]),
    "OFPBIC_UNKNOWN_INST",
  );
}
for (const experimenter of [NX_VENDOR, ONF_VENDOR, 0x12345678]) {
  add(
    `experimenter instruction 0x${experimenter.toString(16)}`,
    fmI([instruction(OFPIT.EXPERIMENTER, concat(be(experimenter, 4), zeros(0)))]),
    "OFPBIC_BAD_EXPERIMENTER",
  );
}
for (const [name, inst] of [
  ["goto_table", gotoTable(5)],
  ["apply_actions", applyActions([])],
  ["write_actions", writeActions([])],
  ["clear_actions", clearActions()],
  ["write_metadata", writeMetadata(0n, 0n)],
  ["meter", meterInstruction(1)],
] as const) {
  add(`duplicate ${name} instruction`, fmI([inst, inst]), "OFPBIC_DUP_INST");
}
add("goto_table to the same table", fmI([gotoTable(3)], 3), "OFPBIC_BAD_TABLE_ID");
add("goto_table to an earlier table", fmI([gotoTable(1)], 3), "OFPBIC_BAD_TABLE_ID");

// ============================================================== 6. actions (inside apply_actions)

add(
  "action of length 0",
  flowModApplying([action(OFPAT.OUTPUT, zeros(4), { length: 0 })]),
  "OFPBAC_BAD_LEN",
);
add(
  "action of length 4",
  flowModApplying([action(OFPAT.POP_VLAN, zeros(4), { length: 4 })]),
  "OFPBAC_BAD_LEN",
);
add(
  "output action of length 8",
  flowModApplying([action(OFPAT.OUTPUT, concat(be(1, 4)))]),
  "OFPBAC_BAD_LEN",
);
add(
  "output action of length 24",
  flowModApplying([concat(output(1, 0, { length: 24 }), zeros(8))]),
  "OFPBAC_BAD_LEN",
);
add(
  "action of length 12 (not a multiple of 8)",
  flowModApplying([action(OFPAT.POP_VLAN, zeros(8), { length: 12 }), zeros(4)]),
  "OFPBAC_BAD_LEN",
);
add(
  "action whose length overruns the instruction",
  flowModApplying([output(1, 0, { length: 32 })]),
  "OFPBAC_BAD_LEN",
);
add(
  "action list ending in a 4-byte fragment",
  flowMod({
    instructions: [concat(applyActions([action0(OFPAT.POP_VLAN)], { length: 20 }), zeros(4))],
  }),
  "OFPBRC_BAD_LEN",
);
add(
  "apply_actions of length 20 inside a padded list",
  flowMod({
    instructions: [concat(applyActions([action0(OFPAT.POP_VLAN)], { length: 20 }), zeros(8))],
  }),
  "OFPBIC_BAD_LEN",
);
for (const [name, type] of [
  ["pop_vlan", OFPAT.POP_VLAN],
  ["dec_nw_ttl", OFPAT.DEC_NW_TTL],
  ["dec_mpls_ttl", OFPAT.DEC_MPLS_TTL],
] as const) {
  add(`${name} of length 16`, flowModApplying([action(type, zeros(12))]), "OFPBAC_BAD_LEN");
}
add(
  "group action of length 16",
  flowModApplying([action(OFPAT.GROUP, concat(be(1, 4), zeros(8)))]),
  "OFPBAC_BAD_LEN",
);
add(
  "set_queue action of length 16",
  flowModApplying([action(OFPAT.SET_QUEUE, concat(be(1, 4), zeros(8)))]),
  "OFPBAC_BAD_LEN",
);
add(
  "push_vlan action of length 16",
  flowModApplying([action(OFPAT.PUSH_VLAN, concat(be(0x8100, 2), zeros(10)))]),
  "OFPBAC_BAD_LEN",
);
// Types 1-10 and 13/14 are OF1.1 actions OVS still accepts in OF1.3 (codec.md §1.5).
for (const type of [28, 29, 30, 31, 50, 100, 1000, 0x7fff, 0xfffe]) {
  add(`unknown action type ${type}`, flowModApplying([action(type, zeros(4))]), "OFPBAC_BAD_TYPE");
}
add(
  "experimenter action with an unknown experimenter id",
  flowModApplying([experimenterAction(0x12345678, zeros(8))]),
  "OFPBAC_BAD_VENDOR",
);
add(
  "experimenter action of length 8 from ONF with no subtype",
  flowModApplying([experimenterAction(0x00000065, zeros(0))]),
  "OFPBAC_BAD_VENDOR",
);
for (const subtype of [0, 200, 1000, 0xffff]) {
  add(
    `Nicira action of unknown subtype ${subtype}`,
    flowModApplying([nxAction(subtype, zeros(6))]),
    "OFPBAC_BAD_VENDOR_TYPE",
  );
}
add(
  "Nicira action of length 8 (no room for a subtype)",
  flowModApplying([experimenterAction(NX_VENDOR, zeros(0))]),
  "OFPBAC_BAD_LEN",
);
add(
  "Nicira resubmit_table of length 24",
  flowModApplying([nxAction(14, concat(be(0xfff8, 2), new Uint8Array([1]), zeros(11)))]),
  "OFPBAC_BAD_LEN",
);
add(
  "Nicira reg_load of length 16",
  flowModApplying([nxAction(7, concat(be(31, 2), be(0x00010004, 4)))]),
  "OFPBAC_BAD_LEN",
);
add(
  "Nicira reg_move of length 16",
  flowModApplying([nxAction(6, concat(be(32, 2), be(0, 2), be(0, 2)))]),
  "OFPBMC_BAD_LEN", // OVS fails reading the missing field reference
);
add(
  "Nicira resubmit_table with nonzero pad",
  flowModApplying([nxAction(14, concat(be(0xfff8, 2), new Uint8Array([1, 1, 0, 0])))]),
  "OFPBAC_BAD_ARGUMENT", // OVS: resubmit's pad must be zero, reported as BAD_ARGUMENT
);
add(
  "Nicira reg_load of 8 bits at offset 30 of a 32-bit register",
  flowModApplying([nxRegLoad(30, 8, 0x00010004, 1n)]),
  "OFPBAC_BAD_SET_LEN", // OVS reports sub-field range errors of load/move as BAD_SET_LEN (mf_check_dst)
);
add(
  "Nicira reg_load into an unknown field",
  flowModApplying([nxRegLoad(0, 8, 0x00027f04, 1n)]),
  "OFPBAC_BAD_SET_TYPE",
);
add(
  "Nicira reg_move from an unknown field",
  flowModApplying([nxRegMove(8, 0, 0, 0x00027f04, 0x00010004)]),
  "OFPBMC_BAD_FIELD",
);
add(
  "Nicira reg_move of 40 bits between 32-bit registers",
  flowModApplying([nxRegMove(40, 0, 0, 0x00010004, 0x00010204)]),
  "OFPBAC_BAD_SET_LEN",
);

for (const [name, port] of [
  ["OFPP_ANY", OFPP.ANY],
  ["0xffffff00 (reserved range)", 0xffffff00],
  ["0xfffffff7 (reserved range)", 0xfffffff7],
  ["0x10000 (outside OVS's port range)", 0x10000],
] as const) {
  add(`output to port ${name}`, flowModApplying([output(port)]), "OFPBAC_BAD_OUT_PORT");
}

// set_field
add(
  "set_field whose OXM length disagrees with the field",
  flowModApplying([setField(oxm(OXM_CLASS.BASIC, OFB.IPV4_DST, zeros(2)))], [ETH_TYPE_IPV4]),
  "OFPBAC_BAD_SET_LEN",
);
add(
  "set_field of length 8 with a cut OXM",
  flowModApplying(
    [action(OFPAT.SET_FIELD, concat(ofb(OFB.IPV4_DST, 4, 1).subarray(0, 4)))],
    [ETH_TYPE_IPV4],
  ),
  "OFPBMC_BAD_LEN", // a cut OXM fails in OVS's OXM reader (nx_pull_entry)
);
add(
  "set_field of an unknown OXM field",
  flowModApplying([setField(oxm(OXM_CLASS.BASIC, 60, zeros(4)))]),
  "OFPBAC_BAD_SET_LEN", // OVS: BAD_SET_LEN, not BAD_SET_TYPE, for a field it does not know
);
add(
  "set_field of an unknown OXM class",
  flowModApplying([setField(oxm(0x1234, 1, zeros(4)))]),
  "OFPBAC_BAD_SET_LEN", // OVS: BAD_SET_LEN, not BAD_SET_TYPE, for a field it does not know
);
add(
  "set_field with a mask (not allowed in OF1.3)",
  flowModApplying([setField(ofb(OFB.IPV4_DST, 4, 1, 0xffffffff))], [ETH_TYPE_IPV4]),
  "OFPBAC_BAD_SET_MASK",
);
add(
  "set_field of ip_proto (read-only)",
  flowModApplying([setField(ofb(OFB.IP_PROTO, 1, 6))], [ETH_TYPE_IPV4]),
  "OFPBAC_BAD_SET_ARGUMENT",
);
add(
  "set_field of eth_type (read-only)",
  flowModApplying([setField(ofb(OFB.ETH_TYPE, 2, 0x0800))]),
  "OFPBAC_BAD_SET_ARGUMENT",
);

add(
  "set_field vlan_vid 0x2000",
  flowModApplying([setField(ofb(OFB.VLAN_VID, 2, 0x2000))], [ofb(OFB.VLAN_VID, 2, 0x1000, 0x1000)]),
  "OFPBAC_BAD_SET_ARGUMENT",
);
add(
  "set_field vlan_pcp 8",
  flowModApplying([setField(ofb(OFB.VLAN_PCP, 1, 8))], [ofb(OFB.VLAN_VID, 2, 0x1000, 0x1000)]),
  "OFPBAC_BAD_SET_ARGUMENT",
);
add(
  "set_field ip_dscp 64",
  flowModApplying([setField(ofb(OFB.IP_DSCP, 1, 64))], [ETH_TYPE_IPV4]),
  "OFPBAC_BAD_SET_ARGUMENT",
);
add(
  "set_field ipv4_dst with no eth_type in the match",
  flowModApplying([setField(ofb(OFB.IPV4_DST, 4, 1))]),
  "OFPBAC_MATCH_INCONSISTENT",
);
add(
  "set_field tcp_dst with an IPv4 match but no ip_proto",
  flowModApplying([setField(ofb(OFB.TCP_DST, 2, 80))], [ETH_TYPE_IPV4]),
  "OFPBAC_MATCH_INCONSISTENT",
);
add(
  "set_field arp_tpa with eth_type ipv4",
  flowModApplying([setField(ofb(OFB.ARP_TPA, 4, 1))], [ETH_TYPE_IPV4]),
  "OFPBAC_MATCH_INCONSISTENT",
);
add(
  "push_vlan with ethertype 0x0800",
  flowModApplying([action16(OFPAT.PUSH_VLAN, 0x0800)]),
  "OFPBAC_BAD_ARGUMENT",
);
add(
  "push_mpls with ethertype 0x0800",
  flowModApplying([action16(OFPAT.PUSH_MPLS, 0x0800)]),
  "OFPBAC_BAD_ARGUMENT",
);

add(
  "write_actions holding an action of length 0",
  flowMod({ instructions: [writeActions([action(OFPAT.OUTPUT, zeros(12), { length: 0 })])] }),
  "OFPBAC_BAD_LEN",
);
add(
  "write_actions holding an unknown action type",
  flowMod({ instructions: [writeActions([action(99, zeros(4))])] }),
  "OFPBAC_BAD_TYPE",
);
add(
  "second action overruns after a valid output",
  flowModApplying([
    output(1),
    action(OFPAT.OUTPUT, concat(be(2, 4), be(0, 2), zeros(6)), { length: 24 }),
  ]),
  "OFPBAC_BAD_LEN",
);
add(
  "resubmit_table followed by an action of length 0",
  flowModApplying([nxResubmitTable(0xfff8, 1), action(OFPAT.OUTPUT, zeros(12), { length: 0 })]),
  "OFPBAC_BAD_LEN",
);

// ============================================================== 7. packet-out

add(
  "PACKET_OUT actions_len overruns the message",
  packetOut([output(1)], new Uint8Array(0), { actionsLen: 64 }),
  "OFPBRC_BAD_LEN",
);
add(
  "PACKET_OUT actions_len 12 (not a multiple of 8)",
  packetOut([output(1)], new Uint8Array(0), { actionsLen: 12 }),
  "OFPBRC_BAD_LEN",
);
add(
  "PACKET_OUT actions_len 8 cuts a 16-byte output",
  packetOut([output(1)], new Uint8Array(0), { actionsLen: 8 }),
  "OFPBAC_BAD_LEN",
);
add(
  "PACKET_OUT with an action of length 0",
  packetOut([action(OFPAT.OUTPUT, zeros(12), { length: 0 })]),
  "OFPBAC_BAD_LEN",
);
add("PACKET_OUT with an unknown action type", packetOut([action(77, zeros(4))]), "OFPBAC_BAD_TYPE");
add("PACKET_OUT with output to OFPP_ANY", packetOut([output(OFPP.ANY)]), "OFPBAC_BAD_OUT_PORT");

// OVS converts in_port with its output-port helper, hence BAD_OUT_PORT.
add(
  "PACKET_OUT with in_port 0x10000",
  packetOut([output(1)], new Uint8Array(0), { inPort: 0x10000 }),
  "OFPBAC_BAD_OUT_PORT",
);

// ============================================================== 8. packet-in / flow-removed matches (loose, still structural)

const packetIn = (m: Uint8Array, tail: Uint8Array = zeros(2)): Uint8Array =>
  msg(
    OFPT.PACKET_IN,
    concat(be(0xffffffff, 4), be(0, 2), new Uint8Array([0, 0]), be(0n, 8), m, tail),
  );
add("PACKET_IN match type 0", packetIn(match([], { type: 0 })), "OFPBMC_BAD_TYPE");
add("PACKET_IN match length 2", packetIn(match([], { length: 2 })), "OFPBMC_BAD_LEN");
add(
  "PACKET_IN match length overruns the message",
  packetIn(match([], { length: 200 })),
  "OFPBMC_BAD_LEN",
);
add(
  "PACKET_IN OXM payload overruns the match",
  packetIn(match([ofb(OFB.IN_PORT, 4, 1).subarray(0, 6)])),
  "OFPBMC_BAD_LEN",
);
add(
  "PACKET_IN masked in_port",
  packetIn(match([ofb(OFB.IN_PORT, 4, 1, 0xffff00ff)])),
  "OFPBMC_BAD_MASK",
);
add(
  "PACKET_IN in_port value out of range",
  packetIn(match([ofb(OFB.IN_PORT, 4, 0x05060708)])),
  "OFPBMC_BAD_VALUE",
);
const flowRemoved = (m: Uint8Array): Uint8Array =>
  msg(
    OFPT.FLOW_REMOVED,
    concat(
      be(0n, 8),
      be(0x8000, 2),
      new Uint8Array([0, 0]),
      be(0, 4),
      be(0, 4),
      be(0, 2),
      be(0, 2),
      be(0n, 8),
      be(0n, 8),
      m,
    ),
  );
add("FLOW_REMOVED match type 2", flowRemoved(match([], { type: 2 })), "OFPBMC_BAD_TYPE");
add("FLOW_REMOVED match length 0", flowRemoved(match([], { length: 0 })), "OFPBMC_BAD_LEN");
add(
  "FLOW_REMOVED OXM cut inside its value",
  flowRemoved(match([ofb(OFB.ETH_DST, 6, 1n).subarray(0, 7)])),
  "OFPBMC_BAD_LEN",
);

// ============================================================== 9. other messages' nested TLVs

const hello = (elements: Uint8Array): Uint8Array => msg(OFPT.HELLO, elements);
const HELLO_TOLERANCE =
  "OVS tolerates malformed hello elements (prints 'unknown data in hello'); a zero or short element length is the Ryu #195 hang, so codec.md §0.6 / reliability.md §1.4 require BAD_LEN";
add(
  "HELLO version-bitmap element of length 0",
  hello(concat(be(1, 2), be(0, 2), be(0x10, 4))),
  "OFPBRC_BAD_LEN",
  HELLO_TOLERANCE,
);
add(
  "HELLO version-bitmap element of length 2",
  hello(concat(be(1, 2), be(2, 2), be(0x10, 4))),
  "OFPBRC_BAD_LEN",
  HELLO_TOLERANCE,
);
add(
  "HELLO element overrunning the message",
  hello(concat(be(1, 2), be(16, 2), be(0x10, 4))),
  "OFPBRC_BAD_LEN",
  HELLO_TOLERANCE,
);

const errorMsg = (body: Uint8Array): Uint8Array => msg(OFPT.ERROR, body);
add(
  "experimenter ERROR of 14 bytes (needs 16)",
  errorMsg(concat(be(0xffff, 2), be(1, 2), be(NX_VENDOR, 4)).subarray(0, 6)),
  "OFPBRC_BAD_LEN",
);

const groupMod = (command: number, type: number, buckets: Uint8Array): Uint8Array =>
  msg(OFPT.GROUP_MOD, concat(be(command, 2), new Uint8Array([type, 0]), be(1, 4), buckets));
const bucket = (
  actions: readonly Uint8Array[],
  opts: { length?: number; weight?: number } = {},
): Uint8Array => {
  const acts = concat(...actions);
  return concat(
    be(opts.length ?? 16 + acts.length, 2),
    be(opts.weight ?? 0, 2),
    be(OFPP.ANY, 4),
    be(0xffffffff, 4),
    zeros(4),
    acts,
  );
};
add(
  "GROUP_MOD bucket of length 0",
  groupMod(0, 0, bucket([], { length: 0 })),
  "OFPGMFC_BAD_BUCKET",
);
add(
  "GROUP_MOD bucket of length 8",
  groupMod(0, 0, bucket([], { length: 8 })),
  "OFPGMFC_BAD_BUCKET",
);
add(
  "GROUP_MOD bucket overrunning the message",
  groupMod(0, 0, bucket([], { length: 48 })),
  "OFPGMFC_BAD_BUCKET",
);
add(
  "GROUP_MOD bucket holding an action of length 0",
  groupMod(0, 0, bucket([action(OFPAT.OUTPUT, zeros(12), { length: 0 })])),
  "OFPBAC_BAD_LEN",
);
add(
  "GROUP_MOD bucket with an unknown action type",
  groupMod(0, 0, bucket([action(99, zeros(4))])),
  "OFPBAC_BAD_TYPE",
);
add("GROUP_MOD of unknown group type 4", groupMod(0, 4, bucket([output(1)])), "OFPGMFC_BAD_TYPE");
// Commands 3/4 are OF1.5's insert/remove bucket, which OVS accepts in OF1.3 too.
add(
  "GROUP_MOD of unknown command 100",
  groupMod(100, 0, bucket([output(1)])),
  "OFPGMFC_BAD_COMMAND",
);

const meterMod = (command: number, flags: number, bands: Uint8Array): Uint8Array =>
  msg(OFPT.METER_MOD, concat(be(command, 2), be(flags, 2), be(1, 4), bands));
const band = (type: number, opts: { length?: number } = {}): Uint8Array =>
  concat(be(type, 2), be(opts.length ?? 16, 2), be(1000, 4), be(0, 4), zeros(4));
add("METER_MOD band of length 0", meterMod(0, 1, band(1, { length: 0 })), "OFPBRC_BAD_LEN");
add("METER_MOD band of length 8", meterMod(0, 1, band(1, { length: 8 })), "OFPBRC_BAD_LEN");
add(
  "METER_MOD band overrunning the message",
  meterMod(0, 1, band(1, { length: 32 })),
  "OFPBRC_BAD_LEN",
);
add("METER_MOD band of unknown type 3", meterMod(0, 1, band(3)), "OFPMMFC_BAD_BAND");
add("METER_MOD of unknown command 3", meterMod(3, 1, band(1)), "OFPMMFC_BAD_COMMAND");

add(
  "ROLE_REQUEST with role 4",
  msg(OFPT.ROLE_REQUEST, concat(be(4, 4), zeros(4), be(0n, 8))),
  "OFPRRFC_BAD_ROLE",
);
add(
  "ROLE_REQUEST with role 0xffffffff",
  msg(OFPT.ROLE_REQUEST, concat(be(0xffffffff, 4), zeros(4), be(0n, 8))),
  "OFPRRFC_BAD_ROLE",
);

const queueReply = (queues: Uint8Array): Uint8Array =>
  msg(OFPT.QUEUE_GET_CONFIG_REPLY, concat(be(1, 4), zeros(4), queues));
const queue = (len: number, props: Uint8Array = zeros(0)): Uint8Array =>
  concat(be(1, 4), be(1, 4), be(len, 2), zeros(6), props);
add("QUEUE_GET_CONFIG_REPLY queue of length 0", queueReply(queue(0)), "OFPBRC_BAD_LEN");
add(
  "QUEUE_GET_CONFIG_REPLY queue overrunning the message",
  queueReply(queue(64)),
  "OFPBRC_BAD_LEN",
);
add(
  "QUEUE_GET_CONFIG_REPLY property of length 0",
  queueReply(queue(32, concat(be(1, 2), be(0, 2), zeros(4), be(100, 2), zeros(6)))),
  "OFPBRC_BAD_LEN",
);

// ============================================================== 10. flow_mod fields

for (const command of [5, 6, 100, 255]) {
  add(`FLOW_MOD of unknown command ${command}`, flowMod({ command }), "OFPFMFC_BAD_COMMAND");
}
add("FLOW_MOD ADD to table 255 (OFPTT_ALL)", flowMod({ tableId: 255 }), "OFPFMFC_BAD_TABLE_ID");

// ============================================================== exports

export const MALFORMED_CASES: readonly MalformedCase[] = cases;
