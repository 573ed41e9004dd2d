/**
 * The one configuration schema (DESIGN rule 5, spec/core.md W15): every knob of the service,
 * nested by section, each with its type, range, default, environment variable, description and
 * secrecy. The loader, the documentation table and `mlsdm config print` are all derived from it.
 *
 * To add a knob, add one `key(...)` entry below and regenerate docs/configuration.md with
 * `npx tsx src/config/docs.ts --write`. Objects are strict: an unknown key in the YAML file is
 * an error that names the key.
 */
import { z } from "zod";
import { flag, integer, key, oneOf, text } from "./meta.js";

/** Log levels, most to least severe. */
export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;

/** Log output formats; "auto" means pretty on a terminal and JSON otherwise. */
export const LOG_FORMAT_SETTINGS = ["json", "pretty", "auto"] as const;

/** The schema of the whole configuration. Parse `{}` to get every default. */
export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: key(text("127.0.0.1"), {
        env: "MLSDM_HOST",
        description:
          "Address both listeners bind to. The default serves loopback only; the container image sets 0.0.0.0.",
      }),
      grpcPort: key(integer(0, 65535, 50051), {
        env: "MLSDM_GRPC_PORT",
        description: "TCP port of the grpc-js listener (service-to-service gRPC). 0 picks a free port.",
      }),
      httpPort: key(integer(0, 65535, 8080), {
        env: "MLSDM_HTTP_PORT",
        description:
          "TCP port of the Connect listener (Connect, gRPC-Web, browsers, curl). 0 picks a free port.",
      }),
      drainTimeoutMs: key(integer(0, 600_000, 10_000), {
        env: "MLSDM_DRAIN_TIMEOUT_MS",
        description: "Milliseconds in-flight calls may keep running after SIGTERM before they are cancelled.",
      }),
      shutdownDelayMs: key(integer(0, 60_000, 0), {
        env: "MLSDM_SHUTDOWN_DELAY_MS",
        description:
          "Milliseconds between health turning NOT_SERVING and refusing new calls, so load balancers notice first.",
      }),
      reflection: key(flag(true), {
        env: "MLSDM_REFLECTION",
        description: "Serve gRPC server reflection on the grpc-js listener (for grpcurl and buf curl).",
      }),
      maxMessageBytes: key(integer(1024, 67_108_864, 1_048_576), {
        env: "MLSDM_MAX_MESSAGE_BYTES",
        description: "Largest request message accepted on both listeners, in bytes.",
      }),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: key(oneOf(LOG_LEVELS, "info"), {
        env: "MLSDM_LOG_LEVEL",
        description: "Least severe log level written.",
      }),
      format: key(oneOf(LOG_FORMAT_SETTINGS, "auto"), {
        env: "MLSDM_LOG_FORMAT",
        description:
          "Log line format: one JSON object per line, or pretty text; auto is pretty on a TTY, else JSON.",
      }),
    })
    .prefault({}),
  core: z
    .strictObject({
      dimension: key(integer(1, 4096, 384), {
        env: "MLSDM_DIMENSION",
        description: "Embedding vector dimension used by the memory and the embedder.",
      }),
    })
    .prefault({}),
  dataDir: key(text("./.data"), {
    env: "MLSDM_DATA_DIR",
    description: "Directory for local state (memory snapshots, SQLite), relative to the working directory.",
  }),
  secureMode: key(flag(false), {
    env: "MLSDM_SECURE_MODE",
    description:
      "Placeholder for the security work: will require authentication and turn off reflection. Currently has no effect.",
  }),
});

/** The validated configuration, with every default applied. */
export type Config = z.infer<typeof configSchema>;

/** The value of the `log.format` setting, before "auto" is resolved. */
export type LogFormatSetting = Config["log"]["format"];
