/**
 * The suite's topology: examples/e2e-two-hosts.yaml, plus the port the
 * port-add scenario creates through the API (wired on its host from the
 * start, as a hypervisor plugs a tap before Neutron binds the port).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseTopologyText } from "../../src/topology/loader.js";
import type { Port, Topology } from "../../src/topology/schema.js";

export const EXAMPLE = join(import.meta.dirname, "..", "..", "examples", "e2e-two-hosts.yaml");

export const HOSTS = ["compute-1", "compute-2"] as const;
export type HostName = (typeof HOSTS)[number];

/** The API body of the late port (PUT /v1/ports/vm-a3). */
export const LATE_PORT_NAME = "vm-a3";
export const LATE_PORT = {
  network: "blue",
  host: "compute-2",
  interface: "tap-vm-a3",
  mac_address: "fa:16:3e:aa:00:03",
  fixed_ips: ["203.0.113.12"],
  // Explicit, so the ports already numbered by name order keep their numbers.
  ofport: 20,
} as const;

export function loadE2eTopology(): Topology {
  const r = parseTopologyText(readFileSync(EXAMPLE, "utf8"));
  if (r.topology === undefined || r.issues.some((i) => i.severity === "error"))
    throw new Error(`${EXAMPLE} is invalid`);
  return structuredClone(r.topology);
}

/** The topology with the late port added (what the host must be wired for). */
export function withLatePort(t: Topology): Topology {
  const late: Port = { ...LATE_PORT, fixed_ips: [...LATE_PORT.fixed_ips], port_security: true };
  return { ...t, ports: { ...t.ports, [LATE_PORT_NAME]: late } };
}
