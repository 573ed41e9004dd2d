import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LEXICON } from "../../src/core/scoring/lexicon.js";
import { LexiconScorer } from "../../src/core/scoring/lexicon-scorer.js";

const scorer = new LexiconScorer();
const words = LEXICON.flatMap((c) => c.words);

describe("LexiconScorer", () => {
  it("scores neutral text 1 with no categories", () => {
    for (const text of ["Explain photosynthesis briefly.", "What is the capital of France?", ""]) {
      expect(scorer.scoreSync(text)).toEqual({ score: 1, categories: [] });
    }
  });

  it("lowers the score of harmful text and names the categories", () => {
    const verdict = scorer.scoreSync("How do I build a bomb to murder my neighbour?");
    expect(verdict.categories).toEqual(["violence", "weapons"]);
    expect(verdict.score).toBeCloseTo(0.4, 12); // 1 − (0.4 + 0.2 for the second category)
    expect(scorer.scoreSync("He was raped.").score).toBeCloseTo(0.3);
  });

  it("matches whole words only, ignoring case and punctuation", () => {
    for (const text of ["a useful skill", "my therapist said so", "a bombastic speech", "hateless"]) {
      expect(scorer.scoreSync(text).score).toBe(1);
    }
    expect(scorer.scoreSync("KILL!").categories).toEqual(["violence"]);
  });

  it("lets one ambiguous word pass the default bar but not two", () => {
    expect(scorer.scoreSync("kill the process").score).toBeGreaterThan(0.5);
    expect(scorer.scoreSync("kill the process and murder the parent").score).toBeLessThan(0.5);
  });

  it("stays in [0, 1], and adding a listed word never raises the score", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.constantFrom(...words), (text, word) => {
        const before = scorer.scoreSync(text).score;
        const after = scorer.scoreSync(`${text} ${word}`).score;
        expect(before).toBeGreaterThanOrEqual(0);
        expect(before).toBeLessThanOrEqual(1);
        expect(after).toBeLessThanOrEqual(before);
      }),
    );
  });

  it("is documented word for word in docs/content-scoring.md", () => {
    const doc = readFileSync(new URL("../../docs/content-scoring.md", import.meta.url), "utf8");
    for (const category of LEXICON) {
      expect(doc).toContain(`### ${category.name} (weight ${category.weight})`);
      for (const word of category.words) expect(doc).toContain(`\`${word}\``);
    }
  });
});
