/**
 * Compares a Ryu `to_jsondict()` vector (openflow-vectors/ryu-of13/json) with a
 * message decoded by our codec.
 *
 * Ryu's JSON is an input format for this adapter, not our object model. Each
 * Ryu node `{"RyuClass": {snake_case fields}}` is matched against our value:
 * - scalar fields by name (snake_case → camelCase, plus a per-class alias table);
 * - integers as bigint (the JSON is read losslessly), MAC/IPv4/IPv6 text and
 *   base64 against bytes;
 * - OXM TLVs by (class, field) from an independent Ryu-name table, with the
 *   value and mask compared as bytes, so a registry bug cannot hide itself;
 * - instructions and actions by a Ryu class → our `type` tag table.
 * Length fields (`len`, `length`, `actions_len`, `match_len`) are not compared:
 * the byte-identical re-encode already proves them, and Ryu's own harness
 * re-encodes without them. Nicira actions outside Neutron's set are compared
 * by tag only (their bytes are covered by the re-encode).
 *
 * `compareRyu` returns a list of mismatch descriptions; empty means equal.
 * A Ryu key that has no counterpart in our object is a mismatch too, unless
 * the class lists it in NOT_MODELLED with a reason.
 */
import type { LosslessJson } from "./lossless-json.js";

type Obj = { [key: string]: LosslessJson };
type Ours = unknown;

/** Keys never compared: lengths the encoder computes (codec.md point 4). */
const LENGTH_KEYS = new Set(["len", "length", "actions_len", "match_len"]);

/** Ryu message class → our `type` tag. */
export const MESSAGE_TAGS: Readonly<Record<string, string>> = {
  OFPHello: "hello",
  OFPErrorMsg: "error",
  OFPEchoRequest: "echo_request",
  OFPEchoReply: "echo_reply",
  OFPExperimenter: "experimenter",
  OFPFeaturesRequest: "features_request",
  OFPSwitchFeatures: "features_reply",
  OFPGetConfigRequest: "get_config_request",
  OFPGetConfigReply: "get_config_reply",
  OFPSetConfig: "set_config",
  OFPPacketIn: "packet_in",
  OFPFlowRemoved: "flow_removed",
  OFPPortStatus: "port_status",
  OFPPacketOut: "packet_out",
  OFPFlowMod: "flow_mod",
  OFPGroupMod: "group_mod",
  OFPPortMod: "port_mod",
  OFPTableMod: "table_mod",
  OFPBarrierRequest: "barrier_request",
  OFPBarrierReply: "barrier_reply",
  OFPQueueGetConfigRequest: "queue_get_config_request",
  OFPQueueGetConfigReply: "queue_get_config_reply",
  OFPRoleRequest: "role_request",
  OFPRoleReply: "role_reply",
  OFPGetAsyncRequest: "get_async_request",
  OFPGetAsyncReply: "get_async_reply",
  OFPSetAsync: "set_async",
  OFPMeterMod: "meter_mod",
};

/** OF1.3 multipart type numbers (Ryu's `type` key in stats messages). */
const MULTIPART_KINDS: Readonly<Record<number, string>> = {
  0: "desc",
  1: "flow",
  2: "aggregate",
  3: "table",
  4: "port_stats",
  5: "queue",
  6: "group",
  7: "group_desc",
  8: "group_features",
  9: "meter",
  10: "meter_config",
  11: "meter_features",
  12: "table_features",
  13: "port_desc",
  0xffff: "experimenter",
};

/** Ryu instruction / action class → our tag (OFPInstructionActions is split by its `type`). */
const ACTION_TAGS: Readonly<Record<string, string>> = {
  OFPActionOutput: "output",
  OFPActionCopyTtlOut: "copy_ttl_out",
  OFPActionCopyTtlIn: "copy_ttl_in",
  OFPActionSetMplsTtl: "set_mpls_ttl",
  OFPActionDecMplsTtl: "dec_mpls_ttl",
  OFPActionPushVlan: "push_vlan",
  OFPActionPopVlan: "pop_vlan",
  OFPActionPushMpls: "push_mpls",
  OFPActionPopMpls: "pop_mpls",
  OFPActionSetQueue: "set_queue",
  OFPActionGroup: "group",
  OFPActionSetNwTtl: "set_nw_ttl",
  OFPActionDecNwTtl: "dec_nw_ttl",
  OFPActionSetField: "set_field",
  OFPActionPushPbb: "push_pbb",
  OFPActionPopPbb: "pop_pbb",
  OFPActionExperimenterUnknown: "experimenter",
  // Nicira, Neutron's set: compared field by field.
  NXActionResubmitTable: "resubmit",
  NXActionRegMove: "reg_move",
  NXActionRegLoad: "reg_load",
  NXActionLearn: "learn",
  NXActionConjunction: "conjunction",
  NXActionCT: "ct",
  NXActionNAT: "nat",
  NXActionCTClear: "ct_clear",
  NXActionNote: "note",
  NXActionController: "controller",
  NXActionUnknown: "experimenter",
};

/** Nicira actions outside Neutron's set: tag only (bytes are proven by the re-encode). */
const OPAQUE_NX_TAGS: Readonly<Record<string, string>> = {
  NXActionController2: "controller2",
  NXActionFinTimeout: "fin_timeout",
  NXActionDecTtlCntIds: "dec_ttl_cnt_ids",
  NXActionStackPush: "stack_push",
  NXActionStackPop: "stack_pop",
  NXActionSample: "sample",
  NXActionSample2: "sample2",
  NXActionOutputTrunc: "output_trunc",
};

/** Per-class Ryu key → our property (when not just camelCase). */
const ALIASES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  OFPSwitchFeatures: { datapath_id: "datapathId" },
  OFPGroupMod: { type: "groupType" },
  OFPGroupDescStats: { type: "groupType" },
  OFPActionSetMplsTtl: { mpls_ttl: "ttl" },
  OFPActionSetNwTtl: { nw_ttl: "ttl" },
  NXActionResubmitTable: { table_id: "table" },
  NXActionConjunction: { n_clauses: "nClauses" },
  NXActionController: { controller_id: "controllerId" },
  OFPPortMod: { advertise: "advertise" },
  OFPPortStatus: { desc: "port" },
  OFPMeterBandStats: { packet_band_count: "packetCount", byte_band_count: "byteCount" },
  OFPTableFeaturePropInstructions: { instruction_ids: "ids" },
  OFPTableFeaturePropActions: { action_ids: "ids" },
};

/** Ryu keys our model does not carry, with why (each is still covered by the byte-identical re-encode). */
const NOT_MODELLED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  OFPHello: {},
  NXActionCT: { zone_ofs_nbits: "ours splits it into zoneSrc.ofs/nBits (checked separately)" },
};

// ------------------------------------------------------------------ OXM names

/** Ryu OXM field names → [class, field, width in bytes]; independent of codec/oxm.ts. */
export const RYU_OXM: Readonly<Record<string, readonly [number, number, number]>> = {
  in_port: [0x8000, 0, 4],
  in_phy_port: [0x8000, 1, 4],
  metadata: [0x8000, 2, 8],
  eth_dst: [0x8000, 3, 6],
  eth_src: [0x8000, 4, 6],
  eth_type: [0x8000, 5, 2],
  vlan_vid: [0x8000, 6, 2],
  vlan_pcp: [0x8000, 7, 1],
  ip_dscp: [0x8000, 8, 1],
  ip_ecn: [0x8000, 9, 1],
  ip_proto: [0x8000, 10, 1],
  ipv4_src: [0x8000, 11, 4],
  ipv4_dst: [0x8000, 12, 4],
  tcp_src: [0x8000, 13, 2],
  tcp_dst: [0x8000, 14, 2],
  udp_src: [0x8000, 15, 2],
  udp_dst: [0x8000, 16, 2],
  sctp_src: [0x8000, 17, 2],
  sctp_dst: [0x8000, 18, 2],
  icmpv4_type: [0x8000, 19, 1],
  icmpv4_code: [0x8000, 20, 1],
  arp_op: [0x8000, 21, 2],
  arp_spa: [0x8000, 22, 4],
  arp_tpa: [0x8000, 23, 4],
  arp_sha: [0x8000, 24, 6],
  arp_tha: [0x8000, 25, 6],
  ipv6_src: [0x8000, 26, 16],
  ipv6_dst: [0x8000, 27, 16],
  ipv6_flabel: [0x8000, 28, 4],
  icmpv6_type: [0x8000, 29, 1],
  icmpv6_code: [0x8000, 30, 1],
  ipv6_nd_target: [0x8000, 31, 16],
  ipv6_nd_sll: [0x8000, 32, 6],
  ipv6_nd_tll: [0x8000, 33, 6],
  mpls_label: [0x8000, 34, 4],
  mpls_tc: [0x8000, 35, 1],
  mpls_bos: [0x8000, 36, 1],
  pbb_isid: [0x8000, 37, 3],
  tunnel_id: [0x8000, 38, 8],
  ipv6_exthdr: [0x8000, 39, 2],
  ...Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`reg${i}`, [0x0001, i, 4] as const])),
  tun_ipv4_src: [0x0001, 31, 4],
  tun_ipv4_dst: [0x0001, 32, 4],
  pkt_mark: [0x0001, 33, 4],
  conj_id: [0x0001, 37, 4],
  ct_state: [0x0001, 105, 4],
  ct_zone: [0x0001, 106, 2],
  ct_mark: [0x0001, 107, 4],
  ct_label: [0x0001, 108, 16],
};

/** ONF EXT-256 `pbb_uca`: experimenter OXM (class 0xffff, ONF id) with a 1-byte value. */
const PBB_UCA = "pbb_uca";
const ONF_EXPERIMENTER = 0x4f4e4600;

// ------------------------------------------------------------------ value helpers

const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** A one-key object whose key is a Ryu class name. */
function ryuClass(v: LosslessJson): [string, LosslessJson] | undefined {
  if (!isObj(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1 || !/^[A-Z]/.test(keys[0]!)) return undefined;
  return [keys[0]!, v[keys[0]!]!];
}

function bytesOfInt(v: bigint, width: number): Uint8Array {
  const out = new Uint8Array(width);
  let x = BigInt.asUintN(width * 8, v);
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

function ipv6Bytes(text: string): Uint8Array {
  const [head = "", tail] = text.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups =
    tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  });
  return out;
}

/** Ryu's text or integer value as bytes of `width` (MAC, IPv4, IPv6 text; integers; base64 otherwise). */
export function ryuValueBytes(v: LosslessJson, width: number | undefined): Uint8Array | undefined {
  if (typeof v === "number" || typeof v === "bigint") {
    return width === undefined ? undefined : bytesOfInt(BigInt(v), width);
  }
  if (typeof v !== "string") return undefined;
  if (MAC.test(v)) return Uint8Array.from(v.split(":").map((x) => parseInt(x, 16)));
  if (IPV4.test(v)) return Uint8Array.from(v.split(".").map(Number));
  if (v.includes(":")) return ipv6Bytes(v);
  return new Uint8Array(Buffer.from(v, "base64"));
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// ------------------------------------------------------------------ comparison

class Comparison {
  readonly problems: string[] = [];

  fail(path: string, why: string): void {
    this.problems.push(`${path}: ${why}`);
  }

  /** A Ryu value against ours, by shape. */
  value(ryu: LosslessJson, ours: Ours, path: string): void {
    const cls = ryuClass(ryu);
    if (cls !== undefined) return this.node(cls[0], cls[1], ours, path);
    if (Array.isArray(ryu)) return this.list(ryu, ours, path);
    if (ryu === null) {
      if (ours !== undefined && ours !== null)
        this.fail(path, `expected nothing, got ${String(ours)}`);
      return;
    }
    if (typeof ryu === "number" || typeof ryu === "bigint") {
      if (typeof ours === "number" || typeof ours === "bigint") {
        if (BigInt(ours) !== BigInt(ryu)) this.fail(path, `expected ${ryu}, got ${ours}`);
      } else if (ours instanceof Uint8Array) {
        const want = bytesOfInt(BigInt(ryu), ours.length);
        if (!bytesEq(want, ours)) this.fail(path, `expected ${ryu}, got bytes ${hexOf(ours)}`);
      } else if (typeof ours === "boolean") {
        if (BigInt(ours ? 1 : 0) !== BigInt(ryu)) this.fail(path, `expected ${ryu}, got ${ours}`);
      } else {
        this.fail(path, `expected ${ryu}, got ${describe(ours)}`);
      }
      return;
    }
    if (typeof ryu === "string") {
      if (typeof ours === "string") {
        if (ours !== ryu)
          this.fail(path, `expected ${JSON.stringify(ryu)}, got ${JSON.stringify(ours)}`);
      } else if (ours instanceof Uint8Array) {
        const want = ryuValueBytes(ryu, ours.length);
        if (want === undefined || !bytesEq(want, ours)) {
          this.fail(
            path,
            `expected ${ryu} (${want === undefined ? "?" : hexOf(want)}), got ${hexOf(ours)}`,
          );
        }
      } else {
        this.fail(path, `expected ${JSON.stringify(ryu)}, got ${describe(ours)}`);
      }
      return;
    }
    if (typeof ryu === "boolean") {
      if (ours !== ryu) this.fail(path, `expected ${ryu}, got ${describe(ours)}`);
      return;
    }
    if (isObj(ryu)) {
      // A plain object that is not a Ryu class (rare): compare key by key.
      if (!isObj(ours)) return this.fail(path, `expected an object, got ${describe(ours)}`);
      for (const [k, v] of Object.entries(ryu))
        this.value(v, (ours as Record<string, unknown>)[camel(k)], `${path}.${k}`);
    }
  }
  list(ryu: readonly LosslessJson[], ours: Ours, path: string): void {
    if (ours instanceof Uint8Array && ryu.every((x) => typeof x === "number")) {
      // Ryu lists some opaque bodies as byte values.
      if (!bytesEq(Uint8Array.from(ryu as number[]), ours))
        this.fail(path, `expected bytes ${JSON.stringify(ryu)}, got ${hexOf(ours)}`);
      return;
    }
    if (!Array.isArray(ours))
      return this.fail(path, `expected a list of ${ryu.length}, got ${describe(ours)}`);
    if (ours.length !== ryu.length)
      return this.fail(path, `expected ${ryu.length} elements, got ${ours.length}`);
    ryu.forEach((r, i) => this.value(r, ours[i], `${path}[${i}]`));
  }

  /** Generic fields of a Ryu class body against an object of ours. */
  fields(
    cls: string,
    body: Obj,
    ours: Ours,
    path: string,
    skip: ReadonlySet<string> = new Set(),
  ): void {
    if (!isObj(ours)) return this.fail(path, `${cls}: expected an object, got ${describe(ours)}`);
    const o = ours as Record<string, unknown>;
    for (const [key, v] of Object.entries(body)) {
      if (LENGTH_KEYS.has(key) || skip.has(key)) continue;
      if (NOT_MODELLED[cls]?.[key] !== undefined) continue;
      const prop = ALIASES[cls]?.[key] ?? camel(key);
      if (!(prop in o)) {
        this.fail(`${path}.${key}`, `${cls}.${key} has no counterpart (looked for "${prop}")`);
        continue;
      }
      this.value(v, o[prop], `${path}.${key}`);
    }
  }

  node(cls: string, bodyJson: LosslessJson, ours: Ours, path: string): void {
    const body: Obj = isObj(bodyJson) ? bodyJson : {};
    const o = (isObj(ours) ? ours : {}) as Record<string, unknown>;
    if (cls === "OFPHelloElemVersionBitmap") return this.versionBitmap(body, o, path);
    if (cls === "OFPInstructionId" || cls === "OFPActionId")
      return this.value(body.type!, o.type, `${path}.type`);
    if (cls === "OFPOxmId") return this.oxmId(body, o, path);
    if (cls === "ONFFlowMonitorStatsRequest") return this.onfFlowMonitor(body, o, path);
    if (cls === "OFPTableFeaturePropExperimenter") {
      // Ryu lists this property's data as 32-bit words.
      this.fields(cls, body, o, path, new Set(["type", "data"]));
      const words = (body.data ?? []) as LosslessJson[];
      const bytes = new Uint8Array(words.length * 4);
      words.forEach((w, i) => new DataView(bytes.buffer).setUint32(4 * i, Number(w)));
      return this.value([...bytes], o.data, `${path}.data`);
    }
    const tag = MESSAGE_TAGS[cls];
    if (tag !== undefined) {
      if (o.type !== tag)
        return this.fail(path, `${cls}: expected type ${tag}, got ${describe(o.type)}`);
      switch (cls) {
        case "OFPErrorMsg":
          return this.errorMsg(body, o, path);
        case "OFPExperimenter":
          return this.fields(cls, body, o, path);
        case "OFPPacketOut":
          return this.packetOut(body, o, path);
        default:
          return this.fields(cls, body, o, path);
      }
    }
    if (cls.endsWith("StatsRequest") || cls.endsWith("StatsReply"))
      return this.multipart(cls, body, o, path);
    if (cls === "OFPMatch") return this.match(body, o, path);
    if (cls === "OXMTlv") return this.oxm(body, o, path);
    if (cls.startsWith("OFPInstruction")) return this.instruction(cls, body, o, path);
    if (cls in ACTION_TAGS || cls in OPAQUE_NX_TAGS) return this.action(cls, body, o, path);
    if (cls.startsWith("NXFlowSpec")) return this.learnSpec(cls, body, o, path);
    if (cls.startsWith("OFPMeterBand") && !cls.endsWith("Stats"))
      return this.fields(cls, body, o, path, new Set(["type"]));
    if (cls.startsWith("OFPQueueProp"))
      return this.fields(cls, body, o, path, new Set(["property"]));
    if (cls.startsWith("OFPTableFeatureProp"))
      return this.fields(cls, body, o, path, new Set(["type"]));
    return this.fields(cls, body, o, path);
  }

  errorMsg(body: Obj, o: Record<string, unknown>, path: string): void {
    const enc = o.error as Record<string, unknown> | undefined;
    if (enc === undefined) return this.fail(path, "error message has no `error` encoding");
    if (body.type === 0xffff) {
      this.value(body.exp_type!, enc.expType, `${path}.exp_type`);
      this.value(body.experimenter!, enc.experimenter, `${path}.experimenter`);
    } else {
      this.value(body.type!, enc.type, `${path}.type`);
      this.value(body.code!, enc.code, `${path}.code`);
    }
    this.value(body.data!, o.data, `${path}.data`);
  }

  packetOut(body: Obj, o: Record<string, unknown>, path: string): void {
    this.fields("OFPPacketOut", body, o, path, new Set(["data"]));
    const data = body.data;
    const cls = data === undefined ? undefined : ryuClass(data);
    // One vector's data is decoded by Ryu's packet library; its bytes are covered by the re-encode.
    if (cls === undefined) this.value(data ?? null, o.data, `${path}.data`);
    else if (!(o.data instanceof Uint8Array) || o.data.length === 0)
      this.fail(`${path}.data`, "expected packet bytes");
  }

  multipart(cls: string, body: Obj, o: Record<string, unknown>, path: string): void {
    const request = cls.endsWith("Request");
    const want = request ? "multipart_request" : "multipart_reply";
    if (o.type !== want)
      return this.fail(path, `${cls}: expected type ${want}, got ${describe(o.type)}`);
    this.value(body.flags ?? 0, o.flags, `${path}.flags`);
    const ours = o.body as Record<string, unknown> | undefined;
    if (!isObj(ours))
      return this.fail(`${path}.body`, `expected a body object, got ${describe(ours)}`);
    const kind = MULTIPART_KINDS[Number(body.type)];
    if (ours.kind !== kind)
      return this.fail(`${path}.body`, `expected kind ${kind}, got ${describe(ours.kind)}`);
    // Request fields live on the body object; reply entries in a list (or the body itself for one-entry replies).
    const rest = Object.fromEntries(
      Object.entries(body).filter(([k]) => !["type", "flags", "body"].includes(k)),
    );
    if (Object.keys(rest).length > 0) this.fields(cls, rest, ours, `${path}.body`);
    if (body.body === undefined) return;
    if (Array.isArray(body.body)) {
      const listProp = Object.keys(ours).find((k) => Array.isArray(ours[k]));
      // A one-entry reply (e.g. METER_FEATURES) that we model as the body itself.
      if (listProp === undefined && body.body.length === 1)
        return this.value(body.body[0]!, ours, `${path}.body`);
      if (listProp === undefined) return this.fail(`${path}.body`, "expected a list of entries");
      this.list(body.body, ours[listProp], `${path}.body.${listProp}`);
    } else {
      this.value(body.body, ours, `${path}.body`);
    }
  } /** Ryu lists versions; we keep the bitmap words (bit v of word i = version 32i + v). */
  versionBitmap(body: Obj, o: Record<string, unknown>, path: string): void {
    const words = o.bitmaps;
    if (!Array.isArray(words)) return this.fail(path, `expected bitmaps, got ${describe(words)}`);
    const versions: number[] = [];
    words.forEach((w: number, i) => {
      for (let b = 0; b < 32; b++) if ((w >>> b) & 1) versions.push(32 * i + b);
    });
    this.value(body.versions!, versions, `${path}.versions`);
  }

  /** OFPOxmId {type: name, hasmask, length} against our raw 32-bit header. */
  oxmId(body: Obj, o: Record<string, unknown>, path: string): void {
    const spec = RYU_OXM[String(body.type)];
    if (spec === undefined) return this.fail(path, `adapter has no Ryu OXM ${String(body.type)}`);
    const header =
      ((spec[0] << 16) |
        (spec[1] << 9) |
        (body.hasmask === true ? 0x100 : 0) |
        Number(body.length)) >>>
      0;
    this.value(header, o.header, `${path}.header`);
  }

  /** ONF flow monitor (EXT-187): we carry it as an opaque experimenter multipart; its bytes are proven by the re-encode. */
  onfFlowMonitor(body: Obj, o: Record<string, unknown>, path: string): void {
    if (o.type !== "multipart_request")
      return this.fail(path, `expected multipart_request, got ${describe(o.type)}`);
    const ours = o.body as Record<string, unknown> | undefined;
    if (ours?.kind !== "experimenter")
      return this.fail(
        `${path}.body`,
        `expected an experimenter body, got ${describe(ours?.kind)}`,
      );
    this.value(body.experimenter!, ours.experimenter, `${path}.experimenter`);
    this.value(body.exp_type!, ours.expType, `${path}.exp_type`);
    this.value(body.flags!, o.flags, `${path}.flags`);
  }

  match(body: Obj, o: Record<string, unknown>, path: string): void {
    if (body.type !== 1) this.fail(path, `match type ${String(body.type)}`);
    this.list((body.oxm_fields ?? []) as LosslessJson[], o.entries, `${path}.oxm_fields`);
  }

  oxm(body: Obj, o: Record<string, unknown>, path: string): void {
    const name = String(body.field);
    if (name === PBB_UCA) {
      // ONF EXT-256 experimenter OXM: value is the last payload byte whichever way we model it.
      const payload = (o.payload ?? o.value) as Uint8Array | undefined;
      if (o.field !== undefined && (o.field as { name?: string }).name !== PBB_UCA) {
        this.fail(path, `pbb_uca decoded as ${(o.field as { name?: string }).name}`);
      } else if (o.field === undefined && o.experimenter !== ONF_EXPERIMENTER) {
        this.fail(path, `pbb_uca: experimenter ${describe(o.experimenter)}`);
      } else if (
        !(payload instanceof Uint8Array) ||
        payload[payload.length - 1] !== Number(body.value)
      ) {
        this.fail(path, `pbb_uca: value ${String(body.value)} vs ${describe(payload)}`);
      }
      return;
    }
    const spec = RYU_OXM[name];
    if (spec === undefined) return this.fail(path, `adapter has no Ryu OXM ${name}`);
    const [cls, fieldNo, width] = spec;
    const field = o.field as { oxmClass?: number; oxmField?: number } | undefined;
    if (field === undefined) return this.fail(path, `${name}: decoded as an unknown TLV`);
    if (field.oxmClass !== cls || field.oxmField !== fieldNo) {
      return this.fail(
        path,
        `${name}: expected ${cls.toString(16)}/${fieldNo}, got ${describe(field.oxmClass)}/${describe(field.oxmField)}`,
      );
    }
    const value = ryuValueBytes(body.value!, width);
    if (!(o.value instanceof Uint8Array) || value === undefined || !bytesEq(value, o.value)) {
      this.fail(
        `${path}.value`,
        `${name}: expected ${value === undefined ? "?" : hexOf(value)}, got ${describe(o.value)}`,
      );
    }
    if (body.mask === null || body.mask === undefined) {
      if (o.mask !== undefined)
        this.fail(`${path}.mask`, `${name}: unexpected mask ${describe(o.mask)}`);
    } else {
      const mask = ryuValueBytes(body.mask, width);
      if (!(o.mask instanceof Uint8Array) || mask === undefined || !bytesEq(mask, o.mask)) {
        this.fail(
          `${path}.mask`,
          `${name}: expected mask ${mask === undefined ? "?" : hexOf(mask)}, got ${describe(o.mask)}`,
        );
      }
    }
  }

  instruction(cls: string, body: Obj, o: Record<string, unknown>, path: string): void {
    const tags: Record<number, string> = {
      1: "goto_table",
      2: "write_metadata",
      3: "write_actions",
      4: "apply_actions",
      5: "clear_actions",
      6: "meter",
    };
    const tag = tags[Number(body.type)] ?? "experimenter";
    if (o.type !== tag) return this.fail(path, `${cls}: expected ${tag}, got ${describe(o.type)}`);
    const aliases: Record<string, string> = { metadata_mask: "mask" };
    for (const [key, v] of Object.entries(body)) {
      if (LENGTH_KEYS.has(key) || key === "type") continue;
      if (tag === "clear_actions" && key === "actions") {
        if (Array.isArray(v) && v.length > 0) this.fail(path, "clear_actions with actions");
        continue;
      }
      this.value(v, o[aliases[key] ?? camel(key)], `${path}.${key}`);
    }
  }

  action(cls: string, body: Obj, o: Record<string, unknown>, path: string): void {
    const opaque = OPAQUE_NX_TAGS[cls];
    if (opaque !== undefined) {
      if (o.type !== opaque && o.type !== "experimenter")
        this.fail(path, `${cls}: expected ${opaque}, got ${describe(o.type)}`);
      return;
    }
    const tag = ACTION_TAGS[cls]!;
    if (o.type !== tag) return this.fail(path, `${cls}: expected ${tag}, got ${describe(o.type)}`);
    const skip = new Set(["type", "experimenter", "subtype"]);
    switch (cls) {
      case "OFPActionSetField":
        return this.value(body.field!, o.entry, `${path}.field`);
      case "OFPActionExperimenterUnknown":
        this.value(body.experimenter!, o.experimenter, `${path}.experimenter`);
        return this.value(body.data!, o.data, `${path}.data`);
      case "NXActionUnknown": {
        // Ryu's data starts after the subtype; ours keeps the subtype.
        const data = o.data as Uint8Array | undefined;
        this.value(0x2320, o.experimenter, `${path}.experimenter`);
        const sub = data === undefined ? -1 : (data[0]! << 8) | data[1]!;
        if (sub !== Number(body.subtype))
          this.fail(`${path}.subtype`, `expected ${String(body.subtype)}, got ${sub}`);
        if (data !== undefined) this.value(body.data!, data.subarray(2), `${path}.data`);
        return;
      }
      case "NXActionRegMove":
        this.subfield(String(body.src_field), body.src_ofs!, body.n_bits!, o.src, `${path}.src`);
        this.subfield(String(body.dst_field), body.dst_ofs!, body.n_bits!, o.dst, `${path}.dst`);
        return;
      case "NXActionRegLoad": {
        const ofsNbits = Number(body.ofs_nbits);
        this.subfield(String(body.dst), ofsNbits >> 6, (ofsNbits & 0x3f) + 1, o.dst, `${path}.dst`);
        return this.value(body.value!, o.value, `${path}.value`);
      }
      case "NXActionCT": {
        this.fields(cls, body, o, path, new Set([...skip, "zone_src"]));
        const zoneSrc = body.zone_src;
        if (zoneSrc === null || zoneSrc === undefined || zoneSrc === "") {
          this.value(body.zone_ofs_nbits!, o.zone, `${path}.zone`);
        } else {
          const ofsNbits = Number(body.zone_ofs_nbits);
          this.subfield(
            String(zoneSrc),
            ofsNbits >> 6,
            (ofsNbits & 0x3f) + 1,
            o.zoneSrc,
            `${path}.zone_src`,
          );
        }
        return;
      }
      case "NXActionNAT":
        return this.nat(body, o, path);
      case "NXActionNote": {
        // Ryu lists the note bytes without the trailing pad; ours keeps the pad.
        const want = (body.note as LosslessJson[]).map(Number);
        const data = o.data as Uint8Array | undefined;
        if (
          data === undefined ||
          !want.every((b, i) => data[i] === b) ||
          data.subarray(want.length).some((b) => b !== 0)
        ) {
          this.fail(`${path}.note`, `expected ${JSON.stringify(want)}, got ${describe(data)}`);
        }
        return;
      }
      default:
        return this.fields(cls, body, o, path, skip);
    }
  }

  nat(body: Obj, o: Record<string, unknown>, path: string): void {
    this.value(body.flags!, o.flags, `${path}.flags`);
    const ip4 = [body.range_ipv4_min, body.range_ipv4_max];
    const ip6 = [body.range_ipv6_min, body.range_ipv6_max];
    const pick = (v4: LosslessJson | undefined, v6: LosslessJson | undefined): LosslessJson =>
      v4 !== undefined && v4 !== "" && v4 !== "0.0.0.0"
        ? v4
        : v6 !== undefined && v6 !== "" && v6 !== "::"
          ? v6
          : null;
    this.value(pick(ip4[0], ip6[0]), o.ipMin, `${path}.range_ip_min`);
    this.value(pick(ip4[1], ip6[1]), o.ipMax, `${path}.range_ip_max`);
    const proto = (v: LosslessJson | undefined): LosslessJson =>
      v === undefined || v === 0 ? null : v;
    this.value(proto(body.range_proto_min), o.protoMin, `${path}.range_proto_min`);
    this.value(proto(body.range_proto_max), o.protoMax, `${path}.range_proto_max`);
  }

  /** A Ryu field name + bit range against our SubField {field, ofs, nBits}. */
  subfield(name: string, ofs: LosslessJson, nBits: LosslessJson, ours: Ours, path: string): void {
    const sf = ours as
      | {
          field?: { oxmClass?: number; oxmField?: number; name?: string };
          ofs?: number;
          nBits?: number;
        }
      | undefined;
    if (sf?.field === undefined)
      return this.fail(path, `expected sub-field ${name}, got ${describe(ours)}`);
    const spec = RYU_OXM[name];
    // Move/load may name a field by its NXM alias (e.g. tunnel_id as NXM_NX_TUN_ID): compare names through the table when known.
    if (spec !== undefined && (sf.field.oxmClass !== spec[0] || sf.field.oxmField !== spec[1])) {
      const alias = NXM_ALIASES[name];
      if (alias === undefined || sf.field.oxmClass !== alias[0] || sf.field.oxmField !== alias[1]) {
        this.fail(
          path,
          `expected field ${name}, got ${sf.field.name ?? "?"} (${describe(sf.field.oxmClass)}/${describe(sf.field.oxmField)})`,
        );
      }
    }
    if (BigInt(sf.ofs ?? -1) !== BigInt(ofs as number | bigint))
      this.fail(`${path}.ofs`, `expected ${String(ofs)}, got ${describe(sf.ofs)}`);
    if (BigInt(sf.nBits ?? -1) !== BigInt(nBits as number | bigint))
      this.fail(`${path}.n_bits`, `expected ${String(nBits)}, got ${describe(sf.nBits)}`);
  }

  learnSpec(cls: string, body: Obj, o: Record<string, unknown>, path: string): void {
    const dst = { NXFlowSpecMatch: "match", NXFlowSpecLoad: "load", NXFlowSpecOutput: "output" }[
      cls
    ];
    if (o.dst !== dst)
      return this.fail(path, `${cls}: expected dst ${dst}, got ${describe(o.dst)}`);
    this.value(body.n_bits!, o.nBits, `${path}.n_bits`);
    const nBits = Number(body.n_bits);
    const src = o.src as { kind?: string; field?: unknown; value?: Uint8Array } | undefined;
    const ryuSrc = body.src!;
    if (Array.isArray(ryuSrc)) {
      if (src?.kind !== "field") this.fail(`${path}.src`, `expected a field, got ${describe(src)}`);
      else this.subfield(String(ryuSrc[0]), ryuSrc[1]!, nBits, src.field, `${path}.src`);
    } else if (src?.kind !== "immediate" || src.value === undefined) {
      this.fail(`${path}.src`, `expected immediate ${String(ryuSrc)}, got ${describe(src)}`);
    } else {
      const v = src.value.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
      if (v !== BigInt(ryuSrc as number | bigint))
        this.fail(`${path}.src`, `expected ${String(ryuSrc)}, got ${v}`);
    }
    const ryuDst = body.dst;
    if (Array.isArray(ryuDst))
      this.subfield(String(ryuDst[0]), ryuDst[1]!, nBits, o.dstField, `${path}.dst`);
  }
}

/** Ryu names whose NXM header OVS may use instead (class, field). */
const NXM_ALIASES: Readonly<Record<string, readonly [number, number]>> = {
  tunnel_id: [0x0001, 16],
  in_port: [0x0000, 0],
  eth_dst: [0x0000, 1],
  eth_src: [0x0000, 2],
  eth_type: [0x0000, 3],
  vlan_vid: [0x0000, 4],
  arp_spa: [0x0000, 16],
  arp_tpa: [0x0000, 17],
  arp_sha: [0x0001, 17],
  arp_tha: [0x0001, 18],
};

function describe(v: unknown): string {
  if (v instanceof Uint8Array) return `bytes ${hexOf(v)}`;
  if (typeof v === "bigint") return `${v}n`;
  if (v === undefined) return "undefined";
  try {
    return (
      JSON.stringify(v, (_k, x: unknown) =>
        typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? hexOf(x) : x,
      )?.slice(0, 200) ?? String(v)
    );
  } catch {
    return String(v);
  }
}

/** Every difference between Ryu's decoded form and ours (empty = same content). */
export function compareRyu(ryu: LosslessJson, ours: unknown): string[] {
  const c = new Comparison();
  c.value(ryu, ours, "$");
  return c.problems;
}
