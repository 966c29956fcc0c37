/**
 * The `dvrflow` command line. Each subcommand lives in src/cli/commands/ as a
 * commander-free function `(args, io) => exit status`, so it can be tested
 * without a process; this file only maps argv onto them.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import type { CommandIo } from "./commands/ofp-print.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const defaultIo: CommandIo = {
  stdin: readStdin,
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

/** Commander accumulator for repeatable options. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function version(): string {
  // dist/src/cli/main.js and src/cli/main.ts sit at different depths below package.json.
  for (const rel of ["../../../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "dvrflow" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // Try the next layout.
    }
  }
  throw new Error("package.json not found");
}

/** Runs the CLI; resolves to the process exit status. */
export async function main(argv: readonly string[], io: CommandIo = defaultIo): Promise<number> {
  let status = 0;
  const program = new Command("dvrflow")
    .description("Distributed virtual routing on OpenFlow 1.3: codec, controller, userspace switch")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => (io.stderr ?? io.stdout)(s),
    });
  try {
    program.version(version());
  } catch {
    // Running from an unusual layout without package.json: no --version.
  }

  program
    .command("ofp-print")
    .description("print OpenFlow messages as `ovs-ofctl -O OpenFlow13 ofp-print` does")
    .argument("<hex...>", "message bytes in hex (spaces allowed), or - to read from stdin")
    .action(async (hex: string[]) => {
      const { runOfpPrint } = await import("./commands/ofp-print.js");
      status = await runOfpPrint(hex.length === 1 && hex[0] === "-" ? ["-"] : [hex.join(" ")], io);
    });

  program
    .command("encode-flow")
    .description("encode a flow in `ovs-ofctl add-flow` syntax as an OF1.3 FLOW_MOD (hex)")
    .option("--command <cmd>", "add | modify | modify_strict | delete | delete_strict", "add")
    .option("--xid <n>", "transaction id of the message")
    .argument("<flow>", "the flow, or - to read one flow per line from stdin")
    .action(async (flow: string, opts: { command: string; xid?: string }) => {
      const { runEncodeFlow } = await import("./commands/encode-flow.js");
      const args = ["--command", opts.command];
      if (opts.xid !== undefined) args.push("--xid", opts.xid);
      status = await runEncodeFlow([...args, flow], io);
    });

  program
    .command("compile")
    .description("print a host's desired DVR flows in `ovs-ofctl add-flows` syntax")
    .requiredOption("--config <file>", "topology YAML file")
    .requiredOption("--host <name>", "the compute host")
    .option("--bridge <bridge>", "br-int or br-tun (default: both, under # headers)")
    .option("--store <path>", "SQLite store for persisted host MACs and local VLANs")
    .option("--annotate", "add a comment naming the topology object behind each flow")
    .action(
      async (opts: {
        config: string;
        host: string;
        bridge?: string;
        store?: string;
        annotate?: boolean;
      }) => {
        const { runCompile } = await import("./commands/compile.js");
        const args = ["--config", opts.config, "--host", opts.host];
        if (opts.bridge !== undefined) args.push("--bridge", opts.bridge);
        if (opts.store !== undefined) args.push("--store", opts.store);
        if (opts.annotate === true) args.push("--annotate");
        status = await runCompile(args, io);
      },
    );

  program
    .command("check")
    .description("validate a topology and explain what each host gets")
    .requiredOption("--config <file>", "topology YAML file")
    .option("--json", "machine-readable output")
    .option("--explain", "list every flow with the object that produced it")
    .option("--store <path>", "SQLite store for persisted host MACs and local VLANs")
    .action(async (opts: { config: string; json?: boolean; explain?: boolean; store?: string }) => {
      const { runCheck } = await import("./commands/check.js");
      const args = ["--config", opts.config];
      if (opts.json === true) args.push("--json");
      if (opts.explain === true) args.push("--explain");
      if (opts.store !== undefined) args.push("--store", opts.store);
      status = await runCheck(args, io);
    });

  program
    .command("run")
    .description("run the controller: OpenFlow listeners, REST API, metrics (until SIGINT/SIGTERM)")
    .option("--config <file>", "topology YAML file (committed to the store at start)")
    .option("--store <path>", "SQLite store (default: in memory, MACs derived as `compile` does)")
    .option("--listen <target>", "OpenFlow listener tcp:HOST:PORT (repeatable)", collect, [])
    .option("--listen-unix <path>", "OpenFlow listener on a unix socket (repeatable)", collect, [])
    .option("--api <host:port|off>", "REST API address (default 127.0.0.1:8080; off: no API)")
    .option(
      "--metrics <host:port|off>",
      "Prometheus metrics address (default 127.0.0.1:9302; off: none)",
    )
    .option("--bundles <mode>", "ONF bundles for reconciliation: auto | always | never")
    .option("--log-level <level>", "pino level (trace logs every OpenFlow message)")
    .option(
      "--packet-in-rate <limit>",
      "CLASS=RATE[/BURST]: packet-ins per second per bridge of a class (arp, route_miss, " +
        "other, all); default 1000/s, burst 200 each (repeatable)",
      collect,
      [],
    )
    .option(
      "--controller-target <target>",
      "hosts with `ovsdb`: controller target they get (default: from the first listener)",
    )
    .option("--datapath-type <type>", "hosts with `ovsdb`: bridge datapath_type (netdev, system)")
    .option("--dst-port <port>", "hosts with `ovsdb`: VXLAN UDP port when not 4789")
    .option(
      "--vm-port-type <type>",
      "hosts with `ovsdb`: interface type of VM ports dvrflow creates",
    )
    .option("--underlay-port <ifs>", "hosts with `ovsdb`: interfaces for br-phy (userspace VXLAN)")
    .option("--underlay-bridge <name>", "hosts with `ovsdb`: underlay bridge (default br-phy)")
    .option("--underlay-prefix <len>", "hosts with `ovsdb`: prefix length of the tunnel IP")
    .action(
      async (opts: {
        config?: string;
        store?: string;
        listen: string[];
        listenUnix: string[];
        api?: string;
        metrics?: string;
        bundles?: string;
        logLevel?: string;
        packetInRate: string[];
        controllerTarget?: string;
        datapathType?: string;
        dstPort?: string;
        vmPortType?: string;
        underlayPort?: string;
        underlayBridge?: string;
        underlayPrefix?: string;
      }) => {
        const { runRun } = await import("./commands/run.js");
        const args: string[] = [];
        for (const [flag, v] of [
          ["--config", opts.config],
          ["--store", opts.store],
          ["--api", opts.api],
          ["--metrics", opts.metrics],
          ["--bundles", opts.bundles],
          ["--log-level", opts.logLevel],
          ["--controller-target", opts.controllerTarget],
          ["--datapath-type", opts.datapathType],
          ["--dst-port", opts.dstPort],
          ["--vm-port-type", opts.vmPortType],
          ["--underlay-port", opts.underlayPort],
          ["--underlay-bridge", opts.underlayBridge],
          ["--underlay-prefix", opts.underlayPrefix],
        ] as const) {
          if (v !== undefined) args.push(flag, v);
        }
        for (const l of opts.listen) args.push("--listen", l);
        for (const l of opts.listenUnix) args.push("--listen-unix", l);
        for (const r of opts.packetInRate) args.push("--packet-in-rate", r);
        status = await runRun(args, io);
      },
    );

  program
    .command("dump-flows")
    .description(
      "a switch's flows in `ovs-ofctl dump-flows` text (dialling it, or through the API)",
    )
    .argument("<target>", "tcp:HOST:PORT or unix:PATH of a listening switch, or a host name (API)")
    .option("--bridge <bridge>", "br-int or br-tun (API mode)", "br-int")
    .option("--api <url>", "controller API (default $DVR_API or http://127.0.0.1:8080)")
    .option("--cookie <v/m>", "only flows whose cookie matches (direct mode)")
    .option("--stats", "include duration and counters")
    .action(
      async (
        target: string,
        opts: { bridge: string; api?: string; cookie?: string; stats?: boolean },
      ) => {
        const { runDumpFlows } = await import("./commands/flows.js");
        const args = [target, "--bridge", opts.bridge];
        if (opts.api !== undefined) args.push("--api", opts.api);
        if (opts.cookie !== undefined) args.push("--cookie", opts.cookie);
        if (opts.stats === true) args.push("--stats");
        status = await runDumpFlows(args, io);
      },
    );

  program
    .command("diff-flows")
    .description("desired vs installed flows (-desired, +installed); exit 0 same, 2 differ")
    .argument("<target>", "tcp:HOST:PORT or unix:PATH of a listening switch, or a host name (API)")
    .option("--config <file>", "topology YAML file (direct mode)")
    .option("--host <name>", "the compute host (direct mode)")
    .option("--bridge <bridge>", "br-int or br-tun", "br-int")
    .option("--store <path>", "SQLite store for persisted host MACs and local VLANs")
    .option("--api <url>", "controller API (default $DVR_API or http://127.0.0.1:8080)")
    .action(
      async (
        target: string,
        opts: { config?: string; host?: string; bridge: string; store?: string; api?: string },
      ) => {
        const { runDiffFlows } = await import("./commands/flows.js");
        const args = [target, "--bridge", opts.bridge];
        for (const [flag, v] of [
          ["--config", opts.config],
          ["--host", opts.host],
          ["--store", opts.store],
          ["--api", opts.api],
        ] as const) {
          if (v !== undefined) args.push(flag, v);
        }
        status = await runDiffFlows(args, io);
      },
    );

  program
    .command("plumb")
    .description(
      "create/keep a host's br-int, br-tun, patch, VXLAN and VM ports over OVSDB, or print ovs-vsctl commands",
    )
    .requiredOption("--config <file>", "topology YAML file")
    .requiredOption("--host <name>", "the compute host")
    .option("--ovsdb <remote>", "OVSDB remote tcp:IP:PORT or unix:PATH (default: the host's ovsdb)")
    .option("--store <path>", "SQLite store for persisted local VLANs")
    .option("--controller <target>", "controller target, e.g. tcp:198.51.100.1:6653 or unix:PATH")
    .option("--datapath-type <type>", "bridge datapath_type: netdev (userspace), system, dummy")
    .option("--dst-port <port>", "VXLAN UDP port when not 4789")
    .option("--vm-port-type <type>", "interface type of VM ports dvrflow creates (default system)")
    .option("--underlay-port <ifs>", "interfaces for br-phy (comma-separated): userspace VXLAN")
    .option("--underlay-bridge <name>", "underlay bridge name (default br-phy)")
    .option(
      "--underlay-prefix <len>",
      "prefix length of the tunnel IP on the underlay (default 24)",
    )
    .option("--timeout <ms>", "OVSDB connect/request time limit")
    .option("--print", "print the ovs-vsctl script even when an OVSDB remote is known")
    .option("--dry-run", "report what would change (exit 2 if anything) without writing")
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const { runPlumb } = await import("./commands/plumb.js");
      const args: string[] = [];
      for (const [flag, key] of [
        ["--config", "config"],
        ["--host", "host"],
        ["--ovsdb", "ovsdb"],
        ["--store", "store"],
        ["--controller", "controller"],
        ["--datapath-type", "datapathType"],
        ["--dst-port", "dstPort"],
        ["--vm-port-type", "vmPortType"],
        ["--underlay-port", "underlayPort"],
        ["--underlay-bridge", "underlayBridge"],
        ["--underlay-prefix", "underlayPrefix"],
        ["--timeout", "timeout"],
      ] as const) {
        const v = opts[key];
        if (typeof v === "string") args.push(flag, v);
      }
      if (opts.print === true) args.push("--print");
      if (opts.dryRun === true) args.push("--dry-run");
      status = await runPlumb(args, io);
    });

  program
    .command("tour")
    .description("round-trip the embedded Neutron DVR flows through the codec and print them")
    .action(async () => {
      const { runTour } = await import("./commands/tour.js");
      status = await runTour([], io);
    });

  program
    .command("demo")
    .description(
      "the embedded DVR demo: controller, one switch process per host, VMs pinging (npm start)",
    )
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (_opts: unknown, cmd: Command) => {
      const { runDemoCommand } = await import("./commands/demo.js");
      status = await runDemoCommand(cmd.args, io);
    });

  program
    .command("switch")
    .description("run the userspace OpenFlow 1.3 switch (see `dvrflow switch --help`)")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (_opts: unknown, cmd: Command) => {
      const { runSwitch } = await import("./commands/switch.js");
      status = await runSwitch(cmd.args, io);
    });

  program
    .command("trace")
    .description(
      "trace a packet as ovs-appctl ofproto/trace does: through a topology's hosts and tunnels, a flow file or a live switch",
    )
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (_opts: unknown, cmd: Command) => {
      const { runTrace } = await import("./commands/trace.js");
      status = await runTrace(cmd.args, io);
    });

  try {
    await program.parseAsync([...argv], { from: "node" });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return status;
}
