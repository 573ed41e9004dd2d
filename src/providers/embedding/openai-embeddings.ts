/**
 * An Embedder over an OpenAI-compatible `/embeddings` endpoint, using the official `openai` SDK. The memory
 * is sized by `core.dimension`, so every vector must have exactly that length: a different length is an
 * invalid_response, and {@link verifyEmbedderDimension} checks it once at start-up with a clear message.
 * Floats are requested explicitly (`encoding_format: "float"`): the SDK otherwise asks for base64 and decodes
 * it itself, which compatible servers that ignore the field would break.
 */
import { openAiClient } from "../openai-client.js";
import { z } from "zod";
import type { Embedder } from "../../core/engine/ports.js";
import { invalidResponse, toProviderFailure } from "../failure.js";
import { normaliseModelName } from "../llm/openai-compatible.js";

export interface OpenAiEmbedderOptions {
  /** API root including the version, e.g. "https://api.openai.com/v1". */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly model: string;
  /** The vector length the memory expects (core.dimension). */
  readonly dimension: number;
  /** Id used in failures; by default "openai_" + the normalised model name. */
  readonly id?: string;
}

const EmbeddingReply = z.object({
  data: z.array(z.object({ embedding: z.array(z.number()) })).min(1),
});

const PROBE_TEXT = "MLSDM embedding dimension probe";

/** Creates the embedder (no network until the first call). */
export function createOpenAiEmbedder(options: OpenAiEmbedderOptions): Embedder {
  const id = options.id ?? `openai_${normaliseModelName(options.model)}`;
  const { dimension } = options;
  const client = openAiClient({
    apiKey: options.apiKey,
    baseUrl: options.baseUrl,
  });

  async function embed(text: string, signal: AbortSignal): Promise<Float32Array> {
    let raw: unknown;
    try {
      raw = await client.embeddings.create(
        { model: options.model, input: text, encoding_format: "float" },
        { signal },
      );
    } catch (error) {
      throw toProviderFailure(error, { providerId: id, signal, secrets: [options.apiKey] });
    }
    const reply = EmbeddingReply.safeParse(raw);
    const vector = reply.success ? reply.data.data[0]?.embedding : undefined;
    if (vector === undefined) throw invalidResponse(id, "not an embedding list", reply.error);
    if (vector.length !== dimension) {
      throw invalidResponse(id, `embedding has ${vector.length} values, expected ${dimension}`);
    }
    if (!vector.every(Number.isFinite)) throw invalidResponse(id, "embedding has non-finite values");
    return Float32Array.from(vector);
  }

  return { dimension, embed };
}

/**
 * Start-up check: embeds a probe text and throws an Error naming the expected and the actual dimension when
 * they differ (or saying why the endpoint could not be checked).
 */
export async function verifyEmbedderDimension(embedder: Embedder, signal: AbortSignal): Promise<void> {
  let vector: Float32Array;
  try {
    vector = await embedder.embed(PROBE_TEXT, signal);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Embedding check failed: expected vectors of dimension ${embedder.dimension} (core.dimension); ${reason}`,
      { cause: error },
    );
  }
  if (vector.length !== embedder.dimension) {
    throw new Error(
      `Embedding dimension mismatch: expected ${embedder.dimension} (core.dimension), the embedder returned ${vector.length}`,
    );
  }
}
