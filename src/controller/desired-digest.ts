/**
 * A digest of a bridge's desired flow set: equal digests mean the same
 * FLOW_MODs would be sent for the same switch state. The controller keeps
 * the digest of the last set it applied to each bridge, so a topology
 * change that leaves a bridge's flows alone can mark it synced without a
 * dump (controller.ts, "skipping unchanged bridges").
 *
 * The digest covers exactly what reconciliation compares and sends: each
 * flow's FLOW_MOD as encoded on the wire (table, priority, match, cookie,
 * instructions, timeouts, flags). Flows are taken in identity order, so two
 * compilations that list the same flows in another order agree.
 */
import { createHash } from "node:crypto";
import { encodeMessageTo } from "../../codec/message.js";
import { Writer } from "../../codec/writer.js";
import { toFlowMod, type DesiredFlow } from "../dvr/flow.js";

const scratch = new Writer(4096);

export function desiredDigest(flows: readonly DesiredFlow[]): string {
  const hash = createHash("sha256");
  const ordered = [...flows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const f of ordered) {
    scratch.pos = 0;
    encodeMessageTo(scratch, toFlowMod(f));
    hash.update(scratch.written());
  }
  return `${flows.length}:${hash.digest("hex")}`;
}
