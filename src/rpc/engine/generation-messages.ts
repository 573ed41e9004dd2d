/**
 * Engine results → contract messages for Generate and GenerateStream (one mapping for both,
 * so a unary response and a stream summary carry the same decision).
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { AphasiaAnalysis, AphasiaFlagName } from "../../core/aphasia/detector.js";
import type { ContextMatch } from "../../core/controller.js";
import type { ContentVerdict, GenerationResult, Stage, StageRecord } from "../../core/engine/types.js";
import {
  AphasiaFlag,
  RejectionStage,
  StageOutcome,
  type AphasiaReportSchema,
  type ContentVerdictSchema,
  type ContextItemSchema,
  type GenerationDecisionSchema,
} from "../../gen/mlsdm/v1/engine_pb.js";
import { phaseMessage } from "../state-message.js";

const STAGE_ENUM: Record<Stage, RejectionStage> = {
  input: RejectionStage.INPUT,
  pre_moral: RejectionStage.PRE_MORAL,
  rhythm: RejectionStage.RHYTHM,
  embedding: RejectionStage.EMBEDDING,
  retrieval: RejectionStage.RETRIEVAL,
  generation: RejectionStage.GENERATION,
  aphasia: RejectionStage.APHASIA,
  post_moral: RejectionStage.POST_MORAL,
  memory_update: RejectionStage.MEMORY_UPDATE,
};

const OUTCOME_ENUM: Record<StageRecord["outcome"], StageOutcome> = {
  passed: StageOutcome.PASSED,
  skipped: StageOutcome.SKIPPED,
  failed: StageOutcome.FAILED,
};

const FLAG_ENUM: Record<AphasiaFlagName, AphasiaFlag> = {
  empty_text: AphasiaFlag.EMPTY_TEXT,
  no_sentence_boundaries: AphasiaFlag.NO_SENTENCE_BOUNDARIES,
  no_tokens: AphasiaFlag.NO_TOKENS,
  short_sentences: AphasiaFlag.SHORT_SENTENCES,
  low_function_words: AphasiaFlag.LOW_FUNCTION_WORDS,
  high_fragment_ratio: AphasiaFlag.HIGH_FRAGMENT_RATIO,
};

/** The contract's stage enum for a core stage. */
export function stageMessage(stage: Stage): RejectionStage {
  return STAGE_ENUM[stage];
}

function aphasiaMessage(
  report: AphasiaAnalysis | undefined,
  repaired: boolean,
): MessageInitShape<typeof AphasiaReportSchema> | undefined {
  if (!report) return undefined;
  return {
    detected: report.isAphasic,
    severity: report.severity,
    flags: report.flags.map((flag) => FLAG_ENUM[flag]),
    repaired,
    avgSentenceLen: report.avgSentenceLen,
    functionWordRatio: report.functionWordRatio,
    fragmentRatio: report.fragmentRatio,
  };
}

function verdictMessage(
  verdict: ContentVerdict | undefined,
): MessageInitShape<typeof ContentVerdictSchema> | undefined {
  if (!verdict) return undefined;
  return { score: verdict.score, categories: [...verdict.categories], scorerId: verdict.scorerId };
}

/** A context item as the contract shows it (no vector). */
export function contextItemMessage(match: ContextMatch): MessageInitShape<typeof ContextItemSchema> {
  return { slot: match.slot, phaseValue: match.phase, resonance: match.resonance, text: match.text };
}

/** The decision of a result; diagnostics only when asked for. */
export function decisionMessage(
  result: GenerationResult,
  diagnostics: boolean,
): MessageInitShape<typeof GenerationDecisionSchema> {
  const d = result.decision;
  return {
    accepted: d.accepted,
    rejectionStage: d.rejectedAt === undefined ? RejectionStage.UNSPECIFIED : STAGE_ENUM[d.rejectedAt],
    note: d.note,
    moralThreshold: d.moralThreshold,
    moralValue: d.moralValue,
    ...(d.moralScore === undefined ? {} : { moralScore: d.moralScore }),
    phase: phaseMessage(d.phase),
    aphasia: aphasiaMessage(d.aphasia, d.aphasia?.repaired ?? false),
    aphasiaAfterRepair: aphasiaMessage(d.aphasiaAfterRepair, false),
    contextItems: d.context.length,
    contextTopK: d.contextTopK,
    context: d.context.map(contextItemMessage),
    providerId: d.providerId,
    variant: d.variant,
    maxTokensUsed: d.maxTokensUsed,
    promptContent: verdictMessage(d.promptContent),
    answerContent: verdictMessage(d.answerContent),
    diagnostics: diagnostics
      ? {
          totalMs: result.totalMs,
          queueWaitMs: 0,
          stages: result.stages.map((stage) => ({
            stage: STAGE_ENUM[stage.stage],
            outcome: OUTCOME_ENUM[stage.outcome],
            durationMs: stage.durationMs,
            ...(stage.score === undefined ? {} : { score: stage.score }),
            ...(stage.threshold === undefined ? {} : { threshold: stage.threshold }),
            detail: stage.detail,
          })),
        }
      : undefined,
  };
}
