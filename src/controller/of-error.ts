/**
 * An OFPT_ERROR made readable: OVS's name for the (type, code), and the
 * offending request printed the way `ovs-ofctl` would show it, so a log line
 * says which flow the switch refused (ecosystem.md §4.3: "decoded OFPT_ERROR
 * (type/code, offending flow, intent object)").
 *
 * The request comes from the session's xid tracking when we still have it;
 * otherwise it is decoded (loosely) from the error's data, which OVS fills
 * with the whole offending message.
 */
import { errorTypeName } from "../../codec/errors.js";
import { decodeMessage, type OfMessage } from "../../codec/message.js";
import { errorName, type ErrorMessage } from "../../codec/messages/error.js";
import { formatFlow, ofpPrint } from "../../codec/text/index.js";

export interface DescribedError {
  /** "OFPBMC_BAD_PREREQ", or "type 1 code 99" when not catalogued. */
  readonly name: string;
  readonly type: number;
  readonly code: number;
  /** The offending flow in `add-flow` syntax, when the request was a FLOW_MOD (also inside a bundle). */
  readonly flow?: string;
  /** The offending request's type. */
  readonly request?: string;
}

function flowOf(m: OfMessage): string | undefined {
  if (m.type === "flow_mod") return formatFlow(m);
  if (m.type === "bundle_add") return flowOf(m.message);
  return undefined;
}

export function describeOfError(err: ErrorMessage, request?: OfMessage): DescribedError {
  const e = err.error;
  const type = e.kind === "standard" ? e.type : 0xffff;
  const code = e.kind === "standard" ? e.code : e.expType;
  const name =
    errorName(err) ??
    (e.kind === "standard"
      ? `${errorTypeName(e.type) ?? `type ${e.type}`} code ${e.code}`
      : `experimenter 0x${e.experimenter.toString(16)} type ${e.expType}`);
  let req = request;
  if (req === undefined && err.data.byteLength >= 8) {
    try {
      req = decodeMessage(err.data, { strict: false });
    } catch {
      // Truncated or garbled data: name and numbers are all we can give.
    }
  }
  const flow = req === undefined ? undefined : flowOf(req);
  return {
    name,
    type,
    code,
    ...(flow === undefined ? {} : { flow }),
    ...(req === undefined ? {} : { request: req.type }),
  };
}

/** The error's data as ofp-print text (for debug logs). */
export function printErrorData(err: ErrorMessage): string | undefined {
  if (err.data.byteLength < 8) return undefined;
  try {
    return ofpPrint(err.data).trimEnd();
  } catch {
    return undefined;
  }
}
