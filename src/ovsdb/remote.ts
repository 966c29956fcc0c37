/**
 * OVSDB remote names as OVS writes them (ovsdb-server(1) "Active database
 * connection methods"): `tcp:HOST[:PORT]` (IPv6 hosts in brackets) and
 * `unix:PATH`. `ssl:` is recognised only to refuse it clearly.
 */

/** IANA port of OVSDB (RFC 7047 §6), OVS's default for `tcp:` without a port. */
export const OVSDB_DEFAULT_PORT = 6640;

export type OvsdbRemote =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

export class OvsdbRemoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OvsdbRemoteError";
  }
}

export function parseOvsdbRemote(text: string): OvsdbRemote {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    if (path === "") throw new OvsdbRemoteError(`"${text}": unix: needs a socket path`);
    return { kind: "unix", path };
  }
  if (text.startsWith("tcp:")) {
    const rest = text.slice("tcp:".length);
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(rest);
    if (m === null) throw new OvsdbRemoteError(`"${text}": expected tcp:HOST[:PORT]`);
    const host = m[1] ?? m[2]!;
    const port = m[3] === undefined ? OVSDB_DEFAULT_PORT : Number(m[3]);
    if (port < 1 || port > 65535) throw new OvsdbRemoteError(`"${text}": bad port ${port}`);
    return { kind: "tcp", host, port };
  }
  if (text.startsWith("ssl:")) {
    throw new OvsdbRemoteError(`"${text}": ssl: remotes are not supported (use tcp: or unix:)`);
  }
  throw new OvsdbRemoteError(`"${text}": an OVSDB remote is tcp:HOST[:PORT] or unix:PATH`);
}

export function formatOvsdbRemote(r: OvsdbRemote): string {
  if (r.kind === "unix") return `unix:${r.path}`;
  return `tcp:${r.host.includes(":") ? `[${r.host}]` : r.host}:${r.port}`;
}
