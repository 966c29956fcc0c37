/**
 * Reconciliation: the diff by identity, cookie ownership, learned flows, and
 * the messages a run sends (zero on an unchanged restart), against a fake
 * channel and against our switch's real dump encoding.
 */
import { describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage, type OfMessage } from "../../codec/message.js";
import { OFPBCT } from "../../codec/messages/bundle.js";
import { OFPFC } from "../../codec/messages/flow-mod.js";
import type { FlowStats } from "../../codec/messages/multipart-flow.js";
import { encodeMultipartParts } from "../../codec/messages/multipart-split.js";
import { MultipartAssembler } from "../../codec/multipart-assembler.js";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import { Datapath } from "../../datapath/datapath.js";
import { OpenFlowHandler } from "../../datapath/openflow-handler.js";
import { RequestError, type FenceResult } from "../../src/controller/connection.js";
import {
  DumpFailedError,
  diffFlows,
  flowIdentity,
  reconcileBridge,
  type FlowChannel,
} from "../../src/controller/reconcile.js";
import { toFlowMod, type DesiredFlow } from "../../src/dvr/flow.js";
import { learnedCookie } from "../../src/dvr/tables.js";
import { compileTopology, loadExample } from "../dvr/helpers.js";
import { flowDumpRequest } from "../../codec/messages/multipart.js";

const PREFIX = 0xd5;

async function brInt(): Promise<readonly DesiredFlow[]> {
  const [c1] = await compileTopology(loadExample("two-hosts.yaml"));
  return c1!.bridges["br-int"];
}

function asInstalled(f: DesiredFlow, over: Partial<FlowStats> = {}): FlowStats {
  return {
    tableId: f.table.id,
    durationSec: 1,
    durationNsec: 0,
    priority: f.priority,
    idleTimeout: 0,
    hardTimeout: 0,
    flags: 0,
    cookie: f.cookie,
    packetCount: 5n,
    byteCount: 500n,
    match: f.match,
    instructions: f.instructions,
    ...over,
  };
}

function statsOf(text: string): FlowStats {
  const m = flowModMessage(parseFlow(text));
  return {
    tableId: m.tableId,
    durationSec: 0,
    durationNsec: 0,
    priority: m.priority,
    idleTimeout: m.idleTimeout,
    hardTimeout: m.hardTimeout,
    flags: 0,
    cookie: m.cookie,
    packetCount: 0n,
    byteCount: 0n,
    match: m.match,
    instructions: m.instructions,
  };
}

/** Loads flows into our switch and dumps them back through the wire encoding, split and re-joined. */
function dumpThroughSwitch(flows: readonly DesiredFlow[], extra: string[] = []): FlowStats[] {
  const dp = new Datapath();
  const br = dp.addBridge({ name: "br-int", datapathId: 1n });
  for (const f of flows) br.flowMod(toFlowMod(f), 0);
  for (const t of extra) br.flowMod(flowModMessage(parseFlow(t)), 0);
  const h = new OpenFlowHandler(br);
  const [reply] = h.handle(flowDumpRequest(3), 0);
  if (reply?.type !== "multipart_reply") throw new Error("no reply");
  const asm = new MultipartAssembler();
  let whole: OfMessage | undefined;
  for (const part of encodeMultipartParts(reply, { maxSize: 4096 })) {
    const m = decodeMessage(part);
    if (m.type === "multipart_reply") whole = asm.push(m, 0) ?? whole;
  }
  if (whole?.type !== "multipart_reply" || whole.body.kind !== "flow") throw new Error("no dump");
  return [...whole.body.entries];
}

/** A channel that records what reconciliation sends. */
class FakeChannel implements FlowChannel {
  readonly fences: OfMessage[][] = [];
  readonly requests: OfMessage[] = [];
  constructor(
    private readonly dump: () => FlowStats[],
    private readonly bundles = false,
    private readonly refuse: (m: OfMessage) => boolean = () => false,
  ) {}
  dumpFlows(): Promise<FlowStats[]> {
    return Promise.resolve().then(() => this.dump());
  }
  fenced(msgs: readonly OfMessage[]): Promise<FenceResult> {
    this.fences.push([...msgs]);
    const errors = msgs.filter(this.refuse).map((request) => ({
      request,
      error: {
        type: "error" as const,
        xid: 0,
        error: { kind: "standard" as const, type: 4, code: 9 },
        data: new Uint8Array(0),
      },
    }));
    return Promise.resolve({ errors });
  }
  request(msg: OfMessage): Promise<OfMessage> {
    this.requests.push(msg);
    if (msg.type === "bundle_ctrl" && !this.bundles) {
      return Promise.reject(
        new RequestError(msg, {
          kind: "error",
          error: {
            type: "error",
            xid: 0,
            error: { kind: "standard", type: 1, code: 1 },
            data: new Uint8Array(0),
          },
        }),
      );
    }
    if (msg.type === "bundle_ctrl") return Promise.resolve({ ...msg, ctrlType: msg.ctrlType + 1 });
    return Promise.resolve(msg);
  }
  get flowMods(): OfMessage[] {
    return this.fences.flat().filter((m) => m.type === "flow_mod" || m.type === "bundle_add");
  }
}

describe("flow identity", () => {
  it("flowIdentity of a flow dumped from the switch equals the compiler's DesiredFlow.key", async () => {
    const desired = await brInt();
    const dumped = dumpThroughSwitch(desired);
    expect(dumped).toHaveLength(desired.length);
    const keys = new Set(desired.map((f) => f.key));
    for (const f of dumped)
      expect(keys.has(flowIdentity(f.tableId, f.priority, f.match))).toBe(true);
  });

  it("ignores the order of match fields (the canonical OVS order decides)", () => {
    const a = statsOf(
      "table=3,priority=5,ip,nw_dst=203.0.113.5,dl_dst=fa:16:3e:00:00:01,actions=drop",
    );
    const b = statsOf(
      "table=3,priority=5,dl_dst=fa:16:3e:00:00:01,ip,nw_dst=203.0.113.5,actions=drop",
    );
    expect(flowIdentity(a.tableId, a.priority, a.match)).toBe(
      flowIdentity(b.tableId, b.priority, b.match),
    );
    const c = statsOf(
      "table=3,priority=6,ip,nw_dst=203.0.113.5,dl_dst=fa:16:3e:00:00:01,actions=drop",
    );
    expect(flowIdentity(c.tableId, c.priority, c.match)).not.toBe(
      flowIdentity(a.tableId, a.priority, a.match),
    );
  });
});

describe("diffFlows", () => {
  it("an installed set equal to the desired one (dumped by the switch) needs nothing", async () => {
    const desired = await brInt();
    const d = diffFlows(desired, dumpThroughSwitch(desired), PREFIX);
    expect([d.add.length, d.modify.length, d.delete.length]).toEqual([0, 0, 0]);
    expect(d.unchanged).toBe(desired.length);
  });

  it("adds what is missing, re-adds what has other actions or another cookie, deletes strays of ours", async () => {
    const desired = await brInt();
    const [gone, changed, recookied, ...rest] = desired;
    const installed = [
      ...rest.map((f) => asInstalled(f)),
      asInstalled(changed!, { instructions: [] }),
      asInstalled(recookied!, { cookie: recookied!.cookie ^ 0x10000n }),
      statsOf("cookie=0xd503000000010000,table=4,priority=1,tun_id=0x999,actions=drop"),
    ];
    const d = diffFlows(desired, installed, PREFIX);
    expect(d.add).toEqual([gone]);
    expect(d.modify).toEqual([changed, recookied]);
    expect(d.delete.map((f) => f.cookie)).toEqual([0xd503000000010000n]);
  });

  it("never touches flows without our prefix, nor flows the switch learned", async () => {
    const desired = await brInt();
    const installed = [
      ...desired.map((f) => asInstalled(f)),
      statsOf("cookie=0x1234,table=60,priority=3,actions=drop"),
      statsOf("table=0,priority=65000,actions=drop"),
      {
        ...statsOf(
          "table=20,priority=1,hard_timeout=300,dl_vlan=1,dl_dst=fa:16:3e:aa:00:09,actions=output:10",
        ),
        cookie: learnedCookie(PREFIX),
      },
    ];
    const d = diffFlows(desired, installed, PREFIX);
    expect(d.delete).toEqual([]);
    expect(d.ignored).toEqual({ learned: 1, foreign: 2 });
    // Another controller's prefix is foreign too.
    expect(
      diffFlows([], [statsOf("cookie=0xd601000000000000,priority=1,actions=drop")], PREFIX).delete,
    ).toEqual([]);
  });
});

describe("reconcileBridge", () => {
  it("sends zero FLOW_MODs (and no barrier) when the switch already has the desired flows", async () => {
    const desired = await brInt();
    const ch = new FakeChannel(() => dumpThroughSwitch(desired));
    const r = await reconcileBridge(ch, desired, { cookiePrefix: PREFIX });
    expect(ch.fences).toEqual([]);
    expect(ch.requests).toEqual([]);
    expect(r.sent).toEqual({ add: 0, modify: 0, delete: 0 });
    expect(r.canaryMissing).toBe(false);
  });

  it("without bundles: adds and modifies, barrier, then deletes as DELETE_STRICT on the exact cookie, barrier", async () => {
    const desired = await brInt();
    const [gone, ...rest] = desired;
    const stray = statsOf(
      "cookie=0xd509000000020000,table=42,priority=100,ip,metadata=0x7/0xfff,nw_dst=203.0.113.60,actions=drop",
    );
    const ch = new FakeChannel(() => [...rest.map((f) => asInstalled(f)), stray]);
    const support = { supported: undefined as boolean | undefined };
    const r = await reconcileBridge(ch, desired, { cookiePrefix: PREFIX, bundleSupport: support });
    expect(support.supported).toBe(false);
    expect(r.usedBundle).toBe(false);
    expect(ch.fences).toHaveLength(2);
    const [adds, dels] = ch.fences as [OfMessage[], OfMessage[]];
    expect(adds).toHaveLength(1);
    expect(adds[0]!.type === "flow_mod" && adds[0]!.command).toBe(OFPFC.ADD);
    expect(adds[0]!.type === "flow_mod" && adds[0]!.cookie).toBe(gone!.cookie);
    expect(dels).toHaveLength(1);
    const del = dels[0]!;
    expect(
      del.type === "flow_mod" && [
        del.command,
        del.cookie,
        del.cookieMask,
        del.tableId,
        del.priority,
      ],
    ).toEqual([OFPFC.DELETE_STRICT, 0xd509000000020000n, 0xffff_ffff_ffff_ffffn, 42, 100]);
    // The next run knows bundles are refused and does not ask again.
    await reconcileBridge(ch, desired, { cookiePrefix: PREFIX, bundleSupport: support });
    expect(ch.requests.filter((m) => m.type === "bundle_ctrl")).toHaveLength(1);
  });

  it("sends no deletes when an add was refused", async () => {
    const desired = await brInt();
    const [gone, ...rest] = desired;
    const stray = statsOf(
      "cookie=0xd509000000020000,table=42,priority=100,ip,metadata=0x7/0xfff,nw_dst=203.0.113.60,actions=drop",
    );
    const ch = new FakeChannel(
      () => [...rest.map((f) => asInstalled(f)), stray],
      false,
      () => true,
    );
    const r = await reconcileBridge(ch, desired, { cookiePrefix: PREFIX, bundles: "never" });
    expect(r.errors).toHaveLength(1);
    expect(ch.fences).toHaveLength(1);
    expect(gone).toBeDefined();
  });

  it("with bundles: OPEN, one BUNDLE_ADD per change (upserts first), COMMIT, then a barrier", async () => {
    const desired = await brInt();
    const [gone, ...rest] = desired;
    const stray = statsOf(
      "cookie=0xd509000000020000,table=42,priority=100,ip,metadata=0x7/0xfff,nw_dst=203.0.113.60,actions=drop",
    );
    const ch = new FakeChannel(() => [...rest.map((f) => asInstalled(f)), stray], true);
    const r = await reconcileBridge(ch, desired, { cookiePrefix: PREFIX, bundleId: 7 });
    expect(r.usedBundle).toBe(true);
    expect(ch.requests.map((m) => m.type === "bundle_ctrl" && m.ctrlType)).toEqual([
      OFPBCT.OPEN_REQUEST,
      OFPBCT.COMMIT_REQUEST,
    ]);
    expect(ch.fences.map((f) => f.length)).toEqual([2, 0]);
    const inner = ch.fences[0]!.map((m) =>
      m.type === "bundle_add" && m.bundleId === 7 && m.message.type === "flow_mod"
        ? m.message.command
        : -1,
    );
    expect(inner).toEqual([OFPFC.ADD, OFPFC.DELETE_STRICT]);
    expect(gone).toBeDefined();
    // The bundle messages encode (the inner FLOW_MOD inside an ONF experimenter message).
    expect(decodeMessage(encodeMessage(ch.fences[0]![0]!), { strict: false }).type).toBe(
      "bundle_add",
    );
  });

  it("a failed dump is 'unknown': nothing is sent, above all no delete", async () => {
    const desired = await brInt();
    const ch = new FakeChannel(() => {
      throw new Error("connection closed");
    });
    await expect(reconcileBridge(ch, desired, { cookiePrefix: PREFIX })).rejects.toBeInstanceOf(
      DumpFailedError,
    );
    expect(ch.fences).toEqual([]);
  });

  it("reports a switch that lost its flows (canary missing) and installs everything", async () => {
    const desired = await brInt();
    const ch = new FakeChannel(() => []);
    const r = await reconcileBridge(ch, desired, { cookiePrefix: PREFIX, bundles: "never" });
    expect(r.canaryMissing).toBe(true);
    expect(ch.flowMods).toHaveLength(desired.length);
  });
});
