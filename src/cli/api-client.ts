/**
 * How the client commands (`dump-flows HOST`, `diff-flows HOST`, `trace
 * --api`) reach a running controller: its REST API at `--api URL`, else
 * `$DVR_API`, else `dvrflow run`'s default address (ecosystem.md §4: client
 * commands take `--api http://127.0.0.1:8080`, default from `DVR_API`).
 *
 * A controller that is not there is the usual first mistake, so a failed
 * connection becomes one sentence naming the URL and how to change it, not
 * undici's bare "fetch failed".
 */

/** `dvrflow run`'s REST API address when `--api` is not given. */
export const DEFAULT_API_LISTEN = "127.0.0.1:8080";
/** The URL client commands use by default. */
export const DEFAULT_API_URL = `http://${DEFAULT_API_LISTEN}`;

/** The API base URL from `--api`, `$DVR_API` or the default, without a trailing slash. */
export function apiBase(option: string | undefined): string {
  const v = option ?? process.env.DVR_API ?? DEFAULT_API_URL;
  const url = /^https?:\/\//.test(v) ? v : `http://${v}`;
  return url.replace(/\/+$/, "");
}

/** The API refused the request (a non-2xx answer); carries the status and body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`API answered ${status}: ${body.trim()}`);
    this.name = "ApiError";
  }
}

/**
 * `fetch(base + path)`, returning the body text of a 2xx answer. Throws
 * {@link ApiError} for other answers and a plain Error naming the URL when
 * nothing answers.
 */
export async function apiRequest(base: string, path: string, init?: RequestInit): Promise<string> {
  const url = `${base}${path}`;
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message;
    throw new Error(
      `cannot reach the dvrflow API at ${base} (${why}): is \`dvrflow run\` running? ` +
        `It serves the API on ${DEFAULT_API_LISTEN} unless started with --api; ` +
        `point this command at it with --api URL or DVR_API=URL`,
      { cause: e },
    );
  }
  const body = await res.text();
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

/** POSTs `body` as JSON and parses the JSON answer of a 2xx reply (see {@link apiRequest} for errors). */
export async function apiPostJson(base: string, path: string, body: unknown): Promise<unknown> {
  const text = await apiRequest(base, path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return JSON.parse(text) as unknown;
}

/** The `message` of a JSON error body (the API's `{error, message}`), else the body text. */
export function apiErrorMessage(e: ApiError): string {
  try {
    const m = (JSON.parse(e.body) as { message?: unknown }).message;
    if (typeof m === "string") return m;
  } catch {
    // not JSON: the text is the message
  }
  return e.body.trim();
}
