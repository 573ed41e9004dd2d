/**
 * One provider inside its resilience policy (BASE-REL-e, W9, W10, W13), built from cockatiel:
 *
 *   retry (exponential backoff with jitter; only retryable ProviderFailures; never past the
 *   deadline) → circuit breaker (ConsecutiveBreaker; one trial call in half-open, the others
 *   wait for its outcome) → attempt (bounded by the attempt timeout, the call's deadline and
 *   the client's cancellation, all through one AbortSignal handed to the provider).
 *
 * Counting towards the breaker: timeouts, 429s, 5xx/connection failures and invalid bodies.
 * Not counted: "rejected" (our request or credentials are wrong; the provider is healthy)
 * and "cancelled" (the client left). An open breaker surfaces as ProviderFailure
 * "circuit_open" with the time until the trial call as the retry delay.
 */
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  circuitBreaker,
  handleWhen,
  retry,
  type CircuitBreakerPolicy,
  type RetryPolicy,
} from "cockatiel";
import {
  ProviderFailure,
  type ModelCall,
  type ModelProvider,
  type ModelReply,
  type ModelStream,
} from "../../core/engine/ports.js";

/** Breaker states as reported by GetStatus and the metrics. */
export type BreakerState = "closed" | "open" | "half_open";

/** Policy options (config section `llm`). */
export interface ProviderPolicyOptions {
  /** Longest one attempt may take (for a stream: until it is accepted), ms. */
  readonly attemptTimeoutMs: number;
  /** Retries after the first attempt. */
  readonly maxRetries: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Consecutive counted failures that open the breaker. */
  readonly breakerFailures: number;
  /** How long the breaker stays open before one trial call, ms. */
  readonly halfOpenAfterMs: number;
}

export const PROVIDER_POLICY_DEFAULTS: ProviderPolicyOptions = {
  attemptTimeoutMs: 30_000,
  maxRetries: 2,
  initialBackoffMs: 200,
  maxBackoffMs: 5_000,
  breakerFailures: 5,
  halfOpenAfterMs: 30_000,
};

/** What the policy reports (metrics). */
export interface ProviderObserver {
  attempt?(providerId: string, outcome: "ok" | ProviderFailure["kind"], durationMs: number): void;
  breaker?(providerId: string, state: BreakerState): void;
}

const COUNTED = new Set<ProviderFailure["kind"]>([
  "timeout",
  "rate_limited",
  "unavailable",
  "invalid_response",
]);

function deadlineError(): DOMException {
  return new DOMException("the call's deadline passed", "TimeoutError");
}

/** A provider wrapped in retries, a breaker and deadline-bound attempts. */
export class ResilientProvider {
  private readonly breakerPolicy: CircuitBreakerPolicy;
  private readonly retryPolicy: RetryPolicy;
  private openedAt = 0;

  constructor(
    readonly provider: ModelProvider,
    readonly options: ProviderPolicyOptions = PROVIDER_POLICY_DEFAULTS,
    private readonly observer: ProviderObserver = {},
  ) {
    this.breakerPolicy = circuitBreaker(
      handleWhen((error) => error instanceof ProviderFailure && COUNTED.has(error.kind)),
      { halfOpenAfter: options.halfOpenAfterMs, breaker: new ConsecutiveBreaker(options.breakerFailures) },
    );
    this.breakerPolicy.onBreak(() => {
      this.openedAt = Date.now();
    });
    this.breakerPolicy.onStateChange(() => observer.breaker?.(provider.id, this.breakerState()));
    this.retryPolicy = retry(
      handleWhen((error) => error instanceof ProviderFailure && error.retryable),
      {
        maxAttempts: options.maxRetries,
        backoff: new ExponentialBackoff({
          initialDelay: options.initialBackoffMs,
          maxDelay: options.maxBackoffMs,
        }),
      },
    );
  }

  get id(): string {
    return this.provider.id;
  }

  breakerState(): BreakerState {
    switch (this.breakerPolicy.state) {
      case CircuitState.Closed:
        return "closed";
      case CircuitState.HalfOpen:
        return "half_open";
      default:
        return "open";
    }
  }

  /** Whether a call now would be refused by the open breaker without reaching the provider. */
  isOpen(): boolean {
    return this.breakerState() === "open" && this.msUntilHalfOpen() > 0;
  }

  private msUntilHalfOpen(): number {
    return Math.max(0, this.openedAt + this.options.halfOpenAfterMs - Date.now());
  }

  generate(call: ModelCall): Promise<ModelReply> {
    return this.run(call, (signal) => this.provider.generate({ ...call, signal }));
  }

  /** Opens a stream; retries and the breaker apply until the provider accepts it. */
  stream(call: ModelCall): Promise<ModelStream> {
    return this.run(call, (signal) => this.provider.stream({ ...call, signal }));
  }

  /** Runs `attempt` under the policy. */
  private async run<T>(call: ModelCall, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const deadline = this.deadlineSignal(call);
    const outer = deadline ? AbortSignal.any([call.signal, deadline]) : call.signal;
    try {
      return await this.retryPolicy.execute(async () => {
        const remaining = call.deadlineAt === undefined ? Infinity : call.deadlineAt - performance.now();
        if (remaining <= 0 || outer.aborted) throw this.abortFailure(outer);
        return this.breakerPolicy.execute(() => this.attempt(outer, attempt));
      }, outer);
    } catch (error) {
      throw this.translate(error, outer);
    }
  }

  private async attempt<T>(outer: AbortSignal, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const started = performance.now();
    const timer = new AbortController();
    const handle = setTimeout(() => {
      timer.abort(new DOMException("the provider attempt timed out", "TimeoutError"));
    }, this.options.attemptTimeoutMs);
    try {
      const value = await attempt(AbortSignal.any([outer, timer.signal]));
      this.observer.attempt?.(this.provider.id, "ok", performance.now() - started);
      return value;
    } catch (error) {
      const failure = this.translate(error, outer);
      this.observer.attempt?.(this.provider.id, failure.kind, performance.now() - started);
      throw failure;
    } finally {
      // For a stream the attempt timeout covers only the opening: the deadline bounds the rest.
      clearTimeout(handle);
    }
  }

  private deadlineSignal(call: ModelCall): AbortSignal | undefined {
    if (call.deadlineAt === undefined) return undefined;
    const controller = new AbortController();
    const ms = Math.max(0, call.deadlineAt - performance.now());
    setTimeout(() => {
      controller.abort(deadlineError());
    }, ms).unref();
    return controller.signal;
  }

  private abortFailure(signal: AbortSignal): ProviderFailure {
    const reason: unknown = signal.reason;
    const timeout = !signal.aborted || (reason instanceof Error && reason.name === "TimeoutError");
    return new ProviderFailure(
      timeout ? "timeout" : "cancelled",
      timeout ? "the deadline passed before the provider answered" : "the client cancelled the call",
      { providerId: this.provider.id, cause: reason },
    );
  }

  /** Any error → ProviderFailure (open breaker, cancelled backoff, abort, or a provider's own). */
  private translate(error: unknown, outer: AbortSignal): ProviderFailure {
    if (error instanceof ProviderFailure) return error;
    if (error instanceof BrokenCircuitError) {
      return new ProviderFailure("circuit_open", `the circuit breaker of ${this.provider.id} is open`, {
        providerId: this.provider.id,
        retryAfterMs: this.msUntilHalfOpen(),
      });
    }
    if (error instanceof TaskCancelledError || outer.aborted) return this.abortFailure(outer);
    return new ProviderFailure("unavailable", error instanceof Error ? error.message : String(error), {
      providerId: this.provider.id,
      cause: error,
    });
  }
}
