/**
 * What a host did to a packet: the header fields that differ between the
 * frame as it entered the host's tables and a frame it put out, named and
 * printed as `ofproto/trace`'s `Flow:` line prints them (dl_src, nw_ttl,
 * arp_op, …). Both frames are parsed by the switch's own parser, so a field
 * is an edit exactly when the switch would see it changed.
 */
import { FlowKey } from "../../codec/packet/flow-key.js";
import { parseFrame } from "../../codec/packet/parse.js";
import { formatFlowKey } from "../../datapath/flow-format.js";

export interface FieldEdit {
  readonly field: string;
  /** The value before, or null when the field was absent (e.g. no VLAN header). */
  readonly from: string | null;
  readonly to: string | null;
}

/** The protocol shorthand (`ip`, `arp`, …) is reported under this name. */
const PROTOCOL = "protocol";

/**
 * The VLAN header as the `Flow:` line spells it: `vlan_tci=0x0000` when
 * untagged, else `dl_vlan=N,dl_vlan_pcp=P,vlan_tci1=…` (the second tag's
 * slot). One field here, `dl_vlan`, absent when untagged: a push is then
 * `dl_vlan=2`, a pop `-dl_vlan`, and a PCP only shows when set.
 */
const VLAN_TOKENS = new Set(["vlan_tci", "dl_vlan_pcp", "vlan_tci1"]);
const UNTAGGED = "0x0000";

/** Field → value of a frame, in `Flow:` line order (no port, no metadata: both frames have none). */
function fieldsOf(frame: Uint8Array): Map<string, string> {
  const key = new FlowKey();
  key.clear();
  parseFrame(frame, key);
  const out = new Map<string, string>();
  for (const token of formatFlowKey(key).split(",")) {
    const eq = token.indexOf("=");
    if (eq < 0) {
      out.set(PROTOCOL, token);
      continue;
    }
    const field = token.slice(0, eq);
    const value = token.slice(eq + 1);
    if (field === "dl_vlan_pcp" && value !== "0") out.set(field, value);
    else if (field === "vlan_tci1" && value !== UNTAGGED) out.set(field, value);
    else if (!VLAN_TOKENS.has(field)) out.set(field, value);
  }
  return out;
}

/** The edits that turn `before` into `after`, in `Flow:` line order. */
export function frameEdits(before: Uint8Array, after: Uint8Array): FieldEdit[] {
  const a = fieldsOf(before);
  const b = fieldsOf(after);
  const out: FieldEdit[] = [];
  for (const [field, to] of b) {
    const from = a.get(field) ?? null;
    if (from !== to) out.push({ field, from, to });
  }
  for (const [field, from] of a) {
    if (!b.has(field)) out.push({ field, from, to: null });
  }
  return out;
}

/** `dl_src=fa:16:3f:00:00:01,nw_ttl=63` (a removed field prints as `-field`). */
export function formatEdits(edits: readonly FieldEdit[]): string {
  return edits.map((e) => (e.to === null ? `-${e.field}` : `${e.field}=${e.to}`)).join(",");
}
