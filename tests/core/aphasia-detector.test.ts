import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  APHASIA_CALIBRATION,
  analyzeAphasia,
  buildRepairPrompt,
  shouldRepair,
} from "../../src/core/aphasia/detector.js";

describe("analyzeAphasia (core.md §7)", () => {
  it("finds nothing in fluent text", () => {
    const report = analyzeAphasia(
      "The water cycle moves water between the sea and the air. The sun heats the surface of the ocean.",
    );
    expect(report).toMatchObject({ isAphasic: false, severity: 0, flags: [], fragmentRatio: 0 });
  });

  it("computes the flags and the severity of telegraphic text by the reference formula", () => {
    // 3 sentences of 2 words: avg 2, no function words, all fragments.
    const report = analyzeAphasia("Cat sit. Mat red. Go now.");
    expect(report.flags).toEqual(["short_sentences", "low_function_words", "high_fragment_ratio"]);
    expect(report.avgSentenceLen).toBe(2);
    expect(report.functionWordRatio).toBe(0);
    expect(report.fragmentRatio).toBe(1);
    expect(report.severity).toBeCloseTo(((6 - 2) / 6 + 0.15 / 0.15 + 0.5 / 0.5) / 3, 12);
  });

  it("treats empty text and text without sentences as hopeless", () => {
    expect(analyzeAphasia("   ")).toMatchObject({ severity: 1, flags: ["empty_text"] });
    expect(analyzeAphasia("...!?")).toMatchObject({ severity: 1, flags: ["no_sentence_boundaries"] });
  });

  it("keeps punctuation attached to tokens, so 'the,' is not a function word", () => {
    const withCommas = analyzeAphasia("the, the, the, the, the, the, the.");
    const plain = analyzeAphasia("the the the the the the the.");
    // Only the last "the" (no comma before the full stop) counts.
    expect(withCommas.functionWordRatio).toBeCloseTo(1 / 7, 12);
    expect(plain.functionWordRatio).toBe(1);
  });

  it("keeps its invariants for any text (core.md §12.17)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const report = analyzeAphasia(text);
        expect(report.severity).toBeGreaterThanOrEqual(0);
        expect(report.severity).toBeLessThanOrEqual(1);
        expect(report.isAphasic).toBe(report.flags.length > 0);
        if (report.flags.length === 0) expect(report.severity).toBe(0);
        if (text.trim() === "") expect(report.severity).toBe(1);
      }),
    );
  });

  it("repairs exactly when repair is on, the text is aphasic and severity reaches the threshold", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 120 }),
        fc.boolean(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (text, on, t) => {
          const report = analyzeAphasia(text);
          expect(shouldRepair(report, { repairEnabled: on, severityThreshold: t })).toBe(
            on && report.isAphasic && report.severity >= t,
          );
        },
      ),
    );
    expect(APHASIA_CALIBRATION.fragmentLengthThreshold).toBe(4);
  });

  it("builds the repair prompt: original prompt first, the draft last", () => {
    const prompt = buildRepairPrompt("Explain tides.", "Moon pull. Water rise.");
    expect(prompt.startsWith("Explain tides.\n\n")).toBe(true);
    expect(prompt.endsWith("Draft answer:\nMoon pull. Water rise.")).toBe(true);
  });
});
