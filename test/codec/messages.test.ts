/**
 * Message layer: struct sizes, the registry's generic length rules, the
 * error paths OVS defines, and golden bytes checked with
 * `ovs-ofctl -O OpenFlow13 ofp-print` (OVS 3.1).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as codec from "../../codec/index.js";
import { OfpError } from "../../codec/errors.js";
import { OFPT } from "../../codec/header.js";
import {
  MESSAGE_SPECS,
  decodeMessage,
  encodeMessage,
  type MessageOf,
  type OfMessage,
  type OfMessageType,
} from "../../codec/message.js";
import { errorName, errorReplyFor } from "../../codec/messages/error.js";
import { helloVersions, makeHello } from "../../codec/messages/hello.js";
import {
  MULTIPART_SPECS,
  type MultipartReplyBody,
  type MultipartRequestBody,
} from "../../codec/messages/multipart.js";
import * as S from "../../codec/messages/sizes.js";
import type { OfpPort } from "../../codec/messages/port.js";
import type { TableFeatures } from "../../codec/messages/table-features.js";
import { SHARED } from "../shared-path.js";

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function expectOfpError(fn: () => unknown, code: string): OfpError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OfpError);
    expect((e as OfpError).code).toBe(code);
    return e as OfpError;
  }
  throw new Error(`expected ${code}, nothing thrown`);
}

const EMPTY_MATCH = { entries: [] };
const MAC = new Uint8Array([0, 1, 2, 3, 4, 5]);
const PORT: OfpPort = {
  portNo: 1,
  hwAddr: MAC,
  name: "eth0",
  config: 0,
  state: 4,
  curr: 0x840,
  advertised: 0,
  supported: 0,
  peer: 0,
  currSpeed: 10_000_000,
  maxSpeed: 10_000_000,
};
const TABLE_FEATURES: TableFeatures = {
  tableId: 0,
  name: "t0",
  metadataMatch: 0n,
  metadataWrite: 0n,
  config: 0,
  maxEntries: 1000,
  properties: [],
};

/** The smallest message of each registry row, and the size the spec gives it. */
const MINIMAL: { [T in Exclude<OfMessageType, "unknown">]: [MessageOf<T>, number] } = {
  hello: [{ type: "hello", xid: 1, elements: [] }, S.OFP_HEADER_SIZE],
  error: [
    {
      type: "error",
      xid: 1,
      error: { kind: "standard", type: 1, code: 6 },
      data: new Uint8Array(),
    },
    S.OFP_ERROR_MSG_SIZE,
  ],
  echo_request: [{ type: "echo_request", xid: 1, data: new Uint8Array() }, S.OFP_HEADER_SIZE],
  echo_reply: [{ type: "echo_reply", xid: 1, data: new Uint8Array() }, S.OFP_HEADER_SIZE],
  experimenter: [
    { type: "experimenter", xid: 1, experimenter: 0x2320, expType: 99, data: new Uint8Array() },
    S.OFP_EXPERIMENTER_HEADER_SIZE,
  ],
  bundle_ctrl: [
    {
      type: "bundle_ctrl",
      xid: 1,
      bundleId: 7,
      ctrlType: 0,
      flags: 1,
      properties: new Uint8Array(),
    },
    S.ONF_BUNDLE_CTRL_SIZE,
  ],
  bundle_add: [
    {
      type: "bundle_add",
      xid: 1,
      bundleId: 7,
      flags: 1,
      message: { type: "barrier_request", xid: 1 },
      properties: new Uint8Array(),
    },
    S.ONF_BUNDLE_ADD_SIZE + S.OFP_HEADER_SIZE,
  ],
  features_request: [{ type: "features_request", xid: 1 }, S.OFP_HEADER_SIZE],
  features_reply: [
    {
      type: "features_reply",
      xid: 1,
      datapathId: 0xfedcba9876543210n,
      nBuffers: 0,
      nTables: 254,
      auxiliaryId: 0,
      capabilities: 0x4f,
      reserved: 0,
    },
    S.OFP_SWITCH_FEATURES_SIZE,
  ],
  get_config_request: [{ type: "get_config_request", xid: 1 }, S.OFP_HEADER_SIZE],
  get_config_reply: [
    { type: "get_config_reply", xid: 1, flags: 0, missSendLen: 0xffff },
    S.OFP_SWITCH_CONFIG_SIZE,
  ],
  set_config: [
    { type: "set_config", xid: 1, flags: 0, missSendLen: 128 },
    S.OFP_SWITCH_CONFIG_SIZE,
  ],
  packet_in: [
    {
      type: "packet_in",
      xid: 1,
      bufferId: 0xffffffff,
      totalLen: 0,
      reason: 0,
      tableId: 0,
      cookie: 0n,
      match: EMPTY_MATCH,
      data: new Uint8Array(),
    },
    S.OFP_PACKET_IN_SIZE + 2,
  ],
  flow_removed: [
    {
      type: "flow_removed",
      xid: 1,
      cookie: 1n,
      priority: 2,
      reason: 0,
      tableId: 3,
      durationSec: 4,
      durationNsec: 5,
      idleTimeout: 6,
      hardTimeout: 7,
      packetCount: 8n,
      byteCount: 9n,
      match: EMPTY_MATCH,
    },
    S.OFP_FLOW_REMOVED_SIZE,
  ],
  port_status: [{ type: "port_status", xid: 1, reason: 0, port: PORT }, S.OFP_PORT_STATUS_SIZE],
  packet_out: [
    {
      type: "packet_out",
      xid: 1,
      bufferId: 0xffffffff,
      inPort: 0xfffffffd,
      actions: [],
      data: new Uint8Array(),
    },
    S.OFP_PACKET_OUT_SIZE,
  ],
  flow_mod: [
    {
      type: "flow_mod",
      xid: 1,
      cookie: 0x1234n,
      cookieMask: 0n,
      tableId: 0,
      command: 0,
      idleTimeout: 0,
      hardTimeout: 0,
      priority: 0x8000,
      bufferId: 0xffffffff,
      outPort: 0xffffffff,
      outGroup: 0xffffffff,
      flags: 0,
      match: EMPTY_MATCH,
      instructions: [],
    },
    S.OFP_FLOW_MOD_SIZE,
  ],
  group_mod: [
    { type: "group_mod", xid: 1, command: 0, groupType: 0, groupId: 1, buckets: [] },
    S.OFP_GROUP_MOD_SIZE,
  ],
  port_mod: [
    { type: "port_mod", xid: 1, portNo: 1, hwAddr: MAC, config: 1, mask: 1, advertise: 0 },
    S.OFP_PORT_MOD_SIZE,
  ],
  table_mod: [{ type: "table_mod", xid: 1, tableId: 0, config: 3 }, S.OFP_TABLE_MOD_SIZE],
  multipart_request: [
    { type: "multipart_request", xid: 1, flags: 0, body: { kind: "desc" } },
    S.OFP_MULTIPART_REQUEST_SIZE,
  ],
  multipart_reply: [
    { type: "multipart_reply", xid: 1, flags: 0, body: { kind: "flow", entries: [] } },
    S.OFP_MULTIPART_REPLY_SIZE,
  ],
  barrier_request: [{ type: "barrier_request", xid: 1 }, S.OFP_HEADER_SIZE],
  barrier_reply: [{ type: "barrier_reply", xid: 1 }, S.OFP_HEADER_SIZE],
  queue_get_config_request: [
    { type: "queue_get_config_request", xid: 1, port: 1 },
    S.OFP_QUEUE_GET_CONFIG_REQUEST_SIZE,
  ],
  queue_get_config_reply: [
    { type: "queue_get_config_reply", xid: 1, port: 1, queues: [] },
    S.OFP_QUEUE_GET_CONFIG_REPLY_SIZE,
  ],
  role_request: [
    { type: "role_request", xid: 1, role: 2, generationId: 5n },
    S.OFP_ROLE_REQUEST_SIZE,
  ],
  role_reply: [{ type: "role_reply", xid: 1, role: 2, generationId: 5n }, S.OFP_ROLE_REQUEST_SIZE],
  get_async_request: [{ type: "get_async_request", xid: 1 }, S.OFP_HEADER_SIZE],
  get_async_reply: [
    {
      type: "get_async_reply",
      xid: 1,
      packetInMask: [3, 1],
      portStatusMask: [7, 7],
      flowRemovedMask: [15, 0],
    },
    S.OFP_ASYNC_CONFIG_SIZE,
  ],
  set_async: [
    {
      type: "set_async",
      xid: 1,
      packetInMask: [3, 1],
      portStatusMask: [7, 7],
      flowRemovedMask: [15, 0],
    },
    S.OFP_ASYNC_CONFIG_SIZE,
  ],
  meter_mod: [
    { type: "meter_mod", xid: 1, command: 0, flags: 1, meterId: 1, bands: [] },
    S.OFP_METER_MOD_SIZE,
  ],
};

/**
 * Rows whose registry minimum is smaller than the minimal message: OVS pulls a
 * PACKET_IN's 24 fixed bytes and then the match, so a message cut inside the
 * match is the match's OFPBMC_BAD_LEN (malformed catalogue), not OFPBRC_BAD_LEN.
 */
const FIXED_SIZE_EXCEPTIONS: Readonly<Record<string, number>> = {
  packet_in: S.OFP_PACKET_IN_SIZE - S.OFP_MATCH_SIZE,
};

describe("struct sizes", () => {
  it("names the spec's sizes", () => {
    expect(S.OFP_HEADER_SIZE).toBe(8);
    expect(S.OFP_FLOW_MOD_SIZE).toBe(56);
    expect(S.OFP_PACKET_IN_SIZE).toBe(32);
    expect(S.OFP_PORT_SIZE).toBe(64);
    expect(S.OFP_DESC_SIZE).toBe(1056);
    expect(S.OFP_TABLE_FEATURES_SIZE).toBe(64);
  });

  it("covers every registry row with a minimal message", () => {
    expect(Object.keys(MINIMAL).sort()).toEqual(MESSAGE_SPECS.map((r) => r.type).sort());
  });

  for (const [type, [message, size]] of Object.entries(MINIMAL) as [
    string,
    [OfMessage, number],
  ][]) {
    it(`encodes a minimal ${type} in ${size} bytes, the registry's fixedSize, and decodes it back`, () => {
      const bytes = encodeMessage(message);
      expect(bytes.byteLength).toBe(size);
      expect(MESSAGE_SPECS.find((r) => r.type === type)!.fixedSize).toBe(
        FIXED_SIZE_EXCEPTIONS[type] ?? size,
      );
      expect(decodeMessage(bytes)).toEqual({
        ...message,
        ...("version" in message ? {} : versionOf(type)),
      });
    });
  }

  function versionOf(type: string): object {
    return ["hello", "error", "echo_request", "echo_reply"].includes(type) ? { version: 4 } : {};
  }

  it("rejects one byte less than a fixed-size message with OFPBRC_BAD_LEN", () => {
    for (const [message, size] of Object.values(MINIMAL) as [OfMessage, number][]) {
      const bytes = encodeMessage(message).slice(0, size - 1);
      if (bytes.byteLength < 8) continue;
      bytes[3] = bytes.byteLength; // header agrees with the buffer
      expectOfpError(() => decodeMessage(bytes), "OFPBRC_BAD_LEN");
    }
  });
});

/** A body of each multipart kind and the size of its fixed part. */
const MP_REQUESTS: Record<string, [MultipartRequestBody, number]> = {
  desc: [{ kind: "desc" }, 0],
  flow: [
    {
      kind: "flow",
      tableId: 0xff,
      outPort: 0xffffffff,
      outGroup: 0xffffffff,
      cookie: 0n,
      cookieMask: 0n,
      match: EMPTY_MATCH,
    },
    S.OFP_FLOW_STATS_REQUEST_SIZE,
  ],
  aggregate: [
    {
      kind: "aggregate",
      tableId: 0xff,
      outPort: 0xffffffff,
      outGroup: 0xffffffff,
      cookie: 0n,
      cookieMask: 0n,
      match: EMPTY_MATCH,
    },
    S.OFP_FLOW_STATS_REQUEST_SIZE,
  ],
  table: [{ kind: "table" }, 0],
  port_stats: [{ kind: "port_stats", portNo: 0xffffffff }, S.OFP_PORT_STATS_REQUEST_SIZE],
  queue: [
    { kind: "queue", portNo: 0xffffffff, queueId: 0xffffffff },
    S.OFP_QUEUE_STATS_REQUEST_SIZE,
  ],
  group: [{ kind: "group", groupId: 0xfffffffc }, S.OFP_GROUP_STATS_REQUEST_SIZE],
  group_desc: [{ kind: "group_desc" }, 0],
  group_features: [{ kind: "group_features" }, 0],
  meter: [{ kind: "meter", meterId: 0xffffffff }, S.OFP_METER_MULTIPART_REQUEST_SIZE],
  meter_config: [{ kind: "meter_config", meterId: 0xffffffff }, S.OFP_METER_MULTIPART_REQUEST_SIZE],
  meter_features: [{ kind: "meter_features" }, 0],
  table_features: [
    { kind: "table_features", entries: [TABLE_FEATURES] },
    S.OFP_TABLE_FEATURES_SIZE,
  ],
  port_desc: [{ kind: "port_desc" }, 0],
  experimenter: [
    { kind: "experimenter", experimenter: 0x4f4e4600, expType: 1870, data: new Uint8Array() },
    S.OFP_EXPERIMENTER_MULTIPART_HEADER_SIZE,
  ],
};

const MP_REPLIES: Record<string, [MultipartReplyBody, number]> = {
  desc: [
    {
      kind: "desc",
      mfrDesc: "Nicira, Inc.",
      hwDesc: "Open vSwitch",
      swDesc: "3.1.0",
      serialNum: "None",
      dpDesc: "br-int",
    },
    S.OFP_DESC_SIZE,
  ],
  flow: [
    {
      kind: "flow",
      entries: [
        {
          tableId: 0,
          durationSec: 1,
          durationNsec: 2,
          priority: 3,
          idleTimeout: 4,
          hardTimeout: 5,
          flags: 6,
          cookie: 7n,
          packetCount: 8n,
          byteCount: 9n,
          match: EMPTY_MATCH,
          instructions: [],
        },
      ],
    },
    S.OFP_FLOW_STATS_SIZE,
  ],
  aggregate: [
    { kind: "aggregate", packetCount: 1n, byteCount: 2n, flowCount: 3 },
    S.OFP_AGGREGATE_STATS_REPLY_SIZE,
  ],
  table: [
    { kind: "table", entries: [{ tableId: 1, activeCount: 2, lookupCount: 3n, matchedCount: 4n }] },
    S.OFP_TABLE_STATS_SIZE,
  ],
  port_stats: [
    {
      kind: "port_stats",
      entries: [
        {
          portNo: 1,
          rxPackets: 1n,
          txPackets: 2n,
          rxBytes: 3n,
          txBytes: 4n,
          rxDropped: 5n,
          txDropped: 6n,
          rxErrors: 7n,
          txErrors: 8n,
          rxFrameErr: 9n,
          rxOverErr: 10n,
          rxCrcErr: 11n,
          collisions: 12n,
          durationSec: 13,
          durationNsec: 14,
        },
      ],
    },
    S.OFP_PORT_STATS_SIZE,
  ],
  queue: [
    {
      kind: "queue",
      entries: [
        {
          portNo: 1,
          queueId: 2,
          txBytes: 3n,
          txPackets: 4n,
          txErrors: 5n,
          durationSec: 6,
          durationNsec: 7,
        },
      ],
    },
    S.OFP_QUEUE_STATS_SIZE,
  ],
  group: [
    {
      kind: "group",
      entries: [
        {
          groupId: 1,
          refCount: 2,
          packetCount: 3n,
          byteCount: 4n,
          durationSec: 5,
          durationNsec: 6,
          bucketStats: [],
        },
      ],
    },
    S.OFP_GROUP_STATS_SIZE,
  ],
  group_desc: [
    { kind: "group_desc", entries: [{ groupType: 0, groupId: 1, buckets: [] }] },
    S.OFP_GROUP_DESC_SIZE,
  ],
  group_features: [
    {
      kind: "group_features",
      types: 15,
      capabilities: 5,
      maxGroups: [1, 2, 3, 4],
      actions: [5, 6, 7, 8],
    },
    S.OFP_GROUP_FEATURES_SIZE,
  ],
  meter: [
    {
      kind: "meter",
      entries: [
        {
          meterId: 1,
          flowCount: 2,
          packetInCount: 3n,
          byteInCount: 4n,
          durationSec: 5,
          durationNsec: 6,
          bandStats: [],
        },
      ],
    },
    S.OFP_METER_STATS_SIZE,
  ],
  meter_config: [
    { kind: "meter_config", entries: [{ flags: 1, meterId: 2, bands: [] }] },
    S.OFP_METER_CONFIG_SIZE,
  ],
  meter_features: [
    {
      kind: "meter_features",
      maxMeter: 1,
      bandTypes: 6,
      capabilities: 15,
      maxBands: 2,
      maxColor: 0,
    },
    S.OFP_METER_FEATURES_SIZE,
  ],
  table_features: [
    { kind: "table_features", entries: [TABLE_FEATURES] },
    S.OFP_TABLE_FEATURES_SIZE,
  ],
  port_desc: [{ kind: "port_desc", entries: [PORT] }, S.OFP_PORT_SIZE],
  experimenter: [
    { kind: "experimenter", experimenter: 0x2320, expType: 1, data: new Uint8Array() },
    S.OFP_EXPERIMENTER_MULTIPART_HEADER_SIZE,
  ],
};

describe("multipart bodies", () => {
  it("has a request and a reply case for every multipart registry row", () => {
    const kinds = MULTIPART_SPECS.map((s) => s.kind).sort();
    expect(Object.keys(MP_REQUESTS).sort()).toEqual(kinds);
    expect(Object.keys(MP_REPLIES).sort()).toEqual(kinds);
  });

  for (const [kind, [body, size]] of Object.entries(MP_REQUESTS)) {
    it(`encodes a ${kind} request body in ${size} bytes and decodes it back`, () => {
      const m: OfMessage = { type: "multipart_request", xid: 9, flags: 0, body };
      const bytes = encodeMessage(m);
      expect(bytes.byteLength).toBe(S.OFP_MULTIPART_REQUEST_SIZE + size);
      expect(decodeMessage(bytes)).toEqual(m);
    });
  }
  for (const [kind, [body, size]] of Object.entries(MP_REPLIES)) {
    it(`encodes a ${kind} reply body in ${size} bytes and decodes it back`, () => {
      const m: OfMessage = { type: "multipart_reply", xid: 9, flags: 0, body };
      const bytes = encodeMessage(m);
      expect(bytes.byteLength).toBe(S.OFP_MULTIPART_REPLY_SIZE + size);
      expect(decodeMessage(bytes)).toEqual(m);
    });
  }

  it("rejects an unknown multipart type with OFPBRC_BAD_STAT, keeps it raw when loose", () => {
    const bytes = hex("0412 0014 00000003 0063 0000 00000000 deadbeef");
    expectOfpError(() => decodeMessage(bytes), "OFPBRC_BAD_STAT");
    const m = decodeMessage(bytes, { strict: false });
    expect(m).toMatchObject({ type: "multipart_request", body: { kind: "unknown", mpType: 0x63 } });
    expect(toHex(encodeMessage(m))).toBe(toHex(bytes));
  });

  it("rejects a fixed multipart body of the wrong size with OFPBRC_BAD_LEN", () => {
    // port_stats request with 12 bytes of body instead of 8
    expectOfpError(
      () => decodeMessage(hex("0412 001c 00000001 0004 0000 00000000 ffffffff 00000000 00000000")),
      "OFPBRC_BAD_LEN",
    );
  });

  it("rejects a flow stats entry whose length overruns the message", () => {
    const good = encodeMessage({
      type: "multipart_reply",
      xid: 1,
      flags: 0,
      body: MP_REPLIES.flow![0],
    });
    good[17] = 0x60; // entry length 96 > 56 available
    // OVS reads the fixed part and the match from the message, then pulls
    // length - 48 - match bytes of instructions: that pull is what fails.
    expectOfpError(() => decodeMessage(good), "OFPBIC_BAD_LEN");
  });
});

describe("decodeMessage errors", () => {
  it("rejects a buffer that is not exactly the header length", () => {
    expectOfpError(() => decodeMessage(hex("0414 0008 00000001 00")), "OFPBRC_BAD_LEN");
    expectOfpError(() => decodeMessage(hex("0414 0009 00000001")), "OFPBRC_BAD_LEN");
    expectOfpError(() => decodeMessage(hex("0414 0004 00000001")), "OFPBRC_BAD_LEN");
    expectOfpError(() => decodeMessage(hex("0414 00")), "OFPBRC_BAD_LEN");
  });

  it("rejects other versions with OFPBRC_BAD_VERSION except hello, error and echo", () => {
    expectOfpError(() => decodeMessage(hex("0514 0008 00000001")), "OFPBRC_BAD_VERSION");
    expectOfpError(() => decodeMessage(hex("0114 0008 00000001")), "OFPBRC_BAD_VERSION");
    expect(decodeMessage(hex("0600 0008 00000001"))).toEqual({
      type: "hello",
      xid: 1,
      version: 6,
      elements: [],
    });
    expect(decodeMessage(hex("0102 000a 00000001 abcd"))).toMatchObject({
      type: "echo_request",
      version: 1,
    });
    const e = hex("0101 000c 00000001 0000 0000");
    expect(toHex(encodeMessage(decodeMessage(e)))).toBe(toHex(e));
  });

  it("rejects an unknown type with OFPBRC_BAD_TYPE, and keeps it raw when loose", () => {
    const bytes = hex("041e 000c 00000007 01020304");
    expectOfpError(() => decodeMessage(bytes), "OFPBRC_BAD_TYPE");
    const m = decodeMessage(bytes, { strict: false });
    expect(m).toEqual({ type: "unknown", xid: 7, version: 4, msgType: 30, body: hex("01020304") });
    expect(toHex(encodeMessage(m))).toBe(toHex(bytes));
  });

  it("applies element sizes: a flow_mod 1 byte past a whole instruction is BAD_LEN", () => {
    const fm = encodeMessage(MINIMAL.flow_mod[0]);
    const longer = new Uint8Array(fm.byteLength + 1);
    longer.set(fm);
    longer[3] = longer.byteLength;
    expectOfpError(() => decodeMessage(longer), "OFPBRC_BAD_LEN");
  });

  it("rejects unknown meter bands with OFPMMFC_BAD_BAND and short buckets with OFPGMFC_BAD_BUCKET", () => {
    expectOfpError(
      () =>
        decodeMessage(
          hex("041d 0020 00000000 0000 0001 00000001 0007 0010 00000001 00000001 00000000"),
        ),
      "OFPMMFC_BAD_BAND",
    );
    expectOfpError(
      () =>
        decodeMessage(
          hex("040f 0020 00000000 0000 00 00 00000001 0008 0000 ffffffff ffffffff 00000000"),
        ),
      "OFPGMFC_BAD_BUCKET",
    );
  });
});

describe("hello", () => {
  it("decodes OVS's hello and announces version 4", () => {
    const m = decodeMessage(hex("04000010000000000001000800000010"));
    expect(m).toEqual({
      type: "hello",
      xid: 0,
      version: 4,
      elements: [{ kind: "versionbitmap", bitmaps: [0x10] }],
    });
    expect(helloVersions(m as MessageOf<"hello">)).toEqual([4]);
    expect(toHex(encodeMessage(makeHello(0)))).toBe("04000010000000000001000800000010");
  });

  it("pads elements to 8 without counting the pad, and keeps unknown elements (as OVS reads them)", () => {
    // ovs-ofctl ofp-print: "version bitmap: 0x04" then "unknown data in hello"
    const bytes = hex("04000020 00000000 0001000c 00000010 00000012 00000000 000b0006 abcd0000");
    const m = decodeMessage(bytes);
    expect(m).toEqual({
      type: "hello",
      xid: 0,
      version: 4,
      elements: [
        { kind: "versionbitmap", bitmaps: [0x10, 0x12] },
        { kind: "unknown", elementType: 0x0b, data: hex("abcd") },
      ],
    });
    expect(toHex(encodeMessage(m))).toBe(toHex(bytes));
  });

  it("rejects an element shorter than its header", () => {
    expectOfpError(
      () => decodeMessage(hex("04000010 00000000 00010002 00000010")),
      "OFPBRC_BAD_LEN",
    );
  });
});

describe("error", () => {
  it("decodes standard and experimenter errors and names them as OVS does", () => {
    const std = decodeMessage(
      hex("0401 0014 00000000 0002 000b 6675676166756761"),
    ) as MessageOf<"error">;
    expect(std.error).toEqual({ kind: "standard", type: 2, code: 11 });
    expect(errorName(std)).toBe("OFPBAC_UNSUPPORTED_ORDER");
    const bytes = hex("0401 0018 00000005 ffff 0a28 4f4e4600 0102030405060708");
    const exp = decodeMessage(bytes) as MessageOf<"error">;
    expect(exp.error).toEqual({ kind: "experimenter", experimenter: 0x4f4e4600, expType: 2600 });
    expect(errorName(exp)).toBe("OFPBIC_DUP_INST");
    expect(toHex(encodeMessage(exp))).toBe(toHex(bytes));
  });

  it("builds the reply OVS sends: request xid and the whole request as data", () => {
    const request = encodeMessage({ ...MINIMAL.flow_mod[0], xid: 0x1234 });
    const reply = errorReplyFor(new OfpError("OFPBMC_BAD_PREREQ", "test"), request);
    const bytes = encodeMessage(reply);
    // ovs-ofctl print-error OFPBMC_BAD_PREREQ: OpenFlow 1.3: vendor 0, type 4, code 9
    expect(toHex(bytes.subarray(0, 12))).toBe("0401004400001234" + "00040009");
    expect(toHex(bytes.subarray(12))).toBe(toHex(request));
    const dup = encodeMessage(errorReplyFor(new OfpError("OFPBIC_DUP_INST", "test"), request));
    expect(toHex(dup.subarray(0, 16))).toBe("0401004800001234" + "ffff0a284f4e4600");
  });

  it("cuts the copied request so the error fits in 65535 bytes", () => {
    const big = new Uint8Array(65535);
    big.set(hex("0412ffff00000042"));
    const reply = errorReplyFor(new OfpError("OFPBRC_BAD_LEN", "test"), big);
    expect(reply.xid).toBe(0x42);
    expect(encodeMessage(reply).byteLength).toBe(65535);
    expect(reply.data.byteLength).toBe(65535 - S.OFP_ERROR_MSG_SIZE);
  });
});

describe("ONF bundles", () => {
  it("decodes a bundle control message (ovs-ofctl: COMMIT_REQUEST flags=atomic ordered)", () => {
    const bytes = hex("0404001800000005 4f4e4600000008fc 00000007 0004 0003");
    expect(decodeMessage(bytes)).toEqual({
      type: "bundle_ctrl",
      xid: 5,
      bundleId: 7,
      ctrlType: 4,
      flags: 3,
      properties: new Uint8Array(),
    });
    expect(toHex(encodeMessage(decodeMessage(bytes)))).toBe(toHex(bytes));
  });

  it("decodes a bundle add carrying a flow_mod and re-encodes it byte for byte", () => {
    const inner =
      "040e009000000000000000000000000000000000000000000300000000008000ffffffffffffffffffffffff0000000000010046800000040000abcd80000606aabbcc99887780000a02080080000c0213e780001804c0a8020180004c08000000000000c35000013e04c0a8020300014004c0a8020400000004001800000000ffff001000002320000e04d263000000";
    const bytes = hex("040400a800000000 4f4e4600000008fd 0000000b 0000 0003" + inner);
    const m = decodeMessage(bytes) as MessageOf<"bundle_add">;
    expect(m).toMatchObject({ type: "bundle_add", bundleId: 11, flags: 3 });
    expect(m.message).toMatchObject({ type: "flow_mod", tableId: 3, priority: 0x8000 });
    expect(toHex(encodeMessage(m))).toBe(toHex(bytes));
  });

  it("keeps other experimenter messages opaque", () => {
    const bytes = hex("0404001800000001 0000232000000010 0102030405060708");
    expect(decodeMessage(bytes)).toEqual({
      type: "experimenter",
      xid: 1,
      experimenter: 0x2320,
      expType: 16,
      data: hex("0102030405060708"),
    });
    expect(OFPT.EXPERIMENTER).toBe(4);
  });
});

describe("message bodies against ovs-ofctl ofp-print", () => {
  const VEC = `${SHARED}/openflow-vectors/ryu-of13/packet/`;
  const vector = (name: string): Uint8Array => new Uint8Array(readFileSync(VEC + name + ".packet"));

  it("reads a features reply (ofp-print: dpid 1, n_tables 255, n_buffers 255)", () => {
    expect(decodeMessage(vector("libofproto-OFP13-features_reply"))).toMatchObject({
      type: "features_reply",
      datapathId: 1n,
      nTables: 255,
      nBuffers: 255,
      capabilities: 0x4f,
    });
  });

  it("reads a port status (ofp-print: MOD: 1(eth0): addr:ff:ff:ff:ff:ff:ff state LIVE)", () => {
    const m = decodeMessage(vector("libofproto-OFP13-port_status")) as MessageOf<"port_status">;
    expect(m.reason).toBe(2);
    expect(m.port).toMatchObject({ portNo: 1, name: "eth0", state: 4 });
    expect(toHex(m.port.hwAddr)).toBe("ffffffffffff");
  });

  it("reads a packet out (ofp-print: in_port=CONTROLLER actions=ALL data_len=98)", () => {
    const m = decodeMessage(vector("4-1-ofp_packet_out")) as MessageOf<"packet_out">;
    expect(m.inPort).toBe(0xfffffffd);
    expect(m.actions).toEqual([{ type: "output", port: 0xfffffffc, maxLen: expect.any(Number) }]);
    expect(m.data.byteLength).toBe(98);
  });

  it("rejects a packet out whose actions_len overruns the message", () => {
    const bytes = vector("4-1-ofp_packet_out").slice();
    bytes[16] = 0x10; // actions_len 4096
    expectOfpError(() => decodeMessage(bytes), "OFPBRC_BAD_LEN");
  });

  it("reads a packet in: loose match, 2 pad bytes, then the frame", () => {
    const m = decodeMessage(vector("4-4-ofp_packet_in")) as MessageOf<"packet_in">;
    // ofp-print: table_id=1 cookie=0x1020300000000 total_len=42 ... data_len=42 buffer=0x00000002
    expect(m).toMatchObject({
      tableId: 1,
      cookie: 0x1020300000000n,
      totalLen: 42,
      bufferId: 2,
      reason: 1,
    });
    expect(m.data.byteLength).toBe(42);
    expect(toHex(m.data.subarray(0, 6))).toBe("ffffffffffff");
    expect(m.match.entries.length).toBe(9);
  });

  it("decodes FLOW_MOD matches strictly (arp_tpa before eth_type: OFPBMC_BAD_PREREQ) unless loose", () => {
    const head =
      "040e004800000001 0000000000000000 0000000000000000 0000 0000 0000 8000 ffffffff ffffffff ffffffff 0000 0000";
    const badOrder = hex(head + "0001 0012 80002e04 0a000001 80000a02 0806 000000000000");
    const good = hex(head + "0001 0012 80000a02 0806 80002e04 0a000001 000000000000");
    expectOfpError(() => decodeMessage(badOrder), "OFPBMC_BAD_PREREQ");
    expect(
      (decodeMessage(badOrder, { strict: false }) as MessageOf<"flow_mod">).match.entries.length,
    ).toBe(2);
    const m = decodeMessage(good) as MessageOf<"flow_mod">;
    expect(m.match.entries.map((e) => e.field?.name)).toEqual(["eth_type", "arp_tpa"]);
    expect(toHex(encodeMessage(m))).toBe(toHex(good));
  });

  it("reads queue properties (min_rate, max_rate, experimenter)", () => {
    const m = decodeMessage(vector("4-36-ofp_queue_get_config_reply"), {
      strict: false,
    }) as MessageOf<"queue_get_config_reply">;
    expect(m.port).toBe(0xffffffff);
    expect(m.queues.map((q) => q.queueId)).toEqual([99, 88, 77]);
    expect(m.queues[0]!.properties).toEqual([
      { kind: "min_rate", rate: 10 },
      { kind: "max_rate", rate: 900 },
      { kind: "experimenter", experimenter: 999, data: new Uint8Array() },
    ]);
  });

  it("reads meter bands (drop, dscp_remark, experimenter) structurally; strict refuses the experimenter band as OVS does", () => {
    expectOfpError(() => decodeMessage(vector("4-45-ofp_meter_mod")), "OFPMMFC_BAD_BAND");
    const m = decodeMessage(vector("4-45-ofp_meter_mod"), {
      strict: false,
    }) as MessageOf<"meter_mod">;
    expect(m.bands).toEqual([
      { kind: "drop", rate: 1000, burstSize: 10 },
      { kind: "dscp_remark", rate: 1000, burstSize: 10, precLevel: 1 },
      {
        kind: "experimenter",
        rate: 1000,
        burstSize: 10,
        experimenter: 999,
        data: new Uint8Array(),
      },
    ]);
  });

  it("is reachable through the public barrel", () => {
    expect(codec.decodeMessage).toBe(decodeMessage);
    expect(typeof codec.Framer).toBe("function");
    expect(typeof codec.MultipartAssembler).toBe("function");
    expect(typeof codec.encodeMultipartParts).toBe("function");
    expect(typeof codec.decodeMatch).toBe("function");
    expect(typeof codec.decodeInstructions).toBe("function");
  });
});

describe("names are NUL-padded UTF-8 (port, table, desc)", () => {
  const port = (name: string): OfpPort => ({ ...PORT, name });
  const roundTrip = (p: OfpPort): OfpPort => {
    const m = decodeMessage(
      encodeMessage({ type: "port_status", xid: 1, reason: 0, port: p }),
    ) as MessageOf<"port_status">;
    return m.port;
  };

  it("decodes and re-encodes a Japanese port name (Ryu vector 4-39)", () => {
    expect(roundTrip(port("ポート1")).name).toBe("ポート1");
  });

  it("cuts a long name at a character boundary, keeping the NUL (at most 15 bytes)", () => {
    // 6 three-byte characters = 18 bytes: only 5 fit before the terminating NUL.
    const w = new codec.Writer();
    w.fixedString("ポートポート", 16);
    const bytes = w.finish();
    expect(Buffer.from(bytes.subarray(0, 15)).toString("utf8")).toBe("ポートポー");
    expect(bytes[15]).toBe(0);
    expect(roundTrip(port("ポートポート")).name).toBe("ポートポー");
    expect(roundTrip(port("x".repeat(20))).name).toBe("x".repeat(15));
  });
});

describe("encodeMessage results", () => {
  it("never overlap, even across slab boundaries, and stay valid", () => {
    const kept: Array<[Uint8Array, string]> = [];
    for (let i = 0; i < 2000; i++) {
      const bytes = encodeMessage({ type: "echo_request", xid: i, data: new Uint8Array(i % 300) });
      kept.push([bytes, toHex(bytes)]);
    }
    for (const [bytes, hexAtEncode] of kept) expect(toHex(bytes)).toBe(hexAtEncode);
    const big = encodeMessage({ type: "echo_request", xid: 1, data: new Uint8Array(5000) });
    expect(big.byteLength).toBe(5008);
  });
});
