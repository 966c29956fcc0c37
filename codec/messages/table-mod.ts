/**
 * OFPT_TABLE_MOD (OF1.3 §7.3.3).
 *
 *     ofp_header (8) | table_id (1) | pad (3) | config (4)   = 16
 *
 * OF1.3 deprecates every config bit (OFPTC_DEPRECATED_MASK = 3); OVS 3.1
 * refuses `mod-table` in OF1.3 but decodes the message.
 */
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export interface TableModMessage {
  readonly type: "table_mod";
  readonly xid: number;
  readonly tableId: number;
  readonly config: number;
}

export function decodeTableMod(r: Reader, xid: number): TableModMessage {
  const tableId = r.u8();
  r.skip(3);
  return { type: "table_mod", xid, tableId, config: r.u32() };
}

export function encodeTableMod(w: Writer, m: TableModMessage): void {
  w.u8(m.tableId).zeros(3).u32(m.config);
}
