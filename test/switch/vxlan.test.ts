/**
 * Two `dvrflow switch` processes exchanging real VXLAN over UDP on loopback
 * (underlay 127.0.0.11 ↔ 127.0.0.12, port 4789): switch A reads frames from a
 * capture file into port 1 and tunnels them with tun_id 0x64; switch B, whose
 * flows are installed with real `ovs-ofctl`, takes them from its tunnel port
 * by VNI and writes them to a capture file. Also checks the offline mode
 * (`--offline`, pcap in → pcap out) that needs no sockets at all.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildUdp, ipv4FromString, macFromString } from "../../codec/packet/index.js";
import { parsePcap, pcapGlobalHeader, pcapRecord } from "../../datapath/io/pcap-file.js";
import { SwitchProcess } from "./switch-process.js";
import { hasTool } from "../helpers/tools.js";

const HAVE_OFCTL = hasTool("ovs-ofctl");

function frame(i: number, dst = "02:00:00:00:00:02"): Uint8Array {
  return buildUdp({
    eth: { src: macFromString("02:00:00:00:00:01"), dst: macFromString(dst) },
    ip: { kind: "ipv4", src: ipv4FromString("203.0.113.1"), dst: ipv4FromString("203.0.113.2") },
    srcPort: 1000 + i,
    dstPort: 2000,
    payload: new Uint8Array(32).fill(i),
  });
}

function writeCapture(path: string, frames: readonly Uint8Array[]): void {
  const parts = [pcapGlobalHeader(), ...frames.map((f, i) => pcapRecord(f, 1_000 + i))];
  writeFileSync(path, Buffer.concat(parts));
}

async function waitFor<T>(f: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("VXLAN between two switch processes", () => {
  let dir: string;
  const procs: SwitchProcess[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "dvrflow-vxlan-"));
  });
  afterAll(async () => {
    for (const p of procs) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!HAVE_OFCTL)(
    "carries frames from a capture on switch A to a capture on switch B, selected by VNI",
    async () => {
      const frames = [frame(1), frame(2), frame(3)];
      const inFile = join(dir, "in.pcap");
      const outFile = join(dir, "out.pcap");
      writeCapture(inFile, frames);
      const b = await SwitchProcess.start([
        "--bridge",
        "br-b",
        "--local-ip",
        "127.0.0.12",
        "--listen",
        "ptcp:0:127.0.0.1",
        "--port",
        "1=vx-a:remote_ip=127.0.0.11,key=flow",
        "--port",
        `2=out:type=pcap,tx_pcap=${outFile}`,
      ]);
      procs.push(b);
      const target = `tcp:127.0.0.1:${b.listenPort("br-b")}`;
      const add = spawnSync("ovs-ofctl", ["-O", "OpenFlow13", "add-flows", target, "-"], {
        input:
          "table=0,priority=10,in_port=1,tun_id=0x64,actions=output:2\ntable=0,priority=5,in_port=1,actions=drop\n",
        encoding: "utf8",
      });
      expect(add.status, add.stderr).toBe(0);
      const aFlows = join(dir, "a.flows");
      writeFileSync(aFlows, "priority=10,in_port=1,actions=set_field:0x64->tun_id,output:2\n");
      const a = await SwitchProcess.start([
        "--bridge",
        "br-a",
        "--local-ip",
        "127.0.0.11",
        "--port",
        `1=in:type=pcap,rx_pcap=${inFile}`,
        "--port",
        "2=vx-b:remote_ip=127.0.0.12,key=flow",
        "--flows",
        aFlows,
      ]);
      procs.push(a);
      const got = await waitFor(() => {
        if (!existsSync(outFile)) return undefined;
        const cap = parsePcap(new Uint8Array(readFileSync(outFile)));
        return cap.records.length >= frames.length ? cap : undefined;
      }, 15_000);
      expect(got.records.map((r) => Buffer.from(r.data).toString("hex"))).toEqual(
        frames.map((f) => Buffer.from(f).toString("hex")),
      );
      const ports = spawnSync("ovs-ofctl", ["-O", "OpenFlow13", "dump-ports", target], {
        encoding: "utf8",
      }).stdout;
      expect(ports).toMatch(/port {2}1: rx pkts=3,/);
      expect(ports).toMatch(
        /port {2}2: rx pkts=0, bytes=0, drop=0, errs=0, frame=0, over=0, crc=0\n\s+tx pkts=3,/,
      );
      const flows = spawnSync("ovs-ofctl", ["-O", "OpenFlow13", "dump-flows", target], {
        encoding: "utf8",
      }).stdout;
      expect(flows).toMatch(/n_packets=3, .*priority=10,tun_id=0x64,in_port=1 actions=output:2/);
    },
    60_000,
  );

  it("--offline runs a capture through the flows into another capture and exits", async () => {
    const inFile = join(dir, "off-in.pcap");
    const outFile = join(dir, "off-out.pcap");
    const flows = join(dir, "off.flows");
    writeCapture(inFile, [frame(1), frame(2, "02:00:00:00:00:99"), frame(3)]);
    writeFileSync(
      flows,
      "priority=10,in_port=1,dl_dst=02:00:00:00:00:02,actions=set_field:02:00:00:00:00:aa->eth_src,output:2\n",
    );
    const p = await SwitchProcess.start([
      "--port",
      `1=a:type=pcap`,
      "--port",
      `2=b:type=pcap`,
      "--flows",
      flows,
      "--pcap-in",
      `a=${inFile}`,
      "--pcap-out",
      `b=${outFile}`,
      "--offline",
    ]);
    procs.push(p);
    expect(await p.exit()).toBe(0);
    expect(p.stdout).toContain("frames in: 3");
    expect(p.stdout).toContain("br0 port 2 (b): rx 0 tx 2");
    const out = parsePcap(new Uint8Array(readFileSync(outFile)));
    expect(out.records).toHaveLength(2);
    for (const r of out.records)
      expect(Buffer.from(r.data.subarray(6, 12)).toString("hex")).toBe("0200000000aa");
  }, 60_000);
});
