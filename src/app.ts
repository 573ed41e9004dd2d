/**
 * Composition root: builds the services once, mounts them on both listeners, and owns the
 * lifecycle (start-up → SERVING; shutdown → NOT_SERVING, refuse new calls, drain, close).
 */
import type { DescService } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { maskSecrets, type Config } from "./config/index.js";
import { AdminService } from "./gen/mlsdm/v1/admin_pb.js";
import { EngineService } from "./gen/mlsdm/v1/engine_pb.js";
import { applyPolicies } from "./policy/apply-policies.js";
import { drainGuard } from "./policy/drain.js";
import { deprecation } from "./policy/deprecation.js";
import { InFlightTracker } from "./policy/in-flight.js";
import { Health, createHealthService } from "./rpc/health/health-service.js";
import { HealthRegistry, ServingStatus } from "./rpc/health/health-registry.js";
import { createAdminService } from "./rpc/admin/admin-service.js";
import { controllerFromConfig, monotonicClock } from "./rpc/engine/controller-from-config.js";
import { startScanThreads, usableCores } from "./store/parallel-scan.js";
import { createEngineService } from "./rpc/engine/engine-service.js";
import { registerEngineMetrics } from "./rpc/engine/engine-metrics.js";
import { superviseEmergency } from "./rpc/engine/supervisor.js";
import { Metrics } from "./telemetry/metrics/registry.js";
import { createRpcMetrics } from "./telemetry/metrics/rpc-metrics.js";
import { wallClockFrom } from "./rpc/state-message.js";
import { createRequestValidator } from "./policy/validate.js";
import type { CognitiveController } from "./core/controller.js";
import { GenerationEngine } from "./core/engine/engine.js";
import { registerGenerationMetrics } from "./rpc/engine/generation-metrics.js";
import { emergencyError } from "./rpc/engine/emergency-error.js";
import {
  embedderFromConfig,
  embedderIdFromConfig,
  gatewayFromConfig,
  scorerFromConfig,
} from "./providers/from-config.js";
import { embeddingCacheFromConfig } from "./providers/embedding/cache-from-config.js";
import type { StatefulModelGateway } from "./providers/gateway.js";
import { verifyEmbedderDimension } from "./providers/embedding/openai-embeddings.js";
import { installPiiDetector } from "./telemetry/pii/index.js";
import { piiFromConfig } from "./policy/pii-from-config.js";
import { startLagGuard } from "./policy/lag-guard.js";
import { authFromConfig } from "./policy/auth-from-config.js";
import { secureModeGuard } from "./policy/secure-mode.js";
import { enforceStartup } from "./policy/startup-facts.js";
import { parseOrigins, playgroundEnabled } from "./config/schema-http.js";
import { limitsFromConfig } from "./policy/limits-from-config.js";
import { RedisReplayCache } from "./policy/redis/redis-replay-cache.js";
import { admissionFromConfig } from "./rpc/engine/admission-from-config.js";
import { closeDurableState, openDurableState, registerStateMetrics } from "./store/open-state.js";
import { createOtelPipelineTracer } from "./telemetry/tracing/pipeline-tracer.js";
import { configNumber, flattenConfig } from "./config/flatten.js";
import { VERSION } from "./version.js";
import { errorLogFields, type MlsdmError } from "./telemetry/errors/index.js";
import { logger } from "./telemetry/logger.js";
import { startConnectListener, type ConnectListener } from "./transport/connect/server.js";
import { defaultPlaygroundDir } from "./transport/connect/playground-route.js";
import { startGrpcListener, type GrpcListener, type MountedService } from "./transport/grpc/server.js";
import { listenerTlsFromConfig } from "./transport/tls/tls-files.js";

/** Implementations a caller may supply in place of the defaults (later issues, tests). */
export interface ServiceOverrides {
  readonly engine?: ServiceImpl<typeof EngineService>;
  readonly admin?: ServiceImpl<typeof AdminService>;
  /** A controller to serve instead of one built from the configuration. */
  readonly controller?: CognitiveController;
  /** A model gateway to use instead of the configured providers (tests). */
  readonly gateway?: StatefulModelGateway;
}

/** A running MLSDM server. */
export interface RunningApp {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly health: HealthRegistry;
  /** The one cognitive controller both listeners serve. */
  readonly controller: CognitiveController;
  /** Calls running now on either listener (health and reflection excluded). */
  readonly inFlight: () => number;
  /** Graceful shutdown; idempotent (a second call returns the same promise). */
  shutdown(reason: string): Promise<void>;
}

/** Names of the services whose health is reported besides the server as a whole (""). */
export const HEALTH_SERVICE_NAMES = [EngineService.typeName, AdminService.typeName] as const;

function logError(error: MlsdmError, context: HandlerContext): void {
  const fields = {
    ...errorLogFields(error),
    method: `/${context.service.typeName}/${context.method.name}`,
    protocol: context.protocolName,
  };
  if (error.entry.code === "E700") logger.error("rpc failed", fields);
  else logger.debug("rpc rejected", fields);
}

function mount<S extends DescService>(service: S, impl: ServiceImpl<S>): MountedService {
  return { service, impl };
}

/** Starts both listeners on the configured addresses and reports SERVING once both listen. */
export async function startApp(config: Config, overrides: ServiceOverrides = {}): Promise<RunningApp> {
  enforceStartup(config);
  const startedAtMs = Date.now();
  const tls = listenerTlsFromConfig(config.tls);
  const health = new HealthRegistry(HEALTH_SERVICE_NAMES);
  const tracker = new InFlightTracker();
  const drain = { draining: false };
  const validate = createRequestValidator((key) => configNumber(config, key));
  const metrics = new Metrics();
  const rpcMetrics = createRpcMetrics(metrics);
  const errorsTotal = metrics.counter({
    name: "mlsdm_errors_total",
    help: "Errors sent to clients, by catalogue code (E###).",
    labels: ["code"],
  });
  const onError = (error: MlsdmError, context: HandlerContext): void => {
    errorsTotal({ code: error.entry.code });
    logError(error, context);
  };
  const lagGuard = startLagGuard(config.limits.maxEventLoopLagMs);
  const limits = await limitsFromConfig(config, metrics);
  // With shared (Redis) limits the signing replay cache is shared too, so a replay sent to
  // another replica is caught; otherwise each replica remembers signatures in memory.
  const auth = authFromConfig(
    config,
    limits.redis ? new RedisReplayCache(limits.redis.client, config.redis.keyPrefix) : undefined,
  );
  metrics.sampledLabelledGauge(
    {
      name: "mlsdm_api_key_expiry_seconds",
      help: "Seconds until each API key with an expiry expires (negative once expired).",
      labels: ["key_id"],
    },
    () =>
      auth
        .keys()
        .entries.filter((key) => key.expiresAtMs !== undefined)
        .map((key) => [{ key_id: key.id }, ((key.expiresAtMs ?? 0) - Date.now()) / 1000] as const),
  );
  const pii = piiFromConfig(config);
  installPiiDetector(pii.detector); // logs and span attributes use the configured detector too
  const guarded = {
    accessLog: true,
    policies: [
      drainGuard(drain),
      deprecation,
      ...auth.policies,
      ...limits.policies,
      ...(config.secureMode ? [secureModeGuard()] : []),
      ...pii.policies,
    ],
    tracker,
    onError,
    validate,
    metrics: rpcMetrics,
    admit: admissionFromConfig(config, metrics, lagGuard),
  };
  // PELM's scan helpers (ADR 0021): worker threads sharing the vectors, at most one per spare
  // core (a container's CPU limit counts: with a 1-core limit there is none).
  const scanThreads = overrides.controller
    ? undefined
    : startScanThreads(Math.min(config.core.scanThreads, usableCores()));
  const controller = overrides.controller ?? controllerFromConfig(config, monotonicClock, scanThreads);
  const durable = config.state.mode === "sqlite" ? openDurableState(controller, config) : undefined;
  if (durable) registerStateMetrics(metrics, durable);
  const engineMetrics = registerEngineMetrics(metrics, controller);
  const wall = wallClockFrom(monotonicClock);
  let serving = false;
  const supervisor = superviseEmergency(controller, (active) => {
    if (serving)
      health.set(EngineService.typeName, active ? ServingStatus.NOT_SERVING : ServingStatus.SERVING);
  });
  const generationMetrics = registerGenerationMetrics(metrics);
  const gateway = overrides.gateway ?? gatewayFromConfig(config, generationMetrics);
  for (const provider of gateway.status()) generationMetrics.breaker(provider.id, provider.breaker);
  const embedder = embedderFromConfig(config);
  if (config.embedding.backend !== "hashing")
    await verifyEmbedderDimension(embedder, AbortSignal.timeout(15_000));
  const embeddingCache = embeddingCacheFromConfig(config, metrics, limits.redis);
  const generation = new GenerationEngine(
    {
      controller,
      gateway,
      embedder: embeddingCache.wrap(embedder, embedderIdFromConfig(config)),
      scorer: scorerFromConfig(config),
      scrub: (text) => pii.detector.scrub(text),
      clock: monotonicClock,
      tracer: createOtelPipelineTracer(),
    },
    config.engine,
  );
  const engine =
    overrides.engine ??
    createEngineService(
      controller,
      wall,
      {
        engine: generation,
        clock: monotonicClock,
        emergencyError: () => emergencyError(controller, monotonicClock()),
        onResult: (result) => {
          generationMetrics.recordResult(result);
          const { rejectedAt, moralValue } = result.decision;
          if (rejectedAt !== "rhythm") engineMetrics.recordEvaluation(moralValue, rejectedAt !== "pre_moral");
        },
        afterCall: supervisor.check,
        meter: (context) => limits.meter(context),
        ...(durable ? { persisted: () => durable.flushed() } : {}),
        deadlines: { generateMs: config.engine.generateDeadlineMs, streamMs: config.engine.streamDeadlineMs },
      },
      (outcome, moralValue) => {
        engineMetrics.recordEvent(outcome, moralValue);
        supervisor.check();
      },
    );
  const admin =
    overrides.admin ??
    createAdminService({
      controller,
      wall,
      version: VERSION,
      startedAtMs,
      draining: () => drain.draining,
      configSummary: () => flattenConfig(maskSecrets(config)),
      onEmergencyChange: supervisor.check,
      providers: () => gateway.status(),
      durable,
      maxImportBytes: config.state.maxImportMb * 1024 * 1024,
      keys: auth.manager,
    });
  const services = [
    mount(EngineService, applyPolicies(EngineService, engine, guarded)),
    mount(AdminService, applyPolicies(AdminService, admin, guarded)),
    mount(
      Health,
      applyPolicies(Health, createHealthService(health), {
        policies: [],
        onError,
        metrics: rpcMetrics,
      }),
    ),
  ];
  const { server } = config;
  let grpc: GrpcListener | undefined;
  let connect: ConnectListener | undefined;
  try {
    grpc = await startGrpcListener({
      host: server.host,
      port: server.grpcPort,
      services,
      reflection: server.reflection && !config.secureMode,
      maxMessageBytes: server.maxMessageBytes,
      tls,
    });
    connect = await startConnectListener({
      host: server.host,
      port: server.httpPort,
      services,
      maxMessageBytes: server.maxMessageBytes,
      metrics: () => metrics.exposition(),
      tls,
      corsOrigins: parseOrigins(config.http.corsOrigins),
      playground: {
        enabled: playgroundEnabled(config.http.playground, config.secureMode),
        dir: defaultPlaygroundDir(),
      },
      probes: {
        live: () => true,
        ready: () => {
          const statuses = Object.fromEntries(
            health.entries().map(([name, status]) => [name, ServingStatus[status]]),
          );
          const ready =
            health.get("") === ServingStatus.SERVING &&
            health.get(EngineService.typeName) === ServingStatus.SERVING;
          return config.secureMode ? { ready } : { ready, statuses };
        },
      },
    });
  } catch (error) {
    await grpc?.close(0);
    tls?.files.stop();
    await embeddingCache.stop();
    await limits.stop();
    await scanThreads?.stop();
    throw error;
  }
  health.setAll(ServingStatus.SERVING);
  serving = true;
  if (controller.state().emergency.active) health.set(EngineService.typeName, ServingStatus.NOT_SERVING);
  const listeners = { grpc, connect };

  let stopping: Promise<void> | undefined;
  async function stop(reason: string): Promise<void> {
    const started = Date.now();
    logger.info("shutdown started", {
      event: "shutdown_started",
      reason,
      in_flight: tracker.count,
      drain_timeout_ms: server.drainTimeoutMs,
    });
    serving = false;
    supervisor.stop();
    lagGuard.stop();
    auth.stop();
    health.setAll(ServingStatus.NOT_SERVING);
    if (server.shutdownDelayMs > 0) await new Promise((r) => setTimeout(r, server.shutdownDelayMs));
    drain.draining = true;
    const drained = await tracker.whenIdle(server.drainTimeoutMs);
    health.close();
    // Whatever still runs now is past the drain budget (or a stream that ends with health):
    // give the listeners a short grace to flush, then cut.
    await Promise.all([listeners.grpc.close(1_000), listeners.connect.close(1_000)]);
    tls?.files.stop();
    if (durable) closeDurableState(durable);
    auth.close();
    await embeddingCache.stop();
    await limits.stop();
    logger.info("shutdown complete", {
      event: "shutdown_complete",
      drained,
      abandoned: tracker.count,
      duration_ms: Date.now() - started,
    });
  }

  return {
    grpcPort: grpc.port,
    httpPort: connect.port,
    health,
    controller,
    inFlight: () => tracker.count,
    shutdown(reason) {
      stopping ??= stop(reason);
      return stopping;
    },
  };
}
