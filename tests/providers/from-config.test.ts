/**
 * src/providers/from-config.ts: which adapter each configured backend name means, the defaults
 * a slot falls back to (base URL, model, id), the router of each `llm.router` mode, and the
 * errors for configurations the schema would refuse (same ids, no backend, bad rules). No
 * network: the remote adapters are only built, never called.
 */
import { describe, expect, it } from "vitest";
import { loadConfig, type Config } from "../../src/config/index.js";
import { HashingEmbedder } from "../../src/core/embedding/hashing-embedder.js";
import { LexiconScorer } from "../../src/core/scoring/lexicon-scorer.js";
import {
  embedderFromConfig,
  embedderIdFromConfig,
  gatewayFromConfig,
  providersFromConfig,
  routerFromConfig,
  scorerFromConfig,
} from "../../src/providers/from-config.js";
import { AbTestRouter } from "../../src/providers/routing/ab-test-router.js";
import { SingleRouter } from "../../src/providers/routing/router.js";
import { RuleBasedRouter } from "../../src/providers/routing/rule-based-router.js";

const config = (env: Record<string, string> = {}): Config => loadConfig({ env }).config;
const hints = (userIntent: string) => ({ userIntent, userId: "user-1" });

describe("providersFromConfig", () => {
  it("builds the stub by default, and one slot only without a secondary backend", () => {
    const providers = providersFromConfig(config().llm);
    expect(providers.map((p) => p.id)).toEqual(["local_stub"]);
  });

  it("names remote providers from their model unless an id is set", () => {
    const providers = providersFromConfig(
      config({
        MLSDM_LLM_PRIMARY_BACKEND: "openai",
        MLSDM_LLM_PRIMARY_API_KEY: "sk-test-not-used",
        MLSDM_LLM_SECONDARY_BACKEND: "anthropic",
        MLSDM_LLM_SECONDARY_BASE_URL: "http://127.0.0.1:9/anthropic",
      }).llm,
    );
    expect(providers.map((p) => p.id)).toEqual(["openai_gpt_4o_mini", expect.stringMatching(/^anthropic_/)]);
    const named = providersFromConfig(
      config({
        MLSDM_LLM_PRIMARY_BACKEND: "openai",
        MLSDM_LLM_PRIMARY_BASE_URL: "http://127.0.0.1:9/v1",
        MLSDM_LLM_PRIMARY_MODEL: "llama3",
        MLSDM_LLM_PRIMARY_ID: "ollama",
        MLSDM_LLM_SECONDARY_BACKEND: "local_stub",
      }).llm,
    );
    expect(named.map((p) => p.id)).toEqual(["ollama", "local_stub_secondary"]);
  });

  it("refuses two slots with the same id, and a primary without a backend", () => {
    const base = config({
      MLSDM_LLM_SECONDARY_BACKEND: "local_stub",
      MLSDM_LLM_SECONDARY_ID: "local_stub",
    }).llm;
    expect(() => providersFromConfig(base)).toThrow(
      'the primary and secondary providers have the same id "local_stub"; set MLSDM_LLM_SECONDARY_ID',
    );
    const llm = config().llm;
    const noBackend = { ...llm, primary: { ...llm.primary, backend: "none" } } as unknown as Config["llm"];
    expect(() => providersFromConfig(noBackend)).toThrow(/without a backend cannot serve calls/);
  });
});

describe("routerFromConfig", () => {
  const two = ["p", "s"];
  const llm = (env: Record<string, string>) =>
    config({ MLSDM_LLM_SECONDARY_BACKEND: "local_stub", ...env }).llm;

  it("single: the primary only, even with a secondary", () => {
    const router = routerFromConfig(llm({ MLSDM_LLM_ROUTER: "single" }), two);
    expect(router).toBeInstanceOf(SingleRouter);
    expect(router.select(hints("chat")).candidates).toEqual(["p"]);
  });

  it("any mode with one provider is the single router", () => {
    const router = routerFromConfig(llm({ MLSDM_LLM_ROUTER: "ab_test" }), ["p"]);
    expect(router).toBeInstanceOf(SingleRouter);
    expect(router.select(hints("chat")).candidates).toEqual(["p"]);
    expect(() => routerFromConfig(llm({}), [])).toThrow("no provider configured");
  });

  it("fallback: the primary first, the secondary after it", () => {
    const router = routerFromConfig(llm({ MLSDM_LLM_ROUTER: "fallback" }), two);
    expect(router.select(hints("chat")).candidates).toEqual(["p", "s"]);
  });

  it("ab_test: control and treatment arms by ratio", () => {
    const always = routerFromConfig(
      llm({ MLSDM_LLM_ROUTER: "ab_test", MLSDM_LLM_AB_TREATMENT_RATIO: "1" }),
      two,
    );
    expect(always).toBeInstanceOf(AbTestRouter);
    expect(always.select(hints("chat"))).toMatchObject({ candidates: ["s", "p"], variant: "treatment" });
    const never = routerFromConfig(
      llm({ MLSDM_LLM_ROUTER: "ab_test", MLSDM_LLM_AB_TREATMENT_RATIO: "0" }),
      two,
    );
    expect(never.select(hints("chat"))).toMatchObject({ candidates: ["p", "s"], variant: "control" });
  });

  it("rule_based: intents mapped to slots, the primary for the rest; bad rules are refused", () => {
    const router = routerFromConfig(
      llm({ MLSDM_LLM_ROUTER: "rule_based", MLSDM_LLM_RULES: "code=secondary, chat=primary" }),
      two,
    );
    expect(router).toBeInstanceOf(RuleBasedRouter);
    expect(router.select(hints("code")).candidates[0]).toBe("s");
    expect(router.select(hints("chat")).candidates[0]).toBe("p");
    expect(router.select(hints("other")).candidates[0]).toBe("p");
    const bad = { ...llm({ MLSDM_LLM_ROUTER: "rule_based" }), rules: "code=tertiary" };
    expect(() => routerFromConfig(bad, two)).toThrow(
      'llm.rules: "code=tertiary" is not intent=primary or intent=secondary',
    );
  });
});

describe("gateway, embedder and scorer from the configuration", () => {
  it("the gateway serves calls through the configured providers and router", async () => {
    const gateway = gatewayFromConfig(
      config({
        MLSDM_LLM_SECONDARY_BACKEND: "local_stub",
        MLSDM_LLM_ROUTER: "ab_test",
        MLSDM_LLM_AB_TREATMENT_RATIO: "1",
      }),
    );
    const call = {
      prompt: "hello gateway",
      maxTokens: 32,
      signal: new AbortController().signal,
      deadlineAt: undefined,
      route: hints("chat"),
    };
    const reply = await gateway.generate(call);
    expect(reply).toMatchObject({ providerId: "local_stub_secondary", variant: "treatment" });
    expect(reply.text).toContain("hello gateway");
  });

  it("hashing embedder and lexicon scorer by default, with a cache id naming the dimension", () => {
    const defaults = config({ MLSDM_DIMENSION: "64" });
    const embedder = embedderFromConfig(defaults);
    expect(embedder).toBeInstanceOf(HashingEmbedder);
    expect(embedder.dimension).toBe(64);
    expect(embedderIdFromConfig(defaults)).toBe("hashing:64");
    expect(scorerFromConfig(defaults)).toBeInstanceOf(LexiconScorer);
  });

  it("the OpenAI embedder and the moderation scorer, with default endpoint and model", () => {
    const remote = config({
      MLSDM_EMBEDDING_BACKEND: "openai",
      MLSDM_EMBEDDING_API_KEY: "sk-embed-not-used",
      MLSDM_SCORER_BACKEND: "moderation",
      MLSDM_SCORER_API_KEY: "sk-mod-not-used",
    });
    const embedder = embedderFromConfig(remote);
    expect(embedder).not.toBeInstanceOf(HashingEmbedder);
    expect(embedder.dimension).toBe(remote.core.dimension);
    expect(embedderIdFromConfig(remote)).toBe(
      `openai:https://api.openai.com/v1:text-embedding-3-small:${remote.core.dimension}`,
    );
    expect(scorerFromConfig(remote)).not.toBeInstanceOf(LexiconScorer);
    const selfHosted = config({
      MLSDM_EMBEDDING_BACKEND: "openai",
      MLSDM_EMBEDDING_BASE_URL: "http://127.0.0.1:9/v1",
      MLSDM_EMBEDDING_MODEL: "nomic-embed",
      MLSDM_SCORER_BACKEND: "moderation",
      MLSDM_SCORER_BASE_URL: "http://127.0.0.1:9/v1",
      MLSDM_SCORER_MODEL: "omni-moderation-latest",
    });
    expect(embedderIdFromConfig(selfHosted)).toBe(
      `openai:http://127.0.0.1:9/v1:nomic-embed:${selfHosted.core.dimension}`,
    );
    expect(embedderFromConfig(selfHosted).dimension).toBe(selfHosted.core.dimension);
    expect(scorerFromConfig(selfHosted)).not.toBeInstanceOf(LexiconScorer);
  });
});
