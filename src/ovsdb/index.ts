/** OVSDB (RFC 7047) client: JSON-RPC over tcp:/unix: streams. */
export {
  OvsdbClient,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type DatabaseSchema,
  type MonitorRequest,
  type OvsdbClientOptions,
  type RowUpdate,
  type TableUpdates,
  type UpdateHandler,
} from "./client.js";
export * from "./datum.js";
export * from "./errors.js";
export { JsonStreamError, JsonStreamParser } from "./json-stream.js";
export * from "./operations.js";
export * from "./remote.js";
