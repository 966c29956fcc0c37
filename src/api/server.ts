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
 *   GET  /healthz, /readyz
 *
 * Writes: every change is validated as a whole document (zod schema and
 * cross-object rules) and committed atomically; a rejected change answers
 * 422 with the issues located by object path and changes nothing; a stale
 * If-Match answers 412. Without `wait` a write answers 202 {generation};
 * with `?wait=applied` it answers only once every connected bridge finished
 * reconciling that generation (barrier-confirmed): 200 when all applied it,
 * 502 with the switches' decoded errors when one refused flows, 504 with
 * the bridges still pending after `timeout` (default 30s).
 *
 * `?dry_run=true` on any write validates the same way and answers 200 with
 * what the commit would do (Controller.dryRun, controller/dry-run.ts): per
 * host and bridge, the flows added, modified and deleted against the
 * desired set in force and against the switch (a live dump), the
 * allocations it would make and the hosts whose routers change. Nothing is
 * committed, allocated or sent; a stale If-Match is still a 412.
 *
 * Validation is zod's, not fastify's: route schemas are there for the
 * OpenAPI document only.
 */
import swagger from "@fastify/swagger";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { formatFlow } from "../../codec/text/index.js";
import type { Controller } from "../controller/controller.js";
import { diffFlows } from "../controller/reconcile.js";
import { formatDesiredFlow } from "../dvr/flow.js";
import { BRIDGE_NAMES, type BridgeName } from "../dvr/tables.js";
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
import { WRITE_RESPONSES } from "./write-replies.js";

type Doc = Record<string, unknown>;

export interface ApiOptions {
  /** Default wait for `?wait=applied`, ms. Default 30000. */
  readonly defaultWaitMs?: number;
  /** Version string for the OpenAPI document. */
  readonly version?: string;
}

interface WriteQuery {
  wait?: string;
  timeout?: string;
  dry_run?: string;
}

/** "30s", "500ms", "2m" or plain seconds → ms. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (m === null) return undefined;
  const n = Number(m[1]);
  return m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : n * 1000;
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
  type: "object",
  properties: {
    wait: {
      type: "string",
      enum: ["applied"],
      description: "answer once every connected bridge applied the change",
    },
    timeout: {
      type: "string",
      description: "how long ?wait=applied waits, e.g. 10s (default 30s)",
    },
    dry_run: {
      type: "string",
      enum: ["true", "false"],
      description:
        "commit nothing: validate and answer with the per-host, per-bridge flow diff " +
        "(desired now vs proposed, and what reconciliation would send to each switch)",
    },
  },
} as const;

/** Builds the API (not listening: call `listen` or use `inject`). */
export async function buildApi(
  ctl: Controller,
  options: ApiOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  // Route schemas document the API; zod validates (see the module comment).
  app.setValidatorCompiler(() => () => true);
  // …and response schemas likewise: replies are sent as built, not filtered.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
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
    req: FastifyRequest<{ Querystring: WriteQuery }>,
    reply: FastifyReply,
    next: Doc | undefined,
    notFound: string,
  ) {
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
    if (req.query.dry_run === "true") {
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
    if (req.query.wait !== "applied") return reply.code(202).send({ generation, warnings });
    const timeout =
      req.query.timeout === undefined ? defaultWait : parseDuration(req.query.timeout);
    if (timeout === undefined) {
      return reply
        .code(400)
        .send({ error: "bad_request", message: `timeout "${req.query.timeout}"` });
    }
    const started = performance.now();
    const report = await ctl.waitApplied(generation, timeout);
    const body = {
      generation,
      wait_ms: Math.round((performance.now() - started) * 10) / 10,
      bridges: report.bridges,
      warnings,
    };
    if (!report.done) {
      return reply.code(504).send({
        error: "timeout",
        ...body,
        pending: report.bridges
          .filter((b) => b.connected && !b.applied)
          .map((b) => `${b.host}/${b.bridge}`),
      });
    }
    if (report.bridges.some((b) => b.error !== undefined))
      return reply.code(502).send({ error: "switch_refused", ...body });
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

  app.put<{ Querystring: WriteQuery; Body: unknown }>(
    "/v1/config",
    {
      schema: {
        summary: "replace the whole topology",
        querystring: WRITE_QUERY,
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
    app.put<{ Params: { name: string }; Querystring: WriteQuery; Body: unknown }>(
      `/v1/${kind}/:name`,
      {
        schema: {
          summary: `create or replace one of ${kind}`,
          querystring: WRITE_QUERY,
          body: jsonSchemaOf(OBJECT_SCHEMAS[kind]),
          response: WRITE_RESPONSES,
        },
      },
      (req, reply) =>
        write(req, reply, putObject(doc(), kind, req.params.name, req.body ?? {}), ""),
    );
    app.delete<{ Params: { name: string }; Querystring: WriteQuery }>(
      `/v1/${kind}/:name`,
      {
        schema: {
          summary: `delete one of ${kind}`,
          querystring: WRITE_QUERY,
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

  app.put<{ Params: { name: string; subnet: string }; Querystring: WriteQuery; Body: unknown }>(
    "/v1/routers/:name/interfaces/:subnet",
    {
      schema: {
        summary: "create or replace a router interface",
        querystring: WRITE_QUERY,
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
  app.delete<{ Params: { name: string; subnet: string }; Querystring: WriteQuery }>(
    "/v1/routers/:name/interfaces/:subnet",
    {
      schema: {
        summary: "delete a router interface",
        querystring: WRITE_QUERY,
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
  type SwitchParams = {
    Params: { host: string; bridge: string };
    Querystring: { format?: string };
  };
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
    { schema: { summary: "the compiled flows (ovs-ofctl add-flows text, or JSON)" } },
    (req, reply) => {
      const bridge = bridgeOf(req, reply);
      if (bridge === undefined) return reply;
      const flows = ctl.desiredFlows(req.params.host, bridge);
      if (req.query.format === "json") {
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
      schema: {
        summary: "live dump of our flows on the switch (dump-flows --no-stats text, or JSON)",
      },
    },
    async (req, reply) => {
      const bridge = bridgeOf(req, reply);
      if (bridge === undefined) return reply;
      const flows = await ctl.installedFlows(req.params.host, bridge);
      if (flows === undefined) return reply.code(409).send({ error: "not_connected" });
      const lines = flows.map((f) => formatFlow(f));
      if (req.query.format === "json") return lines.map((flow) => ({ flow }));
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
