/**
 * `dvrflow switch`: runs the userspace OpenFlow 1.3 switch as a daemon, in
 * the spirit of ovs-vswitchd + ovs-vsctl (ecosystem.md §4.1).
 *
 *     dvrflow switch --config switch.yaml
 *     dvrflow switch --bridge br0 --dpid 0x1 --listen ptcp:6654:127.0.0.1 \
 *         --port 1=veth-a --port 2=veth-b --fail-mode standalone
 *     dvrflow switch --dpid 0x2 --controller tcp:127.0.0.1:6653 \
 *         --port 10=vxlan-c2:remote_ip=127.0.0.12,key=flow --local-ip 127.0.0.11
 *     dvrflow switch --port 1=p1:type=pcap --port 2=p2:type=pcap --flows f.txt \
 *         --pcap-in p1=in.pcap --pcap-out p2=out.pcap --offline
 *
 * Flags describe one bridge (`--bridge`, default br0, or the first bridge of
 * `--config`); with `--config` they add to / override that bridge. Logs are
 * pino JSON on stderr; the `listening` line carries the bound port (useful
 * with `ptcp:0`). Runs until SIGINT/SIGTERM, or with `--offline` until the
 * pcap inputs are consumed. Exit status: 0 after a clean stop, 1 on bad
 * configuration or when a port or endpoint cannot be opened.
 */
import { parseArgs } from "node:util";
import { createLogger } from "../../log.js";
import {
  checkSwitchConfig,
  loadSwitchConfig,
  parsePortFlag,
  type BridgeConfig,
  type SwitchConfig,
} from "../../../datapath/agent/config.js";
import { SwitchRuntime, type PcapAttachment } from "../../../datapath/agent/runtime.js";
import type { CommandIo } from "./ofp-print.js";

export const SWITCH_USAGE = `usage: dvrflow switch [--config FILE] [options]

Bridge (flags apply to --bridge, default the config's first bridge or br0):
  --bridge NAME             bridge to define or modify
  --dpid ID                 64-bit datapath id (e.g. 0x1)
  --controller tcp:H[:P]    active controller (repeatable); reconnects 1,2,4,8 s
  --listen ptcp:[P][:IP]    passive OpenFlow endpoint for ovs-ofctl (repeatable),
           punix:PATH       ptcp:0 picks a free port (see the "listening" log)
  --fail-mode MODE          secure (default) | standalone
  --port SPEC               [OFPORT=]NAME[:OPT=V,...] (repeatable); OPT: type=
                            system|internal|patch|vxlan|pcap|udp, peer, remote_ip,
                            local_ip, key, dst_port, tag, interface, rx_pcap, tx_pcap,
                            remote, local (udp: frames as datagrams to/from HOST:PORT)
  --flows FILE              flows to install at start (ovs-ofctl add-flows syntax)
Switch:
  --local-ip IP             underlay address for VXLAN (bind; default any)
  --vxlan-port N            VXLAN UDP port (default 4789)
  --probe-interval S        OpenFlow inactivity probe, seconds (default 5, 0 = off)
  --max-backoff S           controller reconnect backoff cap, seconds (default 8)
  --pcap-in [BR:]PORT=FILE  frames from a capture file enter PORT (repeatable)
  --pcap-out [BR:]PORT=FILE frames PORT sends are written to FILE (repeatable)
  --offline                 process the --pcap-in frames, print counters, exit
  --no-cache                disable the exact-match cache
  --log-level LEVEL         pino level (default info)
`;

const OPTIONS = {
  config: { type: "string" },
  bridge: { type: "string" },
  dpid: { type: "string" },
  controller: { type: "string", multiple: true },
  listen: { type: "string", multiple: true },
  "fail-mode": { type: "string" },
  port: { type: "string", multiple: true },
  flows: { type: "string" },
  "local-ip": { type: "string" },
  "vxlan-port": { type: "string" },
  "probe-interval": { type: "string" },
  "max-backoff": { type: "string" },
  "pcap-in": { type: "string", multiple: true },
  "pcap-out": { type: "string", multiple: true },
  offline: { type: "boolean" },
  "no-cache": { type: "boolean" },
  "log-level": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];

function num(text: string | undefined, what: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${what} ${text}: out of range`);
  return n;
}

function parseDpid(text: string): bigint {
  try {
    const v = BigInt(text);
    if (v >= 0n && v <= 0xffffffffffffffffn) return v;
  } catch {
    // fall through
  }
  throw new Error(`--dpid ${text}: not a 64-bit number`);
}

/** `[BR:]PORT=FILE` → attachment on `defaultBridge` unless a bridge is named. */
function attachment(text: string, defaultBridge: string, flag: string): PcapAttachment {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new Error(`--${flag} ${text}: expected [BRIDGE:]PORT=FILE`);
  const target = text.slice(0, eq);
  const colon = target.indexOf(":");
  return {
    bridge: colon < 0 ? defaultBridge : target.slice(0, colon),
    port: colon < 0 ? target : target.slice(colon + 1),
    file: text.slice(eq + 1),
  };
}

/** Merges the flags into the (possibly empty) file config. */
export function switchConfigFromArgs(v: Values): { config: SwitchConfig; bridge: string } {
  const base: SwitchConfig =
    v.config !== undefined
      ? loadSwitchConfig(v.config)
      : { bridges: [], vxlan: { port: 4789 }, probeInterval: 5, maxBackoff: 8 };
  const name = v.bridge ?? base.bridges[0]?.name ?? "br0";
  const existing = base.bridges.find((b) => b.name === name);
  const fm = v["fail-mode"];
  if (fm !== undefined && fm !== "secure" && fm !== "standalone")
    throw new Error(`--fail-mode ${fm}: must be secure or standalone`);
  const extraPorts = (v.port ?? []).map(parsePortFlag);
  const bridge: BridgeConfig = {
    name,
    dpid: v.dpid !== undefined ? parseDpid(v.dpid) : existing?.dpid,
    controllers: [...(existing?.controllers ?? []), ...(v.controller ?? [])],
    listen: [...(existing?.listen ?? []), ...(v.listen ?? [])],
    failMode: fm ?? existing?.failMode ?? "secure",
    flows: v.flows ?? existing?.flows,
    ports: [...(existing?.ports ?? []), ...extraPorts],
  };
  const bridges = existing
    ? base.bridges.map((b) => (b === existing ? bridge : b))
    : [...base.bridges, bridge];
  const config: SwitchConfig = {
    bridges,
    vxlan: {
      localIp: v["local-ip"] ?? base.vxlan.localIp,
      port: num(v["vxlan-port"], "vxlan-port", 1, 65535) ?? base.vxlan.port,
    },
    probeInterval: num(v["probe-interval"], "probe-interval", 0, 86400) ?? base.probeInterval,
    maxBackoff: num(v["max-backoff"], "max-backoff", 1, 3600) ?? base.maxBackoff,
  };
  checkSwitchConfig(config);
  return { config, bridge: name };
}

export async function runSwitch(args: readonly string[], io: CommandIo): Promise<number> {
  const err = io.stderr ?? io.stdout;
  let v: Values;
  try {
    v = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: false }).values;
  } catch (e) {
    err(`dvrflow switch: ${(e as Error).message}\n${SWITCH_USAGE}`);
    return 1;
  }
  if (v.help === true) {
    io.stdout(SWITCH_USAGE);
    return 0;
  }
  let config: SwitchConfig;
  let bridge: string;
  try {
    ({ config, bridge } = switchConfigFromArgs(v));
  } catch (e) {
    err(`dvrflow switch: ${(e as Error).message}\n`);
    return 1;
  }
  const log = createLogger({ level: v["log-level"], name: "dvrflow-switch" });
  let runtime: SwitchRuntime;
  try {
    runtime = new SwitchRuntime(config, {
      log,
      cache: v["no-cache"] !== true,
      pcapIn: (v["pcap-in"] ?? []).map((t) => attachment(t, bridge, "pcap-in")),
      pcapOut: (v["pcap-out"] ?? []).map((t) => attachment(t, bridge, "pcap-out")),
    });
    await runtime.start();
  } catch (e) {
    err(`dvrflow switch: ${(e as Error).message}\n`);
    return 1;
  }
  if (v.offline === true) {
    const { frames } = runtime.runOffline();
    const lines = [`frames in: ${frames}`];
    for (const br of runtime.bridges.values()) {
      for (const p of br.portList) {
        const c = p.counters;
        lines.push(
          `${br.name} port ${p.no} (${p.name}): rx ${c.rxPackets} tx ${c.txPackets} drop ${c.rxDropped + c.txDropped}`,
        );
      }
    }
    io.stdout(lines.join("\n") + "\n");
    await runtime.stop();
    return 0;
  }
  runtime.replayPcapInputs();
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, "stopping");
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve();
    };
    const onInt = (): void => stop("SIGINT");
    const onTerm = (): void => stop("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
  await runtime.stop();
  log.flush?.();
  return 0;
}
