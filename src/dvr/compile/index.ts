/**
 * The DVR compiler: topology + host MACs + local VLANs (+ port numbers) →
 * the desired flows of br-int and br-tun of each host. Pure and
 * deterministic: the same input gives the same flows in the same order.
 */
import { indexTopology, type TopologyIndex } from "../../topology/indexed.js";
import type { Topology } from "../../topology/schema.js";
import type { DesiredFlow } from "../flow.js";
import type { BridgeName } from "../tables.js";
import { compileBrInt } from "./br-int.js";
import { compileBrTun } from "./br-tun.js";
import { HostContext, type CompileInput, type SkippedFlow } from "./context.js";
import { defaultOfports } from "./ports.js";

export type { CompileInput, HostNetworks, SkippedFlow } from "./context.js";
export { networksOn } from "./context.js";
export {
  defaultOfports,
  tunnelPortName,
  PATCH_INT,
  PATCH_TUN,
  type HostOfports,
  type OfportMap,
} from "./ports.js";

export interface HostFlows {
  readonly host: string;
  readonly bridges: Readonly<Record<BridgeName, readonly DesiredFlow[]>>;
  /** Routers placed on the host. */
  readonly routers: readonly string[];
  /** Networks present on the host with their local VLANs. */
  readonly networks: readonly { readonly name: string; readonly localVlan: number }[];
  readonly dvrMac: number;
  /** Flows left out because a port they need is not on the switch. */
  readonly skipped: readonly SkippedFlow[];
}

/** Compiles one host. */
export function compileHost(input: CompileInput, host: string): HostFlows {
  const index = input.index;
  const ofports = input.ofports?.get(host) ?? defaultOfports(index, host);
  const ctx = new HostContext(index, input, host, ofports, index.topology.controller.cookie_prefix);
  const brInt = compileBrInt(ctx).flows();
  const brTun = compileBrTun(ctx).flows();
  return {
    host,
    bridges: { "br-int": brInt, "br-tun": brTun },
    routers: ctx.routers.map((r) => r.name),
    networks: ctx.networks.map((n) => ({ name: n, localVlan: ctx.lv(n) })),
    dvrMac: ctx.dvrMac,
    skipped: ctx.skipped,
  };
}

/** Compiles every host, in host-name order. */
export function compileAll(input: CompileInput): HostFlows[] {
  // The networks per host come from the per-index memo (context.ts networksOn).
  return input.index.hosts.map((h) => compileHost(input, h.name));
}

/** Convenience: index a (validated) topology and build the compile input. */
export function compileInput(
  topology: Topology | TopologyIndex,
  state: Omit<CompileInput, "index">,
): CompileInput {
  const index = "topology" in topology ? topology : indexTopology(topology);
  return { index, ...state };
}
