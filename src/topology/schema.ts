/**
 * The topology document (config file and API body) as zod schemas: the
 * shape of ecosystem.md §4.2. Keys are snake_case (Neutron's and Faucet's
 * vocabulary); maps are keyed by name so uniqueness is free and error paths
 * read `ports.vm-a.fixed_ips[0]`.
 *
 * Fields not in version 1 are rejected, never ignored (strict objects):
 * allowed-address pairs, security groups, SNAT, VLAN/flat networks and IPv6
 * subnets fail with a message naming the field.
 *
 * The schema only checks each value on its own; cross-object rules (unknown
 * references, duplicates, addresses outside their subnet …) live in
 * validate.ts.
 */
import { z } from "zod";
import { parseListenTarget, parseOvsdbRemote, type TargetResult } from "../util/targets.js";
import { formatMac, parseCidr, parseIpv4, parseMac } from "./addr.js";

/** Object names: DNS-label-like, so they are safe in interface names, logs and URLs. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** Linux IFNAMSIZ - 1: OVS interface names longer than this cannot exist. */
export const MAX_INTERFACE_NAME = 15;
/** VXLAN network identifiers are 24 bits (RFC 7348 §5). */
export const MAX_VNI = 0xffffff;
/** Highest ofport OVS gives a port (its port space is 16-bit below OFPP_MAX 0xff00). */
export const MAX_OFPORT = 0xfeff;
/** The least MTU every IPv4 link carries (RFC 791): the lowest `mtu` accepted. */
export const MIN_MTU = 68;
/** Jumbo frames: the highest `mtu` accepted. */
export const MAX_MTU = 9000;
/** Neutron's default `dvr_base_mac` (neutron/conf/db/dvr_mac_db.py). */
export const DEFAULT_DVR_BASE_MAC = "fa:16:3f:00:00:00";
/** Neutron's tenant port `base_mac`; dvr_base_mac must differ from it. */
export const NEUTRON_PORT_BASE_MAC = "fa:16:3e:00:00:00";
/** High byte of every cookie we install (ecosystem.md §4.2 `cookie_prefix`). */
export const DEFAULT_COOKIE_PREFIX = 0xd5;

const name = z.string().regex(NAME_RE, "must be a name: letters, digits, '.', '_', '-'");

/** An integer given as a YAML int (bigint with `intAsBigInt`) or a JSON number. */
function int(min: number, max: number) {
  return z.union([z.number(), z.bigint()]).transform((v, ctx) => {
    const n = typeof v === "bigint" ? Number(v) : v;
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: "custom", message: `must be an integer in ${min}..${max}` });
      return z.NEVER;
    }
    return n;
  });
}

/**
 * A number of seconds: a YAML int (bigint with `intAsBigInt`, so `5` is as
 * good as `5.0`), a YAML float or a JSON number; above 0 when `positive`,
 * else from 0; at most a day.
 */
function seconds(opts: { readonly positive: boolean }) {
  return z.union([z.number(), z.bigint()]).transform((v, ctx) => {
    const n = typeof v === "bigint" ? Number(v) : v;
    const tooSmall = opts.positive ? !(n > 0) : !(n >= 0);
    if (!Number.isFinite(n) || tooSmall || n > MAX_SECONDS) {
      ctx.addIssue({
        code: "custom",
        message: `must be a number of seconds ${opts.positive ? "above 0" : "from 0"} up to ${MAX_SECONDS}`,
      });
      return z.NEVER;
    }
    return n;
  });
}
/** A day: longer timers are a typo (milliseconds given as seconds). */
const MAX_SECONDS = 86_400;

const mac = z.string().transform((v, ctx) => {
  const n = parseMac(v);
  if (n === undefined) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not a MAC address (xx:xx:xx:xx:xx:xx)` });
    return z.NEVER;
  }
  return formatMac(n);
});

const ipv4 = z.string().transform((v, ctx) => {
  if (v.includes(":")) {
    ctx.addIssue({
      code: "custom",
      message: `IPv6 addresses are not supported in config version 1 ("${v}")`,
    });
    return z.NEVER;
  }
  if (parseIpv4(v) === undefined) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not an IPv4 address` });
    return z.NEVER;
  }
  return v;
});

const cidr = z.string().transform((v, ctx) => {
  const r = parseCidr(v);
  if (!r.ok) {
    ctx.addIssue({ code: "custom", message: r.reason });
    return z.NEVER;
  }
  return v;
});

/**
 * A 64-bit datapath id: a YAML/JSON integer, "0x…" hex, or OVS's
 * colon-separated form ("00:00:00:00:00:00:00:01").
 */
const dpid = z.union([z.bigint(), z.number(), z.string()]).transform((v, ctx) => {
  let n: bigint | undefined;
  if (typeof v === "bigint") n = v;
  else if (typeof v === "number") n = Number.isSafeInteger(v) ? BigInt(v) : undefined;
  else if (/^0x[0-9a-fA-F]{1,16}$/.test(v)) n = BigInt(v);
  else if (/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){7}$/.test(v)) n = BigInt(`0x${v.replace(/:/g, "")}`);
  else if (/^\d+$/.test(v)) n = BigInt(v);
  if (n === undefined || n < 0n || n >= 1n << 64n) {
    ctx.addIssue({ code: "custom", message: `"${String(v)}" is not a 64-bit datapath id` });
    return z.NEVER;
  }
  return n;
});

/**
 * A string checked with one of the target grammars of util/targets.ts and
 * kept as written: the controller and the OVSDB client parse it again with
 * the same grammar, so what passes here is what they accept.
 */
function target(parse: (text: string) => TargetResult<unknown>) {
  return z.string().superRefine((v, ctx) => {
    const r = parse(v);
    if (!r.ok) ctx.addIssue({ code: "custom", message: r.reason });
  });
}

export const ControllerSchema = z.strictObject({
  /** OpenFlow listener (`tcp:HOST:PORT`, `unix:PATH`), the grammar of `dvrflow run --listen`. */
  listen: target((v) => parseListenTarget(v)).optional(),
  echo_interval: seconds({ positive: true }).optional(),
  echo_misses: int(1, 1000).optional(),
  /** Seconds between audits that re-dump every bridge (default 60; 0 = no audit). */
  audit_interval: seconds({ positive: false }).optional(),
  cookie_prefix: int(1, 255).default(DEFAULT_COOKIE_PREFIX),
  dvr_base_mac: mac.default(DEFAULT_DVR_BASE_MAC),
});

export const HostSchema = z.strictObject({
  datapath_ids: z.strictObject({ "br-int": dpid, "br-tun": dpid }),
  tunnel_ip: ipv4,
  /** OVSDB remote (`tcp:IP:6640`, `unix:PATH`): the controller plumbs the host itself. */
  ovsdb: target(parseOvsdbRemote).optional(),
  /** Fixed DVR MAC; else allocated from dvr_base_mac and persisted. */
  dvr_mac: mac.optional(),
});

export const NetworkSchema = z.strictObject({
  type: z.literal("vxlan", { error: 'only "vxlan" networks are supported in config version 1' }),
  segmentation_id: int(1, MAX_VNI),
  /**
   * The network's MTU (Neutron's `mtu`): set as `Interface.mtu_request` on
   * each VM port of the network by plumbing; absent = the column is left alone.
   */
  mtu: int(MIN_MTU, MAX_MTU).optional(),
});

export const SubnetSchema = z.strictObject({
  network: name,
  cidr,
  gateway_ip: ipv4.optional(),
});

export const RouterInterfaceSchema = z.strictObject({
  subnet: name,
  /** The gateway MAC: identical on every host (the replicas share it). */
  mac_address: mac,
  /** Default: the subnet's gateway_ip. */
  ip_address: ipv4.optional(),
});

export const RouterSchema = z.strictObject({
  distributed: z.literal(true, { error: "only distributed routers are supported" }).default(true),
  interfaces: z.array(RouterInterfaceSchema),
});

export const PortSchema = z.strictObject({
  network: name,
  host: name,
  /** OVS interface name on br-int. Default: "tap" + the port name, cut to 15 characters. */
  interface: z
    .string()
    .min(1)
    .max(MAX_INTERFACE_NAME, `interface names have at most ${MAX_INTERFACE_NAME} characters`)
    .optional(),
  mac_address: mac,
  fixed_ips: z.array(ipv4).default([]),
  /** br-int port number, for offline compiles; at run time the switch's PORT_DESC decides. */
  ofport: int(1, MAX_OFPORT).optional(),
  /** Neutron's port security (tables 24/25). Default true. */
  port_security: z.boolean().default(true),
});

const map = <T extends z.ZodType>(value: T) => z.record(name, value).default({});

export const TopologySchema = z.strictObject({
  version: z.union([z.literal(1), z.literal(1n)]).transform(() => 1 as const),
  controller: ControllerSchema.default({
    cookie_prefix: DEFAULT_COOKIE_PREFIX,
    dvr_base_mac: DEFAULT_DVR_BASE_MAC,
  }),
  hosts: map(HostSchema),
  networks: map(NetworkSchema),
  subnets: map(SubnetSchema),
  routers: map(RouterSchema),
  ports: map(PortSchema),
});

/** A topology document after schema parsing (values canonical, defaults filled). */
export type Topology = z.output<typeof TopologySchema>;
export type TopologyInput = z.input<typeof TopologySchema>;
export type Host = z.output<typeof HostSchema>;
export type Network = z.output<typeof NetworkSchema>;
export type Subnet = z.output<typeof SubnetSchema>;
export type Router = z.output<typeof RouterSchema>;
export type RouterInterface = z.output<typeof RouterInterfaceSchema>;
export type Port = z.output<typeof PortSchema>;
export type ControllerConfig = z.output<typeof ControllerSchema>;

/** The OVS interface name of a port (explicit, or Neutron-like "tap<name>"). */
export function portInterface(portName: string, port: Port): string {
  return port.interface ?? `tap${portName}`.slice(0, MAX_INTERFACE_NAME);
}

/**
 * The document as JSON-safe data (datapath ids as "0x…" strings), for the
 * store and the API; {@link TopologySchema} parses it back.
 */
export function topologyToJson(t: Topology): unknown {
  return JSON.parse(
    JSON.stringify(t, (_k, v: unknown) =>
      typeof v === "bigint" ? `0x${v.toString(16).padStart(16, "0")}` : v,
    ),
  );
}
