/**
 * A problem found in a topology document, located by its object path
 * (`ports.vm-a.fixed_ips[0]`) and, when the document came from a file, by
 * line and column.
 */
export type IssuePath = readonly (string | number)[];

export interface TopologyIssue {
  readonly severity: "error" | "warning";
  readonly path: IssuePath;
  readonly message: string;
  /** 1-based, when the document has a source text. */
  readonly line?: number;
  readonly column?: number;
}

/** `ports.vm-a.fixed_ips[0]` (keys that are not plain names are quoted). */
export function formatPath(path: IssuePath): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "number") s += `[${p}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(p)) s += s === "" ? p : `.${p}`;
    else s += `[${JSON.stringify(p)}]`;
  }
  return s === "" ? "(document)" : s;
}

/** `topo.yaml:12:7: error: ports.vm-a.fixed_ips[0]: …` (gcc-like, editors jump to it). */
export function formatIssue(issue: TopologyIssue, file?: string): string {
  const where =
    file === undefined
      ? issue.line === undefined
        ? ""
        : `line ${issue.line}: `
      : issue.line === undefined
        ? `${file}: `
        : `${file}:${issue.line}:${issue.column ?? 1}: `;
  return `${where}${issue.severity}: ${formatPath(issue.path)}: ${issue.message}`;
}

export function hasErrors(issues: readonly TopologyIssue[]): boolean {
  return issues.some((i) => i.severity === "error");
}

/** Thrown when a document is rejected; carries every issue found. */
export class TopologyError extends Error {
  readonly issues: readonly TopologyIssue[];
  constructor(issues: readonly TopologyIssue[], file?: string) {
    const errors = issues.filter((i) => i.severity === "error");
    super(
      `topology rejected (${errors.length} error${errors.length === 1 ? "" : "s"}):\n` +
        errors.map((i) => `  ${formatIssue(i, file)}`).join("\n"),
    );
    this.name = "TopologyError";
    this.issues = issues;
  }
}
