/**
 * OpenFlow connection targets in OVS's syntax (`ovs-vsctl set-controller`,
 * `ovs-ofctl`): active `tcp:HOST[:PORT]` / `unix:PATH`, passive
 * `ptcp:[PORT][:IP]` / `punix:PATH`. The OpenFlow port defaults to 6653
 * (IANA, OVS `OFP_PORT`); `ptcp:0` asks the kernel for a free port.
 */

/** IANA OpenFlow port (OVS `OFP_PORT`). */
export const OFP_TCP_PORT = 6653;

export type ActiveTarget =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

export type PassiveTarget =
  | { readonly kind: "ptcp"; readonly port: number; readonly host: string }
  | { readonly kind: "punix"; readonly path: string };

function port(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`${what}: bad port "${text}"`);
  const n = Number(text);
  if (n > 65535) throw new Error(`${what}: port ${n} out of range`);
  return n;
}

/** Splits "HOST:PORT", "[v6]:PORT" or "HOST". */
function hostPort(text: string): { host: string; port: string | undefined } {
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) throw new Error(`bad address "${text}"`);
    const rest = text.slice(end + 1);
    return { host: text.slice(1, end), port: rest.startsWith(":") ? rest.slice(1) : undefined };
  }
  const i = text.lastIndexOf(":");
  return i < 0
    ? { host: text, port: undefined }
    : { host: text.slice(0, i), port: text.slice(i + 1) };
}

export function parseActiveTarget(text: string): ActiveTarget {
  if (text.startsWith("tcp:")) {
    const hp = hostPort(text.slice(4));
    if (hp.host === "") throw new Error(`${text}: missing host`);
    return {
      kind: "tcp",
      host: hp.host,
      port: hp.port === undefined ? OFP_TCP_PORT : port(hp.port, text),
    };
  }
  if (text.startsWith("unix:") && text.length > 5) return { kind: "unix", path: text.slice(5) };
  throw new Error(`${text}: controller must be tcp:HOST[:PORT] or unix:PATH`);
}

export function parsePassiveTarget(text: string): PassiveTarget {
  if (text.startsWith("ptcp:") || text === "ptcp") {
    const rest = text.slice(5);
    if (rest === "") return { kind: "ptcp", port: OFP_TCP_PORT, host: "0.0.0.0" };
    // OVS: ptcp:[PORT][:IP]; the IP may be bracketed IPv6.
    const i = rest.indexOf(":");
    const p = i < 0 ? rest : rest.slice(0, i);
    let host = i < 0 ? "0.0.0.0" : rest.slice(i + 1);
    if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
    return { kind: "ptcp", port: p === "" ? OFP_TCP_PORT : port(p, text), host };
  }
  if (text.startsWith("punix:") && text.length > 6) return { kind: "punix", path: text.slice(6) };
  throw new Error(`${text}: listen target must be ptcp:[PORT][:IP] or punix:PATH`);
}

export function activeTargetText(t: ActiveTarget): string {
  return t.kind === "tcp" ? `tcp:${t.host}:${t.port}` : `unix:${t.path}`;
}

export function passiveTargetText(t: PassiveTarget): string {
  return t.kind === "ptcp" ? `ptcp:${t.port}:${t.host}` : `punix:${t.path}`;
}
