/**
 * The OpenFlow side of a bridge, pure: one decoded request in, the replies
 * OVS's ofproto would send out (`ofproto.c handle_openflow__`). No sockets:
 * the connection layer decodes, calls {@link OpenFlowHandler.handle}, encodes
 * the replies (splitting multipart replies with `encodeMultipartParts`), and
 * forwards the bridge's outbox (packet-in, flow-removed, port-status).
 *
 * Answered as OVS 3.1 does: ECHO, FEATURES (254 tables, no buffers), GET/SET
 * CONFIG, BARRIER (requests are handled in order, so a barrier reply means
 * everything before it is done), FLOW_MOD, GROUP_MOD, PORT_MOD, TABLE_MOD,
 * PACKET_OUT, ROLE, GET/SET_ASYNC, and the multipart requests DESC, FLOW,
 * AGGREGATE, TABLE, PORT_STATS, PORT_DESC, GROUP, GROUP_DESC, GROUP_FEATURES,
 * TABLE_FEATURES, METER*, QUEUE. Every failure is an OFPT_ERROR carrying the
 * whole offending request (`errorReplyFor`, reliability.md §1.3), and a failed
 * FLOW_MOD leaves the tables unchanged.
 */
import { OfpError } from "../codec/errors.js";
import { encodeMessage, type OfMessage } from "../codec/message.js";
import { errorReplyFor } from "../codec/messages/error.js";
import { OFPTT_ALL } from "../codec/messages/flow-mod.js";
import type { FlowStats } from "../codec/messages/multipart-flow.js";
import type { MultipartReplyBody, MultipartRequestMessage } from "../codec/messages/multipart.js";
import type { PortStats, TableStats, GroupStats } from "../codec/messages/multipart-stats.js";
import type { SwitchDesc } from "../codec/messages/multipart-desc.js";
import type { TableFeatureProperty, TableFeatures } from "../codec/messages/table-features.js";
import { OFPPR } from "../codec/messages/port-status.js";
import { OXM_FIELDS, oxmHeader } from "../codec/oxm.js";
import { OFPP } from "../codec/ports.js";
import { N_TABLES, OFPC_INVALID_TTL_TO_CONTROLLER, type Bridge } from "./bridge.js";
import { prepareMatch, selectEntries } from "./flow-mod.js";
import { FIELD_PLACEMENT } from "./classifier/match-compile.js";
import { OFPG } from "./groups.js";

/** OF1.3 `ofp_capabilities` OVS 3.1 reports: FLOW, TABLE, PORT, GROUP and QUEUE stats. */
export const OVS_CAPABILITIES = 0x01 | 0x02 | 0x04 | 0x08 | 0x40;

/** OF1.3 controller roles. */
export const OFPCR_ROLE = { NOCHANGE: 0, EQUAL: 1, MASTER: 2, SLAVE: 3 } as const;

const DEFAULT_DESC: SwitchDesc = {
  mfrDesc: "dvrflow",
  hwDesc: "dvrflow userspace switch",
  swDesc: "0.1.0",
  serialNum: "None",
  dpDesc: "None",
};

function splitMs(ms: number): { sec: number; nsec: number } {
  const m = Math.max(0, ms);
  return { sec: Math.floor(m / 1000), nsec: Math.round((m % 1000) * 1e6) };
}

export class OpenFlowHandler {
  readonly bridge: Bridge;
  private readonly desc: SwitchDesc;
  /** This connection's role (OFPCR_ROLE_*) and the last generation id seen. */
  role: number = OFPCR_ROLE.EQUAL;
  private generationId: bigint | null = null;
  private async = {
    packetInMask: [0b011, 0] as [number, number],
    portStatusMask: [0b111, 0b111] as [number, number],
    flowRemovedMask: [0b1111, 0] as [number, number],
  };

  constructor(bridge: Bridge, options: { desc?: SwitchDesc } = {}) {
    this.bridge = bridge;
    this.desc = options.desc ?? DEFAULT_DESC;
  }

  /**
   * Handles one request. `raw` is the request as received (echoed in errors);
   * when absent it is re-encoded. Returns the replies, errors included.
   */
  handle(msg: OfMessage, nowMs: number, raw?: Uint8Array): OfMessage[] {
    try {
      return this.dispatch(msg, nowMs);
    } catch (err) {
      if (!(err instanceof OfpError)) throw err;
      return [errorReplyFor(err, raw ?? encodeMessage(msg))];
    }
  }

  private checkWritable(): void {
    if (this.role === OFPCR_ROLE.SLAVE)
      throw new OfpError("OFPBRC_IS_SECONDARY", "controller is a slave");
  }

  private dispatch(msg: OfMessage, nowMs: number): OfMessage[] {
    const br = this.bridge;
    switch (msg.type) {
      case "hello":
      case "echo_reply":
        return [];
      case "echo_request":
        return [{ type: "echo_reply", xid: msg.xid, data: msg.data }];
      case "features_request":
        return [
          {
            type: "features_reply",
            xid: msg.xid,
            datapathId: br.datapathId,
            nBuffers: 0,
            nTables: N_TABLES,
            auxiliaryId: 0,
            capabilities: OVS_CAPABILITIES,
            reserved: 0,
          },
        ];
      case "get_config_request":
        return [
          {
            type: "get_config_reply",
            xid: msg.xid,
            flags: br.config.flags,
            missSendLen: br.config.missSendLen,
          },
        ];
      case "set_config":
        br.config.flags = msg.flags;
        br.config.missSendLen = msg.missSendLen;
        br.config.invalidTtlToController = (msg.flags & OFPC_INVALID_TTL_TO_CONTROLLER) !== 0;
        br.changed();
        return [];
      case "barrier_request":
        return [{ type: "barrier_reply", xid: msg.xid }];
      case "flow_mod":
        this.checkWritable();
        br.flowMod(msg, nowMs);
        return [];
      case "group_mod":
        this.checkWritable();
        br.groupMod(msg, nowMs);
        return [];
      case "packet_out":
        this.checkWritable();
        br.datapath.packetOut(br, msg, nowMs);
        return [];
      case "port_mod": {
        this.checkWritable();
        const p = br.ports.get(msg.portNo >>> 0);
        if (p === undefined) throw new OfpError("OFPPMFC_BAD_PORT", `no port ${msg.portNo}`);
        for (let i = 0; i < 6; i++) {
          if (p.hwAddr[i] !== msg.hwAddr[i])
            throw new OfpError("OFPPMFC_BAD_HW_ADDR", "hw_addr does not match");
        }
        const before = p.config;
        p.config = (p.config & ~msg.mask) | (msg.config & msg.mask);
        if (p.config !== before) {
          br.changed();
          br.outbox.push({ type: "port_status", xid: 0, reason: OFPPR.MODIFY, port: p.describe() });
        }
        return [];
      }
      case "table_mod":
        this.checkWritable();
        if (msg.tableId !== OFPTT_ALL && msg.tableId >= N_TABLES) {
          throw new OfpError("OFPTMFC_BAD_TABLE", `no table ${msg.tableId}`);
        }
        return [];
      case "role_request": {
        const role = msg.role;
        if (role > OFPCR_ROLE.SLAVE) throw new OfpError("OFPRRFC_BAD_ROLE", `role ${role}`);
        if (role === OFPCR_ROLE.MASTER || role === OFPCR_ROLE.SLAVE) {
          const g = msg.generationId;
          if (this.generationId !== null && BigInt.asIntN(64, g - this.generationId) < 0n) {
            throw new OfpError("OFPRRFC_STALE", "stale generation id");
          }
          this.generationId = g;
        }
        if (role !== OFPCR_ROLE.NOCHANGE) this.role = role;
        return [
          {
            type: "role_reply",
            xid: msg.xid,
            role: this.role,
            generationId: this.generationId ?? 0n,
          },
        ];
      }
      case "get_async_request":
        return [{ type: "get_async_reply", xid: msg.xid, ...this.async }];
      case "set_async":
        this.async = {
          packetInMask: [...msg.packetInMask] as [number, number],
          portStatusMask: [...msg.portStatusMask] as [number, number],
          flowRemovedMask: [...msg.flowRemovedMask] as [number, number],
        };
        // OF1.3 async bit 2 of the packet-in mask: invalid_ttl.
        br.config.invalidTtlToController = (msg.packetInMask[0] & 0b100) !== 0;
        br.changed();
        return [];
      case "meter_mod":
        this.checkWritable();
        throw new OfpError("OFPMMFC_OUT_OF_METERS", "dvrflow has no meters");
      case "multipart_request":
        return [this.multipart(msg, nowMs)];
      case "queue_get_config_request":
        if (msg.port >>> 0 !== OFPP.ANY && !br.ports.has(msg.port >>> 0)) {
          throw new OfpError("OFPQOFC_BAD_PORT", `no port ${msg.port}`);
        }
        return [{ type: "queue_get_config_reply", xid: msg.xid, port: msg.port, queues: [] }];
      default:
        throw new OfpError("OFPBRC_BAD_TYPE", `${msg.type} is not a request`);
    }
  }

  private multipart(m: MultipartRequestMessage, nowMs: number): OfMessage {
    const br = this.bridge;
    // Counters of cached packets are credited in bulk: make them current first.
    br.datapath.flushStats();
    const reply = (body: MultipartReplyBody): OfMessage => ({
      type: "multipart_reply",
      xid: m.xid,
      flags: 0,
      body,
    });
    const b = m.body;
    switch (b.kind) {
      case "desc":
        return reply({ kind: "desc", ...this.desc });
      case "flow":
      case "aggregate": {
        if (b.tableId !== OFPTT_ALL && b.tableId >= N_TABLES) {
          throw new OfpError("OFPBRC_BAD_TABLE_ID", `no table ${b.tableId}`);
        }
        const entries = selectEntries(br, {
          tableId: b.tableId,
          match: prepareMatch(b.match),
          strict: false,
          priority: 0,
          cookie: b.cookie,
          cookieMask: b.cookieMask,
          outPort: b.outPort,
          outGroup: b.outGroup,
        });
        if (b.kind === "aggregate") {
          let packets = 0n;
          let bytes = 0n;
          for (const e of entries) {
            packets += BigInt(e.packetCount);
            bytes += BigInt(e.byteCount);
          }
          return reply({
            kind: "aggregate",
            packetCount: packets,
            byteCount: bytes,
            flowCount: entries.length,
          });
        }
        entries.sort((x, y) => x.tableId - y.tableId || y.priority - x.priority);
        const stats: FlowStats[] = entries.map((e) => {
          const d = splitMs(nowMs - e.createdMs);
          return {
            tableId: e.tableId,
            durationSec: d.sec,
            durationNsec: d.nsec,
            priority: e.priority,
            idleTimeout: e.idleTimeout,
            hardTimeout: e.hardTimeout,
            flags: e.flags,
            cookie: e.cookie,
            packetCount: BigInt(e.packetCount),
            byteCount: BigInt(e.byteCount),
            match: e.match,
            instructions: e.instructions,
          };
        });
        return reply({ kind: "flow", entries: stats });
      }
      case "table": {
        const entries: TableStats[] = br.tables.map((t) => ({
          tableId: t.id,
          activeCount: t.size,
          lookupCount: BigInt(t.lookupCount),
          matchedCount: BigInt(t.matchedCount),
        }));
        return reply({ kind: "table", entries });
      }
      case "port_stats": {
        const want = b.portNo >>> 0;
        if (want !== OFPP.ANY && !br.ports.has(want))
          throw new OfpError("OFPBRC_BAD_PORT", `no port ${want}`);
        const entries: PortStats[] = [];
        for (const p of br.portList) {
          if (want !== OFPP.ANY && p.no !== want) continue;
          const c = p.counters;
          const d = splitMs(nowMs - p.createdMs);
          entries.push({
            portNo: p.no,
            rxPackets: BigInt(c.rxPackets),
            txPackets: BigInt(c.txPackets),
            rxBytes: BigInt(c.rxBytes),
            txBytes: BigInt(c.txBytes),
            rxDropped: BigInt(c.rxDropped),
            txDropped: BigInt(c.txDropped),
            rxErrors: BigInt(c.rxErrors),
            txErrors: BigInt(c.txErrors),
            rxFrameErr: 0n,
            rxOverErr: 0n,
            rxCrcErr: 0n,
            collisions: 0n,
            durationSec: d.sec,
            durationNsec: d.nsec,
          });
        }
        return reply({ kind: "port_stats", entries });
      }
      case "port_desc":
        return reply({ kind: "port_desc", entries: br.portList.map((p) => p.describe()) });
      case "group": {
        const want = b.groupId >>> 0;
        const entries: GroupStats[] = [];
        for (const g of br.groups.values()) {
          if (want !== OFPG.ALL && g.id !== want) continue;
          let refCount = 0;
          for (const t of br.tables) {
            for (const e of t.entries()) {
              for (const i of e.instructions) {
                if (
                  (i.type === "apply_actions" || i.type === "write_actions") &&
                  i.actions.some((a) => a.type === "group" && a.groupId >>> 0 === g.id)
                )
                  refCount++;
              }
            }
          }
          const d = splitMs(nowMs - g.createdMs);
          entries.push({
            groupId: g.id,
            refCount,
            packetCount: BigInt(g.packetCount),
            byteCount: BigInt(g.byteCount),
            durationSec: d.sec,
            durationNsec: d.nsec,
            bucketStats: g.buckets.map((x) => ({
              packetCount: BigInt(x.packetCount),
              byteCount: BigInt(x.byteCount),
            })),
          });
        }
        return reply({ kind: "group", entries });
      }
      case "group_desc":
        return reply({
          kind: "group_desc",
          entries: [...br.groups.values()].map((g) => ({
            groupType: g.type,
            groupId: g.id,
            buckets: g.buckets.map((x) => x.bucket),
          })),
        });
      case "group_features":
        return reply({
          kind: "group_features",
          types: 0b1111,
          capabilities: 0b0111, // select weight, select liveness, chaining
          maxGroups: [OFPG.MAX, OFPG.MAX, OFPG.MAX, OFPG.MAX],
          actions: [ACTION_BITS, ACTION_BITS, ACTION_BITS, ACTION_BITS],
        });
      case "table_features":
        if (b.entries.length > 0)
          throw new OfpError("OFPTFFC_EPERM", "table features are read-only");
        return reply({ kind: "table_features", entries: tableFeatures(br) });
      case "meter":
      case "meter_config":
        return reply({ kind: b.kind, entries: [] });
      case "meter_features":
        return reply({
          kind: "meter_features",
          maxMeter: 0,
          bandTypes: 0,
          capabilities: 0,
          maxBands: 0,
          maxColor: 0,
        });
      case "queue":
        if (b.portNo >>> 0 !== OFPP.ANY && !br.ports.has(b.portNo >>> 0)) {
          throw new OfpError("OFPQOFC_BAD_PORT", `no port ${b.portNo}`);
        }
        return reply({ kind: "queue", entries: [] });
      case "experimenter":
      case "unknown":
        throw new OfpError("OFPBRC_BAD_STAT", "unsupported multipart request");
    }
  }
}

/** OF1.3 action types as group-features bits: output, push/pop vlan, group, set_nw_ttl, dec_nw_ttl, set_field. */
const ACTION_BITS =
  (1 << 0) | (1 << 17) | (1 << 18) | (1 << 22) | (1 << 23) | (1 << 24) | (1 << 25);

/** Instruction ids (type, len 4): goto, write_metadata, write/apply/clear actions. */
const INSTRUCTION_IDS = [1, 2, 3, 4, 5].map((type) => ({ type, data: new Uint8Array(0) }));
/** Standard action ids we execute. */
const ACTION_IDS = [0, 17, 18, 22, 23, 24, 25].map((type) => ({ type, data: new Uint8Array(0) }));

let featuresCache: { n: number; value: TableFeatures[] } | null = null;

/** OFPMP_TABLE_FEATURES for every table, as OVS lists them (one entry per table). */
function tableFeatures(br: Bridge): TableFeatures[] {
  if (featuresCache !== null && featuresCache.n === br.tables.length) {
    return featuresCache.value.map((f, i) => ({ ...f, maxEntries: br.tables[i]!.maxEntries }));
  }
  const matchable = OXM_FIELDS.filter(
    (f) => f.preferred && FIELD_PLACEMENT[f.logical] !== undefined && f.experimenter === undefined,
  );
  const oxm = matchable.map((f) => ({ header: oxmHeader(f, false), experimenter: undefined }));
  const wild = matchable
    .filter((f) => f.maskable)
    .map((f) => ({ header: oxmHeader(f, false), experimenter: undefined }));
  const settable = matchable
    .filter((f) => f.writable)
    .map((f) => ({ header: oxmHeader(f, false), experimenter: undefined }));
  const value = br.tables.map((t): TableFeatures => {
    const next: number[] = [];
    for (let i = t.id + 1; i < N_TABLES; i++) next.push(i);
    const properties: TableFeatureProperty[] = [
      { kind: "instructions", ids: INSTRUCTION_IDS },
      { kind: "instructions_miss", ids: INSTRUCTION_IDS },
      { kind: "next_tables", tableIds: next },
      { kind: "next_tables_miss", tableIds: next },
      { kind: "write_actions", ids: ACTION_IDS },
      { kind: "write_actions_miss", ids: ACTION_IDS },
      { kind: "apply_actions", ids: ACTION_IDS },
      { kind: "apply_actions_miss", ids: ACTION_IDS },
      { kind: "match", oxmIds: oxm },
      { kind: "wildcards", oxmIds: wild },
      { kind: "write_setfield", oxmIds: settable },
      { kind: "write_setfield_miss", oxmIds: settable },
      { kind: "apply_setfield", oxmIds: settable },
      { kind: "apply_setfield_miss", oxmIds: settable },
    ];
    return {
      tableId: t.id,
      name: t.name,
      metadataMatch: 0xffffffffffffffffn,
      metadataWrite: 0xffffffffffffffffn,
      config: 0,
      maxEntries: t.maxEntries,
      properties,
    };
  });
  featuresCache = { n: br.tables.length, value };
  return value;
}
