#!/usr/bin/env node
// The installed entry point: runs the compiled CLI (built by `npm ci` through the
// `prepare` script). Kept as plain JS so it works without a TypeScript loader.
import { main } from "../dist/src/cli/main.js";

// `dvrflow dump-flows … | head` closes our stdout early: stop quietly, as
// ovs-ofctl does, instead of dying on an unhandled EPIPE.
process.stdout.on("error", (err) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  },
);
