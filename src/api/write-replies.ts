/**
 * JSON Schemas of the write routes' answers, for the OpenAPI document only
 * (server.ts serializes with JSON.stringify, so these neither filter nor
 * check a reply). They follow the types in controller/dry-run.ts and
 * controller/controller.ts (ApplyReport); test/api/dry-run.test.ts holds a
 * real dry-run answer against the dry-run schema's required keys.
 */

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
  required: ["host", "bridge", "connected", "applied"],
  properties: {
    host: { type: "string" },
    bridge: { type: "string", enum: ["br-int", "br-tun"] },
    connected: { type: "boolean" },
    applied: { type: "boolean" },
    error: { type: "string" },
  },
} as const;

const APPLIED_REPLY = {
  type: "object",
  description: "?wait=applied: every connected bridge applied the generation",
  required: ["generation", "wait_ms", "bridges", "warnings"],
  properties: {
    generation: { type: "integer" },
    wait_ms: { type: "number" },
    bridges: { type: "array", items: BRIDGE_RESULT },
    warnings: ISSUES,
  },
} as const;

const ERROR_REPLY = {
  type: "object",
  required: ["error"],
  properties: { error: { type: "string" }, message: { type: "string" } },
  additionalProperties: true,
} as const;

/** The `response` part of a write route's schema. */
export const WRITE_RESPONSES = {
  200: {
    description: "with ?dry_run=true, what the write would do; with ?wait=applied, applied",
    anyOf: [DRY_RUN_REPLY, APPLIED_REPLY],
  },
  202: {
    description: "committed",
    type: "object",
    properties: { generation: { type: "integer" }, warnings: ISSUES },
  },
  412: { description: "If-Match names another generation", ...ERROR_REPLY },
  422: {
    description: "invalid document: issues located by object path",
    type: "object",
    properties: { error: { type: "string", enum: ["rejected"] }, issues: ISSUES },
  },
  504: { description: "?wait=applied timed out; pending lists the bridges", ...ERROR_REPLY },
} as const;
