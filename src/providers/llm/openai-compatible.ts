/**
 * A ModelProvider over any OpenAI-compatible chat-completions endpoint (OpenAI, Azure-style gateways, vLLM,
 * Ollama, ...), using the official `openai` SDK. One user message per call; the SDK's own retries are off
 * (`maxRetries: 0`) because retries, breaker and fallback live in the resilience layer; the call's signal
 * aborts the HTTP request. Replies are validated at runtime: a body without choices or text is an
 * invalid_response rather than an empty "successful" answer (core.md W9).
 */
import { traceHeaders } from "../../telemetry/tracing/server-span.js";
import { openAiClient } from "../openai-client.js";
import { z } from "zod";
import type {
  ModelCall,
  ModelProvider,
  ModelReply,
  ModelStream,
  TokenUsage,
} from "../../core/engine/ports.js";
import { abortFailure, invalidResponse, toProviderFailure, type FailureContext } from "../failure.js";

export interface OpenAiCompatibleOptions {
  /** Provider id; by default "openai_" + the model with '-', '.', '/' and ':' replaced by '_'. */
  readonly id?: string;
  /** API root including the version, e.g. "https://api.openai.com/v1" or "http://127.0.0.1:11434/v1". */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly model: string;
  /** Sampling temperature; 0.7 by default (as the original). */
  readonly temperature?: number;
  /** The SDK's per-request timeout (until response headers), in ms; the call's signal bounds the rest. */
  readonly requestTimeoutMs?: number;
}

/** "gpt-4o-mini" → "gpt_4o_mini": the model part of a default provider id. */
export function normaliseModelName(model: string): string {
  return model.replace(/[-./:]/g, "_");
}

const DEFAULT_TEMPERATURE = 0.7;

const Usage = z
  .object({ prompt_tokens: z.number().optional(), completion_tokens: z.number().optional() })
  .nullish();

const ChatReply = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullish() }) })),
  usage: Usage,
});

const ChatChunk = z.object({
  choices: z.array(
    z.object({
      delta: z.object({ content: z.string().nullish() }).nullish(),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: Usage,
});

function usageFrom(usage: z.infer<typeof Usage>): TokenUsage {
  return { inputTokens: usage?.prompt_tokens, outputTokens: usage?.completion_tokens };
}

/** Creates the provider; throws an Error at once when the SDK rejects the options (e.g. an empty key). */
export function createOpenAiCompatibleProvider(options: OpenAiCompatibleOptions): ModelProvider {
  const id = options.id ?? `openai_${normaliseModelName(options.model)}`;
  const client = openAiClient({
    apiKey: options.apiKey,
    baseUrl: options.baseUrl,
    ...(options.requestTimeoutMs === undefined ? {} : { timeoutMs: options.requestTimeoutMs }),
  });
  const temperature = options.temperature ?? DEFAULT_TEMPERATURE;
  const context = (signal: AbortSignal): FailureContext => ({
    providerId: id,
    signal,
    secrets: [options.apiKey],
  });
  const body = (call: ModelCall) => ({
    model: options.model,
    messages: [{ role: "user" as const, content: call.prompt }],
    max_tokens: call.maxTokens,
    temperature,
  });

  async function generate(call: ModelCall): Promise<ModelReply> {
    let raw: unknown;
    try {
      raw = await client.chat.completions.create(body(call), {
        signal: call.signal,
        headers: traceHeaders(),
      });
    } catch (error) {
      throw toProviderFailure(error, context(call.signal));
    }
    const reply = ChatReply.safeParse(raw);
    if (!reply.success) throw invalidResponse(id, "not a chat completion", reply.error);
    const text = reply.data.choices[0]?.message.content ?? "";
    if (text === "") throw invalidResponse(id, "no answer text");
    return { text, usage: usageFrom(reply.data.usage) };
  }

  async function stream(call: ModelCall): Promise<ModelStream> {
    let chunks: AsyncIterable<unknown>;
    try {
      chunks = await client.chat.completions.create(
        { ...body(call), stream: true, stream_options: { include_usage: true } },
        { signal: call.signal, headers: traceHeaders() },
      );
    } catch (error) {
      throw toProviderFailure(error, context(call.signal));
    }
    let usage: TokenUsage = { inputTokens: undefined, outputTokens: undefined };
    async function* deltas(): AsyncGenerator<string> {
      let finished = false;
      let produced = false;
      try {
        // The SDK ends the iteration quietly when the request is aborted: checked after the loop.
        for await (const raw of chunks) {
          const chunk = ChatChunk.safeParse(raw);
          if (!chunk.success) throw invalidResponse(id, "not a chat completion chunk", chunk.error);
          if (chunk.data.usage) usage = usageFrom(chunk.data.usage);
          for (const choice of chunk.data.choices) {
            if (choice.finish_reason) finished = true;
            const text = choice.delta?.content ?? "";
            if (text !== "") {
              produced = true;
              yield text;
            }
          }
        }
      } catch (error) {
        throw toProviderFailure(error, context(call.signal));
      }
      if (call.signal.aborted) throw abortFailure(call.signal, id);
      if (!finished) throw invalidResponse(id, "stream ended without a finish_reason");
      if (!produced) throw invalidResponse(id, "no answer text");
    }
    return { deltas: deltas(), usage: () => usage };
  }

  return { id, generate, stream };
}
