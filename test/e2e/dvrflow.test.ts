/**
 * The same end-to-end DVR scenarios (scenarios.ts) with both hosts on
 * `dvrflow switch` in place of Open vSwitch: issue 6 §2.
 */
import { defineE2eSuite } from "./scenarios.js";

defineE2eSuite({ tag: "dvr", backends: { "compute-1": "dvrflow", "compute-2": "dvrflow" } });
