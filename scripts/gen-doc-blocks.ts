/**
 * Keeps the examples in docs/*.md true: every output shown there is produced
 * by running the code, here, and a test (test/docs/doc-blocks.test.ts) fails
 * when a document no longer matches what the code prints.
 *
 * Two kinds of generated block, each introduced by an HTML comment that
 * Markdown renders as nothing:
 *
 *     <!-- generated: dvrflow compile --config examples/two-hosts.yaml --host compute-1 -->
 *     ```console
 *     (replaced by "$ dvrflow …" and what the command printed)
 *     ```
 *
 *   The command runs in-process from the sources (src/cli/main.ts), from the
 *   repository root, with stdout and stderr interleaved as a terminal shows
 *   them; a non-zero exit status is shown as `[exit status N]`.
 *   `<!-- generated(head=N): … -->` keeps the first N lines.
 *
 *     <!-- run: snippet -->
 *     ```ts
 *     import { decodeMessage } from "./codec/index.js";
 *     console.log(decodeMessage(bytes));
 *     ```
 *     ```text
 *     (replaced by what the snippet logged)
 *     ```
 *
 *   The snippet is a module importing the package's entry points
 *   (`dvrflow/codec`, `dvrflow/codec/text`, `dvrflow/codec/packet`, which
 *   run here from the sources) or files relative to the repository root;
 *   its `console.log` output replaces the text block.
 *
 * Usage: `node --import tsx scripts/gen-doc-blocks.ts [--write] [FILE.md…]`
 * (default every docs/*.md; without --write it only reports stale files and
 * exits 1 if there are any).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { formatWithOptions } from "node:util";
import { main } from "../src/cli/main.js";

export const ROOT = resolve(import.meta.dirname, "..");
export const DOCS = join(ROOT, "docs");

export interface CliRun {
  readonly status: number;
  /** stdout and stderr interleaved, in the order written. */
  readonly output: string;
}

/** Splits a command line like a POSIX shell would for simple cases: spaces, '…' and "…". */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | undefined;
  let started = false;
  for (const ch of line) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      started = true;
    } else if (ch === " " || ch === "\t") {
      if (started) out.push(cur);
      cur = "";
      started = false;
    } else {
      cur += ch;
      started = true;
    }
  }
  if (quote !== undefined) throw new Error(`unterminated quote in: ${line}`);
  if (started) out.push(cur);
  return out;
}

/**
 * Runs `dvrflow ARGS` in this process, from the repository root, as a
 * non-terminal with colours off (commander would otherwise wrap help to the
 * terminal's width and colour it, and the documents would depend on who
 * regenerated them).
 */
export async function runCli(args: readonly string[]): Promise<CliRun> {
  let output = "";
  const write = (s: string) => {
    output += s;
  };
  const saved = {
    cwd: process.cwd(),
    noColor: process.env.NO_COLOR,
    outTty: Object.getOwnPropertyDescriptor(process.stdout, "isTTY"),
    errTty: Object.getOwnPropertyDescriptor(process.stderr, "isTTY"),
  };
  process.chdir(ROOT);
  process.env.NO_COLOR = "1";
  Object.defineProperty(process.stdout, "isTTY", { value: false, configurable: true });
  Object.defineProperty(process.stderr, "isTTY", { value: false, configurable: true });
  try {
    const status = await main(["node", "dvrflow", ...args], {
      stdin: () => Promise.resolve(""),
      stdout: write,
      stderr: write,
    });
    return { status, output };
  } finally {
    process.chdir(saved.cwd);
    if (saved.noColor === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = saved.noColor;
    for (const [stream, d] of [
      [process.stdout, saved.outTty],
      [process.stderr, saved.errTty],
    ] as const) {
      if (d === undefined) delete (stream as { isTTY?: boolean }).isTTY;
      else Object.defineProperty(stream, "isTTY", d);
    }
  }
}

/** The console block of one command: the prompt line, then the output (cut to `head` lines). */
export async function cliBlock(commandLine: string, head?: number): Promise<string> {
  const args = splitArgs(commandLine);
  if (args[0] !== "dvrflow")
    throw new Error(`generated command must start with dvrflow: ${commandLine}`);
  const run = await runCli(args.slice(1));
  let lines = run.output.replace(/\n$/, "").split("\n");
  if (run.output === "") lines = [];
  if (head !== undefined && lines.length > head) {
    const more = lines.length - head;
    lines = [...lines.slice(0, head), `… (${more} more line${more === 1 ? "" : "s"})`];
  }
  if (run.status !== 0) lines.push(`[exit status ${run.status}]`);
  return [`$ ${commandLine}`, ...lines].join("\n") + "\n";
}

let snippetDir: string | undefined;
let snippetCount = 0;

/**
 * Runs a TypeScript snippet as a module and returns what it logged. Relative
 * imports (`"./codec/index.js"`) are made absolute (repository root).
 */
export async function runSnippet(source: string): Promise<string> {
  snippetDir ??= mkdtempSync(join(tmpdir(), "dvrflow-doc-"));
  const rooted = source
    // The package's own entry points, taken from the sources (not dist/).
    .replace(
      /(from\s+|import\s*\(\s*)(["'])dvrflow\/codec(\/text|\/packet)?\2/g,
      (_m, lead: string, q: string, sub: string | undefined) =>
        `${lead}${q}${ROOT}/codec${sub ?? ""}/index.js${q}`,
    )
    .replace(
      /(from\s+|import\s*\(\s*)(["'])\.\//g,
      // A plain absolute path: vitest maps "x.js" to "x.ts" for paths, not for file: URLs.
      (_m, lead: string, q: string) => `${lead}${q}${ROOT}/`,
    );
  const file = join(snippetDir, `snippet-${process.pid}-${snippetCount++}.ts`);
  writeFileSync(file, rooted);
  const lines: string[] = [];
  const saved = console.log;
  console.log = (...args: unknown[]) => {
    lines.push(formatWithOptions({ colors: false, depth: 6 }, ...args));
  };
  try {
    await import(pathToFileURL(file).href);
  } finally {
    console.log = saved;
    rmSync(file, { force: true });
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

const CLI_MARKER = /^<!-- generated(?:\(head=(\d+)\))?: (dvrflow .*?) -->$/;
const RUN_MARKER = /^<!-- run: snippet -->$/;
const FENCE = /^```/;

/** Index of the line closing the fence opened at `open` (exclusive of it). */
function fenceEnd(lines: readonly string[], open: number, file: string): number {
  for (let i = open + 1; i < lines.length; i++) if (lines[i] === "```") return i;
  throw new Error(`${file}:${open + 1}: unterminated code block`);
}

function expectFence(lines: readonly string[], at: number, file: string, what: string): void {
  if (at >= lines.length || !FENCE.test(lines[at]!)) {
    throw new Error(`${file}:${at + 1}: expected a \`\`\` block (${what})`);
  }
}

/** The document with every generated block regenerated. */
export async function renderDocBlocks(markdown: string, file = "doc"): Promise<string> {
  const lines = markdown.split("\n");
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const cli = CLI_MARKER.exec(line);
    if (cli !== null) {
      out.push(line);
      expectFence(lines, i + 1, file, "the output of the command above");
      const end = fenceEnd(lines, i + 1, file);
      const body = await cliBlock(cli[2]!, cli[1] === undefined ? undefined : Number(cli[1]));
      out.push("```console", ...body.replace(/\n$/, "").split("\n"), "```");
      i = end + 1;
      continue;
    }
    if (RUN_MARKER.test(line)) {
      out.push(line);
      expectFence(lines, i + 1, file, "the snippet");
      const codeEnd = fenceEnd(lines, i + 1, file);
      const code = lines.slice(i + 2, codeEnd).join("\n") + "\n";
      // The output block follows, after blank lines at most.
      let outStart = codeEnd + 1;
      while (outStart < lines.length && lines[outStart] === "") outStart++;
      out.push(...lines.slice(i + 1, outStart));
      expectFence(lines, outStart, file, "the snippet's output");
      const outEnd = fenceEnd(lines, outStart, file);
      const logged = await runSnippet(code);
      out.push("```text", ...logged.replace(/\n$/, "").split("\n"), "```");
      i = outEnd + 1;
      continue;
    }
    out.push(line);
    i++;
  }
  return out.join("\n");
}

/** docs/*.md that contain generated blocks, sorted. */
export function docsWithBlocks(): string[] {
  return readdirSync(DOCS)
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => join(DOCS, f))
    .filter((p) => {
      const text = readFileSync(p, "utf8");
      return text.split("\n").some((l) => CLI_MARKER.test(l) || RUN_MARKER.test(l));
    });
}

async function cli(argv: readonly string[]): Promise<number> {
  const write = argv.includes("--write");
  const named = argv.filter((a) => a !== "--write").map((a) => resolve(a));
  const files = named.length > 0 ? named : docsWithBlocks();
  let stale = 0;
  for (const f of files) {
    const before = readFileSync(f, "utf8");
    const after = await renderDocBlocks(before, relative(ROOT, f));
    if (after === before) continue;
    stale++;
    if (write) {
      writeFileSync(f, after);
      process.stdout.write(`updated ${relative(ROOT, f)}\n`);
    } else process.stdout.write(`stale: ${relative(ROOT, f)}\n`);
  }
  if (snippetDir !== undefined) rmSync(snippetDir, { recursive: true, force: true });
  return write || stale === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
