/**
 * The commands and snippets shown in docs/*.md print what the documents say
 * they print (scripts/gen-doc-blocks.ts): every `<!-- generated: dvrflow … -->`
 * block is the command's real output, and every `<!-- run: snippet -->`
 * TypeScript block runs and logs exactly the text block after it.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ROOT,
  cliBlock,
  docsWithBlocks,
  renderDocBlocks,
  runSnippet,
  splitArgs,
} from "../../scripts/gen-doc-blocks.js";

const HOW = "run `node --import tsx scripts/gen-doc-blocks.ts --write` and review the diff";

describe("generated documentation blocks", () => {
  it("splits command lines as a shell does for quoted microflows", () => {
    expect(splitArgs(`dvrflow trace --flows f 'in_port=1,ip' "a b"`)).toEqual([
      "dvrflow",
      "trace",
      "--flows",
      "f",
      "in_port=1,ip",
      "a b",
    ]);
    expect(() => splitArgs("dvrflow 'open")).toThrow(/unterminated/);
  });

  it("shows a failing command's exit status and cuts long output", async () => {
    const block = await cliBlock("dvrflow check --config docs/examples/broken.yaml", 1);
    expect(block.split("\n")).toEqual([
      "$ dvrflow check --config docs/examples/broken.yaml",
      expect.stringContaining('unknown network "green"'),
      "… (3 more lines)",
      "[exit status 1]",
      "",
    ]);
  });

  it("runs snippets against the repository's modules", async () => {
    const out = await runSnippet(
      'import { decodeMessage } from "dvrflow/codec";\n' +
        "console.log(decodeMessage(new Uint8Array([4, 2, 0, 8, 0, 0, 0, 9])).type);\n",
    );
    expect(out).toBe("echo_request\n");
  });

  it("regenerating a stale block changes the document", async () => {
    const stale = [
      "<!-- generated: dvrflow encode-flow 'priority=1,actions=drop' -->",
      "```console",
      "$ dvrflow encode-flow 'priority=1,actions=drop'",
      "not what it prints",
      "```",
    ].join("\n");
    const fresh = await renderDocBlocks(stale);
    expect(fresh).not.toBe(stale);
    expect(fresh).toMatch(/^040e/m);
    expect(await renderDocBlocks(fresh)).toBe(fresh);
  });

  const files = docsWithBlocks();
  it("finds the documents that have generated blocks", () => {
    expect(files.map((f) => relative(ROOT, f))).toContain("docs/cli.md");
  });

  for (const file of files) {
    it(`${relative(ROOT, file)} shows what the code prints`, async () => {
      const committed = readFileSync(file, "utf8");
      const generated = await renderDocBlocks(committed, relative(ROOT, file));
      if (generated === committed) return;
      const a = committed.split("\n");
      const b = generated.split("\n");
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      expect.fail(
        `${relative(ROOT, file)} is stale at line ${i + 1}: ${HOW}\n  doc:       ${a[i] ?? "(end)"}\n  generated: ${b[i] ?? "(end)"}`,
      );
    });
  }
});
