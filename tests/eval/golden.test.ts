/**
 * The eval suite (BASE-CICD-a): golden cases of the aphasia detector with its repair decision,
 * the adaptive moral filter and the lexicon content scorer, in tests/eval/golden/*.json, run
 * against the real core code. Every case is asserted on its own (named by its id), and each
 * suite's accuracy, precision and recall are computed and held to the file's committed minimums,
 * so a change that degrades detection fails even if a case is edited. `npm run test:eval` runs
 * this file alone (the `eval` CI job); it also runs in the full suite.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { analyzeAphasia, shouldRepair } from "../../src/core/aphasia/detector.js";
import { MoralFilter } from "../../src/core/moral-filter.js";
import { LexiconScorer } from "../../src/core/scoring/lexicon-scorer.js";

interface Minimums {
  readonly accuracy: number;
  readonly precision: number;
  readonly recall: number;
}

interface AphasiaCase {
  readonly id: string;
  readonly text: string;
  readonly aphasic: boolean;
  readonly flags: string[];
  readonly severity: number;
  readonly repair: boolean;
}

interface MoralGolden {
  readonly minimums: Minimums;
  readonly evaluate: { id: string; threshold: number; value: number | string; accept: boolean }[];
  readonly sequences: { id: string; decisions: string; threshold: number }[];
  readonly content: { id: string; text: string; score: number; categories: string[]; harmful: boolean }[];
  readonly harmfulBelow: number;
}

const load = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`golden/${name}`, import.meta.url), "utf8"));
const aphasia = load("aphasia.json") as { minimums: Minimums; cases: AphasiaCase[] };
const moral = load("moral.json") as MoralGolden;

/** Confusion counts of predicted vs expected positives. */
function confusion(pairs: { expected: boolean; got: boolean }[]) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const { expected, got } of pairs) {
    if (expected && got) tp++;
    else if (!expected && got) fp++;
    else if (expected && !got) fn++;
    else tn++;
  }
  return {
    accuracy: (tp + tn) / Math.max(1, pairs.length),
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    recall: tp + fn === 0 ? 1 : tp / (tp + fn),
  };
}

function holdsMinimums(name: string, figures: Minimums, minimums: Minimums): void {
  process.stdout.write(
    `eval ${name}: accuracy ${figures.accuracy.toFixed(3)}, precision ${figures.precision.toFixed(3)}, recall ${figures.recall.toFixed(3)}\n`,
  );
  expect(figures.accuracy, `${name} accuracy`).toBeGreaterThanOrEqual(minimums.accuracy);
  expect(figures.precision, `${name} precision`).toBeGreaterThanOrEqual(minimums.precision);
  expect(figures.recall, `${name} recall`).toBeGreaterThanOrEqual(minimums.recall);
}

/** "A×3 R×2" or "AR×5" → [true, true, true, false, false] / [true, false, ×5]. */
function decisions(spec: string): boolean[] {
  return spec.split(" ").flatMap((part) => {
    const [pattern = "", times = "1"] = part.split("×");
    return Array.from({ length: Number(times) }, () => pattern.split("").map((c) => c === "A")).flat();
  });
}

const REPAIR = { repairEnabled: true, severityThreshold: 0.3 };

describe("eval: aphasia detector golden cases (core.md §7)", () => {
  it("has enough cases on both sides", () => {
    expect(aphasia.cases.filter((c) => c.aphasic).length).toBeGreaterThanOrEqual(5);
    expect(aphasia.cases.filter((c) => !c.aphasic).length).toBeGreaterThanOrEqual(3);
  });

  it.each(aphasia.cases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    const report = analyzeAphasia(c.text);
    expect(report.isAphasic, `${c.id}: aphasic`).toBe(c.aphasic);
    expect([...report.flags].sort(), `${c.id}: flags`).toEqual([...c.flags].sort());
    expect(Math.abs(report.severity - c.severity), `${c.id}: severity ${report.severity}`).toBeLessThan(5e-4);
    expect(shouldRepair(report, REPAIR), `${c.id}: repair`).toBe(c.repair);
  });

  it("detection and repair decisions reach the committed minimums, and severity keeps its order", () => {
    const reports = aphasia.cases.map((c) => ({ c, report: analyzeAphasia(c.text) }));
    holdsMinimums(
      "aphasia detection",
      confusion(reports.map(({ c, report }) => ({ expected: c.aphasic, got: report.isAphasic }))),
      aphasia.minimums,
    );
    holdsMinimums(
      "aphasia repair",
      confusion(reports.map(({ c, report }) => ({ expected: c.repair, got: shouldRepair(report, REPAIR) }))),
      aphasia.minimums,
    );
    const byExpected = [...reports].sort((x, y) => x.c.severity - y.c.severity);
    for (let i = 1; i < byExpected.length; i++) {
      const [low, high] = [byExpected[i - 1], byExpected[i]];
      if (low && high && low.c.severity < high.c.severity)
        expect(low.report.severity, `${low.c.id} below ${high.c.id}`).toBeLessThan(high.report.severity);
    }
  });
});

describe("eval: moral filter golden cases (core.md §1)", () => {
  it.each(moral.evaluate.map((c) => [c.id, c] as const))("evaluate %s", (_id, c) => {
    const filter = new MoralFilter({ initialThreshold: c.threshold });
    expect(filter.evaluate(Number(c.value)), c.id).toBe(c.accept);
  });

  it.each(moral.sequences.map((c) => [c.id, c] as const))("adapt %s", (_id, c) => {
    const filter = new MoralFilter();
    for (const accepted of decisions(c.decisions)) {
      filter.adapt(accepted);
      expect(filter.threshold).toBeGreaterThanOrEqual(0.3 - 1e-12);
      expect(filter.threshold).toBeLessThanOrEqual(0.9 + 1e-12);
    }
    expect(Math.abs(filter.threshold - c.threshold), `${c.id}: threshold ${filter.threshold}`).toBeLessThan(
      1e-9,
    );
  });

  it.each(moral.content.map((c) => [c.id, c] as const))("content %s", (_id, c) => {
    const result = new LexiconScorer().scoreSync(c.text);
    expect(Math.abs(result.score - c.score), `${c.id}: score ${result.score}`).toBeLessThan(1e-9);
    expect([...result.categories], `${c.id}: categories`).toEqual([...c.categories].sort());
    expect(result.score < moral.harmfulBelow, `${c.id}: harmful`).toBe(c.harmful);
  });

  it("accept/reject and harmful/benign decisions reach the committed minimums", () => {
    holdsMinimums(
      "moral evaluate",
      confusion(
        moral.evaluate.map((c) => ({
          expected: c.accept,
          got: new MoralFilter({ initialThreshold: c.threshold }).evaluate(Number(c.value)),
        })),
      ),
      moral.minimums,
    );
    const scorer = new LexiconScorer();
    holdsMinimums(
      "content harmful",
      confusion(
        moral.content.map((c) => ({
          expected: c.harmful,
          got: scorer.scoreSync(c.text).score < moral.harmfulBelow,
        })),
      ),
      moral.minimums,
    );
  });
});
