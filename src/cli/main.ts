#!/usr/bin/env node
/**
 * The `mlsdm` executable (package.json `bin`). Exit codes: docs/cli.md.
 */
import { run } from "./program.js";

const result = await run(process.argv);
process.exitCode = result.exitCode;
if (!result.keepAlive) {
  // Connections are closed by now; let stdout drain, then make sure no stray handle keeps us.
  setTimeout(() => process.exit(result.exitCode), 50).unref();
}
