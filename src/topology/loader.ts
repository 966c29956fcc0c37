/**
 * Loading a topology from YAML (or JSON, a YAML subset) text: YAML syntax
 * errors, schema errors and semantic errors all come back as
 * {@link TopologyIssue}s carrying the object path and the file line.
 *
 * Integers are read as bigint (`intAsBigInt`) so 64-bit datapath ids keep
 * every bit; the schema narrows the small ones to numbers.
 */
import { readFileSync } from "node:fs";
import { isNode, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { hasErrors, TopologyError, type IssuePath, type TopologyIssue } from "./issues.js";
import { TopologySchema, type Topology } from "./schema.js";
import { validateTopology } from "./validate.js";

export interface LoadResult {
  /** Present when the document passed the schema (it may still have semantic errors). */
  readonly topology: Topology | undefined;
  /** Every problem, errors and warnings, in document order. */
  readonly issues: readonly TopologyIssue[];
}

/** Maps object paths to source positions of one parsed document. */
class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** The deepest node on `path` that exists (a missing key points at its parent). */
  locate(path: IssuePath): { line: number; column: number } | undefined {
    for (let n = path.length; n >= 0; n--) {
      const node: unknown = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range !== undefined && node.range !== null) {
        // For a key that exists, point at the key itself when the value is a
        // collection on the next line: the key line is what a reader scans for.
        const pos = this.lines.linePos(this.keyOffset(path.slice(0, n)) ?? node.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return undefined;
  }

  private keyOffset(path: IssuePath): number | undefined {
    if (path.length === 0) return undefined;
    const parent: unknown =
      path.length === 1 ? this.doc.contents : this.doc.getIn(path.slice(0, -1), true);
    const last = path[path.length - 1];
    if (parent === null || typeof parent !== "object" || !("items" in parent)) return undefined;
    const items = (parent as { items: unknown[] }).items;
    for (const item of items) {
      if (item !== null && typeof item === "object" && "key" in item) {
        const key = (item as { key: unknown }).key;
        if (isNode(key) && "value" in key && (key as { value: unknown }).value === last) {
          return key.range?.[0];
        }
      }
    }
    return undefined;
  }

  with(issue: TopologyIssue): TopologyIssue {
    const pos = this.locate(issue.path);
    return pos === undefined ? issue : { ...issue, line: pos.line, column: pos.column };
  }
}

function zodIssues(error: z.ZodError): TopologyIssue[] {
  const out: TopologyIssue[] = [];
  for (const i of error.issues) {
    const path = i.path.filter((p): p is string | number => typeof p !== "symbol");
    if (i.code === "unrecognized_keys") {
      // One issue per key, located at the key: fields outside version 1 are
      // rejected, never ignored (ecosystem.md §4.2).
      for (const k of i.keys) {
        out.push({
          severity: "error",
          path: [...path, k],
          message: `unknown field "${k}" (not in config version 1)`,
        });
      }
      continue;
    }
    out.push({ severity: "error", path, message: i.message });
  }
  return out;
}

/**
 * Parses and validates a topology given as YAML/JSON text. Never throws for
 * bad input: everything wrong is in `issues`.
 */
export function parseTopologyText(text: string): LoadResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { intAsBigInt: true, lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      topology: undefined,
      issues: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return {
          severity: "error" as const,
          path: [],
          message: `YAML: ${(e.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "")}`,
          ...(pos === undefined ? {} : { line: pos.line, column: pos.col }),
        };
      }),
    };
  }
  const locator = new Locator(doc, lines);
  const parsed = TopologySchema.safeParse(doc.toJS({ maxAliasCount: 100 }));
  if (!parsed.success) {
    return {
      topology: undefined,
      issues: sortIssues(zodIssues(parsed.error).map((i) => locator.with(i))),
    };
  }
  const issues = validateTopology(parsed.data).map((i) => locator.with(i));
  return { topology: parsed.data, issues: sortIssues(issues) };
}

/** Validates an already-parsed value (an API body, a stored document). */
export function parseTopologyValue(value: unknown): LoadResult {
  const parsed = TopologySchema.safeParse(value);
  if (!parsed.success) return { topology: undefined, issues: zodIssues(parsed.error) };
  return { topology: parsed.data, issues: validateTopology(parsed.data) };
}

function sortIssues(issues: TopologyIssue[]): TopologyIssue[] {
  return issues
    .map((i, n) => [i, n] as const)
    .sort((a, b) => (a[0].line ?? 0) - (b[0].line ?? 0) || a[1] - b[1])
    .map(([i]) => i);
}

/** Reads, parses and validates a file; throws {@link TopologyError} on any error. */
export function loadTopologyFile(path: string): { topology: Topology; warnings: TopologyIssue[] } {
  const r = parseTopologyText(readFileSync(path, "utf8"));
  if (r.topology === undefined || hasErrors(r.issues)) throw new TopologyError(r.issues, path);
  return { topology: r.topology, warnings: r.issues.filter((i) => i.severity === "warning") };
}
