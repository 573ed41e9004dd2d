/**
 * Starts the real server in-process on ephemeral loopback ports, for integration tests.
 */
import { startApp, type RunningApp, type ServiceOverrides } from "../../../src/app.js";
import { loadConfig } from "../../../src/config/index.js";
import { logger } from "../../../src/telemetry/logger.js";

// Servers started in-process log through the shared logger; keep test output readable unless
// MLSDM_TEST_LOGS is set.
logger.silent = process.env.MLSDM_TEST_LOGS === undefined;

/** Starts MLSDM on 127.0.0.1 with both ports chosen by the OS; extra env overrides defaults. */
export async function startTestServer(
  env: Record<string, string> = {},
  overrides: ServiceOverrides = {},
): Promise<RunningApp> {
  const { config } = loadConfig({
    env: {
      MLSDM_GRPC_PORT: "0",
      MLSDM_HTTP_PORT: "0",
      MLSDM_LOG_LEVEL: "error",
      MLSDM_STATE: "memory",
      // Tests run many servers in parallel on two cores: the event-loop lag guard would shed
      // their calls at random. Tests of the guard itself set it explicitly.
      MLSDM_MAX_EVENT_LOOP_LAG_MS: "0",
      ...env,
    },
  });
  return startApp(config, overrides);
}
