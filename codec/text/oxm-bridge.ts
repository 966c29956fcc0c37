/**
 * Conversions between the binary registry's OXM entries (codec/oxm.ts) and the
 * text layer's flow/wildcards model (./flow-match.ts).
 */
import { fieldByHeader, type Match, type MatchEntry, type OxmField } from "../oxm.js";
import { bigintToBytes, bytesToBigint } from "./addr.js";
import { textFieldByHeader, type TextField, type WireHeader } from "./fields.js";
import { canonicalMatch } from "../match.js";
import {
  flowMatchToEntries,
  setField,
  emptyFlowMatch,
  type FlowMatch,
} from "./flow-match.js";

/** The registry row for a text-layer wire header; throws if the registry lacks it (a table mismatch bug). */
export function oxmFieldFor(h: WireHeader): OxmField {
  const header = ((h.oxmClass << 16) | (h.oxmField << 9)) >>> 0;
  const f = fieldByHeader(header, h.experimenter);
  if (f === undefined) throw new Error(`OXM registry lacks ${h.name}`);
  return f;
}

/** The text-layer field for a registry row, if the text layer knows it. */
export function textFieldFor(f: OxmField): TextField | undefined {
  return textFieldByHeader(f.oxmClass, f.oxmField, f.experimenter);
}

/** The OF1.3 `Match` OVS would send for this flow/wildcards model. */
export function flowMatchToMatch(m: FlowMatch): Match {
  // flowMatchToEntries builds in OVS's `nx_put_raw` order; canonicalMatch
  // keeps that (it is the registry's order too) and guarantees it even if the
  // two tables ever drift, so encodeMatch writes OVS's bytes.
  const entries: MatchEntry[] = flowMatchToEntries(m).map((e): MatchEntry => {
    const field = oxmFieldFor(e.header);
    return {
      field,
      value: bigintToBytes(e.value, field.size),
      mask: e.mask === undefined ? undefined : bigintToBytes(e.mask, field.size),
    };
  });
  return canonicalMatch({ entries });
}

/**
 * Folds decoded entries into the model (OVS `nx_pull_raw` + `mf_set`).
 * Entries the text layer does not know are returned separately so a printer
 * can still mention them.
 */
export function matchToFlowMatch(match: Match): { flow: FlowMatch; unknown: MatchEntry[] } {
  const flow = emptyFlowMatch();
  const unknown: MatchEntry[] = [];
  for (const e of match.entries) {
    if (e.field === undefined) {
      unknown.push(e);
      continue;
    }
    const tf = textFieldFor(e.field);
    if (tf === undefined) {
      unknown.push(e);
      continue;
    }
    setField(
      flow,
      tf,
      bytesToBigint(e.value),
      e.mask === undefined ? undefined : bytesToBigint(e.mask),
    );
  }
  return { flow, unknown };
}
