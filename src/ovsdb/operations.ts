/**
 * The operations of an OVSDB `transact` (RFC 7047 §5.2) and their results.
 * A transaction is all-or-nothing: the server applies every operation or
 * none, so a plan applied as one `transact` never leaves a host half
 * plumbed.
 */
import type { OvsdbRow, OvsdbValue } from "./datum.js";

/** Comparison functions of a condition (§5.1 `<function>`). */
export type ConditionFunction = "<" | "<=" | "==" | "!=" | ">=" | ">" | "includes" | "excludes";
/** `[column, function, value]`; `_uuid` is a valid column. */
export type Condition = readonly [string, ConditionFunction, OvsdbValue];

/** Mutators (§5.1 `<mutator>`): arithmetic on integers, insert/delete on sets and maps. */
export type Mutator = "+=" | "-=" | "*=" | "/=" | "%=" | "insert" | "delete";
export type Mutation = readonly [string, Mutator, OvsdbValue];

export type Operation =
  | {
      readonly op: "insert";
      readonly table: string;
      readonly row: OvsdbRow;
      /** Lets later operations of the same transaction refer to the row as `["named-uuid", id]`. */
      readonly "uuid-name"?: string;
    }
  | {
      readonly op: "select";
      readonly table: string;
      readonly where: readonly Condition[];
      readonly columns?: readonly string[];
    }
  | {
      readonly op: "update";
      readonly table: string;
      readonly where: readonly Condition[];
      readonly row: OvsdbRow;
    }
  | {
      readonly op: "mutate";
      readonly table: string;
      readonly where: readonly Condition[];
      readonly mutations: readonly Mutation[];
    }
  | { readonly op: "delete"; readonly table: string; readonly where: readonly Condition[] }
  | {
      readonly op: "wait";
      readonly table: string;
      readonly where: readonly Condition[];
      readonly columns: readonly string[];
      readonly until: "==" | "!=";
      readonly rows: readonly OvsdbRow[];
      /** Milliseconds; 0 = fail at once if the condition does not hold. */
      readonly timeout?: number;
    }
  | { readonly op: "commit"; readonly durable: boolean }
  | { readonly op: "abort" }
  | { readonly op: "comment"; readonly comment: string };

/** One element of a successful transact result (§5.2). */
export interface OperationResult {
  /** insert: the new row's uuid as `["uuid", …]`. */
  readonly uuid?: OvsdbValue;
  /** select: the rows. */
  readonly rows?: readonly Record<string, unknown>[];
  /** update, mutate, delete: rows affected. */
  readonly count?: number;
}

/** `_uuid == ["uuid", id]`. */
export function byUuid(id: string): Condition[] {
  return [["_uuid", "==", ["uuid", id]]];
}
