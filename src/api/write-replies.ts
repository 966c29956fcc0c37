/**
 * JSON Schemas of the write and trace routes' answers, for the OpenAPI
 * document only (server.ts serializes with JSON.stringify, so these neither
 * filter nor check a reply). They follow the types in controller/dry-run.ts,
 * controller/controller.ts (ApplyReport, BRIDGE_APPLY_STATUS) and
 * trace/format.ts; the API tests hold real answers against their required
 * keys.
 */
import { BRIDGE_APPLY_STATUS } from "../controller/controller.js";
import { TRACE_FORMATS } from "../trace/format.js";

const strings = { type: "array", items: { type: "string" } } as const;

const ISSUES = {
  type: "array",
  items: {
    type: "object",
    required: ["severity", "path", "message"],
    properties: {
      severity: { type: "string", enum: ["error", "warning"] },
      path: { type: "string", description: "object path, e.g. ports.vm-a.fixed_ips[0]" },
      message: { type: "string" },
      line: { type: "integer" },
    },
  },
} as const;

const COUNTS = {
  type: "object",
  required: ["add", "modify", "delete"],
  properties: {
    add: { type: "integer" },
    modify: { type: "integer" },
    delete: { type: "integer" },
    unchanged: { type: "integer" },
  },
} as const;

const FLOW_CHANGES = {
  type: "object",
  required: ["add", "modify", "delete", "counts"],
  properties: {
    add: { ...strings, description: "flows to add, ovs-ofctl add-flow text" },
    modify: { ...strings, description: "flows replaced in place (new instructions or cookie)" },
    delete: { ...strings, description: "flows to delete (dump-flows text, no stats)" },
    counts: COUNTS,
  },
} as const;

const BRIDGE_DRY_RUN = {
  type: "object",
  required: ["connected", "ofports", "desired", "switch"],
  properties: {
    connected: { type: "boolean" },
    ofports: {
      type: "string",
      enum: ["switch", "offline"],
      description: "port numbers compiled with: the switch's, or plumb's numbering",
    },
    desired: {
      ...FLOW_CHANGES,
      description: "proposed desired flows against the desired flows in force",
    },
    switch: {
      type: "object",
      required: ["status"],
      description:
        "what reconciliation would send: diff (from a live dump), unchanged (in sync and " +
        "flows unchanged: nothing sent, no dump), not_connected, removed, unknown (dump failed)",
      properties: {
        status: {
          type: "string",
          enum: ["diff", "unchanged", "not_connected", "removed", "unknown"],
        },
        ...FLOW_CHANGES.properties,
        reason: { type: "string" },
      },
    },
    waiting_for_ports: {
      ...strings,
      description: "topology ports the switch has not reported: their flows come when it does",
    },
  },
} as const;

export const DRY_RUN_REPLY = {
  type: "object",
  description: "?dry_run=true: what the write would do; nothing committed, allocated or sent",
  required: [
    "dry_run",
    "valid",
    "generation",
    "changed",
    "allocations",
    "router_placement",
    "hosts",
    "unchanged_hosts",
    "totals",
    "warnings",
  ],
  properties: {
    dry_run: { type: "boolean", enum: [true] },
    valid: { type: "boolean", enum: [true] },
    generation: { type: "integer", description: "the generation in force" },
    changed: { type: "boolean", description: "the proposal differs from the document in force" },
    allocations: {
      type: "object",
      properties: {
        dvr_macs: {
          type: "object",
          additionalProperties: { type: "string" },
          description: "new hosts' DVR MACs (a random draw is only an example of the real one)",
        },
        local_vlans: {
          type: "object",
          additionalProperties: { type: "object", additionalProperties: { type: "integer" } },
          description: "host → network → local VLAN, for networks new on a host",
        },
      },
    },
    router_placement: {
      type: "object",
      description: "hosts whose routers change",
      additionalProperties: {
        type: "object",
        properties: { added: strings, removed: strings },
      },
    },
    hosts: {
      type: "object",
      description: "hosts with a change in desired flows or on the switch",
      additionalProperties: {
        type: "object",
        required: ["status", "bridges"],
        properties: {
          status: { type: "string", enum: ["added", "removed", "changed", "unchanged"] },
          bridges: {
            type: "object",
            properties: { "br-int": BRIDGE_DRY_RUN, "br-tun": BRIDGE_DRY_RUN },
          },
        },
      },
    },
    unchanged_hosts: strings,
    totals: {
      type: "object",
      properties: {
        desired: COUNTS,
        switch: { ...COUNTS, description: "FLOW_MODs reconciliation would send" },
      },
    },
    warnings: ISSUES,
  },
} as const;

const BRIDGE_RESULT = {
  type: "object",
  required: ["host", "bridge", "connected", "applied", "status"],
  properties: {
    host: { type: "string" },
    bridge: { type: "string", enum: ["br-int", "br-tun"] },
    connected: { type: "boolean" },
    applied: { type: "boolean" },
    status: {
      type: "string",
      enum: Object.values(BRIDGE_APPLY_STATUS),
      description:
        "applied; not_connected (nothing confirmed: reconciled when it connects); " +
        "refused (OFPT_ERROR), failed (dump or send failed), tunnel_unmapped (a tunnel " +
        "port maps to no host); pending or waiting_for_ports (still on its way at the timeout)",
    },
    error: { type: "string", description: "the switch's decoded error, or what is missing" },
  },
} as const;

const bridgeList = (description: string) => ({ ...strings, description }) as const;

const APPLIED_REPLY = {
  type: "object",
  description: "?wait=applied: the generation and where each bridge of the topology stands",
  required: ["generation", "wait_ms", "applied", "bridges", "warnings"],
  properties: {
    generation: { type: "integer" },
    wait_ms: { type: "number" },
    applied: { type: "boolean", description: "every bridge of the topology applied it" },
    bridges: { type: "array", items: BRIDGE_RESULT },
    warnings: ISSUES,
    not_connected: bridgeList("202: bridges not connected (host/bridge)"),
    pending: bridgeList("504: bridges still on their way (host/bridge)"),
    failed: bridgeList("502: bridges that refused, failed or have an unmapped tunnel"),
  },
} as const;

const ERROR_REPLY = {
  type: "object",
  required: ["error"],
  properties: { error: { type: "string" }, message: { type: "string" } },
  additionalProperties: true,
} as const;

const BAD_QUERY = {
  description:
    "a query parameter the route does not take, a value it does not take, or parameters " +
    "that contradict each other: nothing was done",
  ...ERROR_REPLY,
  properties: { ...ERROR_REPLY.properties, parameter: { type: "string" } },
} as const;

/** The `response` part of a write route's schema. */
export const WRITE_RESPONSES = {
  200: {
    description:
      "with ?dry_run=true, what the write would do; with ?wait=applied, every bridge applied it",
    anyOf: [DRY_RUN_REPLY, APPLIED_REPLY],
  },
  202: {
    description:
      "committed; with ?wait=applied, applied by every connected bridge, some bridges " +
      "not connected (`not_connected`)",
    anyOf: [
      {
        type: "object",
        required: ["generation", "warnings"],
        properties: { generation: { type: "integer" }, warnings: ISSUES },
      },
      APPLIED_REPLY,
    ],
  },
  400: BAD_QUERY,
  404: { description: "the object to delete does not exist", ...ERROR_REPLY },
  409: { description: "no DVR MAC or local VLAN could be allocated", ...ERROR_REPLY },
  412: { description: "If-Match names another generation", ...ERROR_REPLY },
  422: {
    description: "invalid document: issues located by object path",
    type: "object",
    properties: { error: { type: "string", enum: ["rejected"] }, issues: ISSUES },
  },
  502: {
    ...APPLIED_REPLY,
    description:
      "?wait=applied: committed, but a switch refused flows (switch_refused), its " +
      "reconciliation failed (switch_failed) or a tunnel port maps to no host (tunnel_unmapped)",
    required: ["error", ...APPLIED_REPLY.required],
    properties: { error: { type: "string" }, ...APPLIED_REPLY.properties },
  },
  504: {
    ...APPLIED_REPLY,
    description: "?wait=applied timed out (committed); pending lists the bridges",
    required: ["error", ...APPLIED_REPLY.required],
    properties: { error: { type: "string" }, ...APPLIED_REPLY.properties },
  },
} as const;

const PORT_SOURCE = { type: "string", enum: ["switch", "offline"] } as const;

export const TRACE_REPLY = {
  type: "object",
  required: ["generation", "host", "format", "text", "json", "ofports"],
  properties: {
    generation: { type: "integer", description: "the topology generation traced" },
    host: { type: "string" },
    format: { type: "string", enum: [...TRACE_FORMATS] },
    text: {
      type: "string",
      description: "the trace as `dvrflow trace` prints it in `format` (ofproto/trace layout)",
    },
    json: {
      type: "object",
      description: "the trace as data: legs (one per host crossed), hops, outcome",
      additionalProperties: true,
    },
    ofports: {
      type: "object",
      description:
        "per host and bridge, whose port numbers the tables were compiled with: the " +
        "connected switch's, or dvrflow plumb's numbering (offline)",
      additionalProperties: {
        type: "object",
        properties: { "br-int": PORT_SOURCE, "br-tun": PORT_SOURCE },
      },
    },
  },
} as const;

/** The `response` part of `POST /v1/trace`'s schema. */
export const TRACE_RESPONSES = {
  200: { description: "the trace", ...TRACE_REPLY },
  400: {
    description: "bad request: unknown host or port, bad microflow or packet, bad field",
    ...ERROR_REPLY,
  },
} as const;
