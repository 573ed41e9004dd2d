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
import { flag, integer, key, oneOf, optionalText, secret, text } from "./meta.js";
import { embeddingSection, engineSection, llmSection, scorerSection } from "./schema-engine.js";
import { oidcSection } from "./schema-oidc.js";
import { signingSection } from "./schema-signing.js";
import { piiSection } from "./schema-pii.js";
import { httpSection } from "./schema-http.js";
import { keysSection } from "./schema-keys.js";
import { tlsSection } from "./schema-tls.js";
import { rateLimitKeys, redisSection } from "./schema-redis.js";
import { cacheSection } from "./schema-cache.js";

/** Log levels, most to least severe. */
export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;

/** Log output formats; "auto" means pretty on a terminal and JSON otherwise. */
export const LOG_FORMAT_SETTINGS = ["json", "pretty", "auto"] as const;

/** A number leaf bounded on both sides (ratios, thresholds); NaN and infinities are refused. */
function decimal(min: number, max: number, fallback: number): z.ZodDefault<z.ZodNumber> {
  return z.number().min(min).max(max).default(fallback);
}

/**
 * The one cross-field rule of the moral section: minThreshold < maxThreshold, and
 * initialThreshold between them. Reported on the key at fault (E801 names it and both bounds).
 */
function checkMoralBounds(
  moral: { initialThreshold: number; minThreshold: number; maxThreshold: number },
  context: z.RefinementCtx,
): void {
  const { initialThreshold, minThreshold, maxThreshold } = moral;
  if (minThreshold >= maxThreshold) {
    context.addIssue({
      code: "custom",
      path: ["minThreshold"],
      input: minThreshold,
      message: `a number less than moral.maxThreshold (${maxThreshold})`,
    });
  } else if (initialThreshold < minThreshold || initialThreshold > maxThreshold) {
    context.addIssue({
      code: "custom",
      path: ["initialThreshold"],
      input: initialThreshold,
      message: `a number from moral.minThreshold (${minThreshold}) to moral.maxThreshold (${maxThreshold})`,
    });
  }
}

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
      pelmCapacity: key(integer(1, 1_000_000, 20_000), {
        env: "MLSDM_PELM_CAPACITY",
        description:
          "Number of vectors the phase-entangled lattice memory (PELM) holds; once full, the oldest slot is reused.",
      }),
      phaseTolerance: key(decimal(0, 1, 0.15), {
        env: "MLSDM_PHASE_TOLERANCE",
        description:
          "Largest difference between a stored memory's phase value and the current phase for it to be retrieved.",
      }),
      scanThreads: key(integer(1, 16, 2), {
        env: "MLSDM_PELM_SCAN_THREADS",
        description:
          "Threads that share a retrieval's scan of PELM once it holds 4,096 vectors or more: the event-loop thread plus scanThreads − 1 worker threads over the same shared memory (capped at the machine's cores); 1 scans on the event-loop thread only.",
      }),
    })
    .prefault({}),
  moral: z
    .strictObject({
      initialThreshold: key(decimal(0.3, 0.9, 0.5), {
        env: "MLSDM_MORAL_INITIAL_THRESHOLD",
        description:
          "Moral threshold at start-up; must lie between moral.minThreshold and moral.maxThreshold.",
      }),
      minThreshold: key(decimal(0, 1, 0.3), {
        env: "MLSDM_MORAL_MIN_THRESHOLD",
        description:
          "Lowest value the adaptive moral threshold may reach; must be less than moral.maxThreshold.",
      }),
      maxThreshold: key(decimal(0, 1, 0.9), {
        env: "MLSDM_MORAL_MAX_THRESHOLD",
        description: "Highest value the adaptive moral threshold may reach.",
      }),
    })
    .superRefine(checkMoralBounds)
    .prefault({}),
  rhythm: z
    .strictObject({
      wakeDuration: key(integer(1, 10_000, 8), {
        env: "MLSDM_RHYTHM_WAKE_DURATION",
        description: "Length of the wake phase of the cognitive rhythm, in accepted events.",
      }),
      sleepDuration: key(integer(1, 10_000, 3), {
        env: "MLSDM_RHYTHM_SLEEP_DURATION",
        description: "Length of the sleep phase of the cognitive rhythm, in accepted events.",
      }),
    })
    .prefault({}),
  controller: z
    .strictObject({
      maxProcessingTimeMs: key(integer(1, 60_000, 1000), {
        env: "MLSDM_MAX_PROCESSING_TIME_MS",
        description:
          "Milliseconds the cognitive controller may spend on one event before it reports the event as rejected.",
      }),
      rssLimitMb: key(integer(64, 1_048_576, 1400), {
        env: "MLSDM_RSS_LIMIT_MB",
        description: "Process resident memory, in MiB, above which the engine enters emergency shutdown.",
      }),
      heapLimitMb: key(integer(0, 1_048_576, 0), {
        env: "MLSDM_HEAP_LIMIT_MB",
        description:
          "V8 heap in use, in MiB, above which the engine enters emergency shutdown; 0 means 90 % of the heap limit Node was started with.",
      }),
    })
    .prefault({}),
  recovery: z
    .strictObject({
      enabled: key(flag(true), {
        env: "MLSDM_RECOVERY_ENABLED",
        description:
          "Recover automatically from an emergency shutdown caused by the engine (never from a manual one).",
      }),
      cooldownSeconds: key(integer(0, 86_400, 60), {
        env: "MLSDM_RECOVERY_COOLDOWN_SECONDS",
        description: "Seconds an automatic emergency shutdown lasts at least before recovery is tried.",
      }),
      cooldownSteps: key(integer(0, 100_000, 10), {
        env: "MLSDM_RECOVERY_COOLDOWN_STEPS",
        description:
          "Controller steps an automatic emergency shutdown lasts at least before recovery is tried.",
      }),
      memorySafetyRatio: key(decimal(0.1, 1, 0.8), {
        env: "MLSDM_RECOVERY_MEMORY_SAFETY_RATIO",
        description:
          "Recovery is tried only while resident memory is below this fraction of controller.rssLimitMb.",
      }),
      maxAttempts: key(integer(1, 100, 3), {
        env: "MLSDM_RECOVERY_MAX_ATTEMPTS",
        description:
          "Automatic recovery attempts before the engine stays shut down until an operator resets it.",
      }),
    })
    .prefault({}),
  engine: engineSection,
  llm: llmSection,
  embedding: embeddingSection,
  scorer: scorerSection,
  http: httpSection,
  auth: z
    .strictObject({
      apiKey: key(secret(), {
        env: "MLSDM_API_KEY",
        description:
          "An API key with the write role (Generate, ProcessEvent and reads), id env-write. Never logged.",
        secret: true,
      }),
      readApiKey: key(secret(), {
        env: "MLSDM_READ_API_KEY",
        description: "An API key with the read role only (GetState, RetrieveContext), id env-read.",
        secret: true,
      }),
      adminApiKey: key(secret(), {
        env: "MLSDM_ADMIN_API_KEY",
        description: "An API key with the admin role (every RPC, AdminService included), id env-admin.",
        secret: true,
      }),
      keysFile: key(optionalText(), {
        env: "MLSDM_API_KEYS_FILE",
        description:
          "YAML/JSON file of API keys ({keys: [{id, owner, roles, sha256, expiresAt}]}), reloaded within a second of a change.",
      }),
      disabled: key(flag(false), {
        env: "MLSDM_AUTH_DISABLED",
        description:
          "Serve calls without a credential as admin, on any address (logged as a warning). Without it and without any identity source, start-up refuses a non-loopback host; refused in secure mode.",
      }),
    })
    .prefault({}),
  oidc: oidcSection,
  signing: signingSection,
  keys: keysSection,
  tls: tlsSection,
  limits: z
    .strictObject({
      maxConcurrentPerListener: key(integer(1, 100_000, 100), {
        env: "MLSDM_MAX_CONCURRENT",
        description:
          "Engine calls in flight per listener before new ones are refused with RESOURCE_EXHAUSTED E702.",
      }),
      llmGeneration: key(integer(1, 10_000, 10), {
        env: "MLSDM_BULKHEAD_LLM_GENERATION",
        description: "Concurrent Generate and GenerateStream calls (the llm_generation compartment).",
      }),
      cognitive: key(integer(1, 10_000, 100), {
        env: "MLSDM_BULKHEAD_COGNITIVE",
        description: "Concurrent ProcessEvent calls (the cognitive compartment).",
      }),
      memory: key(integer(1, 10_000, 50), {
        env: "MLSDM_BULKHEAD_MEMORY",
        description: "Concurrent RetrieveContext and GetState calls (the memory compartment).",
      }),
      queueSize: key(integer(0, 100_000, 100), {
        env: "MLSDM_BULKHEAD_QUEUE_SIZE",
        description:
          "Calls that may wait for a slot in each compartment; beyond it they are refused at once.",
      }),
      queueTimeoutMs: key(integer(1, 600_000, 5_000), {
        env: "MLSDM_BULKHEAD_QUEUE_TIMEOUT_MS",
        description:
          "Longest wait for a compartment slot before RESOURCE_EXHAUSTED E702 (also the RetryInfo delay).",
      }),
      priorityAgingMs: key(integer(1, 600_000, 1_000), {
        env: "MLSDM_PRIORITY_AGING_MS",
        description:
          "A queued call gains one priority level (x-mlsdm-priority: low, normal, high) per this many ms waited, so low priority is never starved.",
      }),
      ...rateLimitKeys,
      maxEventLoopLagMs: key(integer(0, 60_000, 200), {
        env: "MLSDM_MAX_EVENT_LOOP_LAG_MS",
        description: "Event-loop p99 delay above which new engine calls are shed (0 turns the guard off).",
      }),
    })
    .prefault({}),
  redis: redisSection,
  cache: cacheSection,
  state: z
    .strictObject({
      mode: key(oneOf(["sqlite", "memory"] as const, "sqlite"), {
        env: "MLSDM_STATE",
        description:
          "sqlite: memory writes are journalled and snapshotted to mlsdm.sqlite under dataDir and survive restarts; memory: nothing is persisted (tests, ephemeral replicas).",
      }),
      snapshotIntervalSeconds: key(integer(1, 86_400, 300), {
        env: "MLSDM_SNAPSHOT_INTERVAL_SECONDS",
        description: "Seconds between automatic snapshots (each truncates the journal it covers).",
      }),
      maxDatabaseMb: key(integer(0, 1_048_576, 0), {
        env: "MLSDM_STATE_MAX_DATABASE_MB",
        description:
          "Cap on the state database size in MiB (0: no cap); past it memory writes answer UNAVAILABLE E406 instead of filling the disk.",
      }),
      maxImportMb: key(integer(1, 65_536, 512), {
        env: "MLSDM_SNAPSHOT_MAX_IMPORT_MB",
        description:
          "Largest snapshot AdminService.ImportSnapshot accepts, in MiB (uploads are held in memory until complete).",
      }),
      keepSnapshots: key(integer(1, 1000, 5), {
        env: "MLSDM_SNAPSHOT_KEEP",
        description:
          "Automatic snapshots kept; older ones are deleted (snapshots made by an operator are kept).",
      }),
    })
    .prefault({}),
  pii: piiSection,
  dataDir: key(text("./.data"), {
    env: "MLSDM_DATA_DIR",
    description: "Directory for local state (memory snapshots, SQLite), relative to the working directory.",
  }),
  secureMode: key(flag(false), {
    env: "MLSDM_SECURE_MODE",
    description:
      "Refuse to start without an identity source, with auth.disabled, with the local_stub LLM or without TLS off loopback; turn reflection off, hide per-service /readyz details, disable RestoreSnapshot (E205). See docs/security/secure-mode.md.",
  }),
});

/** The validated configuration, with every default applied. */
export type Config = z.infer<typeof configSchema>;

/** The value of the `log.format` setting, before "auto" is resolved. */
export type LogFormatSetting = Config["log"]["format"];
