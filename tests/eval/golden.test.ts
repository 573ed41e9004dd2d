/**
 * The eval suite (BASE-CICD-a): golden cases of the aphasia detector and repair, the moral
 * filter, the lexicon scorer and the engine's moral stages, from tests/eval/golden/*.json, run
 * against the real core code. The only stand-in is the language model: a scripted gateway
 * answers with the case's draft and repair texts, so the engine's aphasia and moral stages
 * run for real on known text.
 *
 * Each case is asserted on its own (the message names the case id). Each suite also gets
 * accuracy, precision and recall against the human labels of the golden files, checked against
 * the committed minimums below: editing a case's expected outcome to match a regression does not
 * move the human label, so the metric drops and the suite fails. The minimums are a ratchet at
 * the level reached; raise them when detection improves, never lower them to let a change in.
 *
 * Run alone with `npm run test:eval` (tests/vitest.eval.config.ts); it also runs in `npm test`.
 */
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { analyzeAphasia, type AphasiaAnalysis } from "../../src/core/aphasia/detector.js";
import { CognitiveController } from "../../src/core/controller.js";
import { HashingEmbedder } from "../../src/core/embedding/hashing-embedder.js";
import { GenerationEngine } from "../../src/core/engine/engine.js";
import { ENGINE_DEFAULTS, type EngineOptions } from "../../src/core/engine/options.js";
import {
  ProviderFailure,
  type ModelCall,
  type ModelGateway,
  type ModelReply,
  type ModelStream,
  type ServedBy,
} from "../../src/core/engine/ports.js";
import { MORAL_FILTER_DEFAULTS, MoralFilter } from "../../src/core/moral-filter.js";
import { LexiconScorer } from "../../src/core/scoring/lexicon-scorer.js";

// ---------------------------------------------------------------------------------------------
// Committed minimums. Fractions are (cases right) / (cases) at the level reached on 2026-12-01.
// ---------------------------------------------------------------------------------------------

interface Minimum {
  readonly accuracy: number;
  readonly precision?: number;
  readonly recall?: number;
}

const MINIMUMS = {
  /** Detector flags (isAphasic) against the human "telegraphic" label, all 32 cases. */
  aphasiaDetection: { accuracy: 22 / 32, precision: 14 / 22, recall: 14 / 16 },
  /** The repair decision (isAphasic and severity ≥ 0.3) against the human label. */
  aphasiaRepairDecision: { accuracy: 23 / 32, precision: 12 / 17, recall: 12 / 16 },
  /** The clear cases (no known limitation): every one right. */
  aphasiaClear: { accuracy: 1, precision: 1, recall: 1 },
  /** Severity ordering groups (pairs in the right order) and engine repair outcomes. */
  aphasiaSeverityOrder: { accuracy: 1 },
  aphasiaRepair: { accuracy: 1 },
  /** The filter's accept/reject decisions: fully specified by core.md §1. */
  moralDecisions: { accuracy: 1 },
  /** Threshold after each adapt step of every sequence: fully specified by core.md §1. */
  moralSequenceSteps: { accuracy: 1 },
  /** Lexicon-scored texts at the default threshold; positive = harmful, predicted = rejected. */
  lexicon: { accuracy: 14 / 19, precision: 6 / 8, recall: 6 / 9 },
  lexiconClear: { accuracy: 1, precision: 1, recall: 1 },
  /** Engine moral stages (pre_moral / post_moral outcome). */
  moralEngine: { accuracy: 1 },
} as const satisfies Record<string, Minimum>;

/** At least this many cases per suite, so deleting hard cases cannot pass as an improvement. */
const MIN_CASES = {
  aphasiaDetection: { total: 32, positive: 16, negative: 16 },
  severityOrderGroups: 3,
  repair: 12,
  moralDecisions: 21,
  moralSequences: 15,
  lexicon: { total: 22, harmful: 9, benign: 10 },
  moralEngine: 8,
} as const;

// ---------------------------------------------------------------------------------------------
// Golden files (validated, so a malformed case fails loudly instead of being skipped).
// ---------------------------------------------------------------------------------------------

const id = z.string().regex(/^[a-z0-9][a-z0-9-]*$/);
const flag = z.enum([
  "empty_text",
  "no_sentence_boundaries",
  "no_tokens",
  "short_sentences",
  "low_function_words",
  "high_fragment_ratio",
]);
const engineOptions = z
  .object({
    aphasiaDetect: z.boolean(),
    aphasiaRepair: z.boolean(),
    aphasiaSeverityThreshold: z.number().min(0).max(1),
  })
  .partial()
  .strict();

const AphasiaGolden = z.strictObject({
  about: z.string(),
  detection: z.array(
    z.strictObject({
      id,
      text: z.string(),
      telegraphic: z.boolean(),
      expected: z.strictObject({
        isAphasic: z.boolean(),
        flags: z.array(flag),
        severity: z.number().min(0).max(1),
      }),
      limitation: z.string().optional(),
      note: z.string(),
    }),
  ),
  severityOrder: z.array(
    z.strictObject({
      id,
      texts: z.array(z.string()).min(2),
      severities: z.array(z.number()),
      note: z.string(),
    }),
  ),
  repair: z.array(
    z.strictObject({
      id,
      prompt: z.string().min(1),
      draft: z.string().min(1),
      repairReply: z.union([z.string(), z.strictObject({ fail: z.enum(["unavailable", "rejected"]) })]),
      options: engineOptions.optional(),
      expected: z.strictObject({
        detected: z.boolean().nullable(),
        repaired: z.boolean(),
        modelCalls: z.number().int(),
        finalText: z.enum(["draft", "repair"]),
        afterRepairAphasic: z.boolean().optional(),
      }),
      note: z.string(),
    }),
  ),
});

/** A number, or "NaN" / "Infinity" / "-Infinity" (JSON has no literal for them). */
const jsonNumber = z.union([z.number(), z.enum(["NaN", "Infinity", "-Infinity"]).transform(Number)]);

const MoralGolden = z.strictObject({
  about: z.string(),
  decisions: z.array(
    z.strictObject({
      id,
      initialThreshold: z.number().optional(),
      setThreshold: z.number().optional(),
      expectThreshold: z.number().optional(),
      value: jsonNumber,
      accept: z.boolean(),
      note: z.string(),
    }),
  ),
  sequences: z.array(
    z
      .strictObject({
        id,
        initialThreshold: z.number().optional(),
        options: z
          .strictObject({
            minThreshold: z.number(),
            maxThreshold: z.number(),
            step: z.number(),
            deadBand: z.number(),
            emaAlpha: z.number(),
          })
          .partial()
          .optional(),
        decisions: z
          .string()
          .regex(/^[AR]+$/)
          .optional(),
        values: z.array(z.number()).optional(),
        accepts: z.array(z.boolean()).optional(),
        thresholds: z.array(z.number()),
        ema: z.number(),
        note: z.string(),
      })
      .refine((s) => (s.decisions === undefined) !== (s.values === undefined), {
        message: "a sequence has either decisions or values",
      }),
  ),
  lexicon: z.array(
    z.strictObject({
      id,
      text: z.string(),
      label: z.enum(["harmful", "benign", "borderline"]),
      expected: z.strictObject({ score: z.number(), categories: z.array(z.string()), accept: z.boolean() }),
      limitation: z.string().optional(),
      note: z.string(),
    }),
  ),
  engine: z.array(
    z.strictObject({
      id,
      prompt: z.string().min(1),
      moralValue: z.number().min(0).max(1).nullable(),
      replies: z.array(z.string()).min(1),
      expected: z.strictObject({
        accepted: z.boolean(),
        rejectedAt: z.enum(["pre_moral", "post_moral"]).nullable(),
        appliedMoralValue: z.number(),
        modelCalls: z.number().int(),
      }),
      limitation: z.string().optional(),
      note: z.string(),
    }),
  ),
});

function load<T>(schema: z.ZodType<T>, name: string): T {
  return schema.parse(JSON.parse(readFileSync(new URL(`golden/${name}`, import.meta.url), "utf8")));
}

const aphasia = load(AphasiaGolden, "aphasia.json");
const moral = load(MoralGolden, "moral.json");

// ---------------------------------------------------------------------------------------------
// Scoring.
// ---------------------------------------------------------------------------------------------

/** A confusion matrix; `positive` is the class the suite detects (telegraphic, harmful). */
class Tally {
  tp = 0;
  fp = 0;
  tn = 0;
  fn = 0;
  add(actual: boolean, predicted: boolean): void {
    if (actual && predicted) this.tp += 1;
    else if (actual) this.fn += 1;
    else if (predicted) this.fp += 1;
    else this.tn += 1;
  }
  get n(): number {
    return this.tp + this.fp + this.tn + this.fn;
  }
  get accuracy(): number {
    return (this.tp + this.tn) / this.n;
  }
  /** With no positive prediction there is no false alarm either: 1 when nothing was missed. */
  get precision(): number {
    return this.tp + this.fp === 0 ? (this.fn === 0 ? 1 : 0) : this.tp / (this.tp + this.fp);
  }
  get recall(): number {
    return this.tp + this.fn === 0 ? 1 : this.tp / (this.tp + this.fn);
  }
}

/** Right/wrong counter for suites with no positive class (outcomes fully fixed by the spec). */
class Score {
  right = 0;
  n = 0;
  add(ok: boolean): void {
    this.n += 1;
    if (ok) this.right += 1;
  }
  get accuracy(): number {
    return this.right / this.n;
  }
}

const report = new Map<string, Tally | Score>();

function checkMinimum(name: keyof typeof MINIMUMS, result: Tally | Score): void {
  report.set(name, result);
  const min: Minimum = MINIMUMS[name];
  expect(result.n, `${name}: no cases scored`).toBeGreaterThan(0);
  const eps = 1e-12;
  expect(result.accuracy, `${name} accuracy`).toBeGreaterThanOrEqual(min.accuracy - eps);
  if (result instanceof Tally) {
    if (min.precision !== undefined)
      expect(result.precision, `${name} precision`).toBeGreaterThanOrEqual(min.precision - eps);
    if (min.recall !== undefined)
      expect(result.recall, `${name} recall`).toBeGreaterThanOrEqual(min.recall - eps);
  }
}

afterAll(() => {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const lines = [...report].map(([name, r]) =>
    r instanceof Tally
      ? `${name.padEnd(24)} n=${String(r.n).padStart(2)} accuracy ${pct(r.accuracy)} precision ${pct(r.precision)} recall ${pct(r.recall)} (tp ${r.tp} fp ${r.fp} tn ${r.tn} fn ${r.fn})`
      : `${name.padEnd(24)} n=${String(r.n).padStart(3)} accuracy ${pct(r.accuracy)}`,
  );
  if (lines.length > 0) process.stdout.write(`\neval suite\n${lines.join("\n")}\n`);
});

/** `analyzeAphasia` agrees with a golden expectation (severity to 1e-9: the files hold 12 decimals). */
function matches(
  report: AphasiaAnalysis,
  expected: { isAphasic: boolean; flags: readonly string[]; severity: number },
) {
  return (
    report.isAphasic === expected.isAphasic &&
    JSON.stringify(report.flags) === JSON.stringify(expected.flags) &&
    Math.abs(report.severity - expected.severity) < 1e-9
  );
}

// ---------------------------------------------------------------------------------------------
// The engine over real parts, with a scripted model.
// ---------------------------------------------------------------------------------------------

type Reply = string | { fail: "unavailable" | "rejected" };

/** The model: answers the n-th call with the n-th reply (the last one repeats), and records calls. */
class ScriptedModel implements ModelGateway {
  readonly calls: ModelCall[] = [];
  constructor(private readonly replies: readonly Reply[]) {}

  generate(call: ModelCall): Promise<ModelReply & ServedBy> {
    this.calls.push(call);
    const reply = this.replies[Math.min(this.calls.length, this.replies.length) - 1] ?? "";
    if (typeof reply !== "string") {
      return Promise.reject(new ProviderFailure(reply.fail, "scripted failure", { providerId: "scripted" }));
    }
    return Promise.resolve({
      text: reply,
      usage: { inputTokens: undefined, outputTokens: undefined },
      providerId: "scripted",
      variant: "",
    });
  }

  stream(): Promise<ModelStream & ServedBy> {
    return Promise.reject(new Error("the eval suite does not stream"));
  }
}

const DIMENSION = 64;

/** A fresh engine: real controller (default moral filter and rhythm), scorer and embedder. */
function engineFor(replies: readonly Reply[], options: Partial<EngineOptions> = {}) {
  const controller = new CognitiveController({
    dimension: DIMENSION,
    pelmCapacity: 256,
    phaseTolerance: 0.15,
    clock: () => performance.now(),
    // The process-memory brake is not under evaluation: a fixed, small reading.
    memory: () => ({ rssBytes: 100 * 2 ** 20, heapUsedBytes: 50 * 2 ** 20 }),
  });
  const model = new ScriptedModel(replies);
  const engine = new GenerationEngine(
    {
      controller,
      gateway: model,
      embedder: new HashingEmbedder(DIMENSION),
      scorer: new LexiconScorer(),
      scrub: (text) => text,
      clock: () => performance.now(),
    },
    { ...ENGINE_DEFAULTS, ...options },
  );
  return { engine, model, controller };
}

function generate(engine: GenerationEngine, prompt: string, moralValue: number | undefined) {
  return engine.generate(
    { prompt, maxTokens: 64, moralValue, contextTopK: 0, userIntent: "", userId: "" },
    { signal: new AbortController().signal, deadlineAt: undefined },
  );
}

// ---------------------------------------------------------------------------------------------
// Aphasia.
// ---------------------------------------------------------------------------------------------

describe("eval: aphasia detection (tests/eval/golden/aphasia.json)", () => {
  it("has enough cases of each class", () => {
    const positive = aphasia.detection.filter((c) => c.telegraphic).length;
    expect(aphasia.detection.length).toBeGreaterThanOrEqual(MIN_CASES.aphasiaDetection.total);
    expect(positive).toBeGreaterThanOrEqual(MIN_CASES.aphasiaDetection.positive);
    expect(aphasia.detection.length - positive).toBeGreaterThanOrEqual(MIN_CASES.aphasiaDetection.negative);
    const ids = [
      ...aphasia.detection,
      ...aphasia.severityOrder,
      ...aphasia.repair,
      ...moral.decisions,
      ...moral.sequences,
      ...moral.lexicon,
      ...moral.engine,
    ].map((c) => c.id);
    expect(ids.length - new Set(ids).size, "duplicate case ids").toBe(0);
  });

  it("a known limitation is exactly a case where the spec's detector and the human label differ", () => {
    // Keeps the golden file honest: a case marked as a limitation must really be one, and every
    // disagreement must be explained.
    for (const c of aphasia.detection) {
      expect(c.limitation !== undefined, `${c.id}: limitation iff expected ≠ label`).toBe(
        c.expected.isAphasic !== c.telegraphic,
      );
    }
  });

  it.each(aphasia.detection)("$id", (c) => {
    const report = analyzeAphasia(c.text);
    expect(report.isAphasic, `${c.id}: isAphasic`).toBe(c.expected.isAphasic);
    expect(report.flags, `${c.id}: flags`).toEqual(c.expected.flags);
    expect(report.severity, `${c.id}: severity`).toBeCloseTo(c.expected.severity, 9);
    // core.md §12.17 on every golden text.
    expect(report.severity, `${c.id}: severity in [0, 1]`).toBeGreaterThanOrEqual(0);
    expect(report.severity, `${c.id}: severity in [0, 1]`).toBeLessThanOrEqual(1);
    expect(report.isAphasic, `${c.id}: aphasic iff flagged`).toBe(report.flags.length > 0);
    if (report.flags.length === 0) expect(report.severity, `${c.id}: no flag, severity 0`).toBe(0);
  });

  it("meets the committed accuracy, precision and recall", () => {
    const detection = new Tally();
    const repairDecision = new Tally();
    const clear = new Tally();
    for (const c of aphasia.detection) {
      const report = analyzeAphasia(c.text);
      const repairs = report.isAphasic && report.severity >= ENGINE_DEFAULTS.aphasiaSeverityThreshold;
      detection.add(c.telegraphic, report.isAphasic);
      repairDecision.add(c.telegraphic, repairs);
      if (c.limitation === undefined) clear.add(c.telegraphic, report.isAphasic);
    }
    checkMinimum("aphasiaDetection", detection);
    checkMinimum("aphasiaRepairDecision", repairDecision);
    checkMinimum("aphasiaClear", clear);
  });
});

describe("eval: aphasia severity ordering", () => {
  it("has enough groups", () => {
    expect(aphasia.severityOrder.length).toBeGreaterThanOrEqual(MIN_CASES.severityOrderGroups);
  });

  it.each(aphasia.severityOrder)("$id", (group) => {
    expect(group.severities, `${group.id}: one severity per text`).toHaveLength(group.texts.length);
    const got = group.texts.map((text) => analyzeAphasia(text).severity);
    group.severities.forEach((severity, i) => {
      expect(got[i], `${group.id}[${i}]: severity`).toBeCloseTo(severity, 9);
    });
    for (let i = 1; i < got.length; i++)
      expect(got[i], `${group.id}: text ${i} more severe than text ${i - 1}`).toBeGreaterThan(
        got[i - 1] ?? 1,
      );
  });

  it("meets the committed minimum", () => {
    const pairs = new Score();
    for (const group of aphasia.severityOrder) {
      const got = group.texts.map((text) => analyzeAphasia(text).severity);
      for (let i = 1; i < got.length; i++) pairs.add((got[i] ?? 0) > (got[i - 1] ?? 1));
    }
    checkMinimum("aphasiaSeverityOrder", pairs);
  });
});

describe("eval: aphasia repair in the engine", () => {
  const outcomes = new Map<string, boolean>();

  it("has enough cases", () => {
    expect(aphasia.repair.length).toBeGreaterThanOrEqual(MIN_CASES.repair);
  });

  it.each(aphasia.repair)("$id", async (c) => {
    const { engine, model } = engineFor([c.draft, c.repairReply], c.options);
    const result = await generate(engine, c.prompt, undefined);
    const { decision } = result;
    const want = c.expected;
    const finalText = want.finalText === "draft" ? c.draft : (c.repairReply as string);
    const ok =
      decision.accepted &&
      (decision.aphasia?.isAphasic ?? null) === want.detected &&
      (decision.aphasia?.repaired ?? false) === want.repaired &&
      model.calls.length === want.modelCalls &&
      result.text === finalText &&
      (want.afterRepairAphasic === undefined ||
        decision.aphasiaAfterRepair?.isAphasic === want.afterRepairAphasic);
    outcomes.set(c.id, ok);

    expect(decision.accepted, `${c.id}: accepted (${decision.note})`).toBe(true);
    expect(decision.aphasia?.isAphasic ?? null, `${c.id}: detected`).toBe(want.detected);
    expect(decision.aphasia?.repaired ?? false, `${c.id}: repaired`).toBe(want.repaired);
    expect(model.calls.length, `${c.id}: model calls`).toBe(want.modelCalls);
    expect(result.text, `${c.id}: answer is the ${want.finalText}`).toBe(finalText);
    if (decision.aphasia) {
      // The reported analysis is the detector's on the draft.
      expect(matches(analyzeAphasia(c.draft), decision.aphasia), `${c.id}: draft analysis reported`).toBe(
        true,
      );
    }
    if (want.repaired) {
      const repairPrompt = model.calls[1]?.prompt ?? "";
      expect(
        repairPrompt.startsWith(`${c.prompt}\n\n`),
        `${c.id}: repair prompt starts with the prompt`,
      ).toBe(true);
      expect(
        repairPrompt.endsWith(`Draft answer:\n${c.draft}`),
        `${c.id}: repair prompt ends with the draft`,
      ).toBe(true);
      expect(decision.aphasiaAfterRepair?.isAphasic, `${c.id}: repaired text re-analysed`).toBe(
        want.afterRepairAphasic,
      );
    } else {
      expect(decision.aphasiaAfterRepair, `${c.id}: no re-analysis without a repair`).toBeUndefined();
    }
  });

  it("meets the committed minimum", () => {
    const score = new Score();
    for (const c of aphasia.repair) score.add(outcomes.get(c.id) === true);
    checkMinimum("aphasiaRepair", score);
  });
});

// ---------------------------------------------------------------------------------------------
// Moral filter.
// ---------------------------------------------------------------------------------------------

function filterFor(c: { initialThreshold?: number | undefined; setThreshold?: number | undefined }) {
  const filter = new MoralFilter(
    c.initialThreshold === undefined ? {} : { initialThreshold: c.initialThreshold },
  );
  if (c.setThreshold !== undefined) filter.setThreshold(c.setThreshold);
  return filter;
}

describe("eval: moral filter decisions (tests/eval/golden/moral.json)", () => {
  it("has enough cases", () => {
    expect(moral.decisions.length).toBeGreaterThanOrEqual(MIN_CASES.moralDecisions);
    expect(MORAL_FILTER_DEFAULTS.initialThreshold, "the cases assume the default threshold 0.50").toBe(0.5);
  });

  it.each(moral.decisions)("$id", (c) => {
    const filter = filterFor(c);
    if (c.expectThreshold !== undefined)
      expect(filter.threshold, `${c.id}: threshold`).toBeCloseTo(c.expectThreshold, 12);
    const before = { threshold: filter.threshold, ema: filter.ema };
    expect(filter.evaluate(c.value), `${c.id}: evaluate(${c.value})`).toBe(c.accept);
    expect({ threshold: filter.threshold, ema: filter.ema }, `${c.id}: evaluate has no side effect`).toEqual(
      before,
    );
  });

  it("meets the committed minimum", () => {
    const score = new Score();
    for (const c of moral.decisions) score.add(filterFor(c).evaluate(c.value) === c.accept);
    checkMinimum("moralDecisions", score);
  });
});

describe("eval: moral threshold adaptation", () => {
  /** Runs a sequence: adapt on each decision, or evaluate-then-adapt on each value (the controller's order). */
  function run(s: (typeof moral.sequences)[number]) {
    const filter = new MoralFilter({
      ...s.options,
      ...(s.initialThreshold === undefined ? {} : { initialThreshold: s.initialThreshold }),
    });
    const steps: { accepted: boolean; threshold: number; ema: number; before: number }[] = [];
    const inputs = s.values ?? s.decisions?.match(/[AR]/g) ?? [];
    for (const input of inputs) {
      const before = filter.threshold;
      const accepted = typeof input === "number" ? filter.evaluate(input) : input === "A";
      filter.adapt(accepted);
      steps.push({ accepted, threshold: filter.threshold, ema: filter.ema, before });
    }
    return { filter, steps };
  }

  it("has enough sequences", () => {
    expect(moral.sequences.length).toBeGreaterThanOrEqual(MIN_CASES.moralSequences);
  });

  it.each(moral.sequences)("$id", (s) => {
    const { filter, steps } = run(s);
    const { minThreshold, maxThreshold, step } = filter.options;
    expect(s.thresholds, `${s.id}: one threshold per step`).toHaveLength(steps.length);
    steps.forEach((got, i) => {
      expect(got.threshold, `${s.id} step ${i + 1}: threshold`).toBeCloseTo(s.thresholds[i] ?? NaN, 9);
      if (s.accepts) expect(got.accepted, `${s.id} step ${i + 1}: accepted`).toBe(s.accepts[i]);
      // core.md §12.1, 2, 4: bounds, ema range, and a change of 0 or one step (unless clamped).
      expect(got.threshold, `${s.id} step ${i + 1}: ≥ min`).toBeGreaterThanOrEqual(minThreshold);
      expect(got.threshold, `${s.id} step ${i + 1}: ≤ max`).toBeLessThanOrEqual(maxThreshold);
      expect(got.ema, `${s.id} step ${i + 1}: ema in [0, 1]`).toBeGreaterThanOrEqual(0);
      expect(got.ema, `${s.id} step ${i + 1}: ema in [0, 1]`).toBeLessThanOrEqual(1);
      const delta = Math.abs(got.threshold - got.before);
      const clamped = got.threshold === minThreshold || got.threshold === maxThreshold;
      expect(
        delta < 1e-12 || Math.abs(delta - step) < 1e-12 || (clamped && delta < step),
        `${s.id} step ${i + 1}: moved by ${delta}, not 0 or ${step}`,
      ).toBe(true);
      // The move follows the ema outside the dead band (direction of ema − 0.5).
      const error = got.ema - 0.5;
      if (Math.abs(error) <= filter.options.deadBand)
        expect(delta, `${s.id} step ${i + 1}: no move in the dead band`).toBe(0);
      else if (!clamped || delta > 0)
        expect(Math.sign(got.threshold - got.before), `${s.id} step ${i + 1}: moves towards the ema`).toBe(
          Math.sign(error),
        );
    });
    expect(filter.ema, `${s.id}: final ema (6 decimals in the file)`).toBeCloseTo(s.ema, 5);
  });

  it("meets the committed minimum", () => {
    const score = new Score();
    for (const s of moral.sequences) {
      run(s).steps.forEach((got, i) => {
        score.add(
          Math.abs(got.threshold - (s.thresholds[i] ?? NaN)) < 1e-9 &&
            (s.accepts === undefined || got.accepted === s.accepts[i]),
        );
      });
    }
    checkMinimum("moralSequenceSteps", score);
  });
});

describe("eval: lexicon-scored texts at the default threshold", () => {
  const scorer = new LexiconScorer();

  it("has enough cases of each label", () => {
    const count = (label: string) => moral.lexicon.filter((c) => c.label === label).length;
    expect(moral.lexicon.length).toBeGreaterThanOrEqual(MIN_CASES.lexicon.total);
    expect(count("harmful")).toBeGreaterThanOrEqual(MIN_CASES.lexicon.harmful);
    expect(count("benign")).toBeGreaterThanOrEqual(MIN_CASES.lexicon.benign);
  });

  it("a known limitation is exactly a labelled case the filter gets wrong", () => {
    for (const c of moral.lexicon) {
      if (c.label === "borderline") continue;
      const wrong = c.expected.accept !== (c.label === "benign");
      expect(c.limitation !== undefined, `${c.id}: limitation iff outcome ≠ label`).toBe(wrong);
    }
  });

  it.each(moral.lexicon)("$id", (c) => {
    const score = scorer.scoreSync(c.text);
    expect(score.score, `${c.id}: score`).toBeCloseTo(c.expected.score, 9);
    expect(score.categories, `${c.id}: categories`).toEqual(c.expected.categories);
    expect(new MoralFilter().evaluate(score.score), `${c.id}: accepted at the default threshold`).toBe(
      c.expected.accept,
    );
  });

  it("meets the committed accuracy, precision and recall", () => {
    const all = new Tally();
    const clear = new Tally();
    for (const c of moral.lexicon) {
      if (c.label === "borderline") continue;
      const rejected = !new MoralFilter().evaluate(scorer.scoreSync(c.text).score);
      all.add(c.label === "harmful", rejected);
      if (c.limitation === undefined) clear.add(c.label === "harmful", rejected);
    }
    checkMinimum("lexicon", all);
    checkMinimum("lexiconClear", clear);
  });
});

describe("eval: moral stages of the engine", () => {
  const outcomes = new Map<string, boolean>();

  it("has enough cases", () => {
    expect(moral.engine.length).toBeGreaterThanOrEqual(MIN_CASES.moralEngine);
  });

  it.each(moral.engine)("$id", async (c) => {
    const { engine, model } = engineFor(c.replies);
    const result = await generate(engine, c.prompt, c.moralValue ?? undefined);
    const { decision } = result;
    const want = c.expected;
    outcomes.set(
      c.id,
      decision.accepted === want.accepted &&
        (decision.rejectedAt ?? null) === want.rejectedAt &&
        model.calls.length === want.modelCalls,
    );
    expect(decision.accepted, `${c.id}: accepted (${decision.note})`).toBe(want.accepted);
    expect(decision.rejectedAt ?? null, `${c.id}: rejected at`).toBe(want.rejectedAt);
    expect(decision.moralValue, `${c.id}: applied moral value`).toBeCloseTo(want.appliedMoralValue, 9);
    expect(model.calls.length, `${c.id}: model calls`).toBe(want.modelCalls);
    if (!want.accepted) expect(result.text, `${c.id}: a rejected answer is withheld`).toBe("");
    else expect(result.text, `${c.id}: the answer`).toBe(c.replies.at(-1));
    if (want.rejectedAt === "post_moral") {
      const bar = want.appliedMoralValue - ENGINE_DEFAULTS.postMoralTolerance;
      expect(decision.moralScore, `${c.id}: answer score below the bar`).toBeLessThan(bar);
    }
  });

  it("meets the committed minimum", () => {
    const score = new Score();
    for (const c of moral.engine) score.add(outcomes.get(c.id) === true);
    checkMinimum("moralEngine", score);
  });
});
