/**
 * Builds the one cognitive controller of the process from the validated configuration, with
 * the real clock and memory probe (the core itself never reads configuration or `process`).
 */
import { getHeapStatistics } from "node:v8";
import { CognitiveController } from "../../core/controller.js";
import type { ParallelScan } from "../../core/ports.js";
import type { Config } from "../../config/index.js";
import { createMemoryProbe } from "../../telemetry/process-memory.js";

/** The monotonic clock the core is handed. */
export const monotonicClock = (): number => performance.now();

/** A controller configured from `config`. */
export function controllerFromConfig(
  config: Config,
  clock = monotonicClock,
  parallelScan?: ParallelScan,
): CognitiveController {
  return new CognitiveController({
    ...(parallelScan ? { parallelScan } : {}),
    dimension: config.core.dimension,
    pelmCapacity: config.core.pelmCapacity,
    phaseTolerance: config.core.phaseTolerance,
    moral: {
      initialThreshold: config.moral.initialThreshold,
      minThreshold: config.moral.minThreshold,
      maxThreshold: config.moral.maxThreshold,
    },
    rhythm: { wakeDuration: config.rhythm.wakeDuration, sleepDuration: config.rhythm.sleepDuration },
    limits: {
      maxProcessingTimeMs: config.controller.maxProcessingTimeMs,
      rssLimitBytes: config.controller.rssLimitMb * 2 ** 20,
      heapLimitBytes:
        config.controller.heapLimitMb > 0
          ? config.controller.heapLimitMb * 2 ** 20
          : 0.9 * getHeapStatistics().heap_size_limit,
    },
    recovery: {
      enabled: config.recovery.enabled,
      cooldownMs: config.recovery.cooldownSeconds * 1000,
      cooldownSteps: config.recovery.cooldownSteps,
      memorySafetyRatio: config.recovery.memorySafetyRatio,
      maxAttempts: config.recovery.maxAttempts,
    },
    clock,
    memory: createMemoryProbe(),
  });
}
