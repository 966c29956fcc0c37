/**
 * Reading what `dvrflow demo` prints at the end (src/demo/report.ts): the
 * table of cases, cut at the header's column starts, and the cases the
 * plan expects for the bundled topology. Shared by the simulated and the
 * `--netns` demo tests.
 */
import { expect } from "vitest";
import { planDemo, type DemoCase } from "../../src/demo/plan.js";
import { loadExample } from "../dvr/helpers.js";

export interface Row {
  n: number;
  kind: string;
  pair: string;
  expected: string;
  result: string;
  hops: string;
  rtt: string;
  check: string;
}

const COLUMNS = ["#", "case", "pair", "expected", "result", "hops", "rtt", "check"] as const;

/** The end table's rows (the lines between the dashed rule and the blank line). */
export function endTable(out: string): Row[] {
  const lines = out.split("\n");
  const head = lines.findIndex((l) => /^ {2}#\s+case\s+pair\s+expected\s+result/.test(l));
  expect(head, `no end table in:\n${out}`).toBeGreaterThanOrEqual(0);
  const h = lines[head]!;
  const cols = COLUMNS.map((c) => h.indexOf(c));
  const rows: Row[] = [];
  for (const l of lines.slice(head + 2)) {
    if (l.trim() === "") break;
    const cell = (i: number) => l.slice(cols[i], cols[i + 1] ?? undefined).trim();
    rows.push({
      n: Number(cell(0)),
      kind: cell(1),
      pair: cell(2),
      expected: cell(3),
      result: cell(4),
      hops: cell(5),
      rtt: cell(6),
      check: cell(7),
    });
  }
  return rows;
}

/** The cases the demo plans for examples/demo-3-hosts.yaml. */
export function plannedCases(): readonly DemoCase[] {
  return planDemo(loadExample("demo-3-hosts.yaml")).cases;
}
