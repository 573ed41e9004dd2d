/**
 * A ContentScorer over an OpenAI-compatible `/moderations` endpoint, using the official `openai` SDK. The
 * score is on the moral-value scale (1 fully acceptable): 1 − the highest category score; the categories are
 * the ones the endpoint flagged. A reply without results or scores is an invalid_response.
 */
import { openAiClient } from "../openai-client.js";
import { z } from "zod";
import type { ContentScore, ContentScorer } from "../../core/engine/ports.js";
import { invalidResponse, toProviderFailure } from "../failure.js";
import { normaliseModelName } from "../llm/openai-compatible.js";

export interface ModerationScorerOptions {
  /** API root including the version, e.g. "https://api.openai.com/v1". */
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Moderation model; "omni-moderation-latest" by default. */
  readonly model?: string;
  /** Scorer id; by default "moderation_" + the normalised model name. */
  readonly id?: string;
}

const DEFAULT_MODEL = "omni-moderation-latest";

const ModerationReply = z.object({
  results: z
    .array(
      z.object({
        categories: z.record(z.string(), z.boolean().nullish()),
        category_scores: z.record(z.string(), z.number()),
      }),
    )
    .min(1),
});

/** Creates the scorer (no network until the first call). */
export function createModerationScorer(options: ModerationScorerOptions): ContentScorer {
  const model = options.model ?? DEFAULT_MODEL;
  const id = options.id ?? `moderation_${normaliseModelName(model)}`;
  const client = openAiClient({
    apiKey: options.apiKey,
    baseUrl: options.baseUrl,
  });

  async function score(text: string, signal: AbortSignal): Promise<ContentScore> {
    let raw: unknown;
    try {
      raw = await client.moderations.create({ model, input: text }, { signal });
    } catch (error) {
      throw toProviderFailure(error, { providerId: id, signal, secrets: [options.apiKey] });
    }
    const reply = ModerationReply.safeParse(raw);
    const result = reply.success ? reply.data.results[0] : undefined;
    if (result === undefined) throw invalidResponse(id, "not a moderation result", reply.error);
    const scores = Object.values(result.category_scores);
    if (scores.length === 0 || !scores.every(Number.isFinite)) {
      throw invalidResponse(id, "no usable category scores");
    }
    const worst = Math.min(1, Math.max(0, ...scores));
    const categories = Object.entries(result.categories)
      .filter(([, flagged]) => flagged === true)
      .map(([name]) => name);
    return { score: 1 - worst, categories };
  }

  return { id, score };
}
