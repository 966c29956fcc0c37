/**
 * Test helper: `dvrflow switch` as a real child process (from source, via
 * tsx), its pino log lines parsed from stderr, and the ports its `ptcp:0`
 * listeners were bound to.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
const RUNNER = join(ROOT, "test", "switch", "run-cli.ts");

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export class SwitchProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  stdout = "";
  stderrText = "";
  private exited: Promise<number | null>;
  private waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

  private constructor(args: readonly string[], cwd: string, netns: string | undefined) {
    const node = [process.execPath, "--import", "tsx", RUNNER, "switch", ...args];
    // `ip netns exec` execs the command, so the child's pid is node's own.
    const argv = netns === undefined ? node : ["ip", "netns", "exec", netns, ...node];
    this.child = spawn(argv[0]!, argv.slice(1), {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DVRFLOW_LOG_LEVEL: "debug" },
    });
    let buf = "";
    this.child.stderr!.setEncoding("utf8");
    this.child.stderr!.on("data", (d: string) => {
      this.stderrText += d;
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith("{")) continue;
        try {
          const l = JSON.parse(line) as LogLine;
          this.logs.push(l);
          this.waiters = this.waiters.filter((w) => {
            if (!w.pred(l)) return true;
            w.resolve(l);
            return false;
          });
        } catch {
          // not a log line
        }
      }
    });
    this.child.stdout!.setEncoding("utf8");
    this.child.stdout!.on("data", (d: string) => (this.stdout += d));
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
  }

  /** Starts a switch and waits for its "switch started" log line. */
  static async start(
    args: readonly string[],
    options: { cwd?: string; netns?: string; timeoutMs?: number } = {},
  ): Promise<SwitchProcess> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const p = new SwitchProcess(args, options.cwd ?? ROOT, options.netns);
    await Promise.race([
      p.waitLog((l) => l.msg === "switch started", timeoutMs),
      p.exited.then((code) => {
        throw new Error(`switch exited (${code}) before starting:\n${p.stderrText}`);
      }),
    ]);
    return p;
  }

  /** Resolves with the first log line (past or future) that satisfies `pred`. */
  waitLog(pred: (l: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.logs.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(
            new Error(`timed out waiting for a log line; stderr:\n${this.stderrText.slice(-3000)}`),
          ),
        timeoutMs,
      );
      this.waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(t);
          resolve(l);
        },
      });
    });
  }

  /** The port a bridge's ptcp listener is bound to. */
  listenPort(bridge: string): number {
    const l = this.logs.find((x) => x.msg === "listening" && x.bridge === bridge);
    if (l === undefined || typeof l.port !== "number") throw new Error(`no listener for ${bridge}`);
    return l.port;
  }

  /** Waits for the process to exit by itself; its exit code. */
  exit(): Promise<number | null> {
    return this.exited;
  }

  /** SIGTERM, then the exit code (SIGKILL after 5 s). */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill("SIGTERM");
    const t = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}
