/**
 * Where a traced packet enters a host: the microflow's `in_port`, which may
 * be a number (a br-int port, as `ofproto/trace br-int` takes it) or, for
 * convenience (ecosystem.md §4.1, as ovn-trace names logical ports), a name:
 *
 * - a topology port of the host (`vm-a1`) or its interface (`tap-vm-a1`);
 * - any other port of br-int (`patch-tun`, `br-int` for LOCAL) or of br-tun
 *   (`patch-int`, a tunnel port `vxlan-c633640b`: the packet then arrives
 *   from that tunnel, on br-tun).
 *
 * The name is replaced by its number before the microflow is parsed (the
 * text layer knows numbers and OVS's reserved names only).
 */
import type { Bridge } from "../../datapath/bridge.js";
import type { Port } from "../../datapath/ports.js";
import type { BridgeName } from "../dvr/tables.js";
import type { TopologyIndex } from "../topology/indexed.js";
import type { TraceHost } from "./replica.js";

/** Bad input to a trace (unknown host or port, unparsable microflow or packet). */
export class TraceRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TraceRequestError";
  }
}

export interface ResolvedInPort {
  readonly bridge: BridgeName;
  readonly port: Port;
  /** The topology port plugged there, for VM ports. */
  readonly vm: string | undefined;
}

/** `in_port=VALUE` in a microflow (not `in_port` inside another field name). */
const IN_PORT = /(^|,)(\s*in_port\s*=\s*)([^,\s]+)/;

/** The microflow's in_port value as written, or undefined. */
export function inPortText(microflow: string): string | undefined {
  return IN_PORT.exec(microflow)?.[3];
}

/** The microflow with its in_port replaced by `no`. */
export function withInPort(microflow: string, no: number): string {
  return microflow.replace(IN_PORT, (_m, lead: string, eq: string) => `${lead}${eq}${no}`);
}

function portNames(br: Bridge): string {
  return br.portList.map((p) => p.name).join(", ");
}

/** Resolves `text` (a number or a name, see the file comment) on `host`. */
export function resolveInPort(index: TopologyIndex, host: TraceHost, text: string): ResolvedInPort {
  const vmOf = (p: Port): string | undefined => host.vmPorts.get(p.no)?.name;
  if (/^(\d+|0x[0-9a-f]+)$/i.test(text)) {
    const p = host.brInt.port(Number(text));
    if (p === undefined) {
      throw new TraceRequestError(
        `no port ${text} on br-int of ${host.name} (ports: ${host.brInt.portList.map((q) => `${q.no >>> 0}=${q.name}`).join(", ")})`,
      );
    }
    return { bridge: "br-int", port: p, vm: vmOf(p) };
  }
  const named = index.ports.find((p) => p.name === text);
  if (named !== undefined) {
    if (named.host !== host.name) {
      throw new TraceRequestError(`port ${text} is on ${named.host}, not on ${host.name}`);
    }
    const p = host.brInt.portByName(named.interfaceName);
    if (p === undefined)
      throw new TraceRequestError(`port ${text} (${named.interfaceName}) is not on br-int`);
    return { bridge: "br-int", port: p, vm: named.name };
  }
  const onInt = host.brInt.portByName(text);
  if (onInt !== undefined) return { bridge: "br-int", port: onInt, vm: vmOf(onInt) };
  const onTun = host.brTun.portByName(text);
  if (onTun !== undefined) return { bridge: "br-tun", port: onTun, vm: undefined };
  throw new TraceRequestError(
    `no port "${text}" on ${host.name} (br-int: ${portNames(host.brInt)}; ` +
      `br-tun: ${portNames(host.brTun)}; ` +
      `VM ports: ${[...host.vmPorts.values()].map((p) => p.name).join(", ") || "none"})`,
  );
}
