/**
 * Configuration sections of the Generate pipeline: the engine's defaults and checks, the
 * model providers with their routing and resilience, the embedder and the content scorer.
 * Part of the one schema (`schema.ts` mounts these sections); kept apart because the core
 * sections and these grow for different reasons.
 *
 * Providers come in two fixed slots, `primary` and `secondary`, so that every knob has a
 * plain environment variable: the secondary slot serves as fallback, as the treatment arm of
 * an A/B test, or as the target of routing rules (docs/adr/0013-engine-pipeline.md).
 */
import { z } from "zod";
import { flag, integer, key, oneOf, optionalText, secret } from "./meta.js";

/** Model backends a provider slot can use. */
export const LLM_BACKENDS = ["local_stub", "openai", "anthropic"] as const;
/** How requests are routed between the provider slots. */
export const ROUTER_MODES = ["single", "fallback", "rule_based", "ab_test"] as const;
/** What Generate does in the rhythm's sleep phase. */
export const SLEEP_BEHAVIOURS = ["short_answers", "reject"] as const;

function decimal(min: number, max: number, fallback: number): z.ZodDefault<z.ZodNumber> {
  return z.number().min(min).max(max).default(fallback);
}

/** One provider slot; `slot` is "PRIMARY" or "SECONDARY" in environment variable names. */
function providerSlot(slot: "PRIMARY" | "SECONDARY", backend: "local_stub" | "none") {
  const name = slot.toLowerCase();
  const backends = backend === "none" ? (["none", ...LLM_BACKENDS] as const) : LLM_BACKENDS;
  return z
    .strictObject({
      backend: key(oneOf(backends, backend), {
        env: `MLSDM_LLM_${slot}_BACKEND`,
        description:
          backend === "none"
            ? "Backend of the secondary provider: none, local_stub, openai (any OpenAI-compatible endpoint) or anthropic."
            : "Backend of the primary provider: local_stub (deterministic, no network), openai (any OpenAI-compatible endpoint) or anthropic.",
      }),
      model: key(optionalText(), {
        env: `MLSDM_LLM_${slot}_MODEL`,
        description: `Model name for the ${name} provider. Empty: gpt-4o-mini for openai, claude-3-5-haiku-latest for anthropic.`,
      }),
      baseUrl: key(optionalText(), {
        env: `MLSDM_LLM_${slot}_BASE_URL`,
        description: `Base URL of the ${name} provider's API (e.g. http://127.0.0.1:11434/v1 for Ollama). Empty: the vendor's public API.`,
      }),
      apiKey: key(secret(), {
        env: `MLSDM_LLM_${slot}_API_KEY`,
        description: `API key of the ${name} provider. Never logged; required for openai and anthropic.`,
        secret: true,
      }),
      id: key(optionalText(), {
        env: `MLSDM_LLM_${slot}_ID`,
        description: `Identifier reported for the ${name} provider. Empty: derived from backend and model (e.g. openai_gpt_4o_mini).`,
      }),
    })
    .prefault({});
}

/** Routing rules: comma-separated `intent=primary|secondary` pairs (empty: none). */
export function parseRoutingRules(rules: string): Map<string, "primary" | "secondary"> | string {
  const parsed = new Map<string, "primary" | "secondary">();
  for (const part of rules
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")) {
    const match = /^([^=\s]+)\s*=\s*(primary|secondary)$/.exec(part);
    if (!match?.[1] || (match[2] !== "primary" && match[2] !== "secondary")) {
      return `"${part}" is not intent=primary or intent=secondary`;
    }
    parsed.set(match[1], match[2]);
  }
  return parsed;
}

/** A remote backend needs an API key unless it points at a self-hosted base URL. */
function needsKey(
  slot: { backend: string; apiKey: string; baseUrl: string },
  path: (string | number)[],
  context: z.RefinementCtx,
): void {
  const remote = slot.backend === "openai" || slot.backend === "anthropic" || slot.backend === "moderation";
  if (remote && slot.apiKey === "" && slot.baseUrl === "") {
    context.addIssue({
      code: "custom",
      path,
      input: "",
      message: `an API key (required for backend ${slot.backend} on the vendor's public API)`,
    });
  }
}

/** Cross-field rules of the llm section, reported on the key at fault. */
function checkLlm(
  llm: {
    primary: { backend: string; apiKey: string; baseUrl: string };
    secondary: { backend: string; apiKey: string; baseUrl: string };
    router: (typeof ROUTER_MODES)[number];
    rules: string;
  },
  context: z.RefinementCtx,
): void {
  needsKey(llm.primary, ["primary", "apiKey"], context);
  needsKey(llm.secondary, ["secondary", "apiKey"], context);
  if (llm.router !== "single" && llm.secondary.backend === "none") {
    context.addIssue({
      code: "custom",
      path: ["secondary", "backend"],
      input: "none",
      message: `a backend for the secondary provider (router ${llm.router} needs two providers)`,
    });
  }
  const rules = parseRoutingRules(llm.rules);
  if (typeof rules === "string") {
    context.addIssue({
      code: "custom",
      path: ["rules"],
      input: llm.rules,
      message: `intent=slot pairs: ${rules}`,
    });
  }
}

/** The `llm` section: provider slots, routing and resilience. */
export const llmSection = z
  .strictObject({
    primary: providerSlot("PRIMARY", "local_stub"),
    secondary: providerSlot("SECONDARY", "none"),
    router: key(oneOf(ROUTER_MODES, "single"), {
      env: "MLSDM_LLM_ROUTER",
      description:
        "single: primary only; fallback: primary, then secondary while primary's breaker is open; rule_based: llm.rules by user_intent; ab_test: secondary as treatment for llm.abTreatmentRatio of users.",
    }),
    rules: key(optionalText(), {
      env: "MLSDM_LLM_RULES",
      description:
        "For router rule_based: comma-separated intent=slot pairs, e.g. code=secondary,summarise=primary. Unmatched intents go to primary.",
    }),
    abTreatmentRatio: key(decimal(0, 1, 0.1), {
      env: "MLSDM_LLM_AB_TREATMENT_RATIO",
      description:
        "For router ab_test: share of users (by user_id hash) sent to the secondary provider, 0 to 1.",
    }),
    attemptTimeoutMs: key(integer(100, 600_000, 30_000), {
      env: "MLSDM_LLM_ATTEMPT_TIMEOUT_MS",
      description: "Longest one provider attempt may take, in ms; the call's deadline also bounds it.",
    }),
    maxRetries: key(integer(0, 10, 2), {
      env: "MLSDM_LLM_MAX_RETRIES",
      description:
        "Retries of a retryable provider failure (timeout, 429, 5xx, connection), with exponential backoff and jitter, while the deadline allows.",
    }),
    breakerFailures: key(integer(1, 1000, 5), {
      env: "MLSDM_LLM_BREAKER_FAILURES",
      description: "Consecutive provider failures that open its circuit breaker.",
    }),
    breakerHalfOpenSeconds: key(integer(1, 3600, 30), {
      env: "MLSDM_LLM_BREAKER_HALF_OPEN_SECONDS",
      description: "Seconds an open breaker waits before letting one trial call through.",
    }),
  })
  .superRefine(checkLlm)
  .prefault({});

/**
 * A section that selects a local backend or a remote OpenAI-compatible endpoint: the backend
 * choice plus the endpoint's model, base URL and key (required for the vendor's public API).
 */
function endpointSection<const B extends readonly [string, string]>(spec: {
  readonly prefix: "EMBEDDING" | "SCORER";
  readonly backends: B;
  readonly backendHelp: string;
  readonly api: string;
  readonly defaultModel: string;
}) {
  const env = (name: string) => `MLSDM_${spec.prefix}_${name}` as const;
  return z
    .strictObject({
      backend: key(oneOf(spec.backends, spec.backends[0]), {
        env: env("BACKEND"),
        description: spec.backendHelp,
      }),
      model: key(optionalText(), {
        env: env("MODEL"),
        description: `Model for backend ${spec.backends[1]}. Empty: ${spec.defaultModel}.`,
      }),
      baseUrl: key(optionalText(), {
        env: env("BASE_URL"),
        description: `Base URL of the ${spec.api} API. Empty: the vendor's public API.`,
      }),
      apiKey: key(secret(), {
        env: env("API_KEY"),
        description: `API key of the ${spec.api} API. Never logged.`,
        secret: true,
      }),
    })
    .superRefine((slot, context) => {
      needsKey(slot, ["apiKey"], context);
    })
    .prefault({});
}

/** The `embedding` section: how prompts become vectors. */
export const embeddingSection = endpointSection({
  prefix: "EMBEDDING",
  backends: ["hashing", "openai"],
  backendHelp:
    "hashing: deterministic local feature hashing (no network); openai: an OpenAI-compatible /embeddings endpoint whose dimension must equal core.dimension (checked at start-up).",
  api: "embeddings",
  defaultModel: "text-embedding-3-small",
});

/** The `scorer` section: the content scorer combined with the caller's moral value. */
export const scorerSection = endpointSection({
  prefix: "SCORER",
  backends: ["lexicon", "moderation"],
  backendHelp:
    "lexicon: the local word-list scorer (docs/content-scoring.md); moderation: an OpenAI-compatible /moderations endpoint.",
  api: "moderation",
  defaultModel: "omni-moderation-latest",
});

/** The `engine` section: defaults and checks of the Generate pipeline. */
export const engineSection = z
  .strictObject({
    defaultMaxTokens: key(integer(1, 4096, 512), {
      env: "MLSDM_ENGINE_DEFAULT_MAX_TOKENS",
      description: "max_tokens applied when a Generate request leaves it unset.",
    }),
    defaultMoralValue: key(decimal(0, 1, 1), {
      env: "MLSDM_ENGINE_DEFAULT_MORAL_VALUE",
      description:
        "moral_value assumed when a Generate request leaves it unset; the default 1 lets the content scorer alone judge the prompt.",
    }),
    defaultContextTopK: key(integer(0, 100, 5), {
      env: "MLSDM_ENGINE_DEFAULT_CONTEXT_TOP_K",
      description: "Memories retrieved as context when a request leaves context_top_k unset; 0 disables.",
    }),
    sleepBehaviour: key(oneOf(SLEEP_BEHAVIOURS, "short_answers"), {
      env: "MLSDM_ENGINE_SLEEP_BEHAVIOUR",
      description:
        "In the sleep phase: short_answers serves answers capped at engine.sleepMaxTokens and stores nothing; reject rejects at the rhythm stage.",
    }),
    sleepMaxTokens: key(integer(1, 4096, 150), {
      env: "MLSDM_ENGINE_SLEEP_MAX_TOKENS",
      description: "Cap on max_tokens for answers served in the sleep phase.",
    }),
    postMoralTolerance: key(decimal(0, 1, 0.15), {
      env: "MLSDM_ENGINE_POST_MORAL_TOLERANCE",
      description:
        "The answer is withheld when its content score is below the applied moral value minus this tolerance.",
    }),
    contextTextMaxBytes: key(integer(0, 65_536, 1024), {
      env: "MLSDM_ENGINE_CONTEXT_TEXT_MAX_BYTES",
      description:
        "UTF-8 bytes of scrubbed exchange text stored with each memory and injected as context; 0 stores no text.",
    }),
    aphasiaDetect: key(flag(true), {
      env: "MLSDM_ENGINE_APHASIA_DETECT",
      description: "Check answers for telegraphic (aphasic) speech.",
    }),
    aphasiaRepair: key(flag(true), {
      env: "MLSDM_ENGINE_APHASIA_REPAIR",
      description: "Ask the model once to rewrite an answer whose aphasia severity reaches the threshold.",
    }),
    aphasiaSeverityThreshold: key(decimal(0, 1, 0.3), {
      env: "MLSDM_ENGINE_APHASIA_SEVERITY_THRESHOLD",
      description: "Aphasia severity (0 to 1) at which an answer is repaired.",
    }),
    streamWindowChars: key(integer(64, 65_536, 400), {
      env: "MLSDM_ENGINE_STREAM_WINDOW_CHARS",
      description:
        "GenerateStream: characters of the latest answer text the content scorer judges each time it runs.",
    }),
    generateDeadlineMs: key(integer(100, 3_600_000, 60_000), {
      env: "MLSDM_ENGINE_GENERATE_DEADLINE_MS",
      description:
        "Server cap on a Generate call, in ms: the effective deadline is the earlier of the client's and this (REL-004).",
    }),
    streamDeadlineMs: key(integer(100, 3_600_000, 300_000), {
      env: "MLSDM_ENGINE_STREAM_DEADLINE_MS",
      description:
        "Server cap on a GenerateStream call, in ms (the earlier of the client's deadline and this).",
    }),
    streamCheckChars: key(integer(1, 65_536, 80), {
      env: "MLSDM_ENGINE_STREAM_CHECK_CHARS",
      description:
        "GenerateStream: new characters held back and checked before they are sent (smaller: lower latency, more checks).",
    }),
  })
  .prefault({});
