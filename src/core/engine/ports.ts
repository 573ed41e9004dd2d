/**
 * The ports of the engine pipeline: what the Generate pipeline is handed instead of reaching
 * for the network. The defaults (stub model, hashing embedder, lexicon scorer) live in core
 * and need nothing outside the process; the adapters for real services (OpenAI-compatible,
 * Anthropic, moderation endpoints) live in `src/providers/` and implement these interfaces.
 *
 * Every call takes an AbortSignal: it fires when the client cancels or the deadline passes,
 * and an adapter must stop its work (abort the HTTP request) when it does.
 */

/** What the router may use to pick a provider for one call. */
export interface RouteHints {
  /** The caller's intent ("conversational", "code", ...); never empty. */
  readonly userIntent: string;
  /** A stable id of the end user for consistent A/B assignment; undefined when unknown. */
  readonly userId: string | undefined;
}

/** One model call as the engine asks for it. */
export interface ModelCall {
  /** The full prompt sent to the model (context already included). */
  readonly prompt: string;
  /** Upper bound on answer tokens, 1 to 4096. */
  readonly maxTokens: number;
  /** Fires on client cancellation or deadline expiry; the call must then stop. */
  readonly signal: AbortSignal;
  /** Absolute deadline on the engine's clock (ms), or undefined for none. */
  readonly deadlineAt: number | undefined;
  readonly route: RouteHints;
  /** Told the provider's usage of this call once it is known (per-identity token quotas). */
  readonly onUsage?: (usage: TokenUsage) => void;
}

/** Token counts a provider reported (undefined when it did not report them). */
export interface TokenUsage {
  readonly inputTokens: number | undefined;
  readonly outputTokens: number | undefined;
}

/** A complete answer from one provider. */
export interface ModelReply {
  readonly text: string;
  readonly usage: TokenUsage;
}

/** A streamed answer: text deltas in order, then `usage()` once the iteration has ended. */
export interface ModelStream {
  readonly deltas: AsyncIterable<string>;
  /** Token counts after the stream ended (undefined fields when not reported). */
  usage(): TokenUsage;
}

/**
 * One model provider (the stub, an OpenAI-compatible endpoint, Anthropic). Adapters throw
 * {@link ProviderFailure} and nothing else.
 */
export interface ModelProvider {
  /** Stable id, e.g. "local_stub", "openai_gpt_4o_mini", "anthropic_claude_3_5_haiku". */
  readonly id: string;
  generate(call: ModelCall): Promise<ModelReply>;
  /** Resolves once the provider has accepted the request (headers received). */
  stream(call: ModelCall): Promise<ModelStream>;
}

/** A reply, with who served it: the provider and the router arm. */
export interface ServedBy {
  readonly providerId: string;
  /** "control" / "treatment" for an A/B router, "" otherwise. */
  readonly variant: string;
}

/**
 * What the engine calls: routing, resilience (timeout, retries, circuit breaker) and fallback
 * around the providers. Throws {@link ProviderFailure} only.
 */
export interface ModelGateway {
  generate(call: ModelCall): Promise<ModelReply & ServedBy>;
  /** Retries and fallback apply until the stream is accepted; later failures end the stream. */
  stream(call: ModelCall): Promise<ModelStream & ServedBy>;
}

/** Turns text into a vector of the configured dimension. */
export interface Embedder {
  readonly dimension: number;
  /** Throws {@link ProviderFailure} on failure. The result need not be unit length. */
  embed(text: string, signal: AbortSignal): Promise<Float32Array>;
}

/** The verdict of a content scorer on one text. */
export interface ContentScore {
  /** 0 (unacceptable) to 1 (fully acceptable), on the same scale as a request's moral value. */
  readonly score: number;
  /** Names of the categories that lowered the score (e.g. "violence"); empty when none. */
  readonly categories: readonly string[];
}

/** Judges the acceptability of a text (a prompt or an answer). */
export interface ContentScorer {
  readonly id: string;
  /** Throws {@link ProviderFailure} on failure. */
  score(text: string, signal: AbortSignal): Promise<ContentScore>;
}

/** Removes personal data (e-mail addresses, phone numbers, card numbers, keys) from text. */
export type TextScrubber = (text: string) => string;

/** Why a provider call failed; each kind maps to one catalogue error. */
export type ProviderFailureKind =
  /** The deadline (or the provider timeout) passed before an answer. → E601 DEADLINE_EXCEEDED */
  | "timeout"
  /** The provider answered 429 or a quota error. → E604 RESOURCE_EXHAUSTED */
  | "rate_limited"
  /** Connection refused/reset, 5xx, overloaded. → E603 UNAVAILABLE */
  | "unavailable"
  /** The circuit breaker of every candidate provider is open. → E603 UNAVAILABLE */
  | "circuit_open"
  /** A body that is not the protocol's, or an empty answer. → E606 UNAVAILABLE */
  | "invalid_response"
  /** 4xx other than 429: bad key, unknown model, request refused. Not retryable. → E605 */
  | "rejected"
  /** The client cancelled. → CANCELLED */
  | "cancelled";

/** Kinds worth retrying (on the same provider, while the deadline allows). */
export const RETRYABLE_FAILURES: ReadonlySet<ProviderFailureKind> = new Set([
  "timeout",
  "rate_limited",
  "unavailable",
  "invalid_response",
]);

/** The one error type providers, embedders, scorers and the gateway throw. */
export class ProviderFailure extends Error {
  override readonly name = "ProviderFailure";
  constructor(
    readonly kind: ProviderFailureKind,
    message: string,
    readonly details: {
      /** Id of the provider (or embedder/scorer) that failed. */
      readonly providerId: string;
      /** HTTP status, when there was one. */
      readonly httpStatus?: number;
      /** Delay the provider asked for (Retry-After), in milliseconds. */
      readonly retryAfterMs?: number;
      readonly cause?: unknown;
    },
  ) {
    super(message, { cause: details.cause });
  }

  get retryable(): boolean {
    return RETRYABLE_FAILURES.has(this.kind);
  }
}

/** Attribute values a pipeline span may carry: codes, counts and sizes, never prompt or answer text. */
export type SpanAttributeValue = string | number | boolean;

/** The span of one pipeline stage, as the stage sees it. */
export interface StageSpan {
  /** Adds an attribute (a code, a count, a size; never user text). */
  set(key: string, value: SpanAttributeValue): void;
}

/**
 * Traces the pipeline: one child span per stage of the current call. The server passes an
 * OpenTelemetry-backed tracer; tests and benchmarks pass {@link NO_TRACING}. A failure thrown
 * by `run` is recorded on the span and rethrown unchanged.
 */
export interface PipelineTracer {
  span<T>(name: string, run: (span: StageSpan) => Promise<T> | T): Promise<T>;
}

const NO_SPAN: StageSpan = { set: () => undefined };

/** A tracer that records nothing. */
export const NO_TRACING: PipelineTracer = {
  span: async (_name, run) => run(NO_SPAN),
};
