/**
 * Connecting *to* a switch, for the client commands (`dump-flows`,
 * `diff-flows`): a bridge that listens (`ovs-vsctl set-controller br
 * ptcp:6654`, OVS's `unix:/run/openvswitch/BR.mgmt`, or `dvrflow switch
 * --listen`) is dialled, the same handshake runs (HELLO, FEATURES,
 * PORT_DESC), and the caller gets the ready {@link Connection}.

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
