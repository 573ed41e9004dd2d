/**
 * The Generate pipeline (core.md §6, issue 5), one engine over the same cognitive controller
 * that serves ProcessEvent (not a second, unrelated state as in the reference):
 *
 *   input → pre-moral (content score of the prompt, combined with the declared moral value:
 *   the stricter wins) → rhythm gate → embed → retrieve context (with stored text) → build
 *   prompt → model call (routing, retries, breaker, fallback in the gateway) → aphasia check
 *   and at most one repair → post-moral check of the answer → memory update.
 *
 * State changes are two atomic, synchronous controller calls: the admission (moral filter,
 * rhythm step) before the first model await, and the memory write after the last one. A
 * failure, a cancellation or a deadline between them writes nothing. Failures of the model,
 * embedder or scorer are thrown as `ProviderFailure` (an error status for the caller), never
 * returned as text (W9); rejections are results with `accepted: false`.
 */
import {
  analyzeAphasia,
  buildRepairPrompt,
  shouldRepair,
  type AphasiaAnalysis,
} from "../aphasia/detector.js";
import type { ContextMatch } from "../controller.js";
import type { Phase } from "../rhythm.js";
import { DEFAULT_INTENT, type EngineDeps, type EngineOptions } from "./options.js";
import {
  NO_TRACING,
  ProviderFailure,
  type ModelCall,
  type RouteHints,
  type ServedBy,
  type TokenUsage,
} from "./ports.js";
import { buildPrompt, exchangeText } from "./prompt.js";
import { StageRecorder } from "./stage-recorder.js";
import { runStream } from "./stream.js";
import {
  EngineRefused,
  type AphasiaOutcome,
  type ContentVerdict,
  type GenerationDecision,
  type GenerationRequest,
  type GenerationResult,
  type StreamEvent,
} from "./types.js";

/** The call's budget: its cancellation signal and absolute deadline (engine clock, ms). */
export interface CallBudget {
  readonly signal: AbortSignal;
  readonly deadlineAt: number | undefined;
  /** Told the usage of every model call made for this request (token quotas). */
  readonly onUsage?: ((usage: TokenUsage) => void) | undefined;
}

/** A request that passed admission, with everything the model call needs. */
export interface Prepared {
  readonly rec: StageRecorder;
  readonly request: GenerationRequest;
  readonly phase: Phase;
  readonly moralThreshold: number;
  readonly moralValue: number;
  readonly promptContent: ContentVerdict;
  readonly vector: Float32Array;
  readonly context: readonly ContextMatch[];
  readonly contextTopK: number;
  readonly maxTokens: number;
  readonly modelPrompt: string;
  readonly route: RouteHints;
}

/** The outcome of the aphasia stage. */
export interface AphasiaStageResult {
  readonly text: string;
  readonly aphasia: AphasiaOutcome | undefined;
  readonly after: AphasiaAnalysis | undefined;
}

/** Throws the ProviderFailure that matches an aborted signal (deadline → timeout, else cancelled). */
export function throwIfAborted(signal: AbortSignal): void {
  if (!signal.aborted) return;
  const reason: unknown = signal.reason;
  const timeout = reason instanceof Error && reason.name === "TimeoutError";
  throw new ProviderFailure(
    timeout ? "timeout" : "cancelled",
    timeout ? "the deadline passed" : "the client cancelled the call",
    { providerId: "engine", cause: reason },
  );
}

/** The engine. */
export class GenerationEngine {
  readonly tracer;

  constructor(
    readonly deps: EngineDeps,
    readonly options: EngineOptions,
  ) {
    this.tracer = deps.tracer ?? NO_TRACING;
  }

  /** Runs the whole pipeline and returns the answer with its decision. */
  async generate(request: GenerationRequest, budget: CallBudget): Promise<GenerationResult> {
    const preparation = await this.prepare(request, budget);
    if (preparation.kind === "done") return preparation.result;
    const p = preparation.prepared;
    const reply = await p.rec.run("generation", async (span) => {
      const served = await this.deps.gateway.generate(this.modelCall(p, p.modelPrompt, budget));
      if (served.text.trim() === "") {
        throw new ProviderFailure("invalid_response", "the model returned an empty answer", {
          providerId: served.providerId,
        });
      }
      span.set("mlsdm.provider.id", served.providerId);
      span.set("mlsdm.answer.chars", served.text.length);
      return [served, { detail: served.providerId }];
    });
    const aphasia = await this.aphasiaStage(p, reply.text, budget);
    const answer = await this.postMoralStage(p, aphasia.text, budget);
    if (!answer.passed) {
      return this.finish(p, reply, "", {
        accepted: false,
        rejectedAt: "post_moral",
        note: answer.note,
        aphasia,
        answerContent: answer.verdict,
      });
    }
    const slot = await this.tracer.span("mlsdm.stage.memory_update", (span) => {
      const written = this.memoryStage(p, aphasia.text, budget);
      span.set("mlsdm.memory.stored", written !== undefined);
      return written;
    });
    return this.finish(p, reply, aphasia.text, {
      accepted: true,
      note: "processed",
      aphasia,
      answerContent: answer.verdict,
      slot,
    });
  }

  /** Runs the pipeline streaming the answer: deltas as they pass the output checks, then the result. */
  async *stream(request: GenerationRequest, budget: CallBudget): AsyncGenerator<StreamEvent> {
    const preparation = await this.prepare(request, budget);
    if (preparation.kind === "done") {
      yield { kind: "result", result: preparation.result, deltaCount: 0 };
      return;
    }
    yield* runStream(this, preparation.prepared, budget);
  }

  /** Input, pre-moral, rhythm, embedding and retrieval: everything before the model call. */
  async prepare(
    request: GenerationRequest,
    budget: CallBudget,
  ): Promise<{ kind: "ready"; prepared: Prepared } | { kind: "done"; result: GenerationResult }> {
    const { controller, scorer, embedder, clock } = this.deps;
    const rec = new StageRecorder(clock, this.tracer);
    rec.record("input", rec.startedAt, { detail: `${request.prompt.length} UTF-16 units` });
    const declared = request.moralValue ?? this.options.defaultMoralValue;
    const pre = await rec.run("pre_moral", async (span) => {
      const score = await scorer.score(request.prompt, budget.signal);
      throwIfAborted(budget.signal);
      const applied = Math.min(declared, score.score);
      const admission = controller.admitGeneration(applied, this.options.sleepBehaviour);
      if (admission.kind === "refused") throw new EngineRefused(admission.reason, admission.note);
      span.set("mlsdm.moral.value", applied);
      span.set("mlsdm.moral.threshold", admission.moralThreshold);
      const verdict: ContentVerdict = { ...score, scorerId: scorer.id };
      const judged = !(admission.kind === "rejected" && admission.stage === "rhythm");
      return [
        { admission, applied, verdict },
        judged
          ? {
              outcome: admission.kind === "rejected" ? "failed" : "passed",
              score: applied,
              threshold: admission.moralThreshold,
              detail: score.categories.length > 0 ? `content: ${score.categories.join(", ")}` : "",
            }
          : { detail: "not judged: sleep phase" },
      ];
    });
    const { admission, applied, verdict } = pre;
    const rhythmStarted = clock();
    const base = {
      rec,
      request,
      phase: admission.phase,
      moralThreshold: admission.moralThreshold,
      moralValue: applied,
      promptContent: verdict,
    };
    if (admission.kind === "rejected") {
      rec.record("rhythm", rhythmStarted, {
        outcome: admission.stage === "rhythm" ? "failed" : "passed",
        detail: admission.phase,
      });
      return {
        kind: "done",
        result: this.rejectedEarly(base, admission.stage, admission.note),
      };
    }
    rec.record("rhythm", rhythmStarted, { detail: admission.phase });
    const vector = await rec.run("embedding", async (span) => {
      const embedded = await embedder.embed(request.prompt, budget.signal);
      checkEmbedding(embedded, embedder.dimension);
      span.set("mlsdm.embedding.dimension", embedded.length);
      return [embedded, {}];
    });
    const contextTopK = request.contextTopK ?? this.options.defaultContextTopK;
    let context: readonly ContextMatch[] = [];
    if (contextTopK === 0) {
      rec.skip("retrieval", "context_top_k is 0");
    } else {
      context = await rec.run("retrieval", (span) => {
        const found = controller.retrieveStored(vector, contextTopK);
        span.set("mlsdm.context.items", found.length);
        return [found, { detail: `${found.length} of ${contextTopK}` }];
      });
    }
    const requested = request.maxTokens ?? this.options.defaultMaxTokens;
    const maxTokens =
      admission.phase === "sleep" ? Math.min(requested, this.options.sleepMaxTokens) : requested;
    return {
      kind: "ready",
      prepared: {
        ...base,
        vector,
        context,
        contextTopK,
        maxTokens,
        modelPrompt: buildPrompt(request.prompt, context),
        route: { userIntent: request.userIntent || DEFAULT_INTENT, userId: request.userId || undefined },
      },
    };
  }

  /** The model call for `prompt` within the call's budget. */
  modelCall(p: Prepared, prompt: string, budget: CallBudget, signal = budget.signal): ModelCall {
    return {
      prompt,
      maxTokens: p.maxTokens,
      signal,
      deadlineAt: budget.deadlineAt,
      route: p.route,
      ...(budget.onUsage ? { onUsage: budget.onUsage } : {}),
    };
  }

  /** Aphasia check of a draft and, above the threshold, one repair call (re-analysed). */
  async aphasiaStage(p: Prepared, draft: string, budget: CallBudget): Promise<AphasiaStageResult> {
    if (!this.options.aphasiaDetect) {
      p.rec.skip("aphasia", "aphasia detection disabled");
      return { text: draft, aphasia: undefined, after: undefined };
    }
    return p.rec.run<AphasiaStageResult>("aphasia", async (span) => {
      const report = analyzeAphasia(draft);
      span.set("mlsdm.aphasia.severity", report.severity);
      const threshold = this.options.aphasiaSeverityThreshold;
      const repair = shouldRepair(report, {
        repairEnabled: this.options.aphasiaRepair,
        severityThreshold: threshold,
      });
      if (!repair) {
        return [
          { text: draft, aphasia: { ...report, repaired: false }, after: undefined },
          {
            score: report.severity,
            threshold,
            detail: report.isAphasic ? "detected, below repair threshold" : "",
          },
        ];
      }
      const repaired = await this.repair(p, draft, budget);
      if (repaired === undefined) {
        return [
          { text: draft, aphasia: { ...report, repaired: false }, after: undefined },
          { score: report.severity, threshold, detail: "repair failed; the draft is returned" },
        ];
      }
      span.set("mlsdm.aphasia.repaired", true);
      const after = analyzeAphasia(repaired);
      return [
        { text: repaired, aphasia: { ...report, repaired: true }, after },
        {
          score: report.severity,
          threshold,
          detail: `repaired; severity after ${after.severity.toFixed(2)}`,
        },
      ];
    });
  }

  /** One repair attempt; undefined when it failed for a reason other than the call's own end. */
  async repair(p: Prepared, draft: string, budget: CallBudget): Promise<string | undefined> {
    try {
      const reply = await this.deps.gateway.generate(
        this.modelCall(p, buildRepairPrompt(p.request.prompt, draft), budget),
      );
      return reply.text.trim() === "" ? undefined : reply.text;
    } catch (error) {
      if (error instanceof ProviderFailure && error.kind !== "cancelled" && error.kind !== "timeout") {
        return undefined;
      }
      throw error;
    }
  }

  /** Scores the answer; it passes when the score reaches the applied moral value minus the tolerance. */
  async postMoralStage(
    p: Prepared,
    text: string,
    budget: CallBudget,
  ): Promise<{ passed: boolean; verdict: ContentVerdict; note: string }> {
    const bar = Math.max(0, p.moralValue - this.options.postMoralTolerance);
    return p.rec.run("post_moral", async (span) => {
      const score = await this.deps.scorer.score(text, budget.signal);
      span.set("mlsdm.moral.answer_score", score.score);
      const passed = score.score >= bar;
      const note = passed
        ? ""
        : `answer moral score ${score.score.toFixed(2)} below the required ${bar.toFixed(2)}`;
      return [
        { passed, verdict: { ...score, scorerId: this.deps.scorer.id }, note },
        { outcome: passed ? "passed" : "failed", score: score.score, threshold: bar, detail: note },
      ];
    });
  }

  /** Stores the exchange (unless the call ended meanwhile); returns the slot or undefined. */
  memoryStage(p: Prepared, answer: string, budget: CallBudget): number | undefined {
    throwIfAborted(budget.signal);
    const started = this.deps.clock();
    const text = exchangeText(p.request.prompt, answer, this.deps.scrub, this.options.contextTextMaxBytes);
    const slot = this.deps.controller.recordExchange(p.vector, text, p.phase);
    p.rec.record("memory_update", started, {
      detail: slot === undefined ? `not stored (${p.phase} phase or emergency)` : `slot ${slot}`,
    });
    return slot;
  }

  /** Builds the result of a call that reached the model. */
  finish(
    p: Prepared,
    served: ServedBy,
    text: string,
    outcome: {
      accepted: boolean;
      rejectedAt?: "post_moral";
      note: string;
      aphasia: AphasiaStageResult;
      answerContent: ContentVerdict | undefined;
      slot?: number | undefined;
    },
  ): GenerationResult {
    const decision: GenerationDecision = {
      accepted: outcome.accepted,
      rejectedAt: outcome.rejectedAt,
      note: outcome.note,
      moralThreshold: p.moralThreshold,
      moralValue: p.moralValue,
      moralScore: outcome.answerContent?.score,
      phase: p.phase,
      aphasia: outcome.aphasia.aphasia,
      aphasiaAfterRepair: outcome.aphasia.after,
      context: p.context,
      contextTopK: p.contextTopK,
      providerId: served.providerId,
      variant: served.variant,
      maxTokensUsed: p.maxTokens,
      promptContent: p.promptContent,
      answerContent: outcome.answerContent,
    };
    return {
      text: outcome.accepted ? text : "",
      decision,
      stages: p.rec.all(outcome.accepted ? "" : "not reached"),
      totalMs: p.rec.elapsed(),
      storedSlot: outcome.slot,
    };
  }

  private rejectedEarly(
    base: Pick<Prepared, "rec" | "phase" | "moralThreshold" | "moralValue" | "promptContent">,
    stage: "pre_moral" | "rhythm",
    note: string,
  ): GenerationResult {
    return {
      text: "",
      decision: {
        accepted: false,
        rejectedAt: stage,
        note,
        moralThreshold: base.moralThreshold,
        moralValue: base.moralValue,
        moralScore: undefined,
        phase: base.phase,
        aphasia: undefined,
        aphasiaAfterRepair: undefined,
        context: [],
        contextTopK: 0,
        providerId: "",
        variant: "",
        maxTokensUsed: 0,
        promptContent: base.promptContent,
        answerContent: undefined,
      },
      stages: base.rec.all("not reached"),
      totalMs: base.rec.elapsed(),
      storedSlot: undefined,
    };
  }
}

/** An embedding the memory can store: the configured dimension, finite, not all zero. */
function checkEmbedding(vector: Float32Array, dimension: number): void {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const problem =
    vector.length !== dimension
      ? `dimension ${vector.length}, expected ${dimension}`
      : !Number.isFinite(sum)
        ? "non-finite values"
        : sum <= 1e-18
          ? "zero norm"
          : undefined;
  if (problem !== undefined) {
    throw new ProviderFailure("invalid_response", `unusable embedding: ${problem}`, {
      providerId: "embedder",
    });
  }
}
