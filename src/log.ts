/**
 * The process-wide logger (pino). Structured JSON to stderr by default, so
 * stdout stays clean for command output that users pipe (`ofp-print`,
 * `dump-flows`). `DVRFLOW_LOG_LEVEL` (or `--log-level`) sets the level.
 */
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino(
    {
      name: options.name ?? "dvrflow",
      level: options.level ?? process.env.DVRFLOW_LOG_LEVEL ?? "info",
    },
    pino.destination(2),
  );
}
