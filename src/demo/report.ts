/**
 * The demo's text: per-case path lines in a short trace form (the table
 * hops per host and bridge, what changed, what the wire and the receiving
 * VM saw), the sync progress bar, and the end table. Plain text with no
 * colours, so it reads the same in a terminal, a CI log and a test.
 */
import { ipv4ToString } from "../../codec/packet/index.js";
import { describeFrame, type ParsedFrame } from "./frames.js";
import type { DemoCase } from "./plan.js";
import type { BridgeHops, HostSegment } from "./replica.js";

/** `br-int 0 › 25 › 40 › 41 › 42  br-tun 0 › 1 › 2 › 20` (a miss is marked `41✗`). */
export function formatHops(hops: readonly BridgeHops[]): string {
  return hops
    .map((b) => `${b.bridge} ${b.tables.map((t) => `${t.table}${t.hit ? "" : "✗"}`).join(" › ")}`)
    .join("  ");
}

/** What differs between two forms of a frame: `eth_src a→b, ttl 64→63`. */
export function frameEdits(a: ParsedFrame, b: ParsedFrame): string[] {
  const out: string[] = [];
  if (a.src !== b.src) out.push(`eth_src ${a.src}→${b.src}`);
  if (a.dst !== b.dst) out.push(`eth_dst ${a.dst}→${b.dst}`);
  if (a.ipv4 !== undefined && b.ipv4 !== undefined && a.ipv4.ttl !== b.ipv4.ttl)
    out.push(`ttl ${a.ipv4.ttl}→${b.ipv4.ttl}`);
  return out;
}

/** Where a segment's walk ended when it reached no VM port and no tunnel. */
export function endedAt(s: HostSegment): string {
  const b = s.hops[s.hops.length - 1];
  const t = b?.tables[b.tables.length - 1];
  if (b === undefined || t === undefined) return "✗ not delivered";
  return `✗ not delivered: ends in ${b.bridge} table ${t.table}${t.hit ? "" : " (no flow matched)"}`;
}

export function progressBar(done: number, total: number, width = 24): string {
  const n = total === 0 ? width : Math.round((done / total) * width);
  return `[${"#".repeat(n)}${"-".repeat(width - n)}]`;
}

export interface CaseOutcome {
  readonly c: DemoCase;
  readonly gotReply: boolean;
  readonly ok: boolean;
  readonly hops: number | undefined;
  readonly rttMs: number | undefined;
  /** Why the case is not ok (empty when ok). */
  readonly problems: readonly string[];
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

/** The end table. */
export function endTable(outcomes: readonly CaseOutcome[]): string {
  const rows = outcomes.map((o) => [
    String(o.c.n),
    o.c.kind,
    o.c.label,
    o.c.expect,
    o.gotReply ? "reply" : "blocked",
    o.hops === undefined ? "-" : String(o.hops),
    o.rttMs === undefined ? "-" : `${o.rttMs.toFixed(1)} ms`,
    o.ok ? "ok" : "FAIL",
  ]);
  const head = ["#", "case", "pair", "expected", "result", "hops", "rtt", "check"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) =>
    "  " +
    r
      .map((c, i) => pad(c, widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export const ip = ipv4ToString;
export { describeFrame };
