import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  bigIntToBytes,
  bytesToBigInt,
  bytesToHex,
  hexToBytes,
  ipv4ToString,
  ipv6ToString,
  macToString,
  parseIpv4,
  parseIpv6,
  parseMac,
} from "../../codec/values.js";
import {
  OFPP,
  isValidOutputPort,
  reservedPortByName,
  reservedPortName,
} from "../../codec/ports.js";

describe("MAC text", () => {
  it("prints lowercase colon form", () => {
    expect(macToString(Uint8Array.of(0xfa, 0x16, 0x3e, 0, 0x0a, 0xff))).toBe("fa:16:3e:00:0a:ff");
  });
  it("parses either case and dash separators", () => {
    expect(parseMac("FA-16-3E-00-0A-FF")).toEqual(Uint8Array.of(0xfa, 0x16, 0x3e, 0, 0x0a, 0xff));
    expect(parseMac("fa:16:3e:00:0a")).toBeUndefined();
    expect(parseMac("fa:16:3e:00:0a:zz")).toBeUndefined();
  });
  it("round-trips any 6 bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (b) => {
        expect(parseMac(macToString(b))).toEqual(b);
      }),
    );
  });
});

describe("IPv4 text", () => {
  it("prints and parses dotted quads", () => {
    expect(ipv4ToString(Uint8Array.of(10, 0, 0, 1))).toBe("10.0.0.1");
    expect(parseIpv4("192.168.1.254")).toEqual(Uint8Array.of(192, 168, 1, 254));
    expect(parseIpv4("256.0.0.1")).toBeUndefined();
    expect(parseIpv4("01.0.0.1")).toBeUndefined();
    expect(parseIpv4("1.2.3")).toBeUndefined();
  });
});

describe("IPv6 text (RFC 5952, as ovs-ofctl prints)", () => {
  const cases: Array<[string, string]> = [
    ["fe800000000000000000000000000001", "fe80::1"],
    ["20010db8000000000000000000000001", "2001:db8::1"],
    ["00000000000000000000000000000000", "::"],
    ["00000000000000000000000000000001", "::1"],
    ["20010db8000000010000000000000001", "2001:db8:0:1::1"],
    // a single zero group is not compressed
    ["20010db8000000010001000100010001", "2001:db8:0:1:1:1:1:1"],
    // leftmost of equal runs
    ["20010db8000000000001000000000001", "2001:db8::1:0:0:1"],
    ["00000000000000000000ffff0a000001", "::ffff:10.0.0.1"],
  ];
  it.each(cases)("%s -> %s", (hex, text) => {
    const b = hexToBytes(hex)!;
    expect(ipv6ToString(b)).toBe(text);
    expect(parseIpv6(text)).toEqual(b);
  });
  it("parses uncompressed and rejects malformed", () => {
    expect(parseIpv6("fe80:0:0:0:0:0:0:1")).toEqual(hexToBytes("fe800000000000000000000000000001"));
    expect(parseIpv6("1::2::3")).toBeUndefined();
    expect(parseIpv6("1:2:3:4:5:6:7:8:9")).toBeUndefined();
    expect(parseIpv6("12345::")).toBeUndefined();
  });
  it("round-trips any 16 bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        expect(parseIpv6(ipv6ToString(b))).toEqual(b);
      }),
    );
  });
});

describe("bigint and hex helpers", () => {
  it("converts big-endian bytes", () => {
    expect(bytesToBigInt(Uint8Array.of(0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0))).toBe(
      0x123456789abcdef0n,
    );
    expect(bigIntToBytes(0x55n, 8)).toEqual(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0x55));
    expect(bigIntToBytes(-1n, 2)).toEqual(Uint8Array.of(0xff, 0xff));
    expect(bytesToHex(Uint8Array.of(0, 0xab))).toBe("00ab");
    expect(hexToBytes("01.02:03")).toEqual(Uint8Array.of(1, 2, 3));
    expect(hexToBytes("0")).toBeUndefined();
  });
  it("round-trips any u64", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
        expect(bytesToBigInt(bigIntToBytes(v, 8))).toBe(v);
      }),
    );
  });
});

describe("reserved ports", () => {
  it("names them as ovs-ofctl does", () => {
    expect(reservedPortName(0xfffffff8)).toBe("IN_PORT");
    expect(reservedPortName(OFPP.LOCAL)).toBe("LOCAL");
    expect(reservedPortName(OFPP.ANY)).toBe("ANY");
    expect(reservedPortName(5)).toBeUndefined();
    expect(reservedPortByName("controller")).toBe(0xfffffffd);
    expect(reservedPortByName("NONE")).toBe(OFPP.ANY);
  });
  it("knows which ports OVS accepts as output", () => {
    expect(isValidOutputPort(1)).toBe(true);
    expect(isValidOutputPort(0xfeff)).toBe(true);
    expect(isValidOutputPort(0xff00)).toBe(false);
    expect(isValidOutputPort(OFPP.IN_PORT)).toBe(true);
    expect(isValidOutputPort(OFPP.LOCAL)).toBe(true);
    expect(isValidOutputPort(OFPP.ANY)).toBe(false);
  });
});
