/**
 * The OXM TLV carried by set_field (OFPAT_SET_FIELD, OF1.2-1.4 form) and
 * NXAST_REG_LOAD2. Shared here because both decode it with OVS's action
 * error mapping rather than the match one.
 */
import { getU32 } from "../bytes.js";
import { OfpError } from "../errors.js";
import {
  OXM_CLASS,
  OXM_HASMASK,
  fieldByHeader,
  valueOutsideMask,
  widthFits,
  type MatchEntry,
} from "../oxm.js";

/**
 * An OXM TLV inside set_field (OF1.2-1.4 form) or reg_load2, as OVS
 * `decode_ofpat_set_field` / `nx_pull_entry(is_action=true)`: unknown header
 * or a known header with another length → OFPBAC_BAD_SET_LEN (what OVS 3.1
 * answers for both, e.g. for Ryu's ONF pbb_uca OXM), payload past the action
 * → OFPBMC_BAD_LEN, value outside mask → OFPBMC_BAD_WILDCARDS, mask when not
 * allowed → OFPBAC_BAD_SET_MASK, non-zero trailing bytes →
 * OFPBAC_BAD_SET_ARGUMENT, read-only field → OFPBAC_BAD_SET_ARGUMENT.
 *
 * With `checks` false (structural decode) an unknown or odd-width OXM comes
 * back as an {@link UnknownOxm}, and wildcard and writability are not
 * checked; layout errors (overrun, a mask, non-zero pad) still throw, since
 * they could not be re-encoded as received. Values alias `buf`.
 */
export function decodeActionOxm(
  buf: Uint8Array,
  tlvAt: number,
  end: number,
  mayMask: boolean,
  checks: boolean,
): MatchEntry {
  if (end - tlvAt < 4) {
    throw new OfpError("OFPBMC_BAD_LEN", "truncated OXM header", { offset: tlvAt });
  }
  const header = getU32(buf, tlvAt);
  let p = tlvAt + 4;
  let experimenter: number | undefined;
  let payloadLen = header & 0xff;
  if (header >>> 16 === OXM_CLASS.EXPERIMENTER) {
    if (end - tlvAt < 8 || payloadLen < 4) {
      throw new OfpError("OFPBMC_BAD_LEN", "truncated experimenter OXM", { offset: tlvAt });
    }
    experimenter = getU32(buf, p);
    p += 4;
    payloadLen -= 4;
  }
  const masked = (header & OXM_HASMASK) !== 0;
  const width = masked ? payloadLen >>> 1 : payloadLen;
  const field = fieldByHeader(header, experimenter);
  const fits =
    field !== undefined && widthFits(field, width) && (!masked || 2 * width === payloadLen);
  if (!fits && checks) {
    throw new OfpError(
      "OFPBAC_BAD_SET_LEN",
      field === undefined
        ? `unknown set_field header 0x${header.toString(16)}`
        : `${field.name} with ${width}-byte value`,
      { offset: tlvAt },
    );
  }
  if (end - p < payloadLen) {
    throw new OfpError("OFPBMC_BAD_LEN", "OXM payload overruns the action", { offset: tlvAt });
  }
  if (checks && masked && valueOutsideMask(buf, p, p + width, width)) {
    throw new OfpError("OFPBMC_BAD_WILDCARDS", "value bits outside the mask", { offset: tlvAt });
  }
  if (masked && !mayMask) {
    throw new OfpError("OFPBAC_BAD_SET_MASK", "set_field may not carry a mask in OF1.3", {
      offset: tlvAt,
    });
  }
  for (let i = p + payloadLen; i < end; i++) {
    if (buf[i] !== 0) {
      throw new OfpError("OFPBAC_BAD_SET_ARGUMENT", "non-zero bytes after the OXM", {
        offset: i,
      });
    }
  }
  if (!fits) {
    return { field: undefined, header, experimenter, payload: buf.subarray(p, p + payloadLen) };
  }
  if (checks && !field.writable) {
    throw new OfpError("OFPBAC_BAD_SET_ARGUMENT", `${field.name} is not writable`, {
      offset: tlvAt,
    });
  }
  const value = buf.subarray(p, p + width);
  const mask = masked ? buf.subarray(p + width, p + 2 * width) : undefined;
  return { field, value, mask };
}
