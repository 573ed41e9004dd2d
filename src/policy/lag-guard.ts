/**
 * The event-loop-lag guard (REL-002): when the loop's p99 delay over the last window exceeds
 * the limit, new engine work is shed until a window comes back under it, so latency does not
 * collapse for the calls already running. Measured with Node's own histogram (perf_hooks).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";

/** Whether to shed now, and the lag that decided it. */
export interface LagGuard {
  shedding(): boolean;
  lagMs(): number;
  stop(): void;
}

/** Starts a guard with a `limitMs` p99 bound checked every `windowMs`. 0 disables it. */
export function startLagGuard(limitMs: number, windowMs = 500): LagGuard {
  if (limitMs <= 0) return { shedding: () => false, lagMs: () => 0, stop: () => undefined };
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let lag = 0;
  const timer = setInterval(() => {
    lag = histogram.percentile(99) / 1e6;
    histogram.reset();
  }, windowMs);
  timer.unref();
  return {
    shedding: () => lag > limitMs,
    lagMs: () => lag,
    stop: () => {
      clearInterval(timer);
      histogram.disable();
    },
  };
}
