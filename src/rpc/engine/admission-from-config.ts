/**
 * The admission of engine calls built from the `limits` configuration: which compartment each
 * EngineService method belongs to, and the bulkhead metrics (REL-002: active, queue depth,
 * rejections, wait time; REL-005: calls by priority). Health and Admin have no compartment.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import type { Config } from "../../config/index.js";
import { EngineService } from "../../gen/mlsdm/v1/engine_pb.js";
import { createAdmission, type Admission } from "../../policy/admission.js";
import type { LagGuard } from "../../policy/lag-guard.js";
import type { Metrics } from "../../telemetry/metrics/registry.js";

const COMPARTMENTS: Record<string, string> = {
  Generate: "llm_generation",
  GenerateStream: "llm_generation",
  ProcessEvent: "cognitive",
  RetrieveContext: "memory",
  GetState: "memory",
};

/** The compartment of an EngineService method; undefined for every other service. */
export function compartmentOf(method: DescMethod): string | undefined {
  return method.parent.typeName === EngineService.typeName ? COMPARTMENTS[method.name] : undefined;
}

/** Admission for the configured limits, with its metrics registered on `metrics`. */
export function admissionFromConfig(config: Config, metrics: Metrics, lagGuard: LagGuard): Admission {
  const { limits } = config;
  const base = {
    queueSize: limits.queueSize,
    queueTimeoutMs: limits.queueTimeoutMs,
    agingMs: limits.priorityAgingMs,
  };
  const rejected = metrics.counter({
    name: "mlsdm_bulkhead_rejected_total",
    help: "Engine calls refused by admission, by compartment and reason (queue_full, queue_timeout, listener_cap, event_loop_lag).",
    labels: ["compartment", "reason"],
  });
  const waited = metrics.histogram({
    name: "mlsdm_bulkhead_wait_seconds",
    help: "Time engine calls waited for a compartment slot.",
    labels: ["compartment"],
  });
  const byPriority = metrics.counter({
    name: "mlsdm_requests_by_priority_total",
    help: "Engine calls admitted, by x-mlsdm-priority class.",
    labels: ["priority"],
  });
  const { admit, bulkheads } = createAdmission({
    compartments: [
      { name: "llm_generation", limit: limits.llmGeneration, ...base },
      { name: "cognitive", limit: limits.cognitive, ...base },
      { name: "memory", limit: limits.memory, ...base },
    ],
    compartmentOf,
    maxInFlightPerListener: limits.maxConcurrentPerListener,
    lagGuard,
    observer: {
      admitted: (compartment, priority, waitedMs) => {
        waited({ compartment }, waitedMs / 1000);
        byPriority({ priority });
      },
      rejected: (compartment, reason) => {
        rejected({ compartment, reason });
      },
    },
  });
  metrics.sampledLabelledGauge(
    {
      name: "mlsdm_bulkhead_active",
      help: "Engine calls holding a compartment slot.",
      labels: ["compartment"],
    },
    () => [...bulkheads].map(([compartment, b]) => [{ compartment }, b.stats().active] as const),
  );
  metrics.sampledLabelledGauge(
    {
      name: "mlsdm_bulkhead_queue_depth",
      help: "Engine calls waiting for a compartment slot.",
      labels: ["compartment"],
    },
    () => [...bulkheads].map(([compartment, b]) => [{ compartment }, b.stats().queued] as const),
  );
  return admit;
}
