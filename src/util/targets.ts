/**
 * Connection targets in Open vSwitch's stream syntax, for the two protocols
 * dvrflow speaks: OpenFlow listeners (`controller.listen`, `dvrflow run
 * --listen`) and OVSDB remotes (`hosts.<h>.ovsdb`, `dvrflow plumb --ovsdb`).
 *
 * Pure (no I/O, no imports) and non-throwing: each parser returns the
 * value or the reason, so the topology schema reports a bad target with
 * its object path and file line (`dvrflow check`), while the controller
 * and the OVSDB client throw their own errors from the same grammar. One
 * grammar for both sides means a target that passes `check` is one `run`
 * accepts, and the other way round.
 */

export type TargetResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** A TCP address or a unix socket path (both protocols use the same two kinds). */
export type StreamTarget =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

/** An OpenFlow listener: `tcp:HOST:PORT`, `unix:PATH` (OVS's syntax, the `p` of passive optional). */
export type ListenTarget = StreamTarget;

/** An OVSDB remote (ovsdb-server(1) "Active database connection methods"). */
export type OvsdbRemote = StreamTarget;

/** IANA port of OpenFlow, the default of a listener without a port. */
export const OPENFLOW_DEFAULT_PORT = 6653;
/** IANA port of OVSDB (RFC 7047 §6), OVS's default for `tcp:` without a port. */
export const OVSDB_DEFAULT_PORT = 6640;
/** Every IPv4 address: a listener without a host. */
const ANY_HOST = "0.0.0.0";

const MAX_PORT = 65535;
/** A host name or an IPv4 address (what `net.Server#listen` can resolve). */
const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
/** The inside of `[…]`: an IPv6 address, optionally with a zone (`fe80::1%eth0`). */
const IPV6_RE = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?$/;
const PORT_RE = /^\d{1,5}$/;

const fail = <T>(reason: string): TargetResult<T> => ({ ok: false, reason });
const ok = <T>(value: T): TargetResult<T> => ({ ok: true, value });

/**
 * `tcp:127.0.0.1:6653`, `tcp:[::1]:6653`, `tcp:HOST` (default port), `ptcp:6653`
 * (every address), OVS's `ptcp:6653:127.0.0.1` (port first), `unix:/run/x.sock`,
 * `punix:…`. An empty host means every address. An unbracketed IPv6 address
 * is refused rather than misread (`tcp:::1:6653` has no unambiguous split).
 */
export function parseListenTarget(
  text: string,
  defaultPort: number = OPENFLOW_DEFAULT_PORT,
): TargetResult<ListenTarget> {
  const m = /^(p?)(tcp|unix):(.*)$/s.exec(text);
  if (m === null) return fail(`"${text}": expected tcp:HOST:PORT or unix:PATH`);
  const passive = m[1] === "p";
  const rest = m[3]!;
  if (m[2] === "unix") {
    if (rest === "") return fail(`"${text}": unix socket path missing`);
    return ok({ kind: "unix", path: rest });
  }
  const port = (p: string | undefined): number | string => {
    if (p === undefined || p === "") return defaultPort;
    const n = PORT_RE.test(p) ? Number(p) : NaN;
    return Number.isInteger(n) && n <= MAX_PORT ? n : `"${text}": bad port`;
  };
  const tcp = (host: string, p: string | undefined): TargetResult<ListenTarget> => {
    const n = port(p);
    return typeof n === "string" ? fail(n) : ok({ kind: "tcp", host, port: n });
  };
  const v6 = /^\[([^\]]*)\](?::(.*))?$/s.exec(rest);
  if (v6 !== null) {
    if (!IPV6_RE.test(v6[1]!)) return fail(`"${text}": "${v6[1]}" is not an IPv6 address`);
    return tcp(v6[1]!, v6[2]);
  }
  const parts = rest.split(":");
  if (parts.length > 2) {
    return fail(
      `"${text}": expected tcp:HOST:PORT (an IPv6 address goes in brackets: tcp:[ADDR]:PORT)`,
    );
  }
  const [first = "", second] = parts;
  if (second === undefined && PORT_RE.test(first)) return tcp(ANY_HOST, first);
  // ovs-vswitchd's passive form is ptcp:PORT[:IP] (ovs-vswitchd.conf.db(5) Controller.target).
  if (passive && second !== undefined && PORT_RE.test(first) && !PORT_RE.test(second)) {
    if (second !== "" && !HOST_RE.test(second))
      return fail(`"${text}": "${second}" is not a host name or IPv4 address`);
    return tcp(second === "" ? ANY_HOST : second, first);
  }
  if (first !== "" && !HOST_RE.test(first))
    return fail(`"${text}": "${first}" is not a host name or IPv4 address`);
  return tcp(first === "" ? ANY_HOST : first, second);
}

/** The canonical text of a stream target (`tcp:[::1]:6653`, `unix:PATH`). */
export function formatStreamTarget(t: StreamTarget): string {
  return t.kind === "unix"
    ? `unix:${t.path}`
    : `tcp:${t.host.includes(":") ? `[${t.host}]` : t.host}:${t.port}`;
}

/**
 * `tcp:HOST[:PORT]` (IPv6 hosts in brackets) and `unix:PATH`, as OVS writes
 * them. `ssl:` is recognised only to refuse it clearly; passive `ptcp:` and
 * `punix:` are what a server listens on, not what a client dials.
 */
export function parseOvsdbRemote(text: string): TargetResult<OvsdbRemote> {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    if (path === "") return fail(`"${text}": unix: needs a socket path`);
    return ok({ kind: "unix", path });
  }
  if (text.startsWith("tcp:")) {
    const rest = text.slice("tcp:".length);
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(rest);
    if (m === null) return fail(`"${text}": expected tcp:HOST[:PORT]`);
    const host = m[1] ?? m[2]!;
    const port = m[3] === undefined ? OVSDB_DEFAULT_PORT : Number(m[3]);
    if (port < 1 || port > MAX_PORT) return fail(`"${text}": bad port ${port}`);
    return ok({ kind: "tcp", host, port });
  }
  if (text.startsWith("ssl:")) {
    return fail(`"${text}": ssl: remotes are not supported (use tcp: or unix:)`);
  }
  return fail(`"${text}": an OVSDB remote is tcp:HOST[:PORT] or unix:PATH`);
}
