/**
 * The controller as a real child process (test/e2e/controller-main.ts, run
 * from source through tsx), so that the suite can SIGKILL it mid-stream and
 * start a fresh one. Talks to it the way an operator does: the REST API
 * (`/v1/status`, `/readyz`, object writes with `?wait=applied`) and the
 * Prometheus metrics.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ControllerSpec } from "./controller-main.js";

const ROOT = join(import.meta.dirname, "..", "..");
const MAIN = join(ROOT, "test", "e2e", "controller-main.ts");

export interface BridgeStatusJson {
  readonly connected: boolean;
  readonly synced_generation: number | null;
  readonly flows_desired: number;
  readonly last_reconcile: {
    readonly added: number;
    readonly modified: number;
    readonly deleted: number;
  } | null;
  readonly last_error: string | null;
}

export interface StatusJson {
  readonly generation: number;
  readonly hosts: Record<string, Record<string, BridgeStatusJson>>;
}

export interface WriteReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** Wall time of the HTTP call, ms. */
  readonly ms: number;
}

export class ControllerProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
    readonly apiUrl: string,
    readonly metricsUrl: string,
    readonly logFile: string,
  ) {}

  /** Starts one; `dir` holds the spec, the pid file and the log (appended across restarts). */
  static async start(dir: string, spec: ControllerSpec): Promise<ControllerProcess> {
    const specFile = join(dir, "controller.json");
    writeFileSync(specFile, JSON.stringify(spec, null, 2));
    const logFile = join(dir, "controller.log");
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, specFile], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DVRFLOW_LOG_LEVEL: "info" },
    });
    writeFileSync(join(dir, "controller.pid"), `${child.pid}\n`);
    child.stderr!.setEncoding("utf8").on("data", (d: string) => appendFileSync(logFile, d));
    const exited = new Promise<void>((r) => child.on("exit", () => r()));
    const urls = await new Promise<{ apiUrl: string; metricsUrl: string }>((resolve, reject) => {
      let out = "";
      const t = setTimeout(
        () => reject(new Error(`controller did not start (see ${logFile})`)),
        30_000,
      );
      child.stdout!.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        const nl = out.indexOf("\n");
        if (nl < 0) return;
        clearTimeout(t);
        resolve(JSON.parse(out.slice(0, nl)) as { apiUrl: string; metricsUrl: string });
      });
      void exited.then(() => {
        clearTimeout(t);
        reject(new Error(`controller exited before starting (see ${logFile})`));
      });
    });
    return new ControllerProcess(child, exited, urls.apiUrl, urls.metricsUrl, logFile);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGKILL: no goodbye to the switches, sockets just close. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const t = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(t);
  }

  async get<T>(path: string): Promise<{ status: number; body: T }> {
    const r = await fetch(`${this.apiUrl}${path}`);
    return { status: r.status, body: (await r.json()) as T };
  }

  async status(): Promise<StatusJson> {
    return (await this.get<StatusJson>("/v1/status")).body;
  }

  /** Every bridge connected and synced to the current generation. */
  async ready(): Promise<boolean> {
    return (await this.get<{ ready: boolean }>("/readyz")).body.ready;
  }

  async write(method: "PUT" | "DELETE", path: string, body?: unknown): Promise<WriteReply> {
    const started = performance.now();
    const r = await fetch(`${this.apiUrl}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    const json = (await r.json()) as Record<string, unknown>;
    return { status: r.status, body: json, ms: performance.now() - started };
  }

  async metricsText(): Promise<string> {
    return (await fetch(this.metricsUrl)).text();
  }

  /** Sum of a counter over all its label sets (0 when never incremented). */
  async counterSum(name: string): Promise<number> {
    let sum = 0;
    for (const line of (await this.metricsText()).split("\n")) {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`).exec(line);
      if (m !== null) sum += Number(m[1]);
    }
    return sum;
  }
}
