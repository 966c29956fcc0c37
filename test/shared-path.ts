/**
 * Where the read-only shared material (Ryu vectors, dvr-bench, classifier
 * rule streams) lives: `../shared` beside the repository, as on developers'
 * machines and in CI; `DVRFLOW_SHARED` overrides it.
 */
import { resolve } from "node:path";

export const SHARED: string =
  process.env.DVRFLOW_SHARED ?? resolve(import.meta.dirname, "..", "..", "shared");
