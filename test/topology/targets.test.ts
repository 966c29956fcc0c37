/**
 * The shared target grammars (src/util/targets.ts): pure and non-throwing,
 * the same answers as the throwing wrappers the controller and the OVSDB
 * client use, and imported by the topology without the topology reaching
 * into src/controller or src/ovsdb.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatTarget, parseTarget } from "../../src/controller/server.js";
import { formatOvsdbRemote, parseOvsdbRemote as dialRemote } from "../../src/ovsdb/remote.js";
import { formatStreamTarget, parseListenTarget, parseOvsdbRemote } from "../../src/util/targets.js";

const ROOT = join(import.meta.dirname, "..", "..");

function relativeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/\bfrom\s*["'](\.[^"']+)["']/g)].map((m) => m[1]!);
}

describe("listener targets", () => {
  it("parses OVS's forms, the passive ones included", () => {
    const cases: [string, unknown][] = [
      ["tcp:127.0.0.1:6653", { kind: "tcp", host: "127.0.0.1", port: 6653 }],
      ["tcp:127.0.0.1", { kind: "tcp", host: "127.0.0.1", port: 6653 }],
      ["tcp::6654", { kind: "tcp", host: "0.0.0.0", port: 6654 }],
      ["tcp:[::1]:6653", { kind: "tcp", host: "::1", port: 6653 }],
      ["tcp:[fe80::1%eth0]", { kind: "tcp", host: "fe80::1%eth0", port: 6653 }],
      ["ptcp:6653", { kind: "tcp", host: "0.0.0.0", port: 6653 }],
      // ovs-vswitchd's ptcp:PORT[:IP], port first.
      ["ptcp:6653:127.0.0.1", { kind: "tcp", host: "127.0.0.1", port: 6653 }],
      ["ptcp:6653:", { kind: "tcp", host: "0.0.0.0", port: 6653 }],
      ["ptcp:127.0.0.1:6653", { kind: "tcp", host: "127.0.0.1", port: 6653 }],
      ["unix:/run/of.sock", { kind: "unix", path: "/run/of.sock" }],
      ["punix:/run/of.sock", { kind: "unix", path: "/run/of.sock" }],
    ];
    for (const [text, want] of cases) {
      expect(parseListenTarget(text), text).toEqual({ ok: true, value: want });
      expect(parseTarget(text), text).toEqual(want);
    }
    expect(parseListenTarget("tcp:h", 1234)).toEqual({
      ok: true,
      value: { kind: "tcp", host: "h", port: 1234 },
    });
  });

  it("refuses what it cannot read unambiguously, with the reason parseTarget throws", () => {
    for (const text of [
      "tcp:::1:6653", // was read as 0.0.0.0:6653
      "tcp:1.2.3.4:6653:junk", // the tail was ignored
      "tcp:h:0x10", // Number("0x10") is 16
      "tcp:h:1e3",
      "tcp:h:65536",
      "tcp:[::1]:99999",
      "tcp:[]:1",
      "tcp:a b:1",
      "ptcp:6653:not a host",
      "ssl:1.2.3.4:6653",
      "unix:",
      "",
    ]) {
      const r = parseListenTarget(text);
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(() => parseTarget(text), text).toThrow(r.reason);
    }
  });

  it("formats IPv6 hosts in brackets, and round-trips", () => {
    const t = parseTarget("tcp:[::1]:6653");
    expect(formatTarget(t)).toBe("tcp:[::1]:6653");
    expect(formatStreamTarget(t)).toBe("tcp:[::1]:6653");
    expect(parseTarget(formatTarget(parseTarget("ptcp:6653:127.0.0.1")))).toEqual({
      kind: "tcp",
      host: "127.0.0.1",
      port: 6653,
    });
  });
});

describe("OVSDB remotes", () => {
  it("the pure parser and the client's wrapper agree", () => {
    for (const text of [
      "tcp:127.0.0.1:6641",
      "tcp:198.51.100.7",
      "tcp:[::1]",
      "unix:/var/run/openvswitch/db.sock",
    ]) {
      const r = parseOvsdbRemote(text);
      expect(r.ok, text).toBe(true);
      if (r.ok) {
        expect(dialRemote(text)).toEqual(r.value);
        expect(formatOvsdbRemote(r.value)).toBe(formatStreamTarget(r.value));
      }
    }
    expect(parseOvsdbRemote("tcp:198.51.100.7")).toEqual({
      ok: true,
      value: { kind: "tcp", host: "198.51.100.7", port: 6640 },
    });
    for (const text of ["ssl:h:6640", "ptcp:6640", "punix:/x", "tcp:h:0", "tcp:h:1:2", "unix:"]) {
      const r = parseOvsdbRemote(text);
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(() => dialRemote(text), text).toThrow(r.reason);
    }
  });
});

describe("layering", () => {
  it("src/topology imports neither src/controller nor src/ovsdb; util/targets.ts imports nothing", () => {
    const dir = join(ROOT, "src", "topology");
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".ts"))) {
      for (const spec of relativeImports(join(dir, name))) {
        expect(spec, `${name} imports ${spec}`).not.toMatch(/^\.\.\/(controller|ovsdb)\//);
      }
    }
    expect(relativeImports(join(ROOT, "src", "util", "targets.ts"))).toEqual([]);
    expect(readFileSync(join(ROOT, "src", "util", "targets.ts"), "utf8")).not.toMatch(/\bimport\b/);
    expect(relativeImports(join(dir, "schema.ts"))).toContain("../util/targets.js");
  });
});
