/**
 * Query parameters of the API, declared once per route: what each takes,
 * checked before the handler runs (server.ts's preValidation hook), and the
 * OpenAPI `querystring` schema generated from the same declaration.
 *
 * A query parameter is never ignored. A write that half-understood its
 * query would do something the caller did not ask for: `?dry_run=yes` read
 * as "not a dry run" commits, `?wait=true` read as "no wait" answers 202
 * before anything is applied, and a `timeout` found bad only after the
 * commit answers 400 for a change that went through. So an unknown
 * parameter, a value the parameter does not take, or a parameter given twice
 * is a 400 naming the parameter and what it takes, and nothing runs.
 */

export interface QueryParam<T> {
  readonly description: string;
  /** What the parameter takes, in words, for the 400 message. */
  readonly accepts: string;
  /** JSON Schema of the raw value (OpenAPI). */
  readonly schema: Readonly<Record<string, unknown>>;
  /** The value `raw` stands for, or undefined when the parameter does not take it. */
  readonly parse: (raw: string) => T | undefined;
}

export type QuerySpec = Readonly<Record<string, QueryParam<unknown>>>;

export type QueryValues<S extends QuerySpec> = {
  readonly [K in keyof S]?: S[K] extends QueryParam<infer T> ? T : never;
};

/** A query the route does not take; `param` is the offending parameter. */
export class QueryError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = "QueryError";
  }
}

/**
 * Spellings of a yes/no flag. Only words that cannot mean anything else:
 * `?dry_run` alone (an empty value) is the flag set, as in a command line.
 */
const BOOLEAN_WORDS: ReadonlyMap<string, boolean> = new Map([
  ["true", true],
  ["1", true],
  ["yes", true],
  ["", true],
  ["false", false],
  ["0", false],
  ["no", false],
]);

export function booleanParam(description: string): QueryParam<boolean> {
  return {
    description,
    accepts: "true (also 1, yes, or the bare name) or false (also 0, no)",
    schema: { type: "string", enum: [...BOOLEAN_WORDS.keys()] },
    parse: (raw) => BOOLEAN_WORDS.get(raw.toLowerCase()),
  };
}

export function enumParam<const V extends string>(
  values: readonly V[],
  description: string,
): QueryParam<V> {
  return {
    description,
    accepts: values.map((v) => `"${v}"`).join(" or "),
    schema: { type: "string", enum: [...values] },
    parse: (raw) => (values as readonly string[]).find((v) => v === raw) as V | undefined,
  };
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)?$/;
const MS_PER_UNIT = { ms: 1, s: 1000, m: 60_000 } as const;

/** "30s", "500ms", "2m" or plain seconds → ms; undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (m === null) return undefined;
  const unit = (m[2] ?? "s") as keyof typeof MS_PER_UNIT;
  return Number(m[1]) * MS_PER_UNIT[unit];
}

/**
 * A duration up to `maxMs` (timers past 2^31 ms fire at once in Node, and a
 * request held for days helps nobody).
 */
export function durationParam(description: string, maxMs: number): QueryParam<number> {
  return {
    description,
    accepts: `a duration such as 500ms, 10s or 2m (plain numbers are seconds), at most ${maxMs / 1000}s`,
    schema: { type: "string", pattern: DURATION.source },
    parse: (raw) => {
      const ms = parseDuration(raw);
      return ms !== undefined && ms <= maxMs ? ms : undefined;
    },
  };
}

/** The OpenAPI `querystring` schema of a spec. */
export function querySchema(spec: QuerySpec): Record<string, unknown> {
  return {
    type: "object",
    additionalProperties: false,
    properties: Object.fromEntries(
      Object.entries(spec).map(([name, p]) => [
        name,
        { ...p.schema, description: `${p.description} (takes ${p.accepts})` },
      ]),
    ),
  };
}

/** The values of `query` (fastify's parsed query string); throws {@link QueryError}. */
export function parseQuery<S extends QuerySpec>(spec: S, query: unknown): QueryValues<S> {
  const out: Record<string, unknown> = {};
  const given = (query ?? {}) as Record<string, unknown>;
  for (const [name, raw] of Object.entries(given)) {
    const p = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (p === undefined) {
      const known = Object.keys(spec);
      throw new QueryError(
        name,
        known.length === 0
          ? `unknown query parameter "${name}": this route takes none`
          : `unknown query parameter "${name}": this route takes ${known.join(", ")}`,
      );
    }
    if (typeof raw !== "string") {
      throw new QueryError(name, `query parameter "${name}" given more than once`);
    }
    const value = p.parse(raw);
    if (value === undefined) {
      throw new QueryError(name, `${name}=${JSON.stringify(raw)}: ${name} takes ${p.accepts}`);
    }
    out[name] = value;
  }
  return out as QueryValues<S>;
}
