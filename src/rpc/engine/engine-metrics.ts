/**
 * The cognitive state as Prometheus gauges, read from the controller at scrape time (no work
 * on the request path): moral threshold and EMA, rhythm phase, PELM fill, synaptic norms,
 * emergency state and recovery attempts (OBS-006, REL-001).
 */
import type { CognitiveController, EventOutcome } from "../../core/controller.js";
import type { Metrics } from "../../telemetry/metrics/registry.js";

/** Counts per event, recorded by the Engine service after each ProcessEvent (and Generate admission). */
export interface EngineEventMetrics {
  recordEvent(outcome: EventOutcome, moralValue: number): void;
  /** A moral evaluation (ProcessEvent or Generate) of `moralValue` and its verdict. */
  recordEvaluation(moralValue: number, accepted: boolean): void;
}

/** The moral_range label of a moral value: the filter's fixed bounds and the default threshold split it. */
export function moralRange(value: number): string {
  if (value < 0.3) return "0.0-0.3";
  if (value < 0.5) return "0.3-0.5";
  if (value < 0.7) return "0.5-0.7";
  if (value < 0.9) return "0.7-0.9";
  return "0.9-1.0";
}

/** Registers the engine gauges over `controller` and returns the per-event counters. */
export function registerEngineMetrics(metrics: Metrics, controller: CognitiveController): EngineEventMetrics {
  const state = () => controller.state();
  const gauges: [string, string, () => number][] = [
    [
      "mlsdm_moral_threshold",
      "Current adaptive moral threshold, 0.30 to 0.90.",
      () => state().moralThreshold,
    ],
    [
      "mlsdm_moral_ema",
      "Exponential moving average of the moral accept rate, 0 to 1.",
      () => state().moralEma,
    ],
    [
      "mlsdm_rhythm_phase",
      "Cognitive rhythm phase: 0 wake, 1 sleep.",
      () => (state().phase === "wake" ? 0 : 1),
    ],
    ["mlsdm_cognitive_steps", "Events the controller has processed (its step counter).", () => state().step],
    ["mlsdm_memory_items", "Entries stored in PELM.", () => state().pelmUsed],
    ["mlsdm_memory_capacity", "PELM capacity, entries.", () => state().pelmCapacity],
    [
      "mlsdm_memory_store_bytes",
      "Bytes of the cognitive store (fixed at start).",
      () => controller.memoryUsageBytes(),
    ],
    [
      "mlsdm_memory_limit_bytes",
      "Resident memory limit of the process (controller.rssLimitMb) above which the emergency brake engages.",
      () => controller.limits.rssLimitBytes,
    ],
    ["mlsdm_synaptic_norm_l1", "Euclidean norm of synaptic level L1.", () => state().norms.l1],
    ["mlsdm_synaptic_norm_l2", "Euclidean norm of synaptic level L2.", () => state().norms.l2],
    ["mlsdm_synaptic_norm_l3", "Euclidean norm of synaptic level L3.", () => state().norms.l3],
    [
      "mlsdm_emergency_shutdown_active",
      "1 while the emergency brake is engaged, else 0.",
      () => (state().emergency.active ? 1 : 0),
    ],
    [
      "mlsdm_emergency_recovery_attempts",
      "Automatic recoveries used since the last healthy period.",
      () => state().emergency.recoveryAttempts,
    ],
  ];
  for (const [name, help, read] of gauges) metrics.sampledGauge({ name, help }, read);
  metrics.sampledCounter(
    {
      name: "mlsdm_emergency_shutdowns_total",
      help: "Emergency shutdowns engaged since the process started.",
    },
    () => state().emergency.totalShutdowns,
  );
  metrics.sampledCounter(
    {
      name: "mlsdm_auto_recovery_total",
      help: "Automatic recoveries from emergency shutdown since the process started.",
    },
    () => state().emergency.totalAutoRecoveries,
  );
  const events = metrics.counter({
    name: "mlsdm_events_processed_total",
    help: "ProcessEvent outcomes: accepted, or the rejection reason.",
    labels: ["outcome"],
  });
  const decisions = metrics.counter({
    name: "mlsdm_moral_filter_decisions_total",
    help: "Moral filter decisions on events that reached it (accept or reject).",
    labels: ["decision"],
  });
  const evaluated = metrics.counter({
    name: "mlsdm_events_evaluated_total",
    help: "Moral evaluations (ProcessEvent and Generate) by range of the moral value applied.",
    labels: ["moral_range"],
  });
  const acceptedTotal = metrics.counter({
    name: "mlsdm_events_accepted_total",
    help: "Moral evaluations that accepted, by range of the moral value applied.",
    labels: ["moral_range"],
  });
  const recordEvaluation = (moralValue: number, accepted: boolean): void => {
    const range = moralRange(moralValue);
    evaluated({ moral_range: range });
    if (accepted) acceptedTotal({ moral_range: range });
  };
  return {
    recordEvaluation,
    recordEvent(outcome, moralValue) {
      events({ outcome: outcome.accepted ? "accepted" : (outcome.rejection ?? "unknown") }, 1);
      if (
        outcome.accepted ||
        outcome.rejection === "moral" ||
        outcome.rejection === "processing_time_exceeded"
      ) {
        decisions({ decision: outcome.rejection === "moral" ? "reject" : "accept" }, 1);
        recordEvaluation(moralValue, outcome.rejection !== "moral");
      }
    },
  };
}
