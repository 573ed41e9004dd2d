/**
 * The Generate pipeline's request and result in core terms (the RPC layer maps them to and
 * from the protobuf messages). A rejection is a result with `accepted: false`; a failure of a
 * provider, the embedder or the scorer is a thrown `ProviderFailure`, never text (W9).
 */
import type { AphasiaAnalysis } from "../aphasia/detector.js";
import type { ContextMatch } from "../controller.js";
import type { Phase } from "../rhythm.js";
import type { ContentScore } from "./ports.js";

/** Pipeline stages in order (mirrors mlsdm.v1.RejectionStage). */
export const STAGES = [
  "input",
  "pre_moral",
  "rhythm",
  "embedding",
  "retrieval",
  "generation",
  "aphasia",
  "post_moral",
  "memory_update",
] as const;
export type Stage = (typeof STAGES)[number];

/** Stages that can reject a request (the others fail with an error or never fail). */
export type RejectingStage = "pre_moral" | "rhythm" | "post_moral";

/** What one stage did. */
export interface StageRecord {
  readonly stage: Stage;
  readonly outcome: "passed" | "skipped" | "failed";
  readonly durationMs: number;
  readonly score?: number;
  readonly threshold?: number;
  readonly detail: string;
}

/** One Generate request after validation (unset fields take the configured defaults). */
export interface GenerationRequest {
  readonly prompt: string;
  readonly maxTokens: number | undefined;
  readonly moralValue: number | undefined;
  readonly contextTopK: number | undefined;
  /** Empty means "conversational". */
  readonly userIntent: string;
  /** Empty means none (random A/B assignment). */
  readonly userId: string;
}

/** The content scorer's verdict with the scorer's id. */
export interface ContentVerdict extends ContentScore {
  readonly scorerId: string;
}

/** An aphasia analysis and whether the answer was repaired. */
export interface AphasiaOutcome extends AphasiaAnalysis {
  readonly repaired: boolean;
}

/** The governance decision (mirrors mlsdm.v1.GenerationDecision). */
export interface GenerationDecision {
  readonly accepted: boolean;
  readonly rejectedAt: RejectingStage | undefined;
  readonly note: string;
  readonly moralThreshold: number;
  /** The moral value applied: the stricter of the declared value and the prompt's score. */
  readonly moralValue: number;
  /** The answer's content score, when the post-moral check ran. */
  readonly moralScore: number | undefined;
  readonly phase: Phase;
  readonly aphasia: AphasiaOutcome | undefined;
  readonly aphasiaAfterRepair: AphasiaAnalysis | undefined;
  readonly context: readonly ContextMatch[];
  readonly contextTopK: number;
  readonly providerId: string;
  readonly variant: string;
  readonly maxTokensUsed: number;
  readonly promptContent: ContentVerdict | undefined;
  readonly answerContent: ContentVerdict | undefined;
}

/** A finished generation. */
export interface GenerationResult {
  /** The answer; "" unless accepted. */
  readonly text: string;
  readonly decision: GenerationDecision;
  readonly stages: readonly StageRecord[];
  readonly totalMs: number;
  /** PELM slot the exchange was stored in, or undefined when nothing was stored. */
  readonly storedSlot: number | undefined;
}

/** One message of a streamed generation: text deltas, then exactly one result. */
export type StreamEvent =
  | { readonly kind: "delta"; readonly text: string }
  | { readonly kind: "result"; readonly result: GenerationResult; readonly deltaCount: number };

/** The engine refused to run: the emergency brake is engaged (E701, UNAVAILABLE). */
export class EngineRefused extends Error {
  override readonly name = "EngineRefused";
  constructor(
    readonly reason: "emergency_shutdown" | "process_memory_exceeded",
    message: string,
  ) {
    super(message);
  }
}
