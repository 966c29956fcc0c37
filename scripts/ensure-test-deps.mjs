#!/usr/bin/env node
// Makes sure the system tools the test suite uses as oracles are present.
//
// The tests compare our codec and switch against real Open vSwitch (ovs-ofctl,
// ovs-vswitchd), Wireshark's dissector (tshark) and real network tools. On a
// fresh machine, running as root, we install them from Debian's packages; as
// another user we name exactly what is missing and stop, so that a test run never
// silently proves less than it claims. Set DVRFLOW_SKIP_SYSTEM_DEPS=1 to run
// anyway: the suites that need a missing tool then report themselves as skipped,
// loudly.
import { execFileSync, spawnSync } from "node:child_process";

/** command on PATH → Debian package that provides it. */
const TOOLS = [
  ["ovs-ofctl", "openvswitch-switch"],
  ["ovs-vswitchd", "openvswitch-switch"],
  ["ovsdb-server", "openvswitch-switch"],
  ["tshark", "tshark"],
  ["tcpdump", "tcpdump"],
  ["ping", "iputils-ping"],
  ["ethtool", "ethtool"],
  ["ip", "iproute2"],
  ["curl", "curl"],
];
/** Header files that native addons build against. */
const HEADERS = [["/usr/include/pcap/pcap.h", "libpcap-dev"]];

function has(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

function missingPackages() {
  const missing = new Set();
  for (const [cmd, pkg] of TOOLS) if (!has(cmd) && !has(`/usr/sbin/${cmd}`)) missing.add(pkg);
  for (const [file, pkg] of HEADERS) {
    if (spawnSync("test", ["-e", file]).status !== 0) missing.add(pkg);
  }
  return [...missing];
}

let missing = missingPackages();
if (missing.length === 0) process.exit(0);

if (process.env.DVRFLOW_SKIP_SYSTEM_DEPS === "1") {
  console.warn(
    `\n*** dvrflow: missing ${missing.join(" ")}; suites that need them will be SKIPPED ***\n`,
  );
  process.exit(0);
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
if (!isRoot) {
  console.error(
    `dvrflow tests need these Debian packages: ${missing.join(" ")}\n` +
      `Install them with:\n  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing.join(" ")}\n` +
      `or set DVRFLOW_SKIP_SYSTEM_DEPS=1 to run without them (those suites are skipped).`,
  );
  process.exit(1);
}

console.log(`dvrflow: installing test dependencies: ${missing.join(" ")}`);
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
execFileSync("apt-get", ["install", "-y", "-qq", ...missing], { stdio: "inherit", env });
missing = missingPackages();
if (missing.length > 0) {
  console.error(`dvrflow: still missing after install: ${missing.join(" ")}`);
  process.exit(1);
}
