/**
 * OpenFlow 1.3 errors as typed values.
 *
 * Every failure a decoder (or the validator) can report is an {@link OfpError}
 * that names the error exactly as Open vSwitch spells it (`OFPBMC_BAD_PREREQ`,
 * `OFPBAC_BAD_SET_LEN`, ...) and carries the (type, code) OVS would put in the
 * OFPT_ERROR it sends back for the same defect. Extension errors that OVS encodes
 * in OF1.3 as OFPET_EXPERIMENTER (e.g. OFPBIC_DUP_INST → ONF exp_type 2600,
 * `lib/ofp-errors.c`) carry the experimenter id and exp_type instead.
 *
 * The catalogue below follows `include/openvswitch/ofp-errors.h` (OF1.2+
 * numbering) and `ovs-ofctl print-error NAME` on OVS 3.1.
 */

/** OF1.3 §7.4.4 `ofp_error_type`. */
export const OFPET = {
  HELLO_FAILED: 0,
  BAD_REQUEST: 1,
  BAD_ACTION: 2,
  BAD_INSTRUCTION: 3,
  BAD_MATCH: 4,
  FLOW_MOD_FAILED: 5,
  GROUP_MOD_FAILED: 6,
  PORT_MOD_FAILED: 7,
  TABLE_MOD_FAILED: 8,
  QUEUE_OP_FAILED: 9,
  SWITCH_CONFIG_FAILED: 10,
  ROLE_REQUEST_FAILED: 11,
  METER_MOD_FAILED: 12,
  TABLE_FEATURES_FAILED: 13,
  EXPERIMENTER: 0xffff,
} as const;
export type OfpErrorType = (typeof OFPET)[keyof typeof OFPET];

/** Experimenter ids that own extension errors. */
export const NX_VENDOR_ID = 0x00002320;
export const ONF_VENDOR_ID = 0x4f4e4600;

/**
 * Prefix per error type, as OVS names its codes (`OFPBRC_`, `OFPBAC_`, ...).
 * A code already spelled with an `OFP`/`NX` prefix is a full name (OVS
 * sometimes files a code under another family's name).
 */
const STANDARD_CODES: ReadonlyArray<readonly [number, string, readonly string[]]> = [
  [OFPET.HELLO_FAILED, "OFPHFC", ["INCOMPATIBLE", "EPERM"]],
  [
    OFPET.BAD_REQUEST,
    "OFPBRC",
    // OVS keeps the OF1.0 names for codes 2-4 (BAD_STAT, BAD_VENDOR, BAD_SUBTYPE)
    // where the OF1.3 spec says BAD_MULTIPART, BAD_EXPERIMENTER, BAD_EXP_TYPE.
    [
      "BAD_VERSION",
      "BAD_TYPE",
      "BAD_STAT",
      "BAD_VENDOR",
      "BAD_SUBTYPE",
      "EPERM",
      "BAD_LEN",
      "BUFFER_EMPTY",
      "BUFFER_UNKNOWN",
      "BAD_TABLE_ID",
      // OVS 3.1 renamed OFPBRC_IS_SLAVE; the old name stays an encode-only alias.
      "IS_SECONDARY",
      "BAD_PORT",
      "BAD_PACKET",
      "MULTIPART_BUFFER_OVERFLOW",
    ],
  ],
  [
    OFPET.BAD_ACTION,
    "OFPBAC",
    [
      "BAD_TYPE",
      "BAD_LEN",
      "BAD_VENDOR",
      "BAD_VENDOR_TYPE",
      "BAD_OUT_PORT",
      "BAD_ARGUMENT",
      "EPERM",
      "TOO_MANY",
      "BAD_QUEUE",
      "BAD_OUT_GROUP",
      "MATCH_INCONSISTENT",
      "UNSUPPORTED_ORDER",
      "BAD_TAG",
      "BAD_SET_TYPE",
      "BAD_SET_LEN",
      "BAD_SET_ARGUMENT",
    ],
  ],
  [
    OFPET.BAD_INSTRUCTION,
    "OFPBIC",
    [
      "UNKNOWN_INST",
      "UNSUP_INST",
      "BAD_TABLE_ID",
      "UNSUP_METADATA",
      "UNSUP_METADATA_MASK",
      "BAD_EXPERIMENTER",
      "BAD_EXP_TYPE",
      "BAD_LEN",
      "EPERM",
    ],
  ],
  [
    OFPET.BAD_MATCH,
    "OFPBMC",
    [
      "BAD_TYPE",
      "BAD_LEN",
      "BAD_TAG",
      "BAD_DL_ADDR_MASK",
      "BAD_NW_ADDR_MASK",
      "BAD_WILDCARDS",
      "BAD_FIELD",
      "BAD_VALUE",
      "BAD_MASK",
      "BAD_PREREQ",
      "DUP_FIELD",
      "EPERM",
    ],
  ],
  [
    OFPET.FLOW_MOD_FAILED,
    "OFPFMFC",
    [
      "UNKNOWN",
      "TABLE_FULL",
      "BAD_TABLE_ID",
      "OVERLAP",
      "EPERM",
      "BAD_TIMEOUT",
      "BAD_COMMAND",
      "BAD_FLAGS",
    ],
  ],
  [
    OFPET.GROUP_MOD_FAILED,
    "OFPGMFC",
    [
      "GROUP_EXISTS",
      "INVALID_GROUP",
      "WEIGHT_UNSUPPORTED",
      "OUT_OF_GROUPS",
      "OUT_OF_BUCKETS",
      "CHAINING_UNSUPPORTED",
      "WATCH_UNSUPPORTED",
      "LOOP",
      "UNKNOWN_GROUP",
      "CHAINED_GROUP",
      "BAD_TYPE",
      "BAD_COMMAND",
      "BAD_BUCKET",
      "BAD_WATCH",
      "EPERM",
    ],
  ],
  [
    OFPET.PORT_MOD_FAILED,
    "OFPPMFC",
    ["BAD_PORT", "BAD_HW_ADDR", "BAD_CONFIG", "BAD_ADVERTISE", "EPERM"],
  ],
  [OFPET.TABLE_MOD_FAILED, "OFPTMFC", ["BAD_TABLE", "BAD_CONFIG", "EPERM"]],
  [OFPET.QUEUE_OP_FAILED, "OFPQOFC", ["BAD_PORT", "BAD_QUEUE", "EPERM"]],
  [OFPET.SWITCH_CONFIG_FAILED, "OFPSCFC", ["BAD_FLAGS", "BAD_LEN", "EPERM"]],
  [OFPET.ROLE_REQUEST_FAILED, "OFPRRFC", ["STALE", "UNSUP", "BAD_ROLE"]],
  [
    OFPET.METER_MOD_FAILED,
    "OFPMMFC",
    [
      "UNKNOWN",
      "METER_EXISTS",
      "INVALID_METER",
      "UNKNOWN_METER",
      "BAD_COMMAND",
      "BAD_FLAGS",
      "BAD_RATE",
      "BAD_BURST",
      "BAD_BAND",
      "BAD_BAND_VALUE",
      "OUT_OF_METERS",
      "OUT_OF_BANDS",
    ],
  ],
  [
    OFPET.TABLE_FEATURES_FAILED,
    "OFPTFFC",
    // Codes 2-4 are the spec's OFPTFFC_BAD_TYPE/BAD_LEN/BAD_ARGUMENT; OVS names
    // them after the generic property errors it raises for table-features and
    // other property lists (`ovs-ofctl print-error OFPBPC_BAD_LEN`: type 13,
    // code 3 in OF1.3). The spec names stay encode-only aliases.
    ["BAD_TABLE", "BAD_METADATA", "OFPBPC_BAD_TYPE", "OFPBPC_BAD_LEN", "OFPBPC_BAD_VALUE", "EPERM"],
  ],
];

/**
 * Extension errors and their OF1.3 encodings (`ofp-errors.h`: `ONF1.3(2600)`,
 * `NX1.0+(2)`, ...). They travel as OFPET_EXPERIMENTER.
 */
const EXPERIMENTER_CODES: ReadonlyArray<readonly [string, number, number]> = [
  ["OFPFMFC_BAD_PRIORITY", ONF_VENDOR_ID, 2360],
  ["OFPBIC_DUP_INST", ONF_VENDOR_ID, 2600],
  ["OFPBRC_MULTIPART_REQUEST_TIMEOUT", ONF_VENDOR_ID, 2640],
  ["OFPBRC_MULTIPART_REPLY_TIMEOUT", ONF_VENDOR_ID, 2641],
  ["OFPBAC_BAD_SET_MASK", ONF_VENDOR_ID, 4250],
  // Property errors with no OF1.3 code (`ofp-errors.h` ONF1.3(4443..4448)).
  ["OFPBPC_TOO_MANY", ONF_VENDOR_ID, 4443],
  ["OFPBPC_DUP_TYPE", ONF_VENDOR_ID, 4444],
  ["OFPBPC_BAD_EXPERIMENTER", ONF_VENDOR_ID, 4445],
  ["OFPBPC_BAD_EXP_TYPE", ONF_VENDOR_ID, 4446],
  ["OFPBPC_BAD_EXP_VALUE", ONF_VENDOR_ID, 4447],
  ["OFPBPC_EPERM", ONF_VENDOR_ID, 4448],
  ["NXBRC_NXM_INVALID", NX_VENDOR_ID, 2],
  ["NXBRC_NXM_BAD_TYPE", NX_VENDOR_ID, 3],
  ["NXBRC_MUST_BE_ZERO", NX_VENDOR_ID, 4],
  ["NXBRC_BAD_REASON", NX_VENDOR_ID, 5],
  ["NXBAC_MUST_BE_ZERO", NX_VENDOR_ID, 11],
  ["NXBAC_BAD_CONJUNCTION", NX_VENDOR_ID, 15],
  ["NXBAC_CT_DATAPATH_SUPPORT", NX_VENDOR_ID, 42],
  ["NXBMC_CT_DATAPATH_SUPPORT", NX_VENDOR_ID, 43],
];

/** Where an error lives on the wire in OF1.3. */
export type ErrorEncoding =
  | { readonly kind: "standard"; readonly type: number; readonly code: number }
  | {
      readonly kind: "experimenter";
      readonly experimenter: number;
      readonly expType: number;
    };

const byName = new Map<string, ErrorEncoding>();
const byStandard = new Map<number, string>();
const byExperimenter = new Map<string, string>();

for (const [type, prefix, codes] of STANDARD_CODES) {
  codes.forEach((code, index) => {
    const name = /^(OFP|NX)/.test(code) ? code : `${prefix}_${code}`;
    byName.set(name, { kind: "standard", type, code: index });
    byStandard.set(type * 0x10000 + index, name);
  });
}
for (const [name, experimenter, expType] of EXPERIMENTER_CODES) {
  byName.set(name, { kind: "experimenter", experimenter, expType });
  byExperimenter.set(`${experimenter}:${expType}`, name);
}

/** Every error name the catalogue knows (stable string codes for logs/tests). */
export const ERROR_NAMES: readonly string[] = [...byName.keys()];

/**
 * Older or spec spellings accepted by {@link errorEncoding} (so callers that
 * still use them encode the right code) but never produced by a decoder or a
 * reverse lookup, which always answer with OVS 3.1's name.
 */
const ENCODE_ALIASES: ReadonlyArray<readonly [alias: string, name: string]> = [
  ["OFPBRC_IS_SLAVE", "OFPBRC_IS_SECONDARY"],
  ["OFPTFFC_BAD_TYPE", "OFPBPC_BAD_TYPE"],
  ["OFPTFFC_BAD_LEN", "OFPBPC_BAD_LEN"],
  ["OFPTFFC_BAD_ARGUMENT", "OFPBPC_BAD_VALUE"],
];
for (const [alias, name] of ENCODE_ALIASES) byName.set(alias, byName.get(name)!);

/** The OF1.3 encoding of a named error; throws on an unknown name (a bug). */
export function errorEncoding(name: string): ErrorEncoding {
  const enc = byName.get(name);
  if (enc === undefined) throw new Error(`unknown OpenFlow error name ${name}`);
  return enc;
}

/** The OVS name of a standard (type, code), or undefined when it is not in the catalogue. */
export function standardErrorName(type: number, code: number): string | undefined {
  return byStandard.get(type * 0x10000 + code);
}

/** The OVS name of an experimenter error, or undefined. */
export function experimenterErrorName(experimenter: number, expType: number): string | undefined {
  return byExperimenter.get(`${experimenter}:${expType}`);
}

/** Names of the standard error types as OVS prints them (`OFPET_BAD_MATCH`). */
export function errorTypeName(type: number): string | undefined {
  for (const [key, value] of Object.entries(OFPET)) if (value === type) return `OFPET_${key}`;
  return undefined;
}

export interface OfpErrorOptions {
  /** Byte offset in the decoded buffer where the defect was found. */
  readonly offset?: number;
  /** Path of the failing element, e.g. `flow_mod.instructions[1].actions[3]`. */
  readonly path?: string;
}

/**
 * The only error type a decoder lets escape. `name` is OVS's spelling and the
 * stable code used in logs and tests; `encoding` is what goes on the wire.
 */
export class OfpError extends Error {
  override readonly name = "OfpError";
  readonly code: string;
  readonly encoding: ErrorEncoding;
  readonly offset: number | undefined;
  readonly path: string | undefined;

  constructor(code: string, message: string, options: OfpErrorOptions = {}) {
    super(
      `${code}: ${message}${options.offset === undefined ? "" : ` (at byte ${options.offset})`}`,
    );
    this.code = code;
    this.encoding = errorEncoding(code);
    this.offset = options.offset;
    this.path = options.path;
  }

  /** OF1.3 (type, code) for standard errors; experimenter errors use type 0xffff. */
  get type(): number {
    return this.encoding.kind === "standard" ? this.encoding.type : OFPET.EXPERIMENTER;
  }
}

/** True when `e` is one of ours (the test for "only our errors escape"). */
export function isOfpError(e: unknown): e is OfpError {
  return e instanceof OfpError;
}
