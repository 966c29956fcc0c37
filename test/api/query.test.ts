/**
 * Query parameters are checked before anything runs (src/api/query.ts):
 * a write whose query is wrong answers 400 naming the parameter and what it
 * takes, and commits nothing. A controller with no switch connected is
 * enough: a bad query must not reach the commit at all.
 */
import { pino } from "pino";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { parseDuration, parseQuery, QueryError, durationParam } from "../../src/api/query.js";
import { buildApi } from "../../src/api/server.js";
import { Controller } from "../../src/controller/controller.js";
import { seededRandomBytes } from "../../src/store/mac-alloc.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { loadExample } from "../dvr/helpers.js";

interface Api {
  readonly app: FastifyInstance;
  readonly ctl: Controller;
  readonly store: SqliteStore;
}

const open: Api[] = [];
afterEach(async () => {
  for (const a of open.splice(0)) {
    a.ctl.stop();
    await a.app.close();
    await a.store.close();
  }
});

async function api(): Promise<Api> {
  const store = new SqliteStore(":memory:", { macRandom: (h) => seededRandomBytes(h) });
  const ctl = new Controller({ store, log: pino({ level: "silent" }), auditIntervalMs: 0 });
  await ctl.init(loadExample("two-hosts.yaml"));
  const app = await buildApi(ctl, { defaultWaitMs: 2000 });
  const a = { app, ctl, store };
  open.push(a);
  return a;
}

/** The generation in the store itself (not only the controller's view). */
async function stored(a: Api): Promise<number> {
  return (await a.store.load())!.generation;
}

/** vm-a1 with port security off: a real change, so a commit would make generation 2. */
const VM_A1_CHANGED = {
  network: "blue",
  host: "compute-1",
  interface: "tap-vm-a1",
  mac_address: "fa:16:3e:aa:00:01",
  fixed_ips: ["203.0.113.10"],
  port_security: false,
};

interface BadQuery {
  readonly error: string;
  readonly parameter: string;
  readonly message: string;
}

describe("a write with a bad query answers 400 and commits nothing", () => {
  const cases: [string, string, string, RegExp][] = [
    // [query, method+path, parameter named, message]
    ["wait=applied&timeout=abc", "PUT /v1/ports/vm-a1", "timeout", /timeout takes a duration/],
    ["wait=applied&timeout=-1s", "PUT /v1/ports/vm-a1", "timeout", /timeout takes a duration/],
    ["wait=applied&timeout=2h", "PUT /v1/ports/vm-a1", "timeout", /at most 3600s/],
    ["timeout=10s", "PUT /v1/ports/vm-a1", "timeout", /timeout goes with wait=applied/],
    ["wait=true", "PUT /v1/ports/vm-a1", "wait", /wait takes "applied"/],
    ["wait=", "PUT /v1/ports/vm-a1", "wait", /wait takes "applied"/],
    ["wait=applied&wait=applied", "PUT /v1/ports/vm-a1", "wait", /more than once/],
    ["dry_run=maybe", "PUT /v1/ports/vm-a1", "dry_run", /dry_run takes true .* or false/],
    ["dry_run=true&wait=applied", "PUT /v1/ports/vm-a1", "wait", /nothing to wait for/],
    ["dryrun=true", "PUT /v1/ports/vm-a1", "dryrun", /unknown query parameter "dryrun"/],
    ["force=1", "PUT /v1/config", "force", /takes wait, timeout, dry_run/],
    ["dry_run=2", "DELETE /v1/ports/vm-a1", "dry_run", /dry_run takes/],
    ["wait=yes", "DELETE /v1/routers/r1/interfaces/red-v4", "wait", /wait takes "applied"/],
    ["dry_run=on", "PUT /v1/routers/r1/interfaces/red-v4", "dry_run", /dry_run takes/],
  ];
  it.each(cases)("?%s on %s", async (query, route, parameter, message) => {
    const a = await api();
    const [method, path] = route.split(" ") as ["PUT" | "DELETE", string];
    const payload =
      method === "DELETE"
        ? undefined
        : path === "/v1/config"
          ? (await a.app.inject({ method: "GET", url: "/v1/config" })).json<{ config: unknown }>()
              .config
          : path.includes("/interfaces/")
            ? { mac_address: "fa:16:3e:00:02:02" }
            : VM_A1_CHANGED;
    const res = await a.app.inject({
      method,
      url: `${path}?${query}`,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json<BadQuery>();
    expect(body.error).toBe("bad_query");
    expect(body.parameter).toBe(parameter);
    expect(body.message).toMatch(message);
    expect(a.ctl.generation).toBe(1);
    expect(await stored(a)).toBe(1);
  });

  it("the same write with a good query commits (the cases above fail on their query alone)", async () => {
    const a = await api();
    const res = await a.app.inject({
      method: "PUT",
      url: "/v1/ports/vm-a1?wait=applied&timeout=1s",
      payload: VM_A1_CHANGED,
    });
    // Committed; no switch is connected, so nothing confirmed it: 202, not 200.
    expect(res.statusCode, res.body).toBe(202);
    expect(await stored(a)).toBe(2);
  });

  it("dry_run=1, yes, TRUE and the bare name are dry runs; 0, no and false commit", async () => {
    const a = await api();
    for (const q of ["dry_run=1", "dry_run=yes", "dry_run=TRUE", "dry_run", "dry_run=true"]) {
      const res = await a.app.inject({
        method: "PUT",
        url: `/v1/ports/vm-a1?${q}`,
        payload: VM_A1_CHANGED,
      });
      expect(res.statusCode, `${q}: ${res.body}`).toBe(200);
      expect(res.json<{ dry_run: boolean; changed: boolean }>()).toMatchObject({
        dry_run: true,
        changed: true,
      });
      expect(await stored(a), q).toBe(1);
    }
    let generation = 1;
    for (const q of ["dry_run=0", "dry_run=no", "dry_run=false"]) {
      const res = await a.app.inject({
        method: "PUT",
        url: `/v1/ports/vm-a1?${q}`,
        // A new change each time, so each commit makes a generation.
        payload: { ...VM_A1_CHANGED, port_security: generation % 2 === 0 },
      });
      expect(res.statusCode, `${q}: ${res.body}`).toBe(202);
      generation++;
      expect(await stored(a), q).toBe(generation);
    }
  });

  it("read routes refuse unknown parameters and values too", async () => {
    const a = await api();
    const status = await a.app.inject({ method: "GET", url: "/v1/status?verbose=1" });
    expect(status.statusCode).toBe(400);
    expect(status.json<BadQuery>().message).toBe(
      'unknown query parameter "verbose": this route takes none',
    );
    const desired = await a.app.inject({
      method: "GET",
      url: "/v1/switches/compute-1/br-int/desired?format=yaml",
    });
    expect(desired.statusCode).toBe(400);
    expect(desired.json<BadQuery>()).toMatchObject({ parameter: "format" });
    expect(desired.json<BadQuery>().message).toMatch(/format takes "ofctl" or "json"/);
    const json = await a.app.inject({
      method: "GET",
      url: "/v1/switches/compute-1/br-int/desired?format=json",
    });
    expect(json.statusCode).toBe(200);
    expect(Array.isArray(json.json())).toBe(true);
  });

  it("the OpenAPI document lists each write parameter with what it takes", async () => {
    const a = await api();
    const doc = (await a.app.inject({ method: "GET", url: "/docs/json" })).json<{
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
    }>();
    const params = doc.paths["/v1/ports/{name}"]!.put!.parameters!.filter((p) => p.in === "query");
    expect(params.map((p) => p.name).sort()).toEqual(["dry_run", "timeout", "wait"]);
  });
});

describe("query.ts", () => {
  it("reads durations in ms, s, m and plain seconds", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("7")).toBe(7000);
    expect(parseDuration("7h")).toBeUndefined();
    expect(parseDuration("")).toBeUndefined();
  });

  it("names the parameter in its error", () => {
    const spec = { timeout: durationParam("t", 10_000) };
    expect(parseQuery(spec, { timeout: "5s" })).toEqual({ timeout: 5000 });
    expect(() => parseQuery(spec, { timeout: "11s" })).toThrow(QueryError);
    try {
      parseQuery(spec, { other: "x" });
      expect.unreachable();
    } catch (e) {
      expect((e as QueryError).param).toBe("other");
    }
  });
});
