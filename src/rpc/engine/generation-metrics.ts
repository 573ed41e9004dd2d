/**
 * Metrics of the Generate pipeline (OBS-006, BASE-REL-e): decisions by stage, per-stage
 * latency, aphasia detections and repairs, and, through the gateway's observer, provider
 * attempts and latency, failures by reason, tokens by provider and breaker state.
 */
import type { GenerationResult } from "../../core/engine/types.js";
import type { ProviderFailureKind, TokenUsage } from "../../core/engine/ports.js";
import type { Metrics } from "../../telemetry/metrics/registry.js";

/** The labels of mlsdm_llm_failures_total{reason}, named as BASE-REL-e names them. */
const FAILURE_REASONS: Record<ProviderFailureKind, string> = {
  timeout: "timeout",
  rate_limited: "quota",
  unavailable: "5xx_or_connect",
  circuit_open: "circuit_open",
  invalid_response: "invalid_response",
  rejected: "rejected",
  cancelled: "cancelled",
};

const BREAKER_VALUES = { closed: 0, half_open: 1, open: 2 } as const;

/** What the engine service and the gateway report. */
export interface GenerationMetrics {
  recordResult(result: GenerationResult): void;
  attempt(providerId: string, outcome: "ok" | ProviderFailureKind, durationMs: number): void;
  breaker(providerId: string, state: "closed" | "open" | "half_open"): void;
  tokens(providerId: string, usage: TokenUsage): void;
}

/** Registers the generation metrics. */
export function registerGenerationMetrics(metrics: Metrics): GenerationMetrics {
  const decisions = metrics.counter({
    name: "mlsdm_generation_decisions_total",
    help: "Generate outcomes: accepted, or rejected with the stage that rejected.",
    labels: ["decision", "stage"],
  });
  const stageSeconds = metrics.histogram({
    name: "mlsdm_generation_stage_duration_seconds",
    help: "Time spent in each stage of the Generate pipeline (stages that ran).",
    labels: ["stage"],
  });
  const aphasia = metrics.counter({
    name: "mlsdm_aphasia_events_total",
    help: "Aphasia checks that found telegraphic speech: detected (not repaired) or repaired.",
    labels: ["outcome"],
  });
  const providerSeconds = metrics.histogram({
    name: "mlsdm_llm_request_duration_seconds",
    help: "Duration of each model provider attempt, by provider and outcome.",
    labels: ["provider", "outcome"],
  });
  const failures = metrics.counter({
    name: "mlsdm_llm_failures_total",
    help: "Failed model provider attempts by reason (timeout, quota, 5xx_or_connect, ...).",
    labels: ["provider", "reason"],
  });
  const tokens = metrics.counter({
    name: "mlsdm_generation_tokens_total",
    help: "Tokens reported by model providers, by provider and direction (input, output).",
    labels: ["provider", "direction"],
  });
  const circuit = metrics.gauge({
    name: "mlsdm_circuit_state",
    help: "Circuit breaker state per provider: 0 closed, 1 half-open, 2 open.",
    labels: ["provider"],
  });
  return {
    recordResult(result) {
      const d = result.decision;
      decisions({ decision: d.accepted ? "accepted" : "rejected", stage: d.rejectedAt ?? "none" });
      for (const stage of result.stages) {
        if (stage.outcome !== "skipped") stageSeconds({ stage: stage.stage }, stage.durationMs / 1000);
      }
      if (d.aphasia?.isAphasic) aphasia({ outcome: d.aphasia.repaired ? "repaired" : "detected" });
    },
    attempt(providerId, outcome, durationMs) {
      providerSeconds(
        { provider: providerId, outcome: outcome === "ok" ? "ok" : "error" },
        durationMs / 1000,
      );
      if (outcome !== "ok") failures({ provider: providerId, reason: FAILURE_REASONS[outcome] });
    },
    breaker(providerId, state) {
      circuit({ provider: providerId }, BREAKER_VALUES[state]);
    },
    tokens(providerId, usage) {
      if (usage.inputTokens !== undefined)
        tokens({ provider: providerId, direction: "input" }, usage.inputTokens);
      if (usage.outputTokens !== undefined) {
        tokens({ provider: providerId, direction: "output" }, usage.outputTokens);
      }
    },
  };
}
