/**
 * The schema itself: every leaf is fully declared (variable, description, default), defaults
 * are what the brief and the design promise, and the derived "allowed" texts are right.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  configEntries,
  configSchema,
  describeAllowed,
  loadConfig,
  type Config,
} from "../../src/config/index.js";
import { key, text } from "../../src/config/meta.js";
import { configErrorOf } from "./support.js";

describe("configSchema defaults", () => {
  it("parses {} to every documented default", () => {
    const expected: Config = {
      server: {
        host: "127.0.0.1",
        grpcPort: 50051,
        httpPort: 8080,
        drainTimeoutMs: 10_000,
        shutdownDelayMs: 0,
        reflection: true,
        maxMessageBytes: 1_048_576,
      },
      log: { level: "info", format: "auto" },
      core: { dimension: 384, pelmCapacity: 20_000, phaseTolerance: 0.15, scanThreads: 2 },
      moral: { initialThreshold: 0.5, minThreshold: 0.3, maxThreshold: 0.9 },
      rhythm: { wakeDuration: 8, sleepDuration: 3 },
      controller: { maxProcessingTimeMs: 1000, rssLimitMb: 1400, heapLimitMb: 0 },
      recovery: {
        enabled: true,
        cooldownSeconds: 60,
        cooldownSteps: 10,
        memorySafetyRatio: 0.8,
        maxAttempts: 3,
      },
      engine: {
        defaultMaxTokens: 512,
        defaultMoralValue: 1,
        defaultContextTopK: 5,
        sleepBehaviour: "short_answers",
        sleepMaxTokens: 150,
        postMoralTolerance: 0.15,
        contextTextMaxBytes: 1024,
        aphasiaDetect: true,
        aphasiaRepair: true,
        aphasiaSeverityThreshold: 0.3,
        streamWindowChars: 400,
        generateDeadlineMs: 60_000,
        streamDeadlineMs: 300_000,
        streamCheckChars: 80,
      },
      llm: {
        primary: { backend: "local_stub", model: "", baseUrl: "", apiKey: "", id: "" },
        secondary: { backend: "none", model: "", baseUrl: "", apiKey: "", id: "" },
        router: "single",
        rules: "",
        abTreatmentRatio: 0.1,
        attemptTimeoutMs: 30_000,
        maxRetries: 2,
        breakerFailures: 5,
        breakerHalfOpenSeconds: 30,
      },
      embedding: { backend: "hashing", model: "", baseUrl: "", apiKey: "" },
      scorer: { backend: "lexicon", model: "", baseUrl: "", apiKey: "" },
      http: { corsOrigins: "", playground: "auto" },
      auth: { apiKey: "", readApiKey: "", adminApiKey: "", keysFile: "", disabled: false },
      oidc: {
        enabled: false,
        issuer: "",
        audience: "",
        jwksUri: "",
        rolesClaim: "roles",
        algorithms: "RS256",
        jwksCacheTtlSeconds: 3600,
        jwksRefreshCooldownSeconds: 30,
        clockSkewSeconds: 30,
      },
      signing: {
        required: false,
        keys: "",
        keysFile: "",
        maxAgeSeconds: 300,
        clockSkewSeconds: 30,
        replayCacheEntries: 100_000,
      },
      keys: { rotationOverlapSeconds: 86_400, filePollMs: 1_000 },
      tls: {
        enabled: false,
        certFile: "",
        keyFile: "",
        clientCaFile: "",
        requireClientCert: true,
        verifyDepth: 3,
        clientIdentitiesFile: "",
        clientIdentities: "",
        reloadIntervalMs: 5_000,
      },
      limits: {
        maxConcurrentPerListener: 100,
        llmGeneration: 10,
        cognitive: 100,
        memory: 50,
        queueSize: 100,
        queueTimeoutMs: 5_000,
        priorityAgingMs: 1_000,
        rateLimitRps: 5,
        rateLimitBurst: 10,
        rateLimitAnonymous: false,
        rateLimitRoles: "",
        rateLimitBackend: "memory",
        tokenQuotaPerMinute: 0,
        tokenQuotaPerDay: 0,
        maxEventLoopLagMs: 200,
      },
      redis: { url: "", keyPrefix: "mlsdm:", connectTimeoutMs: 1_000, commandTimeoutMs: 250 },
      cache: { embeddingBackend: "memory", embeddingSize: 10_000, embeddingTtlSeconds: 3_600 },
      state: {
        mode: "sqlite",
        snapshotIntervalSeconds: 300,
        maxDatabaseMb: 0,
        maxImportMb: 512,
        keepSnapshots: 5,
      },
      pii: {
        scrubIps: false,
        prompt: {
          email: "allow",
          phone: "allow",
          ip: "allow",
          card: "mask",
          iban: "mask",
          bearer: "mask",
          apiKey: "mask",
          jwt: "mask",
          privateKey: "mask",
        },
        customPatterns: "",
      },
      dataDir: "./.data",
      secureMode: false,
    };
    expect(configSchema.parse({})).toEqual(expected);
  });

  it("fills a partly given section with the other defaults", () => {
    expect(configSchema.parse({ server: { grpcPort: 1 } }).server).toMatchObject({
      grpcPort: 1,
      httpPort: 8080,
    });
  });

  it("refuses engine settings that cannot work, naming the key", () => {
    for (const [env, keyName] of [
      [{ MLSDM_LLM_PRIMARY_BACKEND: "openai" }, "llm.primary.apiKey"],
      [{ MLSDM_LLM_ROUTER: "fallback" }, "llm.secondary.backend"],
      [{ MLSDM_LLM_RULES: "code=tertiary" }, "llm.rules"],
      [{ MLSDM_EMBEDDING_BACKEND: "openai" }, "embedding.apiKey"],
      [{ MLSDM_SCORER_BACKEND: "moderation" }, "scorer.apiKey"],
    ] as const) {
      expect(configErrorOf(() => loadConfig({ env, isTty: false })).key).toBe(keyName);
    }
    const selfHosted = loadConfig({
      env: { MLSDM_LLM_PRIMARY_BACKEND: "openai", MLSDM_LLM_PRIMARY_BASE_URL: "http://127.0.0.1:11434/v1" },
      isTty: false,
    });
    expect(selfHosted.config.llm.primary.backend).toBe("openai");
  });

  it("rejects unknown keys at every level", () => {
    expect(configSchema.safeParse({ bogus: 1 }).success).toBe(false);
    expect(configSchema.safeParse({ server: { grpcPrt: 1 } }).success).toBe(false);
  });
});

describe("configEntries", () => {
  const entries = configEntries();

  it("lists every leaf with its variable, type, allowed values and default", () => {
    expect(entries.map((entry) => [entry.key, entry.env, entry.type, entry.default])).toEqual([
      ["server.host", "MLSDM_HOST", "string", "127.0.0.1"],
      ["server.grpcPort", "MLSDM_GRPC_PORT", "integer", 50051],
      ["server.httpPort", "MLSDM_HTTP_PORT", "integer", 8080],
      ["server.drainTimeoutMs", "MLSDM_DRAIN_TIMEOUT_MS", "integer", 10000],
      ["server.shutdownDelayMs", "MLSDM_SHUTDOWN_DELAY_MS", "integer", 0],
      ["server.reflection", "MLSDM_REFLECTION", "boolean", true],
      ["server.maxMessageBytes", "MLSDM_MAX_MESSAGE_BYTES", "integer", 1048576],
      ["log.level", "MLSDM_LOG_LEVEL", "enum", "info"],
      ["log.format", "MLSDM_LOG_FORMAT", "enum", "auto"],
      ["core.dimension", "MLSDM_DIMENSION", "integer", 384],
      ["core.pelmCapacity", "MLSDM_PELM_CAPACITY", "integer", 20000],
      ["core.phaseTolerance", "MLSDM_PHASE_TOLERANCE", "number", 0.15],
      ["core.scanThreads", "MLSDM_PELM_SCAN_THREADS", "integer", 2],
      ["moral.initialThreshold", "MLSDM_MORAL_INITIAL_THRESHOLD", "number", 0.5],
      ["moral.minThreshold", "MLSDM_MORAL_MIN_THRESHOLD", "number", 0.3],
      ["moral.maxThreshold", "MLSDM_MORAL_MAX_THRESHOLD", "number", 0.9],
      ["rhythm.wakeDuration", "MLSDM_RHYTHM_WAKE_DURATION", "integer", 8],
      ["rhythm.sleepDuration", "MLSDM_RHYTHM_SLEEP_DURATION", "integer", 3],
      ["controller.maxProcessingTimeMs", "MLSDM_MAX_PROCESSING_TIME_MS", "integer", 1000],
      ["controller.rssLimitMb", "MLSDM_RSS_LIMIT_MB", "integer", 1400],
      ["controller.heapLimitMb", "MLSDM_HEAP_LIMIT_MB", "integer", 0],
      ["recovery.enabled", "MLSDM_RECOVERY_ENABLED", "boolean", true],
      ["recovery.cooldownSeconds", "MLSDM_RECOVERY_COOLDOWN_SECONDS", "integer", 60],
      ["recovery.cooldownSteps", "MLSDM_RECOVERY_COOLDOWN_STEPS", "integer", 10],
      ["recovery.memorySafetyRatio", "MLSDM_RECOVERY_MEMORY_SAFETY_RATIO", "number", 0.8],
      ["recovery.maxAttempts", "MLSDM_RECOVERY_MAX_ATTEMPTS", "integer", 3],
      ["engine.defaultMaxTokens", "MLSDM_ENGINE_DEFAULT_MAX_TOKENS", "integer", 512],
      ["engine.defaultMoralValue", "MLSDM_ENGINE_DEFAULT_MORAL_VALUE", "number", 1],
      ["engine.defaultContextTopK", "MLSDM_ENGINE_DEFAULT_CONTEXT_TOP_K", "integer", 5],
      ["engine.sleepBehaviour", "MLSDM_ENGINE_SLEEP_BEHAVIOUR", "enum", "short_answers"],
      ["engine.sleepMaxTokens", "MLSDM_ENGINE_SLEEP_MAX_TOKENS", "integer", 150],
      ["engine.postMoralTolerance", "MLSDM_ENGINE_POST_MORAL_TOLERANCE", "number", 0.15],
      ["engine.contextTextMaxBytes", "MLSDM_ENGINE_CONTEXT_TEXT_MAX_BYTES", "integer", 1024],
      ["engine.aphasiaDetect", "MLSDM_ENGINE_APHASIA_DETECT", "boolean", true],
      ["engine.aphasiaRepair", "MLSDM_ENGINE_APHASIA_REPAIR", "boolean", true],
      ["engine.aphasiaSeverityThreshold", "MLSDM_ENGINE_APHASIA_SEVERITY_THRESHOLD", "number", 0.3],
      ["engine.streamWindowChars", "MLSDM_ENGINE_STREAM_WINDOW_CHARS", "integer", 400],
      ["engine.generateDeadlineMs", "MLSDM_ENGINE_GENERATE_DEADLINE_MS", "integer", 60000],
      ["engine.streamDeadlineMs", "MLSDM_ENGINE_STREAM_DEADLINE_MS", "integer", 300000],
      ["engine.streamCheckChars", "MLSDM_ENGINE_STREAM_CHECK_CHARS", "integer", 80],
      ["llm.primary.backend", "MLSDM_LLM_PRIMARY_BACKEND", "enum", "local_stub"],
      ["llm.primary.model", "MLSDM_LLM_PRIMARY_MODEL", "string", ""],
      ["llm.primary.baseUrl", "MLSDM_LLM_PRIMARY_BASE_URL", "string", ""],
      ["llm.primary.apiKey", "MLSDM_LLM_PRIMARY_API_KEY", "string", ""],
      ["llm.primary.id", "MLSDM_LLM_PRIMARY_ID", "string", ""],
      ["llm.secondary.backend", "MLSDM_LLM_SECONDARY_BACKEND", "enum", "none"],
      ["llm.secondary.model", "MLSDM_LLM_SECONDARY_MODEL", "string", ""],
      ["llm.secondary.baseUrl", "MLSDM_LLM_SECONDARY_BASE_URL", "string", ""],
      ["llm.secondary.apiKey", "MLSDM_LLM_SECONDARY_API_KEY", "string", ""],
      ["llm.secondary.id", "MLSDM_LLM_SECONDARY_ID", "string", ""],
      ["llm.router", "MLSDM_LLM_ROUTER", "enum", "single"],
      ["llm.rules", "MLSDM_LLM_RULES", "string", ""],
      ["llm.abTreatmentRatio", "MLSDM_LLM_AB_TREATMENT_RATIO", "number", 0.1],
      ["llm.attemptTimeoutMs", "MLSDM_LLM_ATTEMPT_TIMEOUT_MS", "integer", 30000],
      ["llm.maxRetries", "MLSDM_LLM_MAX_RETRIES", "integer", 2],
      ["llm.breakerFailures", "MLSDM_LLM_BREAKER_FAILURES", "integer", 5],
      ["llm.breakerHalfOpenSeconds", "MLSDM_LLM_BREAKER_HALF_OPEN_SECONDS", "integer", 30],
      ["embedding.backend", "MLSDM_EMBEDDING_BACKEND", "enum", "hashing"],
      ["embedding.model", "MLSDM_EMBEDDING_MODEL", "string", ""],
      ["embedding.baseUrl", "MLSDM_EMBEDDING_BASE_URL", "string", ""],
      ["embedding.apiKey", "MLSDM_EMBEDDING_API_KEY", "string", ""],
      ["scorer.backend", "MLSDM_SCORER_BACKEND", "enum", "lexicon"],
      ["scorer.model", "MLSDM_SCORER_MODEL", "string", ""],
      ["scorer.baseUrl", "MLSDM_SCORER_BASE_URL", "string", ""],
      ["scorer.apiKey", "MLSDM_SCORER_API_KEY", "string", ""],
      ["http.corsOrigins", "MLSDM_CORS_ORIGINS", "string", ""],
      ["http.playground", "MLSDM_PLAYGROUND", "enum", "auto"],
      ["auth.apiKey", "MLSDM_API_KEY", "string", ""],
      ["auth.readApiKey", "MLSDM_READ_API_KEY", "string", ""],
      ["auth.adminApiKey", "MLSDM_ADMIN_API_KEY", "string", ""],
      ["auth.keysFile", "MLSDM_API_KEYS_FILE", "string", ""],
      ["auth.disabled", "MLSDM_AUTH_DISABLED", "boolean", false],
      ["oidc.enabled", "MLSDM_OIDC_ENABLED", "boolean", false],
      ["oidc.issuer", "MLSDM_OIDC_ISSUER", "string", ""],
      ["oidc.audience", "MLSDM_OIDC_AUDIENCE", "string", ""],
      ["oidc.jwksUri", "MLSDM_OIDC_JWKS_URI", "string", ""],
      ["oidc.rolesClaim", "MLSDM_OIDC_ROLES_CLAIM", "string", "roles"],
      ["oidc.algorithms", "MLSDM_OIDC_ALGORITHMS", "string", "RS256"],
      ["oidc.jwksCacheTtlSeconds", "MLSDM_OIDC_JWKS_CACHE_TTL_SECONDS", "integer", 3600],
      ["oidc.jwksRefreshCooldownSeconds", "MLSDM_OIDC_JWKS_COOLDOWN_SECONDS", "integer", 30],
      ["oidc.clockSkewSeconds", "MLSDM_OIDC_CLOCK_SKEW_SECONDS", "integer", 30],
      ["signing.required", "MLSDM_SIGNING_REQUIRED", "boolean", false],
      ["signing.keys", "MLSDM_SIGNING_KEYS", "string", ""],
      ["signing.keysFile", "MLSDM_SIGNING_KEYS_FILE", "string", ""],
      ["signing.maxAgeSeconds", "MLSDM_SIGNING_MAX_AGE_SECONDS", "integer", 300],
      ["signing.clockSkewSeconds", "MLSDM_SIGNING_CLOCK_SKEW_SECONDS", "integer", 30],
      ["signing.replayCacheEntries", "MLSDM_SIGNING_REPLAY_CACHE_ENTRIES", "integer", 100000],
      ["keys.rotationOverlapSeconds", "MLSDM_KEY_ROTATION_OVERLAP_SECONDS", "integer", 86400],
      ["keys.filePollMs", "MLSDM_API_KEYS_FILE_POLL_MS", "integer", 1000],
      ["tls.enabled", "MLSDM_TLS_ENABLED", "boolean", false],
      ["tls.certFile", "MLSDM_TLS_CERT_FILE", "string", ""],
      ["tls.keyFile", "MLSDM_TLS_KEY_FILE", "string", ""],
      ["tls.clientCaFile", "MLSDM_TLS_CLIENT_CA_FILE", "string", ""],
      ["tls.requireClientCert", "MLSDM_TLS_REQUIRE_CLIENT_CERT", "boolean", true],
      ["tls.verifyDepth", "MLSDM_TLS_VERIFY_DEPTH", "integer", 3],
      ["tls.clientIdentitiesFile", "MLSDM_TLS_CLIENT_IDENTITIES_FILE", "string", ""],
      ["tls.clientIdentities", "MLSDM_TLS_CLIENT_IDENTITIES", "string", ""],
      ["tls.reloadIntervalMs", "MLSDM_TLS_RELOAD_INTERVAL_MS", "integer", 5000],
      ["limits.maxConcurrentPerListener", "MLSDM_MAX_CONCURRENT", "integer", 100],
      ["limits.llmGeneration", "MLSDM_BULKHEAD_LLM_GENERATION", "integer", 10],
      ["limits.cognitive", "MLSDM_BULKHEAD_COGNITIVE", "integer", 100],
      ["limits.memory", "MLSDM_BULKHEAD_MEMORY", "integer", 50],
      ["limits.queueSize", "MLSDM_BULKHEAD_QUEUE_SIZE", "integer", 100],
      ["limits.queueTimeoutMs", "MLSDM_BULKHEAD_QUEUE_TIMEOUT_MS", "integer", 5000],
      ["limits.priorityAgingMs", "MLSDM_PRIORITY_AGING_MS", "integer", 1000],
      ["limits.rateLimitRps", "MLSDM_RATE_LIMIT_RPS", "integer", 5],
      ["limits.rateLimitBurst", "MLSDM_RATE_LIMIT_BURST", "integer", 10],
      ["limits.rateLimitAnonymous", "MLSDM_RATE_LIMIT_ANONYMOUS", "boolean", false],
      ["limits.rateLimitRoles", "MLSDM_RATE_LIMIT_ROLES", "string", ""],
      ["limits.rateLimitBackend", "MLSDM_RATE_LIMIT_BACKEND", "enum", "memory"],
      ["limits.tokenQuotaPerMinute", "MLSDM_TOKEN_QUOTA_PER_MINUTE", "integer", 0],
      ["limits.tokenQuotaPerDay", "MLSDM_TOKEN_QUOTA_PER_DAY", "integer", 0],
      ["limits.maxEventLoopLagMs", "MLSDM_MAX_EVENT_LOOP_LAG_MS", "integer", 200],
      ["redis.url", "MLSDM_REDIS_URL", "string", ""],
      ["redis.keyPrefix", "MLSDM_REDIS_KEY_PREFIX", "string", "mlsdm:"],
      ["redis.connectTimeoutMs", "MLSDM_REDIS_CONNECT_TIMEOUT_MS", "integer", 1000],
      ["redis.commandTimeoutMs", "MLSDM_REDIS_COMMAND_TIMEOUT_MS", "integer", 250],
      ["cache.embeddingBackend", "MLSDM_EMBEDDING_CACHE_BACKEND", "enum", "memory"],
      ["cache.embeddingSize", "MLSDM_EMBEDDING_CACHE_SIZE", "integer", 10_000],
      ["cache.embeddingTtlSeconds", "MLSDM_EMBEDDING_CACHE_TTL_SECONDS", "integer", 3_600],
      ["state.mode", "MLSDM_STATE", "enum", "sqlite"],
      ["state.snapshotIntervalSeconds", "MLSDM_SNAPSHOT_INTERVAL_SECONDS", "integer", 300],
      ["state.maxDatabaseMb", "MLSDM_STATE_MAX_DATABASE_MB", "integer", 0],
      ["state.maxImportMb", "MLSDM_SNAPSHOT_MAX_IMPORT_MB", "integer", 512],
      ["state.keepSnapshots", "MLSDM_SNAPSHOT_KEEP", "integer", 5],
      ["pii.scrubIps", "MLSDM_PII_SCRUB_IPS", "boolean", false],
      ["pii.prompt.email", "MLSDM_PII_PROMPT_EMAIL", "enum", "allow"],
      ["pii.prompt.phone", "MLSDM_PII_PROMPT_PHONE", "enum", "allow"],
      ["pii.prompt.ip", "MLSDM_PII_PROMPT_IP", "enum", "allow"],
      ["pii.prompt.card", "MLSDM_PII_PROMPT_CARD", "enum", "mask"],
      ["pii.prompt.iban", "MLSDM_PII_PROMPT_IBAN", "enum", "mask"],
      ["pii.prompt.bearer", "MLSDM_PII_PROMPT_BEARER", "enum", "mask"],
      ["pii.prompt.apiKey", "MLSDM_PII_PROMPT_API_KEY", "enum", "mask"],
      ["pii.prompt.jwt", "MLSDM_PII_PROMPT_JWT", "enum", "mask"],
      ["pii.prompt.privateKey", "MLSDM_PII_PROMPT_PRIVATE_KEY", "enum", "mask"],
      ["pii.customPatterns", "MLSDM_PII_CUSTOM_PATTERNS", "string", ""],
      ["dataDir", "MLSDM_DATA_DIR", "string", "./.data"],
      ["secureMode", "MLSDM_SECURE_MODE", "boolean", false],
    ]);
  });

  it("gives every leaf a unique MLSDM_ variable and a description", () => {
    const envs = entries.map((entry) => entry.env);
    expect(new Set(envs).size).toBe(envs.length);
    for (const entry of entries) {
      expect(entry.env).toMatch(/^MLSDM_[A-Z0-9_]+$/);
      expect(entry.env).not.toBe("MLSDM_CONFIG");
      expect(entry.description.length, entry.key).toBeGreaterThan(10);
    }
  });

  it("keeps every default inside its own rule", () => {
    for (const entry of entries) {
      expect(entry.schema.safeParse(entry.default).success, entry.key).toBe(true);
    }
  });

  it("derives the allowed text from the schema", () => {
    const byKey = new Map(entries.map((entry) => [entry.key, entry.allowed]));
    expect(byKey.get("server.grpcPort")).toBe("an integer from 0 to 65535");
    expect(byKey.get("server.maxMessageBytes")).toBe("an integer from 1024 to 67108864");
    expect(byKey.get("log.level")).toBe("one of: error, warn, info, debug");
    expect(byKey.get("log.format")).toBe("one of: json, pretty, auto");
    expect(byKey.get("server.reflection")).toBe("true or false");
    expect(byKey.get("dataDir")).toBe("a non-empty string");
  });

  it("refuses a schema leaf declared without key(...)", () => {
    const undeclared = z.strictObject({ section: z.strictObject({ knob: z.int().default(1) }).prefault({}) });
    expect(() => configEntries(undeclared)).toThrow(/section\.knob is neither a section nor a leaf/);
  });

  it("walks any schema built with the same helpers", () => {
    const schema = z.strictObject({
      name: key(text("x"), { env: "MLSDM_TEST_NAME", description: "test only" }),
    });
    expect(configEntries(schema).map((entry) => entry.key)).toEqual(["name"]);
  });
});

describe("describeAllowed", () => {
  it("words one-sided and exclusive number bounds", () => {
    expect(describeAllowed(z.number().gt(0).lte(1))).toBe("a number greater than 0 and at most 1");
    expect(describeAllowed(z.int().min(1))).toBe("an integer at least 1");
    expect(describeAllowed(z.int())).toBe("an integer");
    expect(describeAllowed(z.number().min(0).max(1))).toBe("a number from 0 to 1");
    expect(describeAllowed(z.string())).toBe("a string");
  });
});

describe("moral threshold bounds (cross-field)", () => {
  it("refuses minThreshold >= maxThreshold with one E801 line naming both keys", () => {
    const error = configErrorOf(() =>
      loadConfig({ env: { MLSDM_MORAL_MIN_THRESHOLD: "0.95", MLSDM_MORAL_INITIAL_THRESHOLD: "0.9" } }),
    );
    expect(error.code).toBe("E801");
    expect(error.key).toBe("moral.minThreshold");
    expect(error.message).toBe(
      'E801 CONFIG_INVALID: moral.minThreshold (MLSDM_MORAL_MIN_THRESHOLD) = "0.95": expected a number less than moral.maxThreshold (0.9)',
    );
    expect(configErrorOf(() => loadConfig({ env: { MLSDM_MORAL_MAX_THRESHOLD: "0.3" } })).key).toBe(
      "moral.minThreshold",
    );
  });

  it("refuses an initialThreshold outside [minThreshold, maxThreshold]", () => {
    const error = configErrorOf(() =>
      loadConfig({ env: { MLSDM_MORAL_INITIAL_THRESHOLD: "0.8", MLSDM_MORAL_MAX_THRESHOLD: "0.7" } }),
    );
    expect(error.key).toBe("moral.initialThreshold");
    expect(error.message).toMatch(/moral\.minThreshold \(0\.3\) to moral\.maxThreshold \(0\.7\)$/);
    expect(configErrorOf(() => loadConfig({ env: { MLSDM_MORAL_MIN_THRESHOLD: "0.6" } })).key).toBe(
      "moral.initialThreshold",
    );
  });

  it("accepts bounds that hold, including initialThreshold on a bound", () => {
    const { config } = loadConfig({
      env: { MLSDM_MORAL_MIN_THRESHOLD: "0.4", MLSDM_MORAL_INITIAL_THRESHOLD: "0.4" },
    });
    expect(config.moral).toEqual({ initialThreshold: 0.4, minThreshold: 0.4, maxThreshold: 0.9 });
  });
});
