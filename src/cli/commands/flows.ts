/**
 * `dvrflow dump-flows` and `dvrflow diff-flows`: installed flows, and
 * desired vs installed, in `ovs-ofctl` text.
 *
 *   dvrflow dump-flows tcp:HOST:PORT|unix:PATH [--cookie V/M] [--stats]
 *       dials a switch that listens (OVS `ptcp:` controller target or its
 *       `BR.mgmt` socket, `dvrflow switch --listen`) and dumps its flows.
 *   dvrflow dump-flows HOST [--bridge br-int|br-tun] [--api URL]
 *       asks a running controller (`GET /v1/switches/HOST/BRIDGE/flows`).
 *
 *   dvrflow diff-flows --config FILE --host H [--bridge B] [--store PATH] tcp:…|unix:…
 *       compiles the host's flows with the switch's own port numbers and
 *       diffs them with the switch's flows under our cookie prefix.
 *   dvrflow diff-flows HOST [--bridge B] [--api URL]
 *       the running controller's `GET /v1/switches/HOST/BRIDGE/diff`.
 *
 * diff-flows prints `-FLOW` for a desired flow the switch lacks (or has in
 * another form) and `+FLOW` for one the switch has and should not, as
 * `ovs-ofctl diff-flows` does; exit status 0 same, 2 differ, 1 error.
 */
import { apiBase, apiRequest } from "../api-client.js";
import { pino } from "pino";
import { COOKIE, type BridgeName, BRIDGE_NAMES } from "../../dvr/tables.js";
import { formatFlow } from "../../../codec/text/index.js";
import { openSwitch } from "../../controller/client.js";
import { diffFlows, flowIdentity } from "../../controller/reconcile.js";
import { parseTarget, type ListenTarget } from "../../controller/server.js";
import { compileHost } from "../../dvr/compile/index.js";
import { formatDesiredFlow } from "../../dvr/flow.js";
import { compileInputFromSnapshot, offlineSnapshot } from "../../dvr/offline.js";
import { loadTopologyFile } from "../../topology/loader.js";
import { TopologyError } from "../../topology/issues.js";
import { parseOptions } from "./compile.js";
import type { CommandIo } from "./ofp-print.js";

const DUMP_USAGE =
  "usage: dvrflow dump-flows (tcp:HOST:PORT | unix:PATH) [--cookie V/M] [--stats]\n" +
  "       dvrflow dump-flows HOST [--bridge br-int|br-tun] [--api URL]\n";
const DIFF_USAGE =
  "usage: dvrflow diff-flows --config FILE --host H [--bridge br-int|br-tun] [--store PATH] (tcp:HOST:PORT | unix:PATH)\n" +
  "       dvrflow diff-flows HOST [--bridge br-int|br-tun] [--api URL]\n";

const quiet = pino({ level: "silent" });

function directTarget(s: string): ListenTarget | undefined {
  return /^(p?tcp|p?unix):/.test(s) ? parseTarget(s) : undefined;
}

function bridgeOf(v: string | undefined): BridgeName | string {
  const b = v ?? "br-int";
  return (BRIDGE_NAMES as readonly string[]).includes(b)
    ? (b as BridgeName)
    : `--bridge must be br-int or br-tun, not "${b}"`;
}

/** Splits off the one positional argument. */
function positional(
  args: readonly string[],
  valued: readonly string[],
): { pos: string[]; rest: string[] } {
  const pos: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith("--")) {
      rest.push(a);
      if (valued.includes(a) && i + 1 < args.length) rest.push(args[++i]!);
    } else pos.push(a);
  }
  return { pos, rest };
}

function parseCookie(v: string): { cookie: bigint; mask: bigint } {
  const [c, m] = v.split("/");
  return { cookie: BigInt(c!), mask: m === undefined ? 0xffff_ffff_ffff_ffffn : BigInt(m) };
}

export async function runDumpFlows(args: readonly string[], io: CommandIo): Promise<number> {
  const err = io.stderr ?? io.stdout;
  const valued = ["--cookie", "--bridge", "--api"];
  const { pos, rest } = positional(args, valued);
  const opts = parseOptions(rest, valued, ["--stats"]);
  if (typeof opts === "string" || pos.length !== 1) {
    err(
      `dvrflow dump-flows: ${typeof opts === "string" ? opts : "one target expected"}\n${DUMP_USAGE}`,
    );
    return 1;
  }
  try {
    const target = directTarget(pos[0]!);
    if (target === undefined) {
      const bridge = bridgeOf(opts.values.get("--bridge"));
      if (!(BRIDGE_NAMES as readonly string[]).includes(bridge)) throw new Error(bridge);
      const body = await apiRequest(
        apiBase(opts.values.get("--api")),
        `/v1/switches/${encodeURIComponent(pos[0]!)}/${bridge}/flows`,
      );
      io.stdout(body);
      return 0;
    }
    const cookie = opts.values.get("--cookie");
    const filter = cookie === undefined ? { cookie: 0n, mask: 0n } : parseCookie(cookie);
    const client = await openSwitch(target, quiet);
    try {
      const flows = await client.conn.dumpFlows(filter.cookie, filter.mask);
      const stats = opts.flags.has("--stats");
      io.stdout(flows.map((f) => `${formatFlow(f, { stats })}\n`).join(""));
    } finally {
      await client.close();
    }
    return 0;
  } catch (e) {
    err(`dvrflow dump-flows: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

export async function runDiffFlows(args: readonly string[], io: CommandIo): Promise<number> {
  const err = io.stderr ?? io.stdout;
  const valued = ["--config", "--host", "--bridge", "--store", "--api"];
  const { pos, rest } = positional(args, valued);
  const opts = parseOptions(rest, valued, []);
  if (typeof opts === "string" || pos.length !== 1) {
    err(
      `dvrflow diff-flows: ${typeof opts === "string" ? opts : "one target expected"}\n${DIFF_USAGE}`,
    );
    return 1;
  }
  const bridge = bridgeOf(opts.values.get("--bridge"));
  if (!(BRIDGE_NAMES as readonly string[]).includes(bridge)) {
    err(`dvrflow diff-flows: ${bridge}\n`);
    return 1;
  }
  try {
    const target = directTarget(pos[0]!);
    let minus: string[];
    let plus: string[];
    if (target === undefined) {
      const body = await apiRequest(
        apiBase(opts.values.get("--api")),
        `/v1/switches/${encodeURIComponent(pos[0]!)}/${bridge}/diff`,
      );
      const d = JSON.parse(body) as {
        status: string;
        reason?: string;
        missing: string[];
        changed: string[];
        extra: string[];
      };
      if (d.status === "unknown") throw new Error(`switch state unknown: ${d.reason ?? ""}`);
      minus = [...d.missing, ...d.changed];
      plus = d.extra;
    } else {
      const config = opts.values.get("--config");
      const host = opts.values.get("--host");
      if (config === undefined || host === undefined) {
        err(
          `dvrflow diff-flows: --config and --host are needed with a switch target\n${DIFF_USAGE}`,
        );
        return 1;
      }
      const { topology } = loadTopologyFile(config);
      if (topology.hosts[host] === undefined) throw new Error(`no host "${host}" in ${config}`);
      const storePath = opts.values.get("--store");
      const snap = await offlineSnapshot(topology, storePath === undefined ? {} : { storePath });
      const client = await openSwitch(target, quiet);
      try {
        const live = new Map<string, number>();
        for (const p of client.conn.session.ports.values()) live.set(p.name, p.portNo);
        const ofports = {
          "br-int": new Map<string, number>(),
          "br-tun": new Map<string, number>(),
        };
        ofports[bridge as BridgeName] = live;
        const desired = compileHost(
          compileInputFromSnapshot(snap, new Map([[host, ofports]])),
          host,
        ).bridges[bridge as BridgeName];
        const prefix = topology.controller.cookie_prefix;
        const installed = await client.conn.dumpFlows(
          BigInt(prefix) << COOKIE.prefixShift,
          COOKIE.ownerMask,
        );
        const d = diffFlows(desired, installed, prefix);
        const byKey = new Map(
          installed.map((f) => [flowIdentity(f.tableId, f.priority, f.match), f]),
        );
        minus = [...d.add, ...d.modify].map(formatDesiredFlow);
        plus = [
          ...d.modify.map((f) => byKey.get(f.key)).filter((f) => f !== undefined),
          ...d.delete,
        ].map((f) => formatFlow(f, { stats: false }));
      } finally {
        await client.close();
      }
    }
    io.stdout([...minus.map((l) => `-${l}\n`), ...plus.map((l) => `+${l}\n`)].join(""));
    return minus.length + plus.length === 0 ? 0 : 2;
  } catch (e) {
    if (e instanceof TopologyError) err(`${e.message}\n`);
    else err(`dvrflow diff-flows: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
