/**
 * Per-object edits of the topology document, for the REST API's
 * `/v1/{kind}/{name}` routes: each edit takes the document as JSON (the
 * shape of the config file), changes one object and returns a new
 * document, which then goes through the same validation and commit as a
 * whole-document PUT. So one object's change can never bypass a rule that
 * spans objects (a port on an unknown network, a subnet still referenced),
 * and a rejected edit changes nothing.
 */
import { z } from "zod";
import {
  HostSchema,
  NetworkSchema,
  PortSchema,
  RouterInterfaceSchema,
  RouterSchema,
  SubnetSchema,
} from "../topology/schema.js";

/** The object collections of the document, as URL path segments. */
export const OBJECT_KINDS = ["hosts", "networks", "subnets", "routers", "ports"] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

export function isObjectKind(s: string): s is ObjectKind {
  return (OBJECT_KINDS as readonly string[]).includes(s);
}

/** zod schema of one object of each kind (for the OpenAPI document). */
export const OBJECT_SCHEMAS = {
  hosts: HostSchema,
  networks: NetworkSchema,
  subnets: SubnetSchema,
  routers: RouterSchema,
  ports: PortSchema,
} as const satisfies Record<ObjectKind, z.ZodType>;

export const INTERFACE_SCHEMA = RouterInterfaceSchema;

/** JSON Schema of an input object, for OpenAPI (validation stays with zod). */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const s = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  delete s.$schema;
  return s;
}

type Doc = Record<string, unknown>;

function collection(doc: Doc, kind: ObjectKind): Record<string, unknown> {
  const c = doc[kind];
  if (c !== undefined && (typeof c !== "object" || c === null || Array.isArray(c))) {
    throw new Error(`document field ${kind} is not a map`);
  }
  return { ...((c as Record<string, unknown> | undefined) ?? {}) };
}

export function getObject(doc: Doc, kind: ObjectKind, name: string): unknown {
  return (doc[kind] as Record<string, unknown> | undefined)?.[name];
}

/** The document with `kind.name` set to `value` (created or replaced). */
export function putObject(doc: Doc, kind: ObjectKind, name: string, value: unknown): Doc {
  const c = collection(doc, kind);
  c[name] = value;
  return { ...doc, [kind]: c };
}

/** The document without `kind.name`; undefined when there is no such object. */
export function deleteObject(doc: Doc, kind: ObjectKind, name: string): Doc | undefined {
  const c = collection(doc, kind);
  if (!(name in c)) return undefined;
  delete c[name];
  return { ...doc, [kind]: c };
}

interface RouterJson {
  interfaces?: { subnet?: unknown }[];
  [k: string]: unknown;
}

/** The document with router `router`'s interface on `subnet` set to `value`; undefined if no router. */
export function putRouterInterface(
  doc: Doc,
  router: string,
  subnet: string,
  value: unknown,
): Doc | undefined {
  const r = getObject(doc, "routers", router) as RouterJson | undefined;
  if (r === undefined) return undefined;
  const itf = { ...(value as Record<string, unknown>), subnet };
  const list = [...(r.interfaces ?? [])];
  const at = list.findIndex((i) => i.subnet === subnet);
  if (at >= 0) list[at] = itf;
  else list.push(itf);
  return putObject(doc, "routers", router, { ...r, interfaces: list });
}

/** The document without that router interface; undefined if there is none. */
export function deleteRouterInterface(doc: Doc, router: string, subnet: string): Doc | undefined {
  const r = getObject(doc, "routers", router) as RouterJson | undefined;
  if (r === undefined) return undefined;
  const list = r.interfaces ?? [];
  if (!list.some((i) => i.subnet === subnet)) return undefined;
  return putObject(doc, "routers", router, {
    ...r,
    interfaces: list.filter((i) => i.subnet !== subnet),
  });
}
