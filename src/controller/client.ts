/**
 * Connecting *to* a switch, for the client commands (`dump-flows`,
 * `diff-flows`): a bridge that listens (`ovs-vsctl set-controller br
 * ptcp:6654`, OVS's `unix:/run/openvswitch/BR.mgmt`, or `dvrflow switch
 * --listen`) is dialled, the same handshake runs (HELLO, FEATURES,
 * PORT_DESC), and the caller gets the ready {@link Connection}.
 *
 * And asking a running controller through its REST API (`dvrflow trace
 * --api`; `dump-flows HOST`, `diff-flows HOST` use the same base URL):
 * {@link apiBaseUrl}, {@link postJson}.
 */
import type { OfMessage } from "../../codec/message.js";
import type { Logger } from "../log.js";
import type { Connection, ConnectionHandler } from "./connection.js";
import { OpenFlowServer, type ListenTarget } from "./server.js";

export interface SwitchClient {
  readonly conn: Connection;
  close(): Promise<void>;
}

/** Dials `target` and resolves once the handshake completed (rejects on close or timeout). */
export function openSwitch(
  target: ListenTarget,
  log: Logger,
  timeoutMs = 10_000,
): Promise<SwitchClient> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () => fail(new Error(`no OpenFlow handshake with the switch within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const handler: ConnectionHandler = {
      ready: (conn) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ conn, close: () => server.close() });
      },
      port: () => undefined,
      packetIn: (_conn, _msg: Extract<OfMessage, { type: "packet_in" }>) => undefined,
      closed: (_conn, reason) => fail(new Error(`switch closed the connection: ${reason}`)),
    };
    const server = new OpenFlowServer(handler, log, { echoIntervalMs: 60_000 });
    function fail(e: Error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void server.close();
      reject(e);
    }
    const conn = server.connect(target);
    void conn;
  });
}

/** Where a running controller's API is when no `--api` is given. */
export const DEFAULT_API_URL = "http://127.0.0.1:8080";

/** The API base URL: `given` (`--api`), else `$DVR_API`, else {@link DEFAULT_API_URL}; no trailing slash. */
export function apiBaseUrl(given?: string): string {
  return (given ?? process.env.DVR_API ?? DEFAULT_API_URL).replace(/\/+$/, "");
}

/** An API answer: the HTTP status and the JSON body (undefined when the body is not JSON). */
export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
}

/** POSTs `body` as JSON to `base` + `path` and reads the JSON answer (rejects when unreachable). */
export async function postJson(base: string, path: string, body: unknown): Promise<ApiAnswer> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, body: json, text };
}
