/**
 * A ModelProvider over Anthropic's Messages API, using the official `@anthropic-ai/sdk`. Same contract as the
 * OpenAI-compatible adapter: one user message, no SDK retries (`maxRetries: 0`), the call's signal aborts the
 * request, and replies are validated at runtime (no text → invalid_response). Streaming reads the raw
 * `stream: true` events: text from content_block_delta/text_delta, usage from message_start and message_delta,
 * and a stream that ends before message_stop is an invalid_response.
 */
import { traceHeaders } from "../../telemetry/tracing/server-span.js";
import Anthropic from "@anthropic-ai/sdk";
import { z } from "zod";
import type {
  ModelCall,
  ModelProvider,
  ModelReply,
  ModelStream,
  TokenUsage,
} from "../../core/engine/ports.js";
import { abortFailure, invalidResponse, toProviderFailure, type FailureContext } from "../failure.js";
import { normaliseModelName } from "./openai-compatible.js";

export interface AnthropicOptions {
  /** Provider id; by default "anthropic_" + the model with '-', '.', '/' and ':' replaced by '_'. */
  readonly id?: string;
  readonly apiKey: string;
  readonly model: string;
  /** API root without the version path; "https://api.anthropic.com" by default (the environment is not read). */
  readonly baseUrl?: string;
  /** The SDK's per-request timeout (until response headers), in ms; the call's signal bounds the rest. */
  readonly requestTimeoutMs?: number;
}

const DEFAULT_BASE_URL = "https://api.anthropic.com";

const Usage = z.object({ input_tokens: z.number().nullish(), output_tokens: z.number().nullish() }).nullish();

const MessageReply = z.object({
  content: z.array(z.object({ type: z.string(), text: z.string().optional() })),
  usage: Usage,
});

const StreamEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("message_start"), message: z.object({ usage: Usage }) }),
  z.object({
    type: z.literal("content_block_delta"),
    delta: z.object({ type: z.string(), text: z.string().optional() }),
  }),
  z.object({ type: z.literal("message_delta"), usage: Usage }),
  z.object({ type: z.literal("message_stop") }),
  z.object({ type: z.literal("content_block_start") }),
  z.object({ type: z.literal("content_block_stop") }),
]);

const KNOWN_EVENTS: ReadonlySet<string> = new Set(
  StreamEvent.options.map((option) => option.shape.type.value),
);

/** An object event whose type this adapter does not know (skipped, as the SDK's own helpers do). */
function isUnknownEvent(raw: unknown): boolean {
  if (typeof raw !== "object" || raw === null || !("type" in raw)) return false;
  return typeof raw.type === "string" && !KNOWN_EVENTS.has(raw.type);
}

/** Creates the provider; throws an Error at once when the SDK rejects the options. */
export function createAnthropicProvider(options: AnthropicOptions): ModelProvider {
  const id = options.id ?? `anthropic_${normaliseModelName(options.model)}`;
  const client = new Anthropic({
    apiKey: options.apiKey,
    baseURL: options.baseUrl ?? DEFAULT_BASE_URL,
    maxRetries: 0,
    logLevel: "off",
    // Passing the option keeps the SDK from reading ANTHROPIC_OPEN_TELEMETRY_*: spans never carry prompts.
    openTelemetry: { traces: { contentMode: "metadata_only" } },
    ...(options.requestTimeoutMs === undefined ? {} : { timeout: options.requestTimeoutMs }),
  });
  const context = (signal: AbortSignal): FailureContext => ({
    providerId: id,
    signal,
    secrets: [options.apiKey],
  });
  const body = (call: ModelCall) => ({
    model: options.model,
    max_tokens: call.maxTokens,
    messages: [{ role: "user" as const, content: call.prompt }],
  });

  async function generate(call: ModelCall): Promise<ModelReply> {
    let raw: unknown;
    try {
      raw = await client.messages.create(body(call), { signal: call.signal, headers: traceHeaders() });
    } catch (error) {
      throw toProviderFailure(error, context(call.signal));
    }
    const reply = MessageReply.safeParse(raw);
    if (!reply.success) throw invalidResponse(id, "not a message", reply.error);
    const text = reply.data.content
      .filter((block) => block.type === "text")
      .map((block) => block.text ?? "")
      .join("");
    if (text === "") throw invalidResponse(id, "no answer text");
    const usage = reply.data.usage;
    return {
      text,
      usage: {
        inputTokens: usage?.input_tokens ?? undefined,
        outputTokens: usage?.output_tokens ?? undefined,
      },
    };
  }

  async function stream(call: ModelCall): Promise<ModelStream> {
    let events: AsyncIterable<unknown>;
    try {
      events = await client.messages.create(
        { ...body(call), stream: true },
        { signal: call.signal, headers: traceHeaders() },
      );
    } catch (error) {
      throw toProviderFailure(error, context(call.signal));
    }
    let inputTokens: number | undefined;
    let outputTokens: number | undefined;
    async function* deltas(): AsyncGenerator<string> {
      let stopped = false;
      let produced = false;
      try {
        // The SDK ends the iteration quietly when the request is aborted: checked after the loop.
        for await (const raw of events) {
          const parsed = StreamEvent.safeParse(raw);
          if (!parsed.success) {
            if (isUnknownEvent(raw)) continue; // event types added after this adapter was written
            throw invalidResponse(id, "malformed stream event", parsed.error);
          }
          const event = parsed.data;
          if (event.type === "message_start") {
            inputTokens = event.message.usage?.input_tokens ?? inputTokens;
            outputTokens = event.message.usage?.output_tokens ?? outputTokens;
          } else if (event.type === "message_delta") {
            inputTokens = event.usage?.input_tokens ?? inputTokens;
            outputTokens = event.usage?.output_tokens ?? outputTokens;
          } else if (event.type === "message_stop") {
            stopped = true;
          } else if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
            const text = event.delta.text ?? "";
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
      if (!stopped) throw invalidResponse(id, "stream ended without message_stop");
      if (!produced) throw invalidResponse(id, "no answer text");
    }
    const usage = (): TokenUsage => ({ inputTokens, outputTokens });
    return { deltas: deltas(), usage };
  }

  return { id, generate, stream };
}
