/**
 * Runs the dvrflow CLI from source (tests spawn `node --import tsx
 * test/switch/run-cli.ts switch ...` so they need no build).
 */
import { main } from "../../src/cli/main.js";

main(process.argv).then((code) => process.exit(code));
