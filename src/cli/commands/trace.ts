/**
 * `dvrflow trace`: the path of one packet through flow tables, printed in the
 * layout of `ovs-appctl ofproto/trace` (`Flow:`, `bridge("…")`, numbered
 * table lines with the hit flow and its actions, `Final flow:`, `Datapath
 * actions:`; datapath/trace.ts). The tables come from
 *
 *     dvrflow trace --flows FILE [--bridge br0] 'MICROFLOW'
 *         one bridge with the flows of FILE (ovs-ofctl add-flows syntax); its
 *         ports are the numbers the flows and the packet mention;
 *     dvrflow trace --bridges switch.yaml [BRIDGE] 'MICROFLOW'
 *         the bridges of a switch config (`dvrflow switch --config`), joined
 *         by their patch ports, each with its `flows:` file;
 *     dvrflow trace --switch tcp:HOST:PORT|unix:PATH 'MICROFLOW'
 *         the flows, groups and ports of a running OpenFlow 1.3 switch (ours
 *         or Open vSwitch), read with FLOW/GROUP_DESC/PORT_DESC requests;
 *     dvrflow trace --config topo.yaml [--store DB] HOST 'MICROFLOW'
 *             [--format detailed|summary|minimal|json] [--max-hops N]
 *         the flows `dvrflow compile` gives every host of a topology, on a
 *         copy of each host's br-int and br-tun; the packet starts on HOST
 *         and is followed across VXLAN tunnels to the hosts they lead to,
 *         each flow named by the topology object behind it (src/trace/,
 *         ecosystem.md §4.1). in_port may name a VM port (`in_port=vm-a1`),
 *         its interface (`in_port=tap-vm-a1`) or any port of the host.
 *     dvrflow trace --api URL HOST 'MICROFLOW'
 *             [--format detailed|summary|minimal|json] [--max-hops N]
 *         the same trace done by a running controller (`POST /v1/trace`):
 *         its topology in force and the port numbers its switches reported.
 *
 * The packet is an ofproto/trace microflow (`in_port=1,dl_src=…,ip,nw_dst=…`,
 * unspecified fields zero) or, with `--packet HEX`, a raw frame (in_port
 * from `--in-port` or the microflow). Exit status 0 when traced, 1 on bad
 * input.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Instruction } from "../../../codec/instructions.js";
import { parseHex } from "../../../codec/text/ofp-print.js";
import { flowModMessage, parseFlow } from "../../../codec/text/index.js";
import type { Bridge } from "../../../datapath/bridge.js";
import { Datapath } from "../../../datapath/datapath.js";
import { buildBridges, loadFlowsText, loadSwitchConfig } from "../../../datapath/agent/config.js";
import { snapshotSwitch } from "../../../datapath/agent/snapshot.js";
import { parseActiveTarget } from "../../../datapath/agent/targets.js";
import { microflowPacket } from "../../../datapath/microflow.js";
import { traceDetailed } from "../../../datapath/trace.js";
import {
  DEFAULT_MAX_HOPS,
  isTraceFormat,
  runTopologyTrace,
  TRACE_FORMATS,
  type TraceFormat,
} from "../../trace/index.js";
import { offlineSnapshot } from "../../dvr/offline.js";
import { formatIssue, TopologyError } from "../../topology/issues.js";
import { loadTopologyFile } from "../../topology/loader.js";
import { ApiError, apiBase, apiErrorMessage, apiPostJson } from "../api-client.js";
import type { CommandIo } from "./ofp-print.js";

export const TRACE_USAGE = `usage: dvrflow trace --flows FILE [--bridge NAME] MICROFLOW
       dvrflow trace --bridges CONFIG [BRIDGE] MICROFLOW
       dvrflow trace --switch tcp:HOST:PORT|unix:PATH MICROFLOW
       dvrflow trace --config TOPOLOGY [--store PATH] HOST MICROFLOW
       dvrflow trace --api URL HOST MICROFLOW
options:
  --packet HEX     trace this frame instead of one composed from MICROFLOW
  --in-port N      in_port for --packet (default: the microflow's, else 0)
  --timeout S      --switch: give up after S seconds (default 10)
--config (the compiled flows of every host; follows VXLAN tunnels host to host)
--api (the same, by a running controller: its topology and its switches' port numbers):
  --store PATH     --config: the controller's store, for its host MACs and local VLANs
  --format F       detailed (default), summary, minimal or json
  --max-hops N     tunnels to follow at most (default ${DEFAULT_MAX_HOPS})
  in_port may be a VM port or interface name: in_port=vm-a1, in_port=tap-vm-a1
MICROFLOW is ovs-appctl ofproto/trace syntax, e.g.
  in_port=1,dl_src=fa:16:3e:00:00:01,dl_dst=fa:16:3e:00:00:02,ip,nw_src=10.0.1.5,nw_dst=10.0.2.5,nw_ttl=64
`;

const OPTIONS = {
  flows: { type: "string" },
  bridges: { type: "string" },
  switch: { type: "string" },
  config: { type: "string" },
  api: { type: "string" },
  store: { type: "string" },
  format: { type: "string" },
  "max-hops": { type: "string" },
  bridge: { type: "string" },
  packet: { type: "string" },
  "in-port": { type: "string" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Highest ordinary port number (OFPP_MAX is 0xffffff00). */
const MAX_PLAIN_PORT = 0xfeff;

/** Port numbers a flow's instructions output to. */
function outputPorts(instructions: readonly Instruction[], into: Set<number>): void {
  for (const i of instructions) {
    if (i.type !== "apply_actions" && i.type !== "write_actions") continue;
    for (const a of i.actions) {
      if (a.type === "output" && a.port >>> 0 <= MAX_PLAIN_PORT) into.add(a.port >>> 0);
    }
  }
}

/** One bridge from a flow file, with a sink port for every port number the flows or the packet mention. */
function bridgeFromFlowFile(path: string, name: string, inPort: number): Bridge {
  const text = readFileSync(path, "utf8");
  const ports = new Set<number>();
  if (inPort >= 1 && inPort <= MAX_PLAIN_PORT) ports.add(inPort);
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t === "" || t.startsWith("#")) continue;
    let fm;
    try {
      fm = flowModMessage(parseFlow(t));
    } catch (err) {
      throw new Error(`${path}:${i + 1}: ${(err as Error).message}`);
    }
    for (const e of fm.match.entries) {
      if (e.field?.name === "in_port" && "value" in e) {
        const v = new DataView(e.value.buffer, e.value.byteOffset, 4).getUint32(0);
        if (v >= 1 && v <= MAX_PLAIN_PORT) ports.add(v);
      }
    }
    outputPorts(fm.instructions, ports);
  }
  const dp = new Datapath({ cache: false });
  const br = dp.addBridge({ name });
  for (const no of [...ports].sort((a, b) => a - b)) {
    br.addPort({ kind: "sink", name: `p${no}`, ofport: no });
  }
  loadFlowsText(br, text, 0, path);
  return br;
}

export async function runTrace(args: readonly string[], io: CommandIo): Promise<number> {
  const err = io.stderr ?? io.stdout;
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      options: OPTIONS,
      allowPositionals: true,
    }));
  } catch (e) {
    err(`dvrflow trace: ${(e as Error).message}\n${TRACE_USAGE}`);
    return 1;
  }
  if (values.help === true) {
    io.stdout(TRACE_USAGE);
    return 0;
  }
  const sources = [values.flows, values.bridges, values.switch, values.config, values.api].filter(
    (s) => s !== undefined,
  );
  if (sources.length !== 1) {
    err(
      `dvrflow trace: give exactly one of --flows, --bridges, --switch, --config, --api\n${TRACE_USAGE}`,
    );
    return 1;
  }
  if (values.config !== undefined) return traceConfig(values, positionals, io);
  if (values.api !== undefined) return traceApi(values, positionals, io);
  for (const opt of ["store", "format", "max-hops"] as const) {
    if (values[opt] !== undefined) {
      err(
        `dvrflow trace: --${opt} goes with --config${opt === "store" ? "" : " or --api"}\n${TRACE_USAGE}`,
      );
      return 1;
    }
  }
  const wantBridge =
    values.bridges !== undefined && positionals.length >= 2 ? positionals[0] : values.bridge;
  const flowText = positionals[positionals.length - 1];
  if (flowText === undefined && values.packet === undefined) {
    err(`dvrflow trace: missing MICROFLOW\n${TRACE_USAGE}`);
    return 1;
  }
  try {
    let frame: Uint8Array;
    let inPort = 0;
    let tunnel;
    const notes: string[] = [];
    if (flowText !== undefined) {
      const mf = microflowPacket(flowText);
      frame = mf.frame;
      inPort = mf.inPort;
      tunnel = mf.tunnel;
      if (mf.ignored.length > 0)
        notes.push(`note: ignored (not carried by a frame): ${mf.ignored.join(", ")}`);
    } else {
      frame = new Uint8Array(0);
    }
    if (values.packet !== undefined) {
      const bytes = parseHex(values.packet);
      if (bytes === undefined || bytes.length < 14)
        throw new Error("--packet: not an Ethernet frame in hex");
      frame = bytes;
    }
    if (values["in-port"] !== undefined) {
      inPort = Number(values["in-port"]);
      if (!Number.isInteger(inPort) || inPort < 0)
        throw new Error(`--in-port ${values["in-port"]}`);
    }
    let br: Bridge;
    if (values.flows !== undefined) {
      br = bridgeFromFlowFile(values.flows, wantBridge ?? "br0", inPort);
    } else if (values.bridges !== undefined) {
      const cfg = loadSwitchConfig(values.bridges);
      const dp = new Datapath({ cache: false });
      const bridges = buildBridges(cfg, dp);
      for (const b of cfg.bridges) {
        if (b.flows !== undefined)
          loadFlowsText(bridges.get(b.name)!, readFileSync(b.flows, "utf8"), 0, b.flows);
      }
      const name = wantBridge ?? cfg.bridges[0]!.name;
      const found = bridges.get(name);
      if (found === undefined) throw new Error(`no bridge ${name} in ${values.bridges}`);
      br = found;
    } else {
      const timeout = Number(values.timeout ?? "10");
      br = await snapshotSwitch(parseActiveTarget(values.switch!), {
        name: wantBridge ?? "br0",
        timeoutMs: timeout * 1000,
      });
    }
    const r = traceDetailed(br, frame, inPort, { tunnel });
    for (const n of notes) err(`${n}\n`);
    io.stdout(r.text + "\n");
    return 0;
  } catch (e) {
    err(`dvrflow trace: ${(e as Error).message}\n`);
    return 1;
  }
}

type TraceValues = {
  readonly config?: string;
  readonly api?: string;
  readonly timeout?: string;
  readonly store?: string;
  readonly format?: string;
  readonly "max-hops"?: string;
  readonly packet?: string;
  readonly "in-port"?: string;
  readonly bridge?: string;
};

/** What `--config` and `--api` trace: the checked arguments, or the message of what is wrong. */
interface TopologyRequest {
  readonly host: string;
  readonly microflow: string;
  readonly format: TraceFormat;
  readonly maxHops: number;
}

/**
 * HOST, MICROFLOW (with `--in-port` merged in), `--format` and
 * `--max-hops`, as `--config` and `--api` take them (`source` names the
 * option in messages); an error message (usage appended where it helps).
 */
function topologyRequest(
  values: TraceValues,
  positionals: readonly string[],
  source: "--config" | "--api",
): TopologyRequest | string {
  const format = values.format ?? "detailed";
  if (!isTraceFormat(format)) {
    return `dvrflow trace: --format must be one of ${TRACE_FORMATS.join(", ")}, not "${format}"\n`;
  }
  const maxHopsText = values["max-hops"];
  const maxHops = maxHopsText === undefined ? DEFAULT_MAX_HOPS : Number(maxHopsText);
  if (!Number.isInteger(maxHops) || maxHops < 0) {
    return `dvrflow trace: --max-hops must be a whole number ≥ 0, not "${maxHopsText}"\n`;
  }
  if (values.bridge !== undefined) {
    return `dvrflow trace: --bridge does not go with ${source} (in_port names the bridge)\n`;
  }
  const [host, given, ...extra] = positionals;
  if (host === undefined || extra.length > 0) {
    return `dvrflow trace: ${source} takes HOST and MICROFLOW\n${TRACE_USAGE}`;
  }
  let microflow = given;
  const inPort = values["in-port"];
  if (inPort !== undefined) {
    if (microflow !== undefined && /(^|,)\s*in_port\s*=/.test(microflow)) {
      return `dvrflow trace: in_port given twice (--in-port and the microflow)\n`;
    }
    microflow = microflow === undefined ? `in_port=${inPort}` : `in_port=${inPort},${microflow}`;
  }
  if (microflow === undefined) {
    return `dvrflow trace: missing MICROFLOW\n${TRACE_USAGE}`;
  }
  return { host, microflow, format, maxHops };
}

/** `--config TOPOLOGY HOST MICROFLOW`: the topology trace (src/trace/). */
async function traceConfig(
  values: TraceValues,
  positionals: readonly string[],
  io: CommandIo,
): Promise<number> {
  const err = io.stderr ?? io.stdout;
  const req = topologyRequest(values, positionals, "--config");
  if (typeof req === "string") {
    err(req);
    return 1;
  }
  const { host, microflow, format, maxHops } = req;
  const config = values.config!;
  try {
    const { topology, warnings } = loadTopologyFile(config);
    for (const w of warnings) err(`${formatIssue(w, config)}\n`);
    const snapshot = await offlineSnapshot(
      topology,
      values.store === undefined ? {} : { storePath: values.store },
    );
    const run = runTopologyTrace(snapshot, {
      host,
      microflow,
      ...(values.packet === undefined ? {} : { packetHex: values.packet }),
      maxHops,
      format,
    });
    io.stdout(run.text);
    return 0;
  } catch (e) {
    if (e instanceof TopologyError) {
      err(`${e.message}\n`);
      return 1;
    }
    // TraceRequestError (unknown host or port, bad microflow) and anything else alike.
    err(`dvrflow trace: ${(e as Error).message}\n`);
    return 1;
  }
}

/**
 * `--api URL HOST MICROFLOW`: the topology trace done by a running
 * controller (`POST /v1/trace`), with its topology in force and the port
 * numbers its switches reported; prints the answer's `text`.
 */
async function traceApi(
  values: TraceValues,
  positionals: readonly string[],
  io: CommandIo,
): Promise<number> {
  const err = io.stderr ?? io.stdout;
  for (const opt of ["store", "timeout"] as const) {
    if (values[opt] !== undefined) {
      err(`dvrflow trace: --${opt} does not go with --api\n${TRACE_USAGE}`);
      return 1;
    }
  }
  const req = topologyRequest(values, positionals, "--api");
  if (typeof req === "string") {
    err(req);
    return 1;
  }
  const base = apiBase(values.api);
  try {
    const body = (await apiPostJson(base, "/v1/trace", {
      host: req.host,
      microflow: req.microflow,
      ...(values.packet === undefined ? {} : { packet_hex: values.packet }),
      format: req.format,
      max_hops: req.maxHops,
    })) as { text?: unknown };
    if (typeof body.text !== "string") throw new Error(`${base} answered without a trace text`);
    io.stdout(body.text);
    return 0;
  } catch (e) {
    if (e instanceof ApiError)
      err(`dvrflow trace: ${base} answered ${e.status}: ${apiErrorMessage(e)}\n`);
    else err(`dvrflow trace: ${(e as Error).message}\n`);
    return 1;
  }
}
