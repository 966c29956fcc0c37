/**
 * Conversions between the binary registry's OXM entries (codec/oxm.ts) and the
 * text layer's flow/wildcards model (./flow-match.ts).
 */
import { OXM_HASMASK, fieldByHeader, type Match, type MatchEntry, type OxmField } from "../oxm.js";
import { bigintToBytes, bytesToBigint } from "./addr.js";
import { textFieldByHeader, type TextField, type WireHeader } from "./fields.js";
import { flowMatchToEntries, setField, emptyFlowMatch, type FlowMatch } from "./flow-match.js";

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
  // flowMatchToEntries builds in OVS's `nx_put_raw` order (canonical: what
  // codec/match.ts canonicalMatch gives for these fields), so encodeMatch,
  // which writes entries as given, produces OVS's bytes. Zero-width
  // tun_metadata TLVs (raw entries) keep their place too.
  const entries: MatchEntry[] = flowMatchToEntries(m).map((e): MatchEntry => {
    const field = oxmFieldFor(e.header);
    const width = e.width ?? field.size;
    if (width === 0) {
      // OVS writes `tun_metadata<N>=0` (and `=*`) as a zero-width TLV, which
      // the registry's entries cannot hold: carried as a raw TLV.
      return {
        field: undefined,
        header: (field.header | (e.mask === undefined ? 0 : OXM_HASMASK)) >>> 0,
        experimenter: undefined,
        payload: new Uint8Array(0),
      };
    }
    return {
      field,
      value: bigintToBytes(e.value, width),
      mask: e.mask === undefined ? undefined : bigintToBytes(e.mask, width),
    };
  });
  return { entries };
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
    const value = bytesToBigint(e.value);
    const mask = e.mask === undefined ? undefined : bytesToBigint(e.mask);
    // tun_metadata: OVS sizes a decoded field again from its (masked) value
    // and mask, as it does a parsed one (tun_metadata_set_match, mf_field_len).
    setField(flow, tf, value, mask);
  }
  return { flow, unknown };
}
