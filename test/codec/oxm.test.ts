import { describe, expect, it } from "vitest";
import {
  OXM_FIELDS,
  decodeOxmTlv,
  encodeOxmTlv,
  fieldByHeader,
  fieldByName,
  preferredField,
  type MatchEntry,
} from "../../codec/oxm.js";
import { Reader } from "../../codec/reader.js";
import { Writer } from "../../codec/writer.js";
import { hexToBytes } from "../../codec/values.js";

const hex = (s: string): Uint8Array => hexToBytes(s.replace(/\s/g, ""))!;

describe("OXM registry", () => {
  it("has all 40 OpenFlow 1.3 basic fields (class 0x8000, fields 0..39), plus OVS's packet_type", () => {
    const basic = OXM_FIELDS.filter((f) => f.oxmClass === 0x8000).map((f) => f.oxmField);
    // OXM_OF_PACKET_TYPE (44, OF1.5) is in the registry because OVS 3.1
    // writes it in OF1.3 FLOW_MODs too (`packet_type=eth`).
    expect([...new Set(basic)].sort((a, b) => a - b)).toEqual([
      ...Array.from({ length: 40 }, (_, i) => i),
      44,
    ]);
  });

  it("keys fields by (class, field), never by field number alone", () => {
    // 0x0001/31 is tun_src; 0x8000/31 is ipv6_nd_target (libfluid mixed them up).
    expect(fieldByHeader(0x00013e04)?.name).toBe("tun_src");
    expect(fieldByHeader(0x80003e10)?.name).toBe("nd_target");
    expect(fieldByHeader(0x00014004)?.name).toBe("tun_dst");
    expect(fieldByHeader(0x00014104)?.nxmName).toBe("NXM_NX_TUN_IPV4_DST"); // hasmask ignored
  });

  it("maps both tun_id headers to one logical field, OXM preferred (as OVS writes in OF1.3)", () => {
    const oxm = fieldByHeader(0x80004c08)!;
    const nxm = fieldByHeader(0x00012008)!;
    expect(oxm.logical).toBe("tun_id");
    expect(nxm.logical).toBe("tun_id");
    expect(oxm.group).toBe(nxm.group);
    expect(oxm.preferred).toBe(true);
    expect(nxm.preferred).toBe(false);
    expect(preferredField(nxm)).toBe(oxm);
    expect(fieldByName("tun_id")).toBe(oxm);
    expect(fieldByName("tunnel_id")).toBe(oxm);
    expect(fieldByName("NXM_NX_TUN_ID")).toBe(nxm);
  });

  it("resolves ovs-ofctl names, aliases and NXM/OXM header names", () => {
    expect(fieldByName("dl_src")?.nxmName).toBe("OXM_OF_ETH_SRC");
    expect(fieldByName("NXM_OF_ETH_SRC")?.header).toBe(0x00000400);
    expect(fieldByName("NXM_NX_REG6")?.header).toBe(0x00010c00);
    expect(fieldByName("reg6")).toBe(fieldByName("NXM_NX_REG6"));
    expect(fieldByName("nw_dst")?.nxmName).toBe("OXM_OF_IPV4_DST");
    expect(fieldByName("OXM_OF_IN_PORT")?.size).toBe(4);
    expect(fieldByName("NXM_OF_IN_PORT")?.size).toBe(2);
    expect(fieldByName("in_port")?.size).toBe(4);
    expect(fieldByName("NXM_NX_ARP_SHA")?.header).toBe(0x00012200);
    expect(fieldByName("arp_sha")?.header).toBe(0x80003000);
    expect(fieldByName("tcp_flags")?.experimenter).toBe(0x4f4e4600);
    expect(fieldByName("xxreg3")?.size).toBe(16);
    expect(fieldByName("no_such_field")).toBeUndefined();
  });

  it("has unique headers and names every row", () => {
    const keys = OXM_FIELDS.map((f) => `${f.header}:${f.experimenter ?? ""}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const f of OXM_FIELDS) expect(fieldByName(f.nxmName)).toBe(f);
  });
});

describe("single OXM TLV", () => {
  const roundTrip = (bytes: Uint8Array, mode: "strict" | "loose"): MatchEntry => {
    const r = new Reader(bytes);
    const e = decodeOxmTlv(r, mode);
    expect(r.pos).toBe(bytes.length);
    const w = new Writer();
    encodeOxmTlv(w, e);
    expect(w.finish()).toEqual(bytes);
    return e;
  };

  it("decodes a masked NXM register", () => {
    const e = roundTrip(hex("00010d08 00000005 000000ff"), "strict");
    expect(e.field?.name).toBe("reg6");
    expect(e.field && e.mask).toEqual(hex("000000ff"));
  });

  it("decodes the ONF tcp_flags experimenter OXM (length counts the experimenter id)", () => {
    // from `ovs-ofctl -O OpenFlow13 -mmmmm parse-flows` of tcp,tcp_flags=+syn-ack
    const e = roundTrip(hex("ffff5508 4f4e4600 0002 0012"), "strict");
    expect(e.field?.name).toBe("tcp_flags");
  });

  it("keeps unknown TLVs opaque in loose mode and re-encodes them byte-identically", () => {
    const e = roundTrip(hex("0001fe03 aabbcc"), "loose");
    expect(e.field).toBeUndefined();
    const x = roundTrip(hex("ffff0207 00001234 010203"), "loose");
    expect(x.field === undefined && x.experimenter).toBe(0x1234);
  });

  it("treats a known header with the wrong width as unknown (OVS nxm_field_by_header)", () => {
    expect(() => decodeOxmTlv(new Reader(hex("80000002 0001")), "strict")).toThrowError(
      expect.objectContaining({ code: "OFPBMC_BAD_FIELD" }),
    );
    expect(decodeOxmTlv(new Reader(hex("80000002 0001")), "loose").field).toBeUndefined();
  });

  it("accepts variable-length tun_metadata (OVS writes tun_metadata0=0x5 as 1 byte)", () => {
    const e = roundTrip(hex("00015001 05"), "strict");
    expect(e.field?.name).toBe("tun_metadata0");
  });
});
