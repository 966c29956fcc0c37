/**
 * The logging surface the switch agent needs: a subset of pino's `Logger`
 * (`logger.info({ ...fields }, "message")`), so the CLI can hand in its pino
 * logger while datapath/ stays free of src/ (layering rule) and tests can pass
 * {@link silentLog} or a recorder.
 */
export interface AgentLog {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

/** Drops everything. */
export const silentLog: AgentLog = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** One recorded log line (tests). */
export interface LogRecord {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly fields: object;
  readonly msg: string;
}

/** A log that keeps its lines in memory (tests assert on them). */
export class RecordingLog implements AgentLog {
  readonly records: LogRecord[] = [];
  debug(fields: object, msg: string): void {
    this.records.push({ level: "debug", fields, msg });
  }
  info(fields: object, msg: string): void {
    this.records.push({ level: "info", fields, msg });
  }
  warn(fields: object, msg: string): void {
    this.records.push({ level: "warn", fields, msg });
  }
  error(fields: object, msg: string): void {
    this.records.push({ level: "error", fields, msg });
  }
}
