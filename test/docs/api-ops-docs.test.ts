/**
 * Docs that cannot go stale: every route the API registers is in
 * docs/api.md's endpoint table (and every route there exists), every metric
 * of src/metrics.ts is in docs/operations.md's metrics table (and no other),
 * and every pino `event` logged anywhere in src/ is in its events table.
 * The lists come from the code itself: the routes fastify registered, the
 * metric names and `event: "…"` strings as written in the sources.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OBJECT_KINDS } from "../../src/api/objects.js";
import { apiRoutes, buildApi, type ApiRoute } from "../../src/api/server.js";
import { Controller } from "../../src/controller/controller.js";
import { seededRandomBytes } from "../../src/store/mac-alloc.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { loadExample, ROOT } from "../dvr/helpers.js";

const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

/** The markdown table that follows `heading` (its rows, header and rule excluded). */
function tableAfter(doc: string, heading: RegExp): string[] {
  const lines = doc.split("\n");
  const at = lines.findIndex((l) => heading.test(l));
  if (at < 0) throw new Error(`no heading ${heading}`);
  const start = lines.findIndex((l, i) => i > at && l.startsWith("|"));
  const rows: string[] = [];
  for (let i = start; i < lines.length && lines[i]!.startsWith("|"); i++) rows.push(lines[i]!);
  return rows.slice(2);
}

/** Backticked spans of a markdown cell. */
const codeSpans = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f));
}

describe("docs/api.md lists exactly the routes the API serves", () => {
  let routes: readonly ApiRoute[];
  let close: () => Promise<void>;
  beforeAll(async () => {
    const store = new SqliteStore(":memory:", { macRandom: (h) => seededRandomBytes(h) });
    const ctl = new Controller({ store, log: pino({ level: "silent" }), auditIntervalMs: 0 });
    await ctl.init(loadExample("two-hosts.yaml"));
    const app = await buildApi(ctl);
    await app.ready();
    routes = apiRoutes(app);
    close = async () => {
      ctl.stop();
      await app.close();
      await store.close();
    };
  });
  afterAll(() => close());

  /**
   * The endpoint table's `METHOD[/METHOD] /path` spans as matchers:
   * `{kind}` is one of the object kinds, any other `{param}` a route
   * parameter (`:name`).
   */
  function documented(): { text: string; method: string; path: RegExp }[] {
    const out: { text: string; method: string; path: RegExp }[] = [];
    for (const row of tableAfter(read("docs/api.md"), /^## Endpoints/)) {
      const firstCell = row.split("|")[1] ?? "";
      for (const span of codeSpans(firstCell)) {
        const m = /^([A-Z/]+) (\/\S*)$/.exec(span);
        if (m === null) continue;
        const pattern = m[2]!
          .split("/")
          .map((seg) =>
            seg === "{kind}"
              ? `(${OBJECT_KINDS.join("|")})`
              : /^\{\w+\}$/.test(seg)
                ? ":\\w+"
                : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
          )
          .join("/");
        for (const method of m[1]!.split("/"))
          out.push({ text: span, method, path: new RegExp(`^${pattern}$`) });
      }
    }
    return out;
  }

  it("the table is found and read", () => {
    expect(documented().length).toBeGreaterThan(10);
    expect(routes.length).toBeGreaterThan(10);
  });

  it("every registered route is documented", () => {
    const missing = routes
      .filter((r) => !documented().some((d) => d.method === r.method && d.path.test(r.url)))
      .map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
  });

  it("every documented route is registered", () => {
    const stale = documented()
      .filter((d) => !routes.some((r) => d.method === r.method && d.path.test(r.url)))
      .map((d) => `${d.method} (${d.text})`);
    expect(stale).toEqual([]);
  });
});

describe("docs/operations.md", () => {
  const ops = read("docs/operations.md");

  it("the metrics table has exactly the metrics src/metrics.ts registers", () => {
    const inCode = [...read("src/metrics.ts").matchAll(/\bname: "([a-z_]+)"/g)].map((m) => m[1]!);
    expect(inCode.length).toBeGreaterThan(10);
    const inDocs = tableAfter(ops, /^## Metrics/).map((row) => codeSpans(row.split("|")[1]!)[0]);
    expect([...inDocs].sort()).toEqual([...inCode].sort());
  });

  it("the events table names every event logged in src/", () => {
    const inCode = new Set<string>();
    for (const f of sources("src")) {
      for (const m of read(f).matchAll(/\bevent:\s*"([a-z_.]+)"/g)) inCode.add(m[1]!);
    }
    expect(inCode.size).toBeGreaterThan(20);
    const rows = tableAfter(ops, /^## Logs/);
    const inDocs = new Set(rows.flatMap((row) => codeSpans(row.split("|")[2] ?? "")));
    expect([...inCode].filter((e) => !inDocs.has(e)).sort()).toEqual([]);
    // And no event the code no longer logs (dotted names: the table also names fields).
    const dotted = [...inDocs].filter((e) => /^[a-z_]+(\.[a-z_]+)+$/.test(e));
    expect(dotted.filter((e) => !inCode.has(e)).sort()).toEqual([]);
  });
});
