/**
 * Batch drivers for the real `ovs-ofctl` (OVS 3.1) as the oracle of the text
 * layer's differential tests. Every call handles a whole corpus in one or a
 * few processes:
 *
 * - {@link ovsParseFlows}: `ovs-ofctl -O OpenFlow13 -mmmmm parse-flows FILE`
 *   gives OVS's own FLOW_MOD text and bytes for each flow. OVS stops at the
 *   first flow it refuses (`FILE:N: reason`); that flow is recorded as refused
 *   and the rest re-run. A refusal without a line number ("no usable
 *   protocol") is located by bisection.
 * - {@link ovsOfpParse}: `ovs-ofctl ofp-parse FILE` prints a file of
 *   concatenated binary messages (~250k/s), one record per message.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasTool } from "../helpers/tools.js";

/** True when `ovs-ofctl` runs here (see {@link hasTool}: loud skip, fatal in CI). */
export function ovsAvailable(): boolean {
  return hasTool("ovs-ofctl");
}

function withScratch<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "dvrflow-ovs-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type OvsFlowResult =
  | { readonly ok: true; readonly text: string; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly error: string };

const RECORD_START = /^(OFPT_|OFPST_|ONFT_|ONFST_|NXT_|NXST_|\*\*\*decode)/;

function hexLinesToBytes(lines: readonly string[]): Uint8Array {
  let hex = "";
  for (const l of lines) {
    const m = /^[0-9a-f]{8} {2}(.{47})/.exec(l);
    if (m !== null) hex += m[1]!.replace(/[- ]/g, "");
  }
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

/** Runs parse-flows on `flows` (no failure allowed); null when OVS refused something. */
function parseFlowsOnce(
  dir: string,
  flows: readonly string[],
): { out: OvsFlowResult[] } | { failedLine: number | undefined; error: string } {
  const file = join(dir, "flows.txt");
  writeFileSync(file, flows.map((f) => `${f}\n`).join(""));
  const r = spawnSync("ovs-ofctl", ["-O", "OpenFlow13", "-mmmmm", "parse-flows", file], {
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) {
    const msg =
      (r.stderr ?? "").split("\n").find((l) => l.startsWith("ovs-ofctl: ")) ?? r.stderr ?? "failed";
    const m = /^ovs-ofctl: [^:]+:(\d+): (.*)$/.exec(msg);
    if (m !== null) return { failedLine: Number(m[1]) - 1, error: m[2]! };
    return { failedLine: undefined, error: msg.replace(/^ovs-ofctl: /, "") };
  }
  const out: OvsFlowResult[] = [];
  let text: string | undefined;
  let hexLines: string[] = [];
  const flush = (): void => {
    if (text !== undefined) out.push({ ok: true, text, bytes: hexLinesToBytes(hexLines) });
  };
  for (const line of r.stdout.split("\n")) {
    if (line.startsWith("OFPT_FLOW_MOD")) {
      flush();
      text = line;
      hexLines = [];
    } else if (/^[0-9a-f]{8} {2}/.test(line)) hexLines.push(line);
  }
  flush();
  if (out.length !== flows.length)
    throw new Error(`parse-flows gave ${out.length} records for ${flows.length} flows`);
  return { out };
}

/** OVS's FLOW_MOD (text and bytes) for each flow, or its refusal. */
export function ovsParseFlows(flows: readonly string[]): OvsFlowResult[] {
  return withScratch((dir) => {
    const results: (OvsFlowResult | undefined)[] = new Array<OvsFlowResult | undefined>(
      flows.length,
    ).fill(undefined);
    const solve = (indexes: readonly number[]): void => {
      if (indexes.length === 0) return;
      const r = parseFlowsOnce(
        dir,
        indexes.map((i) => flows[i]!),
      );
      if ("out" in r) {
        r.out.forEach((res, k) => (results[indexes[k]!] = res));
        return;
      }
      if (r.failedLine !== undefined) {
        // Lines before the failure were fine; re-run them and everything after.
        results[indexes[r.failedLine]!] = { ok: false, error: r.error };
        solve(indexes.slice(0, r.failedLine));
        solve(indexes.slice(r.failedLine + 1));
        return;
      }
      if (indexes.length === 1) {
        results[indexes[0]!] = { ok: false, error: r.error };
        return;
      }
      const half = indexes.length >> 1;
      solve(indexes.slice(0, half));
      solve(indexes.slice(half));
    };
    solve(flows.map((_, i) => i));
    return results.map((r) => r!);
  });
}

/** `ovs-ofctl ofp-parse` of concatenated messages: one printed record per message. */
export function ovsOfpParse(messages: readonly Uint8Array[]): string[] {
  if (messages.length === 0) return [];
  return withScratch((dir) => {
    const file = join(dir, "msgs.bin");
    writeFileSync(file, Buffer.concat(messages.map((m) => Buffer.from(m))));
    const out = execFileSync("ovs-ofctl", ["ofp-parse", file], {
      encoding: "utf8",
      maxBuffer: 1 << 30,
      stdio: ["ignore", "pipe", "ignore"],
    });
    const records: string[] = [];
    for (const line of out.split("\n")) {
      if (line === "" && records.length > 0) {
        records[records.length - 1] += "\n";
        continue;
      }
      if (RECORD_START.test(line) || records.length === 0) records.push(`${line}\n`);
      else records[records.length - 1] += `${line}\n`;
    }
    // Trailing blank-line artifacts: each record ends with exactly one newline per printed line.
    const trimmed = records.map((r) => r.replace(/\n+$/, "\n"));
    if (trimmed.length !== messages.length) {
      throw new Error(`ofp-parse gave ${trimmed.length} records for ${messages.length} messages`);
    }
    return trimmed;
  });
}

/** `ovs-ofctl -O OpenFlow13 ofp-print HEX` of one message (stdout only). */
export function ovsOfpPrintOne(bytes: Uint8Array): string {
  const r = spawnSync(
    "ovs-ofctl",
    ["-O", "OpenFlow13", "ofp-print", Buffer.from(bytes).toString("hex")],
    {
      encoding: "utf8",
    },
  );
  return r.stdout;
}

/** Replaces the xid in printed text so records from different runs compare. */
export function withoutXid(text: string): string {
  return text.replace(/\(xid=0x[0-9a-f]+\)/g, "(xid=*)");
}

/** A copy of `bytes` with the header xid zeroed. */
export function zeroXid(bytes: Uint8Array): Uint8Array {
  const c = Uint8Array.from(bytes);
  c.fill(0, 4, 8);
  return c;
}
