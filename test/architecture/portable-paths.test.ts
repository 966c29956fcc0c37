/**
 * CI runs on a fresh clone on a fresh machine, with the shared material
 * beside the clone (or where DVRFLOW_SHARED says), not at this workstation's
 * absolute paths. A hard-coded path under the workstation root passes here and fails there,
 * so no tracked source file may contain one.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
/** Built from parts so that this file does not match itself. */
const WORKSTATION_ROOT = ["", "work", ""].join("/");

describe("portable paths", () => {
  it("no tracked source, script or config file names a workstation path", () => {
    const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard"], {
      cwd: ROOT,
      encoding: "utf8",
    })
      .split("\n")
      .filter((f) => /\.(ts|js|mjs|cjs|json|sh)$/.test(f) || f === ".ci/run");
    expect(files.length).toBeGreaterThan(50);
    const offenders: string[] = [];
    for (const f of files) {
      let text: string;
      try {
        text = readFileSync(join(ROOT, f), "utf8");
      } catch {
        continue; // deleted in the working tree
      }
      text.split("\n").forEach((line, i) => {
        if (line.includes(WORKSTATION_ROOT)) offenders.push(`${f}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});
