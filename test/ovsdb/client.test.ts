/**
 * The OVSDB client against a scripted fake server (echo from the server,
 * timeouts, loss, errors) and against a real private ovsdb-server (list_dbs,
 * get_schema, transact with named-uuid, atomic failure, wait, monitor with
 * updates caused by ovs-vsctl, a TCP remote whose inactivity probe our echo
 * replies satisfy).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OvsdbClient, type TableUpdates } from "../../src/ovsdb/client.js";
import { namedUuid, ovsSet, ovsStringMap, readUuid } from "../../src/ovsdb/datum.js";
import {
  OvsdbConnectionError,
  OvsdbRpcError,
  OvsdbTimeoutError,
  OvsdbTransactionError,
} from "../../src/ovsdb/errors.js";
import { JsonStreamParser } from "../../src/ovsdb/json-stream.js";
import { parseOvsdbRemote } from "../../src/ovsdb/remote.js";
import {
  freePort,
  ovsdbAvailable,
  startOvsdbServer,
  VSWITCH_SCHEMA,
  type PrivateOvsdb,
} from "./ovsdb-server.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("parseOvsdbRemote", () => {
  it("reads OVS remote syntax", () => {
    expect(parseOvsdbRemote("tcp:127.0.0.1:6641")).toEqual({
      kind: "tcp",
      host: "127.0.0.1",
      port: 6641,
    });
    expect(parseOvsdbRemote("tcp:198.51.100.7")).toEqual({
      kind: "tcp",
      host: "198.51.100.7",
      port: 6640,
    });
    expect(parseOvsdbRemote("tcp:[::1]:6640")).toEqual({ kind: "tcp", host: "::1", port: 6640 });
    expect(parseOvsdbRemote("unix:/var/run/openvswitch/db.sock")).toEqual({
      kind: "unix",
      path: "/var/run/openvswitch/db.sock",
    });
    expect(() => parseOvsdbRemote("ssl:127.0.0.1:6640")).toThrow(/not supported/);
    expect(() => parseOvsdbRemote("ptcp:6640")).toThrow(/tcp:HOST/);
    expect(() => parseOvsdbRemote("tcp:127.0.0.1:99999")).toThrow(/bad port/);
  });
});

/** A fake server on a unix socket: records what it receives, lets the test write raw bytes. */
class FakeServer {
  readonly received: unknown[] = [];
  socket: Socket | undefined;
  private readonly server: Server;
  private waiters: (() => void)[] = [];
  constructor(readonly path: string) {
    this.server = createServer((s) => {
      this.socket = s;
      const p = new JsonStreamParser();
      s.on("data", (c) => {
        this.received.push(...p.push(c));
        for (const w of this.waiters.splice(0)) w();
      });
      s.on("error", () => {});
    });
  }
  listen(): Promise<void> {
    return new Promise((r) => this.server.listen(this.path, r));
  }
  async nextMessage(n: number): Promise<unknown> {
    while (this.received.length <= n) await new Promise<void>((r) => this.waiters.push(r));
    return this.received[n];
  }
  close(): Promise<void> {
    this.socket?.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe("OvsdbClient against a scripted server", () => {
  let dir: string;
  let fake: FakeServer;
  let client: OvsdbClient;

  const setup = async (opts: { requestTimeoutMs?: number } = {}) => {
    dir = mkdtempSync(join(tmpdir(), "dvrflow-fake-ovsdb-"));
    fake = new FakeServer(join(dir, "s.sock"));
    await fake.listen();
    client = await OvsdbClient.connect(`unix:${fake.path}`, opts);
    while (fake.socket === undefined) await sleep(5);
  };
  afterEach(async () => {
    await client?.close();
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers the server's echo with the same params and id, even with a request pending", async () => {
    await setup();
    const pending = client.listDbs();
    const req = (await fake.nextMessage(0)) as { id: number; method: string };
    expect(req.method).toBe("list_dbs");
    // Server probe split across writes, glued to nothing else.
    fake.socket!.write('{"method":"echo","par');
    fake.socket!.write('ams":["x",{"y":"}"}],"id":"echo"}');
    expect(await fake.nextMessage(1)).toEqual({
      result: ["x", { y: "}" }],
      error: null,
      id: "echo",
    });
    expect(client.echoesAnswered).toBe(1);
    fake.socket!.write(JSON.stringify({ id: req.id, result: ["Open_vSwitch"], error: null }));
    expect(await pending).toEqual(["Open_vSwitch"]);
  });

  it("times out a request, then ignores its late reply", async () => {
    await setup({ requestTimeoutMs: 100 });
    const t0 = Date.now();
    await expect(client.listDbs()).rejects.toBeInstanceOf(OvsdbTimeoutError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    const late = (await fake.nextMessage(0)) as { id: number };
    fake.socket!.write(JSON.stringify({ id: late.id, result: ["late"], error: null }));
    const next = client.listDbs();
    const req = (await fake.nextMessage(1)) as { id: number };
    expect(req.id).not.toBe(late.id);
    fake.socket!.write(JSON.stringify({ id: req.id, result: ["fresh"], error: null }));
    expect(await next).toEqual(["fresh"]);
  });

  it("turns error replies into OvsdbRpcError, transact op errors into OvsdbTransactionError", async () => {
    await setup();
    const p1 = client.getSchema("nope");
    const r1 = (await fake.nextMessage(0)) as { id: number; params: unknown[] };
    expect(r1.params).toEqual(["nope"]);
    fake.socket!.write(
      JSON.stringify({
        id: r1.id,
        result: null,
        error: { error: "unknown database", details: "nope" },
      }),
    );
    await expect(p1).rejects.toThrow(OvsdbRpcError);
    await expect(p1).rejects.toThrow(/unknown database \(nope\)/);

    const p2 = client.transact("Open_vSwitch", [
      { op: "insert", table: "Bridge", row: { name: "br0" } },
      { op: "comment", comment: "x" },
    ]);
    const r2 = (await fake.nextMessage(1)) as { id: number; params: unknown[] };
    expect(r2.params[0]).toBe("Open_vSwitch");
    fake.socket!.write(
      JSON.stringify({
        id: r2.id,
        result: [{ uuid: ["uuid", "u"] }, {}, { error: "constraint violation", details: "dup" }],
        error: null,
      }),
    );
    const e = await p2.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OvsdbTransactionError);
    expect((e as OvsdbTransactionError).failures).toEqual([
      { index: 2, op: "commit", error: "constraint violation", details: "dup" },
    ]);
  });

  it("fails pending requests when the connection drops or the stream is corrupt", async () => {
    await setup();
    const p = client.listDbs();
    await fake.nextMessage(0);
    fake.socket!.destroy();
    await expect(p).rejects.toBeInstanceOf(OvsdbConnectionError);
    expect(await client.closed()).toBeInstanceOf(OvsdbConnectionError);
    await expect(client.listDbs()).rejects.toBeInstanceOf(OvsdbConnectionError);

    await client.close();
    await fake.close();
    await setup();
    const q = client.listDbs();
    await fake.nextMessage(0);
    fake.socket!.write("not json");
    await expect(q).rejects.toThrow(/between JSON-RPC messages/);
  });

  it("reports a refused connection clearly", async () => {
    await setup();
    await expect(OvsdbClient.connect(`unix:${join(dir, "absent.sock")}`)).rejects.toBeInstanceOf(
      OvsdbConnectionError,
    );
  });
});

describe.skipIf(!ovsdbAvailable())("OvsdbClient against ovsdb-server", () => {
  let srv: PrivateOvsdb;
  let client: OvsdbClient;
  beforeAll(async () => {
    srv = await startOvsdbServer();
    client = await OvsdbClient.connect(srv.remote);
  });
  afterAll(async () => {
    await client?.close();
    await srv?.stop();
  });

  it("lists databases and fetches the schema ovsdb-tool reports", async () => {
    expect(await client.listDbs()).toContain("Open_vSwitch");
    const schema = await client.getSchema("Open_vSwitch");
    const version = spawnSync("ovsdb-tool", ["schema-version", VSWITCH_SCHEMA], {
      encoding: "utf8",
    });
    expect(schema.version).toBe(version.stdout.trim());
    expect(Object.keys(schema.tables)).toEqual(
      expect.arrayContaining(["Bridge", "Port", "Interface"]),
    );
    await expect(client.getSchema("NoSuchDb")).rejects.toThrow(OvsdbRpcError);
  });

  it("commits a transaction with named-uuid references that ovs-vsctl then sees", async () => {
    const r = await client.transact("Open_vSwitch", [
      { op: "insert", table: "Interface", row: { name: "t0", type: "internal" }, "uuid-name": "i" },
      {
        op: "insert",
        table: "Port",
        row: { name: "t0", interfaces: namedUuid("i") },
        "uuid-name": "p",
      },
      {
        op: "insert",
        table: "Bridge",
        row: {
          name: "t0",
          ports: ovsSet([namedUuid("p")]),
          other_config: ovsStringMap({ a: "b" }),
        },
        "uuid-name": "b",
      },
      { op: "insert", table: "Open_vSwitch", row: { bridges: ovsSet([namedUuid("b")]) } },
      {
        op: "select",
        table: "Bridge",
        where: [["name", "==", "t0"]],
        columns: ["name", "other_config"],
      },
    ]);
    expect(r).toHaveLength(5);
    const bridgeUuid = readUuid(r[2]!.uuid);
    expect(r[4]!.rows).toEqual([{ name: "t0", other_config: ["map", [["a", "b"]]] }]);
    expect(srv.vsctl("list-br").trim()).toBe("t0");
    expect(srv.vsctl("get", "bridge", "t0", "_uuid").trim()).toBe(bridgeUuid);
    expect(srv.vsctl("get", "bridge", "t0", "other_config:a").trim()).toBe("b");
  });

  it("rejects a whole transaction when one operation fails, and wait checks state", async () => {
    const before = srv.vsctl("list-br");
    const e = await client
      .transact("Open_vSwitch", [
        {
          op: "mutate",
          table: "Bridge",
          where: [["name", "==", "t0"]],
          mutations: [["flood_vlans", "insert", ovsSet([5])]],
        },
        // A second reachable bridge "t0" violates the Bridge name index at commit.
        { op: "insert", table: "Bridge", row: { name: "t0" }, "uuid-name": "dup" },
        {
          op: "mutate",
          table: "Open_vSwitch",
          where: [],
          mutations: [["bridges", "insert", ovsSet([namedUuid("dup")])]],
        },
      ])
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OvsdbTransactionError);
    expect((e as OvsdbTransactionError).failures[0]).toMatchObject({ op: "commit", index: 3 });
    expect(srv.vsctl("list-br")).toBe(before);
    expect(srv.vsctl("get", "bridge", "t0", "flood_vlans").trim()).toBe("[]");

    const wait = (value: string) =>
      client.transact("Open_vSwitch", [
        {
          op: "wait",
          table: "Bridge",
          where: [["name", "==", "t0"]],
          columns: ["other_config"],
          until: "==",
          rows: [{ other_config: ovsStringMap({ a: value }) }],
          timeout: 0,
        },
      ]);
    await expect(wait("b")).resolves.toHaveLength(1);
    await expect(wait("c")).rejects.toThrow(/timed out/);
  });

  it("monitors a table: initial rows, then updates made by another client", async () => {
    const updates: TableUpdates[] = [];
    const initial = await client.monitor(
      "Open_vSwitch",
      "plumb-test",
      { Bridge: { columns: ["name", "fail_mode"] } },
      (u) => updates.push(u),
    );
    const names = Object.values(initial.Bridge ?? {}).map((r) => r.new?.name);
    expect(names).toContain("t0");
    srv.vsctl("set-fail-mode", "t0", "secure");
    srv.vsctl("add-br", "t2");
    while (updates.length < 2) await sleep(10);
    const rows = updates.flatMap((u) => Object.values(u.Bridge ?? {}));
    expect(rows).toContainEqual({
      new: { name: "t0", fail_mode: "secure" },
      old: { fail_mode: ["set", []] },
    });
    expect(rows.some((r) => r.old === undefined && r.new?.name === "t2")).toBe(true);
    await client.monitorCancel("plumb-test");
    srv.vsctl("del-br", "t2");
    await client.echo(); // a round trip: any update would have arrived before its reply
    expect(updates).toHaveLength(2);
  });

  it("keeps a TCP session alive across ovsdb-server's inactivity probes (and a mute peer is dropped)", async () => {
    const port = await freePort();
    // Manager rows are remotes of the server (--remote=db:…manager_options).
    srv.vsctl(
      "--",
      "--id=@m",
      "create",
      "Manager",
      `target="ptcp:${port}:127.0.0.1"`,
      "inactivity_probe=1000",
      "--",
      "add",
      "Open_vSwitch",
      ".",
      "manager_options",
      "@m",
    );
    let tcp: OvsdbClient | undefined;
    for (let i = 0; i < 100 && tcp === undefined; i++) {
      tcp = await OvsdbClient.connect(`tcp:127.0.0.1:${port}`).catch(async () => {
        await sleep(20);
        return undefined;
      });
    }
    expect(tcp).toBeDefined();
    // A raw socket that never answers, as negative control.
    const mute = connect({ host: "127.0.0.1", port });
    let muteClosedAt = 0;
    mute.on("close", () => (muteClosedAt = Date.now()));
    mute.on("data", () => {});
    const t0 = Date.now();
    // OVS probes after 1 s idle (its minimum) and drops a peer silent for 1 s more.
    await sleep(3500);
    expect(tcp!.echoesAnswered).toBeGreaterThan(0);
    expect(tcp!.closeReason).toBeUndefined();
    expect(await tcp!.listDbs()).toContain("Open_vSwitch");
    expect(muteClosedAt).toBeGreaterThan(t0);
    expect(await tcp!.echo()).toBeGreaterThanOrEqual(0);
    await tcp!.close();
  });
});
