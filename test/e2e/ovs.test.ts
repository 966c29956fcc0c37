/**
 * The end-to-end DVR scenarios (scenarios.ts) with both hosts on real
 * Open vSwitch 3.1 (userspace datapath, plumbed by the controller over
 * OVSDB): issue 5 §6.
 */
import { defineE2eSuite } from "./scenarios.js";

defineE2eSuite({ tag: "ovs", backends: { "compute-1": "ovs", "compute-2": "ovs" } });
