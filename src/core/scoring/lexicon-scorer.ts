/**
 * The default content scorer (W8 fix: a real scorer, not a 4-keyword substring check on the
 * prompt): transparent, local and fast. Words are matched whole, after NFKC normalisation and
 * lower-casing, against the table in `lexicon.ts`.
 *
 * score = 1 − (largest category penalty + 0.2 per further category hit), clamped to [0, 1],
 * where a category's penalty is weight × (1 + 0.5 × (hits − 1)), at most 1. More hits never
 * raise the score. Neutral text scores 1.
 */
import type { ContentScore, ContentScorer } from "../engine/ports.js";
import { ProviderFailure } from "../engine/ports.js";
import { LEXICON, type LexiconCategory } from "./lexicon.js";

// eslint-disable-next-line security/detect-unsafe-regex -- bounded or unambiguous repetition only (no nested ambiguous quantifier): linear time
const WORD = /[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)*/gu;

/** Word → category, built once. */
const INDEX: ReadonlyMap<string, LexiconCategory> = new Map(
  LEXICON.flatMap((category) => category.words.map((word) => [word, category] as const)),
);

/** The lexicon scorer. */
export class LexiconScorer implements ContentScorer {
  readonly id = "lexicon";

  scoreSync(text: string): ContentScore {
    const hits = new Map<LexiconCategory, number>();
    for (const match of text.normalize("NFKC").toLowerCase().matchAll(WORD)) {
      const category = INDEX.get(match[0]);
      if (category) hits.set(category, (hits.get(category) ?? 0) + 1);
    }
    if (hits.size === 0) return { score: 1, categories: [] };
    let worst = 0;
    for (const [category, count] of hits) {
      worst = Math.max(worst, Math.min(1, category.weight * (1 + 0.5 * (count - 1))));
    }
    const penalty = worst + 0.2 * (hits.size - 1);
    const categories = [...hits.keys()].map((category) => category.name).sort();
    return { score: Math.min(1, Math.max(0, 1 - penalty)), categories };
  }

  score(text: string, signal: AbortSignal): Promise<ContentScore> {
    if (signal.aborted) {
      return Promise.reject(new ProviderFailure("cancelled", "the call ended", { providerId: this.id }));
    }
    return Promise.resolve(this.scoreSync(text));
  }
}
