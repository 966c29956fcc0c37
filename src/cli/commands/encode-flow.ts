/**
 * `dvrflow encode-flow [--command add|modify|modify_strict|delete|delete_strict]
 * [--xid N] FLOW|-`: parses a flow in `ovs-ofctl add-flow` syntax and prints
 * the OpenFlow 1.3 FLOW_MOD OVS would send for it, as one line of hex.
 * `ovs-ofctl -O OpenFlow13 ofp-print` of that hex prints the flow back as
 * ovs-ofctl itself prints it. With `-`, stdin holds one flow per line (blank
 * lines and `#` comments skipped) and each gets its own line of hex, xids
 * counting up from --xid.
 *
 * Flows OVS refuses are refused with OVS's reason and exit status 1.
 * Warnings about fields OVS silently drops (missing prerequisites) go to
 * stderr.
 *
 * Commander-free: `runEncodeFlow(args, io)` → exit status.
 */
import { encodeMessage } from "../../../codec/message.js";
import {
  FLOW_COMMANDS,
  FlowSyntaxError,
  flowModMessage,
  parseFlow,
  type FlowCommand,
} from "../../../codec/text/flow.js";
import type { CommandIo } from "./ofp-print.js";

const USAGE =
  "usage: dvrflow encode-flow [--command add|modify|modify_strict|delete|delete_strict] [--xid N] FLOW|-\n";

function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export async function runEncodeFlow(args: readonly string[], io: CommandIo): Promise<number> {
  const err = io.stderr ?? io.stdout;
  let command: FlowCommand = "add";
  let xid = 1;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf("=");
    const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith("--") && eq > 0 ? a.slice(eq + 1) : undefined;
    if (name === "--command" || name === "--xid") {
      const v = inline ?? args[++i];
      if (v === undefined) {
        err(USAGE);
        return 1;
      }
      if (name === "--command") {
        if (!(v in FLOW_COMMANDS)) {
          err(`dvrflow: encode-flow: unknown command "${v}"\n${USAGE}`);
          return 1;
        }
        command = v as FlowCommand;
      } else {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
          err(`dvrflow: encode-flow: bad xid "${v}"\n`);
          return 1;
        }
        xid = n;
      }
    } else rest.push(a);
  }
  if (rest.length !== 1) {
    err(USAGE);
    return 1;
  }
  const flows =
    rest[0] === "-"
      ? (await io.stdin())
          .split("\n")
          .filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"))
      : [rest[0]!];
  let status = 0;
  for (const [n, flow] of flows.entries()) {
    try {
      const parsed = parseFlow(flow, { command });
      for (const w of parsed.warnings) err(`dvrflow: encode-flow: warning: ${w}\n`);
      io.stdout(`${toHex(encodeMessage(flowModMessage(parsed, (xid + n) >>> 0)))}\n`);
    } catch (e) {
      if (!(e instanceof FlowSyntaxError)) throw e;
      err(`dvrflow: encode-flow: ${flows.length > 1 ? `line ${n + 1}: ` : ""}${e.message}\n`);
      status = 1;
    }
  }
  return status;
}
