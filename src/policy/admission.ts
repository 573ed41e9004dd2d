/**
 * Admission of engine calls (REL-002, REL-005): a per-listener in-flight cap, the event-loop-lag
 * guard, then a slot in the method's compartment, taken in priority order. Health and admin
 * RPCs have no compartment and are never held back. A refusal is RESOURCE_EXHAUSTED E702 with
 * RetryInfo. The returned function releases the slot; the policy chain calls it when the call
 * ends (success, error, cancellation, deadline, or the end of a stream).
 */
import type { DescMethod } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { MlsdmError } from "../telemetry/errors/index.js";
import { LISTENER } from "./call-context.js";
import type { LagGuard } from "./lag-guard.js";
import { BulkheadRejected, PriorityBulkhead, priorityOf, type BulkheadOptions } from "./priority-bulkhead.js";

/** What admission reports (metrics). */
export interface AdmissionObserver {
  admitted?(compartment: string, priority: string, waitedMs: number): void;
  rejected?(compartment: string, why: string): void;
}

/** Admission settings. */
export interface AdmissionOptions {
  /** Compartments by name. */
  readonly compartments: readonly BulkheadOptions[];
  /** The compartment of a method, or undefined for calls outside every bulkhead. */
  readonly compartmentOf: (method: DescMethod) => string | undefined;
  /** Calls in flight per listener before new ones are refused. */
  readonly maxInFlightPerListener: number;
  readonly lagGuard: LagGuard;
  readonly observer?: AdmissionObserver;
}

/** Admits a call, or throws E702; resolves with the release function. */
export type Admission = (method: DescMethod, context: HandlerContext) => Promise<() => void> | undefined;

function refused(compartment: string, reason: string, detail: string, retryAfterMs: number): MlsdmError {
  return new MlsdmError("RESOURCE_EXHAUSTED", {
    detail: `${compartment}: ${detail}`,
    metadata: { compartment, reason },
    retryDelayMs: retryAfterMs,
  });
}

/** Builds the admission step and exposes the compartments (for gauges). */
export function createAdmission(options: AdmissionOptions): {
  admit: Admission;
  bulkheads: ReadonlyMap<string, PriorityBulkhead>;
} {
  const bulkheads = new Map(options.compartments.map((o) => [o.name, new PriorityBulkhead(o)]));
  const inFlight = new Map<string, number>();
  const admit: Admission = (method, context) => {
    const name = options.compartmentOf(method);
    const bulkhead = name === undefined ? undefined : bulkheads.get(name);
    if (!name || !bulkhead) return undefined;
    const listener = context.values.get(LISTENER);
    const running = inFlight.get(listener) ?? 0;
    if (running >= options.maxInFlightPerListener) {
      options.observer?.rejected?.(name, "listener_cap");
      throw refused(name, "listener_cap", `the ${listener} listener has ${running} calls in flight`, 1_000);
    }
    if (options.lagGuard.shedding()) {
      options.observer?.rejected?.(name, "event_loop_lag");
      throw refused(
        name,
        "event_loop_lag",
        `event-loop lag ${options.lagGuard.lagMs().toFixed(0)} ms`,
        1_000,
      );
    }
    const priority = priorityOf(context.requestHeader.get("x-mlsdm-priority"));
    const started = performance.now();
    inFlight.set(listener, running + 1);
    const leave = (): void => {
      inFlight.set(listener, (inFlight.get(listener) ?? 1) - 1);
    };
    return bulkhead
      .acquire(priority, () => context.signal)
      .then(
        (release) => {
          options.observer?.admitted?.(name, priority, performance.now() - started);
          return () => {
            release();
            leave();
          };
        },
        (error: unknown) => {
          leave();
          if (error instanceof BulkheadRejected) {
            options.observer?.rejected?.(name, error.why);
            throw refused(name, error.why, error.message, error.retryAfterMs);
          }
          throw error;
        },
      );
  };
  return { admit, bulkheads };
}
