/**
 * Times the pipeline's stages and keeps one record per stage in pipeline order, including
 * the stages that were skipped, so diagnostics always list every stage (GenerateDiagnostics).
 */
import type { Clock } from "../ports.js";
import type { PipelineTracer, StageSpan } from "./ports.js";
import { STAGES, type Stage, type StageRecord } from "./types.js";

/** What a stage reports about itself besides its duration. */
export interface StageReport {
  readonly outcome?: "passed" | "failed";
  readonly score?: number;
  readonly threshold?: number;
  readonly detail?: string;
}

/** Records the stages of one call. */
export class StageRecorder {
  private readonly records = new Map<Stage, StageRecord>();
  readonly startedAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly tracer: PipelineTracer,
  ) {
    this.startedAt = clock();
  }

  /**
   * Runs one stage inside its span and records its duration and report. `run` returns the
   * stage's value and its report; a thrown error records the stage as failed and propagates.
   */
  async run<T>(
    stage: Stage,
    run: (span: StageSpan) => Promise<[T, StageReport]> | [T, StageReport],
  ): Promise<T> {
    const started = this.clock();
    try {
      const [value, report] = await this.tracer.span(`mlsdm.stage.${stage}`, async (span) => {
        const done = await run(span);
        span.set("mlsdm.stage.outcome", done[1].outcome ?? "passed");
        return done;
      });
      this.record(stage, started, report);
      return value;
    } catch (error) {
      this.record(stage, started, { outcome: "failed", detail: error instanceof Error ? error.message : "" });
      throw error;
    }
  }

  /** Records a stage measured without a span (a synchronous step inside another stage). */
  record(stage: Stage, started: number, report: StageReport): void {
    this.records.set(stage, {
      stage,
      outcome: report.outcome ?? "passed",
      durationMs: Math.max(0, this.clock() - started),
      ...(report.score === undefined ? {} : { score: report.score }),
      ...(report.threshold === undefined ? {} : { threshold: report.threshold }),
      detail: report.detail ?? "",
    });
  }

  /** Marks a stage as skipped (unless it already ran). */
  skip(stage: Stage, detail: string): void {
    if (!this.records.has(stage))
      this.records.set(stage, { stage, outcome: "skipped", durationMs: 0, detail });
  }

  /** Every stage in pipeline order; the ones that never ran are skipped with `why`. */
  all(why: string): StageRecord[] {
    return STAGES.map(
      (stage) => this.records.get(stage) ?? { stage, outcome: "skipped", durationMs: 0, detail: why },
    );
  }

  elapsed(): number {
    return Math.max(0, this.clock() - this.startedAt);
  }
}
