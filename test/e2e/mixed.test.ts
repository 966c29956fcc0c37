/**
 * The end-to-end DVR scenarios (scenarios.ts) on a mixed pair: compute-1 on
 * real Open vSwitch, compute-2 on `dvrflow switch`, tunnelled to each other
 * with real VXLAN over the underlay veth (issue 6 §2, the mixed run).
 */
import { defineE2eSuite } from "./scenarios.js";

defineE2eSuite({ tag: "mix", backends: { "compute-1": "ovs", "compute-2": "dvrflow" } });
