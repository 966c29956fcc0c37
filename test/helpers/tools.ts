/**
 * Wrappers around the external oracles installed on this machine kind: Open
 * vSwitch's `ovs-ofctl` and Wireshark's `tshark` (codec.md §7, reliability.md
 * §2.1). Each is called once per batch, never once per message, so a test with
 * hundreds of inputs stays fast. Tests that need a tool skip when it is absent
 * (`hasTool`, loudly; in CI a missing tool fails instead).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toHex } from "./hex.js";

const availability = new Map<string, boolean>();

/**
 * True when `tool` is installed (found on PATH or in /usr/sbin, /sbin). Cached per process.
 * A missing tool is reported loudly once (the suites that need it skip), and
 * under DVRFLOW_REQUIRE_SYSTEM_TOOLS=1 (CI, which installs every tool) it is
 * an error instead: a green CI must not have skipped an oracle.
 */
export function hasTool(tool: string): boolean {
  let ok = availability.get(tool);
  if (ok === undefined) {
    // Presence on PATH (or the sbin directories a non-login root shell may
    // lack), not `TOOL --version`: `ip` and `ping` exit non-zero on it.
    ok =
      spawnSync(
        "sh",
        ["-c", 'command -v "$1" || test -x "/usr/sbin/$1" || test -x "/sbin/$1"', "sh", tool],
        { stdio: "ignore" },
      ).status === 0;
    availability.set(tool, ok);
    if (!ok) skipLoudly(tool, "not installed");
  }
  return ok;
}

/**
 * Reports that the tests of `what` cannot run here because of `reason`: a
 * loud warning (the suites then skip), or under DVRFLOW_REQUIRE_SYSTEM_TOOLS=1
 * (CI, which installs every tool and runs as root) an error, so that a green
 * CI never hides a skipped oracle. The one place that policy lives.
 */
export function skipLoudly(what: string, reason: string): void {
  const msg = `${what}: ${reason} — the tests that need it are SKIPPED`;
  if (process.env.DVRFLOW_REQUIRE_SYSTEM_TOOLS === "1")
    throw new Error(`${msg} (refused: DVRFLOW_REQUIRE_SYSTEM_TOOLS=1)`);
  console.warn(`*** ${msg} ***`);
}

/** A scratch directory removed by the returned cleanup function. */
function scratch(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "dvrflow-test-"));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface OvsVerdict {
  /** OVS's error name from `***decode error: NAME***`, or undefined when it decoded. */
  readonly error: string | undefined;
  /** Everything `ovs-ofctl ofp-print` printed (stdout and stderr). */
  readonly text: string;
}

const DECODE_ERROR = /\*\*\*decode error: ([A-Z0-9_]+)\*\*\*/;
const SEPARATOR = "=====dvrflow-case=====";

/**
 * Runs `ovs-ofctl -O OpenFlow13 ofp-print HEX` on every message, in one shell
 * process, and returns OVS's verdict per message. ofp-print (not ofp-parse) is
 * used because many malformed cases have a header length that disagrees with
 * the buffer, which would desynchronize a concatenated stream.
 */
export function ovsOfpPrint(messages: readonly Uint8Array[]): OvsVerdict[] {
  if (messages.length === 0) return [];
  const { dir, done } = scratch();
  try {
    const list = join(dir, "cases.hex");
    writeFileSync(list, messages.map((m) => (m.length === 0 ? "-" : toHex(m))).join("\n") + "\n");
    // Empty messages are written as "-": ofp-print of "" would print usage instead.
    const script =
      `while IFS= read -r h; do [ "$h" = "-" ] && h=""; ` +
      `ovs-ofctl -O OpenFlow13 ofp-print "$h" 2>&1; echo "${SEPARATOR}"; done < "$1"`;
    const out = execFileSync("bash", ["-c", script, "bash", list], {
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
    });
    const chunks = out.split(`${SEPARATOR}\n`);
    chunks.pop(); // after the last separator
    if (chunks.length !== messages.length) {
      throw new Error(`ovs-ofctl gave ${chunks.length} verdicts for ${messages.length} messages`);
    }
    return chunks.map((text) => ({ error: DECODE_ERROR.exec(text)?.[1], text }));
  } finally {
    done();
  }
}

export interface TsharkFrame {
  readonly frame: number;
  /** `openflow_v4.type` values in this frame (several when a segment holds several messages). */
  readonly types: number[];
  /** Protocols tshark marked malformed in this frame (e.g. "openflow_v4", "eth"). */
  readonly malformed: string[];
  /** Expert-info messages, for failure output. */
  readonly expert: string;
}

const MALFORMED = /Malformed Packet: ([A-Za-z0-9_.]+)/g;

/** Writes `pcap` to a file and reads it back with tshark's OpenFlow 1.3 dissector. */
export function tsharkFrames(pcap: Uint8Array): TsharkFrame[] {
  const { dir, done } = scratch();
  try {
    const file = join(dir, "capture.pcap");
    writeFileSync(file, pcap);
    const out = execFileSync(
      "tshark",
      [
        "-r",
        file,
        "-d",
        "tcp.port==6653,openflow",
        "-o",
        "tcp.check_checksum:FALSE",
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=;",
        "-e",
        "frame.number",
        "-e",
        "openflow_v4.type",
        "-e",
        "_ws.malformed",
        "-e",
        "_ws.expert.message",
      ],
      { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] },
    );
    return out
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => {
        const [frame = "", types = "", malformed = "", expert = ""] = line.split("|");
        return {
          frame: Number(frame),
          types: types === "" ? [] : types.split(";").map(Number),
          malformed: [...malformed.matchAll(MALFORMED)].map((m) => m[1]!),
          expert,
        };
      });
  } finally {
    done();
  }
}
