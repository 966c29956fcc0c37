/**
 * The northbound REST API (fastify 5, OpenAPI 3 document at `/docs`),
 * ecosystem.md §4.3:
 *
 *   GET  /v1/config                    the whole topology + generation (ETag)
 *   PUT  /v1/config                    replace it (If-Match: generation)
 *   GET  /v1/{kind}[/{name}]           hosts, networks, subnets, routers, ports
 *   PUT  /v1/{kind}/{name}             create or replace one object
 *   DELETE /v1/{kind}/{name}           delete one object
 *   PUT|DELETE /v1/routers/{r}/interfaces/{subnet}
 *   GET  /v1/status                    per host and bridge: connected, synced generation, flows
 *   GET  /v1/switches/{host}/{bridge}/flows|desired|diff
 *   POST /v1/trace                     a packet through the compiled tables, host to host
 *   GET  /healthz, /readyz
 *
 * Query parameters are checked before anything runs (query.ts): an unknown
 * parameter or value is a 400 naming it, never a write that half-understood
 * what it was asked.
 *
 * Writes: every change is validated as a whole document (zod schema and
 * cross-object rules) and committed atomically; a rejected change answers
 * 422 with the issues located by object path and changes nothing; a stale
 * If-Match answers 412. Without `wait` a write answers 202 {generation};
 * with `?wait=applied` it waits until no bridge is still on its way to that
 * generation (Controller.waitApplied) and answers 200 only when every
 * bridge of the topology applied it (barrier-confirmed): 502 when a switch
 * refused flows or cannot be programmed, 504 with the bridges still pending
 * after `timeout` (default 30s), 202 when the rest applied it and some
 * bridges are not connected (nothing confirmed there: they are reconciled
 * when they connect).
 *
 * `?dry_run=true` on any write validates the same way and answers 200 with
 * what the commit would do (Controller.dryRun, controller/dry-run.ts): per
 * host and bridge, the flows added, modified and deleted against the
 * desired set in force and against the switch (a live dump), the
 * allocations it would make and the hosts whose routers change. Nothing is
 * committed, allocated or sent; a stale If-Match is still a 412.
 *
 * Validation is zod's and query.ts's, not fastify's: route schemas are
 * there for the OpenAPI document only.
 */
import swagger from "@fastify/swagger";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { formatFlow } from "../../codec/text/index.js";
import type { Controller } from "../controller/controller.js";
import { diffFlows } from "../controller/reconcile.js";
import { formatDesiredFlow } from "../dvr/flow.js";
import { BRIDGE_NAMES, type BridgeName } from "../dvr/tables.js";
import { z } from "zod";
import { BRIDGE_APPLY_STATUS, type BridgeApplyStatus } from "../controller/controller.js";
import {
  DEFAULT_MAX_HOPS,
  runTopologyTrace,
  TRACE_FORMATS,
  TraceRequestError,
} from "../trace/index.js";
import {
  GenerationConflictError,
  HostMacAllocationError,
  LocalVlanExhaustedError,
} from "../store/store.js";
import { formatPath, hasErrors, TopologyError, type TopologyIssue } from "../topology/issues.js";
import { parseTopologyValue } from "../topology/loader.js";
import { TopologySchema, topologyToJson } from "../topology/schema.js";
import {
  deleteObject,
  deleteRouterInterface,
  getObject,
  INTERFACE_SCHEMA,
  jsonSchemaOf,
  OBJECT_KINDS,
  OBJECT_SCHEMAS,
  putObject,
  putRouterInterface,
} from "./objects.js";
import {
  booleanParam,
  durationParam,
  enumParam,
  parseQuery,
  QueryError,
  querySchema,
  type QuerySpec,
  type QueryValues,
} from "./query.js";
import { TRACE_RESPONSES, WRITE_RESPONSES } from "./write-replies.js";

export { parseDuration } from "./query.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route's query parameters (checked by the preValidation hook; none when absent). */
    query?: QuerySpec;
    /** Rules across the route's parameters, run after each was parsed; throw QueryError. */
    queryRules?: (values: Readonly<Record<string, unknown>>) => void;
  }
}

type Doc = Record<string, unknown>;

export interface ApiOptions {
  /** Default wait for `?wait=applied`, ms. Default 30000. */
  readonly defaultWaitMs?: number;
  /** Version string for the OpenAPI document. */
  readonly version?: string;
}

/** The longest `?timeout=` a write may wait. */
export const MAX_WAIT_MS = 3_600_000;
/** The most tunnels `POST /v1/trace` follows (`max_hops`). */
export const MAX_TRACE_HOPS = 64;

/** A method and URL pattern the app serves (`/v1/ports/:name`), as registered. */
export interface ApiRoute {
  readonly method: string;
  readonly url: string;
}

const ROUTES = new WeakMap<FastifyInstance, ApiRoute[]>();

/** Every route {@link buildApi} registered (HEAD twins of GET routes aside). */
export function apiRoutes(app: FastifyInstance): readonly ApiRoute[] {
  return ROUTES.get(app) ?? [];
}

function issuesJson(issues: readonly TopologyIssue[]) {
  return issues.map((i) => ({
    severity: i.severity,
    path: formatPath(i.path),
    message: i.message,
    ...(i.line === undefined ? {} : { line: i.line }),
  }));
}

const WRITE_QUERY = {
  wait: enumParam(
    ["applied"],
    "answer once no bridge is on its way to the new generation; 200 only when every bridge applied it",
  ),
  timeout: durationParam("how long wait=applied waits (default 30s)", MAX_WAIT_MS),
  dry_run: booleanParam(
    "commit nothing: validate and answer with the per-host, per-bridge flow diff " +
      "(desired now vs proposed, and what reconciliation would send to each switch)",
  ),
} as const satisfies QuerySpec;
type WriteQuery = QueryValues<typeof WRITE_QUERY>;

/** What the write parameters mean together; a combination that asks two things at once is a 400. */
function writeRules(v: Readonly<Record<string, unknown>>): void {
  const q = v as WriteQuery;
  if (q.timeout !== undefined && q.wait === undefined) {
    throw new QueryError(
      "timeout",
      "timeout goes with wait=applied: without wait a write answers 202 at once",
    );
  }
  if (q.dry_run === true && q.wait !== undefined) {
    throw new QueryError(
      "wait",
      "dry_run commits nothing, so there is nothing to wait for: drop wait or dry_run",
    );
  }
}

const WRITE_CONFIG = { query: WRITE_QUERY, queryRules: writeRules };

const FORMAT_QUERY = {
  format: enumParam(["ofctl", "json"], "ovs-ofctl text (default) or JSON"),
} as const satisfies QuerySpec;

/** `POST /v1/trace`'s body (ecosystem.md §4.3: `{host, microflow | packet_hex, format}`). */
const TraceBodySchema = z
  .strictObject({
    host: z.string().min(1).describe("the host the packet starts on"),
    microflow: z
      .string()
      .optional()
      .describe("ofproto/trace microflow; in_port may name a VM port or interface (in_port=vm-a1)"),
    packet_hex: z
      .string()
      .optional()
      .describe("a whole Ethernet frame in hex instead of one composed from the microflow"),
    format: z
      .enum(TRACE_FORMATS)
      .optional()
      .describe("text form of `text`: detailed (default), summary, minimal, json"),
    max_hops: z
      .number()
      .int()
      .min(0)
      .max(MAX_TRACE_HOPS)
      .optional()
      .describe(`tunnels to follow at most (default ${DEFAULT_MAX_HOPS})`),
  })
  .refine((b) => b.microflow !== undefined || b.packet_hex !== undefined, {
    message: "give microflow (with in_port=) or packet_hex",
  });

/** Bridges of a report whose status is in `statuses`, as `host/bridge`. */
function bridgesIn(
  bridges: readonly { host: string; bridge: string; status: BridgeApplyStatus }[],
  ...statuses: BridgeApplyStatus[]
): string[] {
  return bridges.filter((b) => statuses.includes(b.status)).map((b) => `${b.host}/${b.bridge}`);
}

/** Builds the API (not listening: call `listen` or use `inject`). */
export async function buildApi(
  ctl: Controller,
  options: ApiOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  const routes: ApiRoute[] = [];
  ROUTES.set(app, routes);
  app.addHook("onRoute", (r) => {
    for (const method of [r.method].flat())
      if (method !== "HEAD") routes.push({ method, url: r.url });
  });
  // Route schemas document the API; zod validates (see the module comment).
  app.setValidatorCompiler(() => () => true);
  // …and response schemas likewise: replies are sent as built, not filtered.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // Every /v1 route's query is checked before its handler: unknown
  // parameters and values are refused, whatever the route does.
  const queries = new WeakMap<FastifyRequest, Readonly<Record<string, unknown>>>();
  app.addHook("preValidation", async (req, reply) => {
    if (req.routeOptions.url?.startsWith("/v1/") !== true) return;
    const config = req.routeOptions.config;
    try {
      const values = parseQuery(config.query ?? {}, req.query);
      config.queryRules?.(values);
      queries.set(req, values);
    } catch (e) {
      if (!(e instanceof QueryError)) throw e;
      return reply.code(400).send({ error: "bad_query", parameter: e.param, message: e.message });
    }
  });
  /** The checked query of `req` (the hook ran: the route's spec applies). */
  const queryOf = <S extends QuerySpec>(req: FastifyRequest, _spec: S): QueryValues<S> =>
    (queries.get(req) ?? {}) as QueryValues<S>;
  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "dvrflow",
        description: "Distributed virtual routing on OpenFlow 1.3: topology, status and flows",
        version: options.version ?? "0.1.0",
      },
    },
  });
  const defaultWait = options.defaultWaitMs ?? 30_000;

  /** Validates and commits `next`, then answers as the module comment says. */
  async function write(
    req: FastifyRequest,
    reply: FastifyReply,
    next: Doc | undefined,
    notFound: string,
  ) {
    const query = queryOf(req, WRITE_QUERY);
    if (next === undefined) return reply.code(404).send({ error: "not_found", message: notFound });
    const parsed = parseTopologyValue(next);
    if (parsed.topology === undefined || hasErrors(parsed.issues)) {
      return reply.code(422).send({ error: "rejected", issues: issuesJson(parsed.issues) });
    }
    const warnings = issuesJson(parsed.issues);
    const ifMatch = req.headers["if-match"];
    let expectedGeneration: number | undefined;
    if (typeof ifMatch === "string") {
      expectedGeneration = Number(ifMatch.replace(/^W\//, "").replace(/"/g, ""));
      if (!Number.isInteger(expectedGeneration)) {
        return reply
          .code(400)
          .send({ error: "bad_request", message: `If-Match "${ifMatch}" is not a generation` });
      }
    }
    /** The answer to what a commit (or a dry run) throws; rethrows the unexpected. */
    const refused = (e: unknown) => {
      if (e instanceof GenerationConflictError) {
        return reply
          .code(412)
          .send({ error: "generation_conflict", expected: e.expected, generation: e.actual });
      }
      if (e instanceof TopologyError)
        return reply.code(422).send({ error: "rejected", issues: issuesJson(e.issues) });
      if (e instanceof HostMacAllocationError || e instanceof LocalVlanExhaustedError) {
        return reply.code(409).send({ error: "allocation_failed", message: e.message });
      }
      throw e;
    };
    if (query.dry_run === true) {
      try {
        // As the commit would: a writer holding a stale generation is told now.
        if (expectedGeneration !== undefined && expectedGeneration !== ctl.generation)
          throw new GenerationConflictError(expectedGeneration, ctl.generation);
        const report = await ctl.dryRun(parsed.topology);
        void reply.header("etag", `"${report.generation}"`);
        return reply.code(200).send({ ...report, warnings });
      } catch (e) {
        return refused(e);
      }
    }
    let generation: number;
    try {
      const snap = await ctl.apply(
        parsed.topology,
        expectedGeneration === undefined ? {} : { expectedGeneration },
      );
      generation = snap.generation;
    } catch (e) {
      return refused(e);
    }
    void reply.header("etag", `"${generation}"`);
    if (query.wait === undefined) return reply.code(202).send({ generation, warnings });
    const started = performance.now();
    const report = await ctl.waitApplied(generation, query.timeout ?? defaultWait);
    const bridges = report.bridges;
    const body = {
      generation,
      wait_ms: Math.round((performance.now() - started) * 10) / 10,
      applied: report.applied,
      bridges,
      warnings,
    };
    const S = BRIDGE_APPLY_STATUS;
    // A switch that will not apply it, whatever we wait: 502.
    const failure: [string, BridgeApplyStatus][] = [
      ["switch_refused", S.refused],
      ["switch_failed", S.failed],
      ["tunnel_unmapped", S.tunnelUnmapped],
    ];
    for (const [error, status] of failure) {
      if (bridges.some((b) => b.status === status)) {
        return reply.code(502).send({
          error,
          ...body,
          failed: bridgesIn(bridges, S.refused, S.failed, S.tunnelUnmapped),
        });
      }
    }
    if (!report.done) {
      return reply.code(504).send({
        error: "timeout",
        ...body,
        pending: bridgesIn(bridges, S.pending, S.waitingForPorts),
      });
    }
    // Committed and applied wherever a switch is connected; nothing confirmed elsewhere.
    if (!report.applied) {
      return reply.code(202).send({ ...body, not_connected: bridgesIn(bridges, S.notConnected) });
    }
    return reply.code(200).send(body);
  }

  const doc = () => topologyToJson(ctl.snapshot.topology) as Doc;

  app.get("/healthz", { schema: { summary: "liveness" } }, () => ({ ok: true }));
  app.get(
    "/readyz",
    { schema: { summary: "every configured bridge connected and synced" } },
    (_req, reply) => {
      const s = ctl.status();
      const pending: string[] = [];
      for (const [host, bridges] of Object.entries(s.hosts)) {
        for (const [bridge, b] of Object.entries(bridges)) {
          if (!b.connected || b.synced_generation !== s.generation)
            pending.push(`${host}/${bridge}`);
        }
      }
      return reply
        .code(pending.length === 0 ? 200 : 503)
        .send({ ready: pending.length === 0, generation: s.generation, pending });
    },
  );

  app.get("/docs", { schema: { hide: true } }, () => app.swagger());
  app.get("/docs/json", { schema: { hide: true } }, () => app.swagger());

  app.get("/v1/config", { schema: { summary: "the whole topology" } }, (_req, reply) => {
    void reply.header("etag", `"${ctl.generation}"`);
    return { generation: ctl.generation, config: doc() };
  });

  app.put<{ Body: unknown }>(
    "/v1/config",
    {
      config: WRITE_CONFIG,
      schema: {
        summary: "replace the whole topology",
        querystring: querySchema(WRITE_QUERY),
        body: jsonSchemaOf(TopologySchema),
        response: WRITE_RESPONSES,
      },
    },
    (req, reply) => write(req, reply, (req.body ?? {}) as Doc, ""),
  );

  app.get(
    "/v1/status",
    { schema: { summary: "per host and bridge: connection, sync, flows" } },
    () => ctl.status(),
  );

  for (const kind of OBJECT_KINDS) {
    app.get(`/v1/${kind}`, { schema: { summary: `all ${kind}` } }, () => ({
      generation: ctl.generation,
      [kind]: (doc()[kind] as Doc | undefined) ?? {},
    }));
    app.get<{ Params: { name: string } }>(
      `/v1/${kind}/:name`,
      { schema: { summary: `one of ${kind}` } },
      (req, reply) => {
        const o = getObject(doc(), kind, req.params.name);
        if (o === undefined)
          return reply
            .code(404)
            .send({ error: "not_found", message: `no ${kind} ${req.params.name}` });
        void reply.header("etag", `"${ctl.generation}"`);
        return o;
      },
    );
    app.put<{ Params: { name: string }; Body: unknown }>(
      `/v1/${kind}/:name`,
      {
        config: WRITE_CONFIG,
        schema: {
          summary: `create or replace one of ${kind}`,
          querystring: querySchema(WRITE_QUERY),
          body: jsonSchemaOf(OBJECT_SCHEMAS[kind]),
          response: WRITE_RESPONSES,
        },
      },
      (req, reply) =>
        write(req, reply, putObject(doc(), kind, req.params.name, req.body ?? {}), ""),
    );
    app.delete<{ Params: { name: string } }>(
      `/v1/${kind}/:name`,
      {
        config: WRITE_CONFIG,
        schema: {
          summary: `delete one of ${kind}`,
          querystring: querySchema(WRITE_QUERY),
          response: WRITE_RESPONSES,
        },
      },
      (req, reply) =>
        write(
          req,
          reply,
          deleteObject(doc(), kind, req.params.name),
          `no ${kind} ${req.params.name}`,
        ),
    );
  }

  app.put<{ Params: { name: string; subnet: string }; Body: unknown }>(
    "/v1/routers/:name/interfaces/:subnet",
    {
      config: WRITE_CONFIG,
      schema: {
        summary: "create or replace a router interface",
        querystring: querySchema(WRITE_QUERY),
        body: jsonSchemaOf(INTERFACE_SCHEMA),
        response: WRITE_RESPONSES,
      },
    },
    (req, reply) =>
      write(
        req,
        reply,
        putRouterInterface(doc(), req.params.name, req.params.subnet, req.body ?? {}),
        `no router ${req.params.name}`,
      ),
  );
  app.delete<{ Params: { name: string; subnet: string } }>(
    "/v1/routers/:name/interfaces/:subnet",
    {
      config: WRITE_CONFIG,
      schema: {
        summary: "delete a router interface",
        querystring: querySchema(WRITE_QUERY),
        response: WRITE_RESPONSES,
      },
    },
    (req, reply) =>
      write(
        req,
        reply,
        deleteRouterInterface(doc(), req.params.name, req.params.subnet),
        `router ${req.params.name} has no interface on ${req.params.subnet}`,
      ),
  );

  // ---- switches: live flows, desired flows, their diff --------------------
  type SwitchParams = { Params: { host: string; bridge: string } };
  const FORMAT_CONFIG = { query: FORMAT_QUERY };
  const bridgeOf = (
    req: FastifyRequest<SwitchParams>,
    reply: FastifyReply,
  ): BridgeName | undefined => {
    const b = req.params.bridge;
    if (
      !(BRIDGE_NAMES as readonly string[]).includes(b) ||
      ctl.snapshot.topology.hosts[req.params.host] === undefined
    ) {
      void reply
        .code(404)
        .send({ error: "not_found", message: `no bridge ${b} on host ${req.params.host}` });
      return undefined;
    }
    return b as BridgeName;
  };

  app.get<SwitchParams>(
    "/v1/switches/:host/:bridge/desired",
    {
      config: FORMAT_CONFIG,
      schema: {
        summary: "the compiled flows (ovs-ofctl add-flows text, or JSON)",
        querystring: querySchema(FORMAT_QUERY),
      },
    },
    (req, reply) => {
      const bridge = bridgeOf(req, reply);
      if (bridge === undefined) return reply;
      const flows = ctl.desiredFlows(req.params.host, bridge);
      if (queryOf(req, FORMAT_QUERY).format === "json") {
        return flows.map((f) => ({
          flow: formatDesiredFlow(f),
          table: f.table.name,
          object: f.origin.object,
          role: f.origin.role,
        }));
      }
      return reply.type("text/plain").send(flows.map((f) => `${formatDesiredFlow(f)}\n`).join(""));
    },
  );

  app.get<SwitchParams>(
    "/v1/switches/:host/:bridge/flows",
    {
      config: FORMAT_CONFIG,
      schema: {
        summary: "live dump of our flows on the switch (dump-flows text, or JSON)",
        querystring: querySchema(FORMAT_QUERY),
      },
    },
    async (req, reply) => {
      const bridge = bridgeOf(req, reply);
      if (bridge === undefined) return reply;
      const flows = await ctl.installedFlows(req.params.host, bridge);
      if (flows === undefined) return reply.code(409).send({ error: "not_connected" });
      const lines = flows.map((f) => formatFlow(f));
      if (queryOf(req, FORMAT_QUERY).format === "json") return lines.map((flow) => ({ flow }));
      return reply.type("text/plain").send(lines.map((l) => `${l}\n`).join(""));
    },
  );

  app.get<SwitchParams>(
    "/v1/switches/:host/:bridge/diff",
    { schema: { summary: "desired vs installed: same, differ, or unknown" } },
    async (req, reply) => {
      const bridge = bridgeOf(req, reply);
      if (bridge === undefined) return reply;
      const desired = ctl.desiredFlows(req.params.host, bridge);
      let installed;
      try {
        installed = await ctl.installedFlows(req.params.host, bridge);
      } catch (e) {
        return { status: "unknown", reason: e instanceof Error ? e.message : String(e) };
      }
      if (installed === undefined) return { status: "unknown", reason: "not connected" };
      const d = diffFlows(desired, installed, ctl.snapshot.topology.controller.cookie_prefix);
      const same = d.add.length + d.modify.length + d.delete.length === 0;
      return {
        status: same ? "same" : "differ",
        missing: d.add.map(formatDesiredFlow),
        changed: d.modify.map(formatDesiredFlow),
        extra: d.delete.map((f) => formatFlow(f)),
        unchanged: d.unchanged,
        learned: d.ignored.learned,
      };
    },
  );

  // ---- trace: a packet through the compiled tables, host to host ---------
  app.post<{ Body: unknown }>(
    "/v1/trace",
    {
      schema: {
        summary:
          "trace a packet through the compiled tables of every host, with the switches' port numbers",
        body: jsonSchemaOf(TraceBodySchema),
        response: TRACE_RESPONSES,
      },
    },
    (req, reply) => {
      const parsed = TraceBodySchema.safeParse(req.body ?? {});
      if (!parsed.success) {
        const message = parsed.error.issues
          .map((i) => (i.path.length === 0 ? i.message : `${i.path.join(".")}: ${i.message}`))
          .join("; ");
        return reply.code(400).send({ error: "bad_request", message });
      }
      const b = parsed.data;
      // The topology in force, with the port numbers the switches reported
      // (tunnels mapped as for compiling), so the trace shows the real ports.
      const snapshot = ctl.snapshot;
      const { ofports, source } = ctl.traceOfports();
      try {
        const run = runTopologyTrace(
          snapshot,
          {
            host: b.host,
            ...(b.microflow === undefined ? {} : { microflow: b.microflow }),
            ...(b.packet_hex === undefined ? {} : { packetHex: b.packet_hex }),
            ...(b.max_hops === undefined ? {} : { maxHops: b.max_hops }),
            ...(b.format === undefined ? {} : { format: b.format }),
          },
          { ofports },
        );
        return {
          generation: snapshot.generation,
          host: b.host,
          format: run.format,
          text: run.text,
          json: run.json,
          ofports: source,
        };
      } catch (e) {
        if (e instanceof TraceRequestError)
          return reply.code(400).send({ error: "bad_request", message: e.message });
        throw e;
      }
    },
  );

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const code =
      err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500
        ? err.statusCode
        : 500;
    void reply
      .code(code)
      .send({ error: code === 500 ? "internal" : "bad_request", message: err.message });
  });

  return app;
}
