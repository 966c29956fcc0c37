/**
 * The error catalogue (codec/errors.ts) against OVS 3.1's names: every name
 * a decoder raises must be one `ovs-ofctl print-error NAME` knows, with the
 * same OF1.3 encoding (re-checked here when ovs-ofctl is installed).
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  ERROR_NAMES,
  OfpError,
  errorEncoding,
  experimenterErrorName,
  standardErrorName,
} from "../../codec/errors.js";
import { hasTool } from "../helpers/tools.js";

describe("error catalogue", () => {
  it("uses OVS 3.1's names for renamed codes", () => {
    expect(standardErrorName(1, 10)).toBe("OFPBRC_IS_SECONDARY");
    expect(standardErrorName(13, 2)).toBe("OFPBPC_BAD_TYPE");
    expect(standardErrorName(13, 3)).toBe("OFPBPC_BAD_LEN");
    expect(standardErrorName(13, 4)).toBe("OFPBPC_BAD_VALUE");
    expect(standardErrorName(13, 0)).toBe("OFPTFFC_BAD_TABLE");
    expect(experimenterErrorName(0x4f4e4600, 4445)).toBe("OFPBPC_BAD_EXPERIMENTER");
  });

  it("keeps the old spellings as encode-only aliases", () => {
    expect(errorEncoding("OFPBRC_IS_SLAVE")).toEqual(errorEncoding("OFPBRC_IS_SECONDARY"));
    expect(errorEncoding("OFPTFFC_BAD_LEN")).toEqual({ kind: "standard", type: 13, code: 3 });
    expect(new OfpError("OFPTFFC_BAD_ARGUMENT", "x").encoding).toEqual(
      errorEncoding("OFPBPC_BAD_VALUE"),
    );
    for (const alias of ["OFPBRC_IS_SLAVE", "OFPTFFC_BAD_TYPE", "OFPTFFC_BAD_LEN"]) {
      expect(ERROR_NAMES).not.toContain(alias);
    }
  });

  it.skipIf(!hasTool("ovs-ofctl"))("every name is OVS's, with OVS's OF1.3 encoding", () => {
    const wrong: string[] = [];
    for (const name of ERROR_NAMES) {
      let out = "";
      try {
        out = execFileSync("ovs-ofctl", ["print-error", name], { encoding: "utf8" });
      } catch {
        wrong.push(`${name}: unknown to OVS`);
        continue;
      }
      const line = out.split("\n").find((l) => l.startsWith("OpenFlow 1.3:"));
      const e = errorEncoding(name);
      const want =
        e.kind === "standard"
          ? `vendor 0, type ${e.type}, code ${e.code}`
          : `vendor 0x${e.experimenter.toString(16)}, type ${e.expType}, code 0`;
      if (line !== `OpenFlow 1.3: ${want}`) wrong.push(`${name}: ours ${want}, OVS ${line}`);
    }
    expect(wrong).toEqual([]);
  });
});
