/**
 * Aphasia (telegraphic speech) detection and the repair prompt, exactly as core.md §7:
 * sentences split on runs of ".", "!" or "?"; tokens are whitespace-separated and
 * lower-cased with punctuation left attached (so "the," is not a function word); a sentence
 * of fewer than 4 tokens is a fragment. The severity formula is the reference's. The repair
 * itself (one model call, then a re-analysis: W17) is run by the engine.
 */

/** Detector thresholds (the reference's AphasiaDetectorCalibration). */
export interface AphasiaCalibration {
  readonly minSentenceLen: number;
  readonly minFunctionWordRatio: number;
  readonly maxFragmentRatio: number;
  readonly fragmentLengthThreshold: number;
}

/** The reference calibration: 6 words per sentence, 15 % function words, half fragments, 4 words. */
export const APHASIA_CALIBRATION: AphasiaCalibration = {
  minSentenceLen: 6,
  minFunctionWordRatio: 0.15,
  maxFragmentRatio: 0.5,
  fragmentLengthThreshold: 4,
};

/** The 26 function words of the reference. */
export const FUNCTION_WORDS: ReadonlySet<string> = new Set([
  "the",
  "a",
  "an",
  "and",
  "or",
  "but",
  "if",
  "that",
  "which",
  "who",
  "to",
  "of",
  "in",
  "on",
  "at",
  "for",
  "with",
  "by",
  "as",
  "is",
  "are",
  "was",
  "were",
  "be",
  "been",
  "being",
]);

/** Signs of telegraphic speech. */
export type AphasiaFlagName =
  | "empty_text"
  | "no_sentence_boundaries"
  | "no_tokens"
  | "short_sentences"
  | "low_function_words"
  | "high_fragment_ratio";

/** The detector's report on one text. */
export interface AphasiaAnalysis {
  readonly isAphasic: boolean;
  /** 0 (fluent) to 1 (no usable sentences); 0 exactly when there is no flag. */
  readonly severity: number;
  readonly avgSentenceLen: number;
  readonly functionWordRatio: number;
  readonly fragmentRatio: number;
  readonly flags: readonly AphasiaFlagName[];
}

function hopeless(flag: AphasiaFlagName): AphasiaAnalysis {
  return {
    isAphasic: true,
    severity: 1,
    avgSentenceLen: 0,
    functionWordRatio: 0,
    fragmentRatio: 1,
    flags: [flag],
  };
}

/** Analyses `text` for telegraphic speech. */
export function analyzeAphasia(
  text: string,
  calibration: AphasiaCalibration = APHASIA_CALIBRATION,
): AphasiaAnalysis {
  const trimmed = text.trim();
  if (trimmed === "") return hopeless("empty_text");
  const sentences = trimmed
    .split(/[.!?]+/)
    .map((piece) => piece.trim())
    .filter((piece) => piece !== "");
  if (sentences.length === 0) return hopeless("no_sentence_boundaries");
  let tokens = 0;
  let functionWords = 0;
  let fragments = 0;
  for (const sentence of sentences) {
    const words = sentence.split(/\s+/).filter((word) => word !== "");
    tokens += words.length;
    if (words.length < calibration.fragmentLengthThreshold) fragments += 1;
    for (const word of words) if (FUNCTION_WORDS.has(word.toLowerCase())) functionWords += 1;
  }
  if (tokens === 0) return hopeless("no_tokens");
  const avgSentenceLen = tokens / sentences.length;
  const functionWordRatio = functionWords / tokens;
  const fragmentRatio = fragments / sentences.length;
  const flags: AphasiaFlagName[] = [];
  if (avgSentenceLen < calibration.minSentenceLen) flags.push("short_sentences");
  if (functionWordRatio < calibration.minFunctionWordRatio) flags.push("low_function_words");
  if (fragmentRatio > calibration.maxFragmentRatio) flags.push("high_fragment_ratio");
  const severity =
    flags.length === 0
      ? 0
      : Math.min(
          1,
          (Math.max(0, calibration.minSentenceLen - avgSentenceLen) / calibration.minSentenceLen +
            Math.max(0, calibration.minFunctionWordRatio - functionWordRatio) /
              Math.max(calibration.minFunctionWordRatio, 1e-6) +
            Math.max(0, fragmentRatio - calibration.maxFragmentRatio) /
              Math.max(calibration.maxFragmentRatio, 1e-6)) /
            3,
        );
  return { isAphasic: flags.length > 0, severity, avgSentenceLen, functionWordRatio, fragmentRatio, flags };
}

/** Whether the governor repairs: repair enabled, telegraphic, and severity at the threshold or above. */
export function shouldRepair(
  analysis: AphasiaAnalysis,
  options: { readonly repairEnabled: boolean; readonly severityThreshold: number },
): boolean {
  return options.repairEnabled && analysis.isAphasic && analysis.severity >= options.severityThreshold;
}

/** The one repair prompt: the original prompt, the instruction, then the draft. */
export function buildRepairPrompt(originalPrompt: string, draft: string): string {
  return (
    `${originalPrompt}\n\n` +
    "The draft answer below is telegraphic: short fragments with missing function words. " +
    "Rewrite it as coherent, complete sentences, keeping every technical detail and fact.\n\n" +
    `Draft answer:\n${draft}`
  );
}
