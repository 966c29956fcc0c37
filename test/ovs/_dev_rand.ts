import fc from "fast-check";
import { flowArb } from "./flow-arbitrary.ts";
import { ovsParseFlows, ovsOfpParse, withoutXid, zeroXid } from "./ovs-harness.ts";
import { parseFlow, flowModMessage } from "../../codec/text/flow.ts";
import { encodeMessage } from "../../codec/message.ts";
import { ofpPrint } from "../../codec/text/ofp-print.ts";
const n = Number(process.argv[2] ?? 500);
const seed = Number(process.argv[3] ?? 42);
const flows = fc.sample(flowArb(), { seed, numRuns: n }).map((f) => f.text);
let t = Date.now();
const ovs = ovsParseFlows(flows);
console.log("ovs parse ms", Date.now() - t);
t = Date.now();
let rejBoth = 0, rejOvsOnly = 0, rejOursOnly = 0, bytesEq = 0, bytesNe = 0, ourPrintEq = 0, ourPrintNe = 0;
const ourMsgs: Uint8Array[] = []; const ovsTexts: string[] = [];
const shown = new Set<string>();
flows.forEach((f, i) => {
  const o = ovs[i]!;
  let ours: Uint8Array | undefined; let err: string | undefined;
  try { ours = encodeMessage(flowModMessage(parseFlow(f), 1)); } catch (e) { err = (e as Error).message; }
  if (!o.ok) { if (ours === undefined) rejBoth++; else { rejOvsOnly++; if (rejOvsOnly < 6) console.log("OVS-ONLY-REJECT", f, "::", o.error); } return; }
  if (ours === undefined) { rejOursOnly++; if (rejOursOnly < 6) console.log("OURS-ONLY-REJECT", f, "::", err); return; }
  const a = Buffer.from(zeroXid(o.bytes)).toString("hex"), b = Buffer.from(zeroXid(ours)).toString("hex");
  if (a === b) bytesEq++; else { bytesNe++; if (bytesNe < 6) console.log("BYTES", f, "\n ovs", a, "\n our", b, "\n", o.text); }
  const mine = withoutXid(ofpPrint(ours));
  if (mine === withoutXid(o.text) + "\n") ourPrintEq++; else { ourPrintNe++; if (ourPrintNe < 6) console.log("PRINT", f, "\n ovs", o.text, "\n our", mine); }
  ourMsgs.push(ours); ovsTexts.push(o.text);
});
console.log("ours ms", Date.now() - t);
t = Date.now();
const printed = ovsOfpParse(ourMsgs);
let ovsPrintEq = 0, ovsPrintNe = 0;
printed.forEach((p, i) => { if (withoutXid(p) === withoutXid(ovsTexts[i]!) + "\n") ovsPrintEq++; else { ovsPrintNe++; if (ovsPrintNe < 6) console.log("OVSPRINT\n", p, ovsTexts[i]); } });
console.log("ofp-parse ms", Date.now() - t);
console.log({ rejBoth, rejOvsOnly, rejOursOnly, bytesEq, bytesNe, ourPrintEq, ourPrintNe, ovsPrintEq, ovsPrintNe });
