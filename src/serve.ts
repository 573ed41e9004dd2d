/**
 * Running the service: load configuration (exit 2 on a bad value), start both listeners, log
 * where they listen, and shut down gracefully on SIGTERM/SIGINT (exit 0); a second signal exits
 * at once (143 or 130) without waiting for the drain. Used by `src/main.ts` and by `mlsdm serve`.
 */
import { startApp } from "./app.js";
import { ConfigError, loadConfig, maskSecrets, resolveLogFormat } from "./config/index.js";
import { configureLogger, logger } from "./telemetry/logger.js";
import { startTracing, TracingConfigError } from "./telemetry/tracing/setup.js";
import { VERSION } from "./version.js";

function loadOrExit(): ReturnType<typeof loadConfig> {
  try {
    return loadConfig({ env: process.env, isTty: process.stdout.isTTY });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const { config, warnings } = loadOrExit();
  configureLogger({
    level: config.log.level,
    format: resolveLogFormat(config.log.format, process.stdout.isTTY),
    version: VERSION,
  });
  for (const warning of warnings) logger.warn(warning, { event: "config_warning" });
  const tracing = await startTracing({ serviceVersion: VERSION }).catch((error: unknown) => {
    if (!(error instanceof TracingConfigError)) throw error;
    process.stderr.write(`E801 CONFIG_INVALID: ${error.message}\n`);
    process.exit(2);
  });
  const app = await startApp(config);
  const { host } = config.server;
  logger.info("mlsdm listening", {
    event: "started",
    grpc: `${host}:${app.grpcPort}`,
    http: `${host}:${app.httpPort}`,
    config: maskSecrets(config),
    tracing: tracing.enabled ? tracing.exporters.join(",") : "off",
  });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      // A second signal: stop waiting for the drain. The state database is safe to leave at any
      // point (WAL journal, every acknowledged write already committed); start-up replays it.
      logger.warn("second signal: exiting without waiting for the drain", {
        event: "shutdown_forced",
        signal,
        in_flight: app.inFlight(),
      });
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    app
      .shutdown(signal)
      .then(() => tracing.shutdown())
      .then(
        () => {
          // Let stdout flush and the event loop empty; force the exit if a handle lingers.
          process.exitCode = 0;
          setTimeout(() => process.exit(0), 1_000).unref();
        },
        (error: unknown) => {
          logger.error("shutdown failed", { event: "shutdown_failed", error: String(error) });
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

/** Starts the service from `process.env`; exits the process on a configuration error. */
export function runServer(): Promise<void> {
  return main().catch((error: unknown) => {
    // Start-up checks over the whole configuration (startup-checks.ts) refuse like a bad value.
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    logger.error("start-up failed", {
      event: "startup_failed",
      error_code: "E706",
      error: error instanceof Error ? error.message : String(error),
    });
    process.exitCode = 1;
  });
}
