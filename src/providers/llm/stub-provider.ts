/**
 * The deterministic local stub model (the original LocalStubProvider, core.md §8): no network, same text for
 * the same prompt and max_tokens, so the whole pipeline can run and be tested offline. Lengths are counted in
 * code points (as the original Python did), so truncation never splits a surrogate pair.
 */
import type {
  ModelCall,
  ModelProvider,
  ModelReply,
  ModelStream,
  TokenUsage,
} from "../../core/engine/ports.js";
import { abortFailure, throwIfAborted } from "../failure.js";

export interface StubProviderOptions {
  /** Provider id; "local_stub" by default. */
  readonly id?: string;
  /** Pause before each streamed delta, in ms (tests use it to cancel mid-stream); 0 by default. */
  readonly delayMs?: number;
}

const PREFIX = "NEURO-RESPONSE: ";
const PREVIEW_CHARS = 50;

/** The stub's answer text for a prompt and a token budget (exactly the original's rules). */
export function stubText(prompt: string, maxTokens: number): string {
  const preview = Array.from(prompt).slice(0, PREVIEW_CHARS).join("");
  let text = PREFIX + preview;
  if (maxTokens > 50) {
    text +=
      ` [Generated with max_tokens=${maxTokens}]. This is a stub response from the local adapter. ` +
      "It demonstrates the NeuroCognitiveEngine pipeline without requiring external API calls.";
  }
  return Array.from(text)
    .slice(0, Math.max(0, maxTokens * 4))
    .join("");
}

/** Word-sized pieces whose concatenation is the text (each word keeps its trailing whitespace). */
export function wordDeltas(text: string): string[] {
  return text.match(/\s+|\S+\s*/gu) ?? [];
}

/** Rough token count: one token per four code points. */
function approxTokens(text: string): number {
  return Math.ceil(Array.from(text).length / 4);
}

function usageOf(call: ModelCall, text: string): TokenUsage {
  return { inputTokens: approxTokens(call.prompt), outputTokens: approxTokens(text) };
}

/** Waits `ms`, rejecting with the abort failure if the signal fires first. */
function pause(ms: number, signal: AbortSignal, providerId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortFailure(signal, providerId));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Creates the stub provider. */
export function createStubProvider(options: StubProviderOptions = {}): ModelProvider {
  const id = options.id ?? "local_stub";
  const delayMs = options.delayMs ?? 0;

  async function* deltas(call: ModelCall, text: string): AsyncGenerator<string> {
    for (const delta of wordDeltas(text)) {
      if (delayMs > 0) await pause(delayMs, call.signal, id);
      throwIfAborted(call.signal, id);
      yield delta;
    }
  }

  return {
    id,
    generate(call: ModelCall): Promise<ModelReply> {
      if (call.signal.aborted) return Promise.reject(abortFailure(call.signal, id));
      const text = stubText(call.prompt, call.maxTokens);
      return Promise.resolve({ text, usage: usageOf(call, text) });
    },
    stream(call: ModelCall): Promise<ModelStream> {
      if (call.signal.aborted) return Promise.reject(abortFailure(call.signal, id));
      const text = stubText(call.prompt, call.maxTokens);
      let usage: TokenUsage = { inputTokens: approxTokens(call.prompt), outputTokens: undefined };
      async function* tracked(): AsyncGenerator<string> {
        yield* deltas(call, text);
        usage = usageOf(call, text);
      }
      return Promise.resolve({ deltas: tracked(), usage: () => usage });
    },
  };
}
