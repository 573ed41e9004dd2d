/**
 * One provider's resilience policy (core.md §6.1, W9, W10, W13), built from cockatiel:
 *
 *   retry (per call: exponential backoff with half jitter; only ProviderFailures with
 *   `retryable`; only while the deadline leaves room for the delay plus `minAttemptMs`)
 *   → circuit breaker (shared by every call to the provider: ConsecutiveBreaker; cockatiel
 *   admits ONE trial call in half-open, the others wait for its outcome)
 *   → attempt (aggressive cockatiel timeout; the provider's signal fires on the client's
 *   cancellation, the call's deadline or the attempt timeout, whichever comes first).
 *
 * The whole execution is also bounded by the client's signal and the deadline, so a backoff
 * sleep or a wait on a half-open trial never outlives the call.
 *
 * What counts towards opening the breaker: "timeout", "rate_limited", "unavailable" and
 * "invalid_response" (the provider is unhealthy or overloaded). "rejected" (our request or
 * key is wrong: the provider answered) and "cancelled" (the client left) are neutral: they
 * neither count nor reset the consecutive count. Exception: a cancelled half-open trial
 * re-opens the breaker, since it gave no evidence of recovery (a rejected trial closes it —
 * the provider answered). An open breaker surfaces as "circuit_open" with the time until the
 * trial call as `retryAfterMs`. A deadline expiry is "timeout", a client cancellation
 * "cancelled" (never retried). A stream counts by how its iteration ends (see openStream).
 * A provider's Retry-After (up to maxBackoffMs) lengthens the backoff delay.
 */
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  ExponentialBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  halfJitterGenerator,
  handleWhen,
  retry,
  timeout,
  type CircuitBreakerPolicy,
  type IBackoff,
  type RetryPolicy,
  type TimeoutPolicy,
} from "cockatiel";
import {
  ProviderFailure,
  type ModelCall,
  type ModelStream,
  type ProviderFailureKind,
} from "../../core/engine/ports.js";

/** Breaker states as GetStatus and the metrics show them. */
export type BreakerState = "closed" | "open" | "half_open";

/** Policy options (config section `llm`); every duration in milliseconds. */
export interface ProviderPolicyOptions {
  /** Longest one attempt may take (for a stream: until the provider accepts it). */
  readonly attemptTimeoutMs: number;
  /** Retries after the first attempt. */
  readonly maxRetries: number;
  /** Nominal first backoff delay; the n-th is min(max, initial·2^(n-1)), jittered into [d/2, d). */
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** No retry unless the deadline leaves the backoff delay plus this much for the attempt. */
  readonly minAttemptMs: number;
  /** Consecutive counted failures that open the breaker. */
  readonly failureThreshold: number;
  /** How long the breaker stays open before it admits one trial call. */
  readonly halfOpenAfterMs: number;
}

export const DEFAULT_PROVIDER_POLICY: ProviderPolicyOptions = {
  attemptTimeoutMs: 30_000,
  maxRetries: 2,
  initialBackoffMs: 200,
  maxBackoffMs: 5_000,
  minAttemptMs: 100,
  failureThreshold: 5,
  halfOpenAfterMs: 30_000,
};

/** What a policy reports (metrics). */
export interface PolicyObserver {
  /** One provider attempt ended (retries are separate attempts). */
  attempt?(providerId: string, outcome: "ok" | ProviderFailureKind, durationMs: number): void;
  breaker?(providerId: string, state: BreakerState): void;
}

/** Kinds that count towards opening the breaker. */
export const BREAKER_FAILURES: ReadonlySet<ProviderFailureKind> = new Set([
  "timeout",
  "rate_limited",
  "unavailable",
  "invalid_response",
]);

function validated(options: ProviderPolicyOptions): ProviderPolicyOptions {
  const entries = Object.entries(options) as [string, number][];
  for (const [name, value] of entries) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number ≥ 0`);
  }
  if (!Number.isInteger(options.maxRetries)) throw new RangeError("maxRetries must be an integer");
  if (!Number.isInteger(options.failureThreshold) || options.failureThreshold < 1) {
    throw new RangeError("failureThreshold must be an integer ≥ 1");
  }
  return options;
}

/**
 * Thrown through the breaker to defer a stream's outcome; one object for every call (each call
 * checks its own value), since building an Error per call captures a stack trace each time.
 */
const ACCEPTED = new Error("accepted; outcome deferred");

/** A signal that fires with a TimeoutError at `deadlineAt` on `clock`, or undefined for no deadline. */
function deadlineSignal(deadlineAt: number | undefined, clock: () => number): AbortSignal | undefined {
  return deadlineAt === undefined
    ? undefined
    : AbortSignal.timeout(Math.max(0, Math.ceil(deadlineAt - clock())));
}

function isTimeoutReason(signal: AbortSignal): boolean {
  const reason: unknown = signal.reason;
  return reason instanceof Error && reason.name === "TimeoutError";
}

/** `work`, or `failure()` as soon as `signal` fires (the work is then left to wind down). */
function settleBy<T>(work: Promise<T>, signal: AbortSignal, failure: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      reject(failure());
    };
    if (signal.aborted) abort();
    else signal.addEventListener("abort", abort, { once: true });
    void work.then(resolve, reject).finally(() => {
      signal.removeEventListener("abort", abort);
    });
  });
}

/** The signals of one call: the client's, the deadline's, and both together. */
interface CallSignals {
  readonly client: AbortSignal;
  readonly deadline: AbortSignal | undefined;
  readonly either: AbortSignal;
}

/** One provider's retries, breaker and attempt timeout. */
export class ProviderPolicy {
  readonly options: ProviderPolicyOptions;
  private readonly counter: ConsecutiveBreaker;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly backoff: ExponentialBackoff<number>;
  private readonly generateTimeout: TimeoutPolicy;
  private readonly streamTimeout: TimeoutPolicy;
  private readonly clock: () => number;
  private readonly observer: PolicyObserver;
  /** When the breaker last opened, on cockatiel's clock (Date.now). */
  private openedAt = 0;

  constructor(
    readonly providerId: string,
    options: Partial<ProviderPolicyOptions> = {},
    deps: { readonly clock?: () => number; readonly observer?: PolicyObserver } = {},
  ) {
    this.options = validated({ ...DEFAULT_PROVIDER_POLICY, ...options });
    this.clock = deps.clock ?? (() => performance.now());
    this.observer = deps.observer ?? {};
    this.counter = new ConsecutiveBreaker(this.options.failureThreshold);
    this.breaker = circuitBreaker(
      handleWhen(
        (error) =>
          error instanceof ProviderFailure &&
          (BREAKER_FAILURES.has(error.kind) ||
            (error.kind === "cancelled" && this.breaker.state === CircuitState.HalfOpen)),
      ),
      { breaker: this.counter, halfOpenAfter: this.options.halfOpenAfterMs },
    );
    this.breaker.onBreak(() => {
      this.openedAt = Date.now();
    });
    this.breaker.onStateChange(() => this.observer.breaker?.(providerId, this.breakerState()));
    this.backoff = new ExponentialBackoff({
      generator: halfJitterGenerator,
      initialDelay: this.options.initialBackoffMs,
      maxDelay: this.options.maxBackoffMs,
    });
    const ms = this.options.attemptTimeoutMs;
    this.generateTimeout = timeout(ms, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: true });
    // A stream's signal must outlive the opening: the deltas are read after `stream()` resolved.
    this.streamTimeout = timeout(ms, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
  }

  breakerState(): BreakerState {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return "closed";
      case CircuitState.HalfOpen:
        return "half_open";
      default:
        return "open";
    }
  }

  /** Counted failures since the last success (resets when the breaker closes). */
  consecutiveFailures(): number {
    return this.counter.state;
  }

  /** Milliseconds until an open breaker admits its trial call (0 when not open or already due). */
  retryAfterMs(): number {
    if (this.breaker.state !== CircuitState.Open) return 0;
    return Math.max(0, this.openedAt + this.options.halfOpenAfterMs - Date.now());
  }

  /** Whether a call now would be refused by the breaker without reaching the provider. */
  isOpen(): boolean {
    return this.breaker.state === CircuitState.Isolated || this.retryAfterMs() > 0;
  }

  /** Runs a complete call (`run` gets the attempt's signal) under the policy. */
  async execute<T>(call: ModelCall, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.runPolicy(call, run, this.generateTimeout);
  }

  /**
   * Opens a stream under the policy (retries and the breaker apply until the provider accepts
   * it). The breaker counts a stream by how its iteration ends, not by its opening: a completed
   * stream is a success, a failure while the deltas are read counts like any other (and reaches
   * the consumer as a ProviderFailure), an abandoned stream is neutral. So a provider that
   * accepts every stream and then breaks still trips the breaker.
   */
  async openStream(
    call: ModelCall,
    open: (signal: AbortSignal) => Promise<ModelStream>,
  ): Promise<ModelStream> {
    const signals = this.signalsOf(call);
    const stream = await this.runPolicy(call, open, this.streamTimeout, signals, true);
    const deltas = this.guarded(stream.deltas, signals);
    return { deltas, usage: () => stream.usage() };
  }

  private signalsOf(call: ModelCall): CallSignals {
    const deadline = deadlineSignal(call.deadlineAt, this.clock);
    const either = deadline ? AbortSignal.any([call.signal, deadline]) : call.signal;
    return { client: call.signal, deadline, either };
  }

  /**
   * Runs `run` through retry → breaker → attempt. With `deferOutcome` the accepted value leaves
   * the breaker as an error it does not handle — cockatiel's neutral outcome (it neither counts
   * nor resets; a half-open trial closes) — and the caller reports the real outcome later.
   */
  private async runPolicy<T>(
    call: ModelCall,
    run: (signal: AbortSignal) => Promise<T>,
    attemptTimeout: TimeoutPolicy,
    signals: CallSignals = this.signalsOf(call),
    deferOutcome = false,
  ): Promise<T> {
    const expired = call.deadlineAt !== undefined && call.deadlineAt <= this.clock();
    if (signals.either.aborted || expired) throw this.abortFailure(signals);
    const accepted = ACCEPTED;
    let value: { readonly value: T } | undefined;
    const work = this.retriesFor(call, signals).execute(() => {
      // A retry that wakes up after the call ended must not reach the breaker (nor become its trial).
      if (signals.either.aborted) throw new TaskCancelledError("the call ended before this attempt");
      return this.breaker.execute(async () => {
        const result = await this.attempt(run, attemptTimeout, signals);
        if (!deferOutcome) return result;
        value = { value: result };
        throw accepted;
      }, signals.either);
    }, signals.either);
    try {
      return await settleBy(work, signals.either, () => this.abortFailure(signals));
    } catch (error) {
      if (error === accepted && value) return value.value;
      throw this.translate(error, signals);
    }
  }

  /** The retry policy of one call: its filter knows the call's deadline and picks the next delay. */
  private retriesFor(call: ModelCall, signals: CallSignals): RetryPolicy {
    let current: IBackoff<unknown> | undefined;
    let delay = 0;
    const shouldRetry = (error: Error): boolean => {
      if (!(error instanceof ProviderFailure) || !error.retryable || signals.either.aborted) return false;
      // The failure that opened the breaker is returned as it is; the next call sees "circuit_open".
      if (this.breaker.state === CircuitState.Open) return false;
      const next = current ? current.next(undefined) : this.backoff.next();
      const asked = Math.min(error.details.retryAfterMs ?? 0, this.options.maxBackoffMs);
      const wait = Math.max(next.duration, asked);
      if (
        call.deadlineAt !== undefined &&
        call.deadlineAt - this.clock() < wait + this.options.minAttemptMs
      ) {
        return false;
      }
      current = next;
      delay = wait;
      return true;
    };
    return retry(handleWhen(shouldRetry), {
      maxAttempts: this.options.maxRetries,
      backoff: new DelegateBackoff(() => delay),
    });
  }

  /**
   * One provider attempt; every failure leaves it as a classified ProviderFailure. The provider's
   * signal is AbortSignal.any of the call's signals and an attempt controller that follows the
   * cockatiel timeout's signal, re-aborted with a meaningful reason: the call's own reason when the
   * call ended (Node 20 may abort the timeout's signal first, with a bare AbortError), a
   * TimeoutError when the attempt timer fired.
   */
  private async attempt<T>(
    run: (signal: AbortSignal) => Promise<T>,
    attemptTimeout: TimeoutPolicy,
    signals: CallSignals,
  ): Promise<T> {
    if (signals.either.aborted) throw new TaskCancelledError("the call ended before this attempt");
    const started = performance.now();
    let settled = false;
    let timedOut = false;
    try {
      const value = await attemptTimeout.execute(({ signal }) => {
        const attempt = new AbortController();
        signal.addEventListener(
          "abort",
          () => {
            if (signals.either.aborted) attempt.abort(signals.either.reason);
            else if (!settled) {
              timedOut = true;
              const ms = this.options.attemptTimeoutMs;
              attempt.abort(new DOMException(`attempt timed out after ${ms} ms`, "TimeoutError"));
            }
          },
          { once: true },
        );
        const work = run(AbortSignal.any([signals.either, attempt.signal]));
        const done = (): void => {
          settled = true;
        };
        void work.then(done, done);
        return work;
      }, signals.either);
      this.observer.attempt?.(this.providerId, "ok", performance.now() - started);
      return value;
    } catch (error) {
      const failure = this.classifyAttempt(error, signals, timedOut);
      this.observer.attempt?.(this.providerId, failure.kind, performance.now() - started);
      throw failure;
    }
  }

  /** Which signal ended the attempt decides the kind; otherwise the provider's own failure stands. */
  private classifyAttempt(error: unknown, signals: CallSignals, timedOut: boolean): ProviderFailure {
    if (signals.either.aborted) return this.abortFailure(signals, error);
    if (timedOut || error instanceof TaskCancelledError) {
      return new ProviderFailure(
        "timeout",
        `${this.providerId}: attempt timed out after ${this.options.attemptTimeoutMs} ms`,
        { providerId: this.providerId, cause: error },
      );
    }
    return this.asFailure(error);
  }

  /** Any error leaving the policy → ProviderFailure. */
  private translate(error: unknown, signals: CallSignals): ProviderFailure {
    if (error instanceof ProviderFailure) return error;
    if (error instanceof BrokenCircuitError) {
      return new ProviderFailure("circuit_open", `${this.providerId}: circuit breaker open`, {
        providerId: this.providerId,
        retryAfterMs: this.retryAfterMs(),
        cause: error,
      });
    }
    if (error instanceof TaskCancelledError || signals.either.aborted)
      return this.abortFailure(signals, error);
    return this.asFailure(error);
  }

  /** "cancelled" when the client's signal fired for a reason other than a deadline; "timeout" otherwise. */
  private abortFailure(signals: CallSignals, cause?: unknown): ProviderFailure {
    const cancelled = signals.client.aborted && !isTimeoutReason(signals.client);
    return cancelled
      ? new ProviderFailure("cancelled", `${this.providerId}: call cancelled`, {
          providerId: this.providerId,
          cause: cause ?? signals.client.reason,
        })
      : new ProviderFailure("timeout", `${this.providerId}: deadline exceeded`, {
          providerId: this.providerId,
          cause,
        });
  }

  private asFailure(error: unknown): ProviderFailure {
    if (error instanceof ProviderFailure) return error;
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new ProviderFailure("unavailable", `${this.providerId}: ${message}`, {
      providerId: this.providerId,
      cause: error,
    });
  }

  /** The stream's deltas; the end of the iteration is the stream's outcome for the breaker. */
  private async *guarded(deltas: AsyncIterable<string>, signals: CallSignals): AsyncGenerator<string> {
    try {
      yield* deltas;
    } catch (error) {
      const failure = signals.either.aborted ? this.abortFailure(signals, error) : this.asFailure(error);
      this.record(failure);
      throw failure;
    }
    this.record(undefined);
  }

  /**
   * Feeds an outcome seen outside an execution (a stream's end: `undefined` for a success) to the
   * breaker, through the breaker itself so its filter decides. Only while closed: when open or
   * half-open the trial decides, and an older stream must not take the trial's place.
   */
  private record(failure: ProviderFailure | undefined): void {
    if (this.breaker.state !== CircuitState.Closed) return;
    const outcome = failure ? () => Promise.reject(failure) : () => undefined;
    void this.breaker.execute(outcome).catch(() => undefined);
  }
}
