/**
 * The service entry point (`npm start`, the container image): runs the server from the
 * environment; see `src/serve.ts`. The `mlsdm serve` command runs the same path.
 */
import { runServer } from "./serve.js";

void runServer();
