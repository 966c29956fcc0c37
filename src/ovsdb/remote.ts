/**
 * OVSDB remote names as OVS writes them (ovsdb-server(1) "Active database
 * connection methods"): `tcp:HOST[:PORT]` (IPv6 hosts in brackets) and
 * `unix:PATH`. `ssl:` is recognised only to refuse it clearly.
 *
 * The grammar lives in util/targets.ts, shared with the topology schema's
 * `hosts.<h>.ovsdb`, so `dvrflow check` refuses what this client would.
 */
import {
  formatStreamTarget,
  OVSDB_DEFAULT_PORT,
  parseOvsdbRemote as parseRemote,
  type OvsdbRemote,
} from "../util/targets.js";

export { OVSDB_DEFAULT_PORT, type OvsdbRemote };

export class OvsdbRemoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OvsdbRemoteError";
  }
}

export function parseOvsdbRemote(text: string): OvsdbRemote {
  const r = parseRemote(text);
  if (!r.ok) throw new OvsdbRemoteError(r.reason);
  return r.value;
}

export function formatOvsdbRemote(r: OvsdbRemote): string {
  return formatStreamTarget(r);
}
