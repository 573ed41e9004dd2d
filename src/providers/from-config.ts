/**
 * Builds the Generate pipeline's adapters from the configuration: the model providers of the
 * two slots with their router and resilience (the gateway), the embedder and the content
 * scorer. The only place that knows which backend name means which adapter.
 */
import type { Config } from "../config/index.js";
import { parseRoutingRules } from "../config/schema-engine.js";
import { HashingEmbedder } from "../core/embedding/hashing-embedder.js";
import type { ContentScorer, Embedder, ModelProvider } from "../core/engine/ports.js";
import { LexiconScorer } from "../core/scoring/lexicon-scorer.js";
import { createOpenAiEmbedder } from "./embedding/openai-embeddings.js";
import { createAnthropicProvider } from "./llm/anthropic.js";
import { createOpenAiCompatibleProvider } from "./llm/openai-compatible.js";
import { createStubProvider } from "./llm/stub-provider.js";
import { createModelGateway, type GatewayObserver, type StatefulModelGateway } from "./gateway.js";
import { AbTestRouter } from "./routing/ab-test-router.js";
import { SingleRouter, type Router } from "./routing/router.js";
import { RuleBasedRouter } from "./routing/rule-based-router.js";
import { createModerationScorer } from "./scoring/openai-moderation.js";

/** Public API roots used when a slot leaves its base URL empty. */
export const DEFAULT_BASE_URLS = {
  openai: "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com",
} as const;

/** Models used when a slot leaves its model empty. */
export const DEFAULT_MODELS = {
  openai: "gpt-4o-mini",
  anthropic: "claude-3-5-haiku-latest",
  embedding: "text-embedding-3-small",
} as const;

type Slot = Config["llm"]["primary"];

/** Self-hosted OpenAI-compatible servers (Ollama, vLLM, llama.cpp) often need no key; the SDK needs one. */
const PLACEHOLDER_KEY = "not-needed";

function providerFor(slot: Slot, attemptTimeoutMs: number, fallbackId: string): ModelProvider {
  const id = slot.id === "" ? undefined : slot.id;
  switch (slot.backend) {
    case "local_stub":
      return createStubProvider({ id: id ?? fallbackId });
    case "openai":
      return createOpenAiCompatibleProvider({
        ...(id ? { id } : {}),
        baseUrl: slot.baseUrl || DEFAULT_BASE_URLS.openai,
        apiKey: slot.apiKey || PLACEHOLDER_KEY,
        model: slot.model || DEFAULT_MODELS.openai,
        requestTimeoutMs: attemptTimeoutMs,
      });
    case "anthropic":
      return createAnthropicProvider({
        ...(id ? { id } : {}),
        baseUrl: slot.baseUrl || DEFAULT_BASE_URLS.anthropic,
        apiKey: slot.apiKey || PLACEHOLDER_KEY,
        model: slot.model || DEFAULT_MODELS.anthropic,
        requestTimeoutMs: attemptTimeoutMs,
      });
    case "none":
      throw new Error("a provider slot without a backend cannot serve calls");
  }
}

/** The providers in slot order (primary, then secondary when configured). */
export function providersFromConfig(llm: Config["llm"]): ModelProvider[] {
  const primary = providerFor(llm.primary, llm.attemptTimeoutMs, "local_stub");
  if (llm.secondary.backend === "none") return [primary];
  const secondary = providerFor(
    { ...llm.secondary, backend: llm.secondary.backend },
    llm.attemptTimeoutMs,
    "local_stub_secondary",
  );
  if (secondary.id === primary.id) {
    throw new Error(
      `the primary and secondary providers have the same id "${primary.id}"; set MLSDM_LLM_SECONDARY_ID`,
    );
  }
  return [primary, secondary];
}

/** The router of `llm.router` over `ids` ([primary] or [primary, secondary]). */
export function routerFromConfig(llm: Config["llm"], ids: readonly string[]): Router {
  const [primary, secondary] = ids;
  if (primary === undefined) throw new Error("no provider configured");
  // single: the primary only (no fallback candidate); fallback: the secondary while the primary's breaker is open.
  if (llm.router === "single" || secondary === undefined) return new SingleRouter([primary]);
  if (llm.router === "fallback") return new SingleRouter(ids, primary);
  if (llm.router === "ab_test") {
    return new AbTestRouter({
      providers: ids,
      control: primary,
      treatment: secondary,
      ratio: llm.abTreatmentRatio,
    });
  }
  const rules = parseRoutingRules(llm.rules);
  if (typeof rules === "string") throw new Error(`llm.rules: ${rules}`);
  const bySlot = { primary, secondary };
  return new RuleBasedRouter({
    providers: ids,
    rules: new Map([...rules].map(([intent, slot]) => [intent, bySlot[slot]])),
    defaultProvider: primary,
  });
}

/** The gateway of the configured providers. */
export function gatewayFromConfig(config: Config, observer?: GatewayObserver): StatefulModelGateway {
  const providers = providersFromConfig(config.llm);
  return createModelGateway({
    providers: new Map(providers.map((p) => [p.id, p])),
    router: routerFromConfig(
      config.llm,
      providers.map((p) => p.id),
    ),
    policy: {
      attemptTimeoutMs: config.llm.attemptTimeoutMs,
      maxRetries: config.llm.maxRetries,
      failureThreshold: config.llm.breakerFailures,
      halfOpenAfterMs: config.llm.breakerHalfOpenSeconds * 1000,
    },
    ...(observer ? { observer } : {}),
  });
}

/** The configured embedder (its dimension is checked at start-up by the caller). */
export function embedderFromConfig(config: Config): Embedder {
  const { embedding, core } = config;
  if (embedding.backend === "hashing") return new HashingEmbedder(core.dimension);
  return createOpenAiEmbedder({
    baseUrl: embedding.baseUrl || DEFAULT_BASE_URLS.openai,
    apiKey: embedding.apiKey || PLACEHOLDER_KEY,
    model: embedding.model || DEFAULT_MODELS.embedding,
    dimension: core.dimension,
  });
}

/** The configured content scorer. */
export function scorerFromConfig(config: Config): ContentScorer {
  const { scorer } = config;
  if (scorer.backend === "lexicon") return new LexiconScorer();
  return createModerationScorer({
    baseUrl: scorer.baseUrl || DEFAULT_BASE_URLS.openai,
    apiKey: scorer.apiKey || PLACEHOLDER_KEY,
    ...(scorer.model ? { model: scorer.model } : {}),
  });
}

/** Names the configured embedder for the embedding cache key: backend, endpoint, model and dimension. */
export function embedderIdFromConfig(config: Config): string {
  const { embedding, core } = config;
  if (embedding.backend === "hashing") return `hashing:${core.dimension}`;
  const model = embedding.model || DEFAULT_MODELS.embedding;
  return `openai:${embedding.baseUrl || DEFAULT_BASE_URLS.openai}:${model}:${core.dimension}`;
}
