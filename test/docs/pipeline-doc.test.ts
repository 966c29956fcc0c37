/**
 * docs/pipeline.md is generated from src/dvr/tables.ts and a compile of
 * examples/two-hosts.yaml (scripts/gen-pipeline-doc.ts), together with the
 * switch configs and flow files of docs/examples/two-hosts/ that its walks
 * trace; this test fails when a committed file is not what the code
 * produces now.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BR_INT, BR_TUN, tablesOf } from "../../src/dvr/tables.js";
import { relative } from "node:path";
import { ROOT } from "../../scripts/gen-doc-blocks.js";
import {
  PIPELINE_DOC,
  renderPipelineDoc,
  renderPipelineFiles,
} from "../../scripts/gen-pipeline-doc.js";

const HOW =
  "docs/pipeline.md or docs/examples/two-hosts/ is stale: run `node --import tsx scripts/gen-pipeline-doc.ts --write`";

describe("docs/pipeline.md", () => {
  it("is what scripts/gen-pipeline-doc.ts generates from the code", async () => {
    const files = await renderPipelineFiles();
    expect(files.has(PIPELINE_DOC)).toBe(true);
    for (const [path, generated] of files) {
      let committed: string;
      try {
        committed = readFileSync(path, "utf8");
      } catch {
        expect.fail(`${HOW}\n${relative(ROOT, path)} is missing`);
      }
      if (committed === generated) continue;
      // Name the first differing line, so the failure says what moved.
      const a = committed.split("\n");
      const b = generated.split("\n");
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      expect.fail(
        `${HOW}\n${relative(ROOT, path)}: first difference at line ${i + 1}:\n  file:      ${a[i] ?? "(end of file)"}\n  generated: ${b[i] ?? "(end of file)"}`,
      );
    }
  });

  it("has a section for every declared table, with its number and role", async () => {
    const text = await renderPipelineDoc();
    for (const bridge of ["br-int", "br-tun"] as const) {
      for (const t of tablesOf(bridge)) {
        expect(text).toContain(`### ${bridge} table ${t.id}: ${t.name}`);
        expect(text).toContain(t.role.slice(1));
      }
    }
    // The tables the router moved into OpenFlow are marked as ours.
    expect(text).toContain(`### br-int table ${BR_INT.DVR_ROUTING.id}: DVR_ROUTING (ours)`);
    expect(text).toContain(`### br-tun table ${BR_TUN.DVR_PROCESS.id}: DVR_PROCESS\n`);
  });

  it("shows the DVR MAC swap in the cross-host walk", async () => {
    const text = await renderPipelineDoc();
    // compute-1's DVR MAC replaces the gateway MAC before the tunnel…
    expect(text).toMatch(
      /set\(eth\(src=fa:16:3f:00:00:01,dst=fa:16:3e:bb:00:02\)\),set\(tunnel\(tun_id=0x3ea/,
    );
    // …and compute-2 restores the gateway MAC before delivery.
    expect(text).toContain("Datapath actions: set(eth(src=fa:16:3e:00:02:01)),11");
  });
});
